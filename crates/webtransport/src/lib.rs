//! # gamewire-webtransport
//!
//! A WebTransport (HTTP/3 over QUIC) endpoint that carries gamewire datagrams for browser
//! players. It runs on a thread of its own (a small single-threaded tokio runtime inside) and
//! offers a synchronous interface, so a socket driver that knows nothing of async can use it:
//!
//! ```text
//!   driver thread                              endpoint thread (tokio, current-thread)
//!   ─────────────                              ───────────────────────────────────────
//!   drain(&mut events, max) ◀── Queue ◀─────── accept loop: per-IP admission, handshakes
//!        ▲                                      per session: datagrams in → Datagram events,
//!        └──── notify() (coalesced) ◀───────────  Opened / Closed around them
//!   send(session, bytes) ──▶ quinn (non-blocking; oversized → the session's overflow stream)
//!   close(session), certificate(), stop()
//! ```
//!
//! Sessions are identified by a [`SessionId`] that is never reused. Every gamewire datagram of
//! a session travels as one WebTransport datagram when it fits the path
//! ([`WebTransportServer::max_datagram_size`]); one that does not fit (gamewire packets are up to
//! 1472 bytes, QUIC datagrams on an Ethernet path about 1200) travels as a frame (2-byte
//! big-endian length, then the bytes) on a unidirectional stream the sender opens once per
//! session. The receiving side feeds frames to the protocol exactly like datagrams; gamewire's
//! own acks, retries and replay protection do the rest.
//!
//! Certificates: the operator's ([`Options::identity`]), or a self-signed ECDSA P-256 certificate
//! valid for 13 days and an hour (browsers pin such certificates by hash only when they are valid
//! for at most 14 days), replaced when 6 days are left. [`WebTransportServer::certificate`] tells
//! the current one; pages fetch its hash from the game server before they connect.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cert;
mod limits;
mod queue;

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::{mpsc, watch};
use wtransport::endpoint::endpoint_side::Server;
use wtransport::endpoint::IncomingSession;
use wtransport::error::SendDatagramError;
use wtransport::{Connection, Endpoint, Identity, RecvStream, SendStream, ServerConfig, VarInt};

pub use bytes;
pub use cert::{CertificateInfo, Clock, PemIdentity, SystemClock};
pub use limits::Limits;
pub use queue::{Event, SessionId};

use limits::{Admission, Limiter, Refusal, Ticket};
use queue::{Counters, Queue};

/// Largest frame accepted on an overflow stream (a gamewire datagram is at most 2048 bytes).
pub const MAX_FRAME: usize = 2048;
/// Frames one session may have waiting for its overflow stream; more are dropped (lost, as
/// datagrams may be).
const OVERFLOW_QUEUE: usize = 1024;
/// Application error code of the CONNECTION_CLOSE the endpoint sends.
const CLOSE_CODE: u32 = 0;

/// Options of [`WebTransportServer::start`].
#[derive(Clone)]
pub struct Options {
    /// Address to bind (UDP). `[::]` binds both IPv6 and IPv4; port 0 picks a free port.
    pub bind: SocketAddr,
    /// The operator's certificate; `None`: a self-signed one, renewed automatically.
    pub identity: Option<PemIdentity>,
    /// Accept sessions on this request path only (others get 404); `None`: any path.
    pub path: Option<String>,
    /// Admission limits.
    pub limits: Limits,
    /// Bytes of received datagrams waiting for the driver; past it datagrams are dropped.
    pub max_queued_bytes: usize,
    /// A session silent this long is closed by QUIC (gamewire's keep-alives run far more often).
    pub idle_timeout: Duration,
    /// How often the certificate's renewal is checked (self-signed only).
    pub renew_check_every: Duration,
    /// The wall clock for certificates.
    pub clock: Arc<dyn Clock>,
}

impl Options {
    /// Defaults for `bind`: a self-signed certificate, any path, [`Limits::default`], 8 MiB of
    /// queued datagrams, a 15 s idle timeout, renewal checked hourly on the system clock.
    pub fn new(bind: SocketAddr) -> Self {
        Self {
            bind,
            identity: None,
            path: None,
            limits: Limits::default(),
            max_queued_bytes: 8 * 1024 * 1024,
            idle_timeout: Duration::from_secs(15),
            renew_check_every: Duration::from_secs(3600),
            clock: Arc::new(SystemClock),
        }
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("bind", &self.bind)
            .field("identity", &self.identity)
            .field("path", &self.path)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// Why the endpoint did not start (or a certificate was refused).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Binding the UDP socket failed (address in use, not available, not permitted).
    #[error("bind: {0}")]
    Bind(#[source] io::Error),
    /// The certificate or key was refused; the message names which.
    #[error("certificate: {0}")]
    Certificate(String),
    /// An option is out of range; the message names it.
    #[error("{0}")]
    Config(String),
    /// The endpoint's thread or runtime could not be created.
    #[error("runtime: {0}")]
    Runtime(#[source] io::Error),
}

/// Why a datagram was not sent. Datagrams may be lost anyway; the protocol recovers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// No such session (never opened, or already closed).
    #[error("unknown session")]
    UnknownSession,
    /// The datagram is larger than [`MAX_FRAME`].
    #[error("datagram larger than {MAX_FRAME} bytes")]
    TooLarge,
    /// The session's connection is closing, or its overflow queue is full.
    #[error("session closing or congested")]
    Dropped,
}

/// Counters of an endpoint (monotonic, except `sessions`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Sessions open now.
    pub sessions: u64,
    /// Sessions accepted since start.
    pub sessions_opened: u64,
    /// Attempts refused by the per-source limits (sessions held, attempts per second).
    pub sessions_refused_per_ip: u64,
    /// Attempts refused because the endpoint was full (sessions or handshakes).
    pub sessions_refused_full: u64,
    /// Admitted attempts whose handshake failed or timed out.
    pub handshakes_failed: u64,
    /// Datagrams received and queued (overflow frames included).
    pub datagrams_in: u64,
    /// Datagrams handed to QUIC (overflow frames included).
    pub datagrams_out: u64,
    /// Received datagrams dropped because the driver had not drained the queue.
    pub datagrams_dropped_queue_full: u64,
    /// Datagrams `send` could not hand over.
    pub datagrams_send_failed: u64,
    /// Self-signed certificates replaced.
    pub certificates_renewed: u64,
}

/// One session as the driver's thread sees it.
struct SessionEntry {
    conn: Connection,
    /// Frames for the overflow stream (datagrams too large for the path).
    overflow: mpsc::Sender<Bytes>,
}

struct Shared {
    queue: Queue,
    counters: Counters,
    sessions: Mutex<HashMap<SessionId, SessionEntry>>,
    next_id: AtomicU64,
    cert: RwLock<CertificateInfo>,
    /// The endpoint, for certificate reloads; taken at stop so the socket can close.
    endpoint: Mutex<Option<Arc<Endpoint<Server>>>>,
    stop: watch::Sender<bool>,
    limiter: Limiter,
    local: SocketAddr,
    path: Option<String>,
    idle_timeout: Duration,
    clock: Arc<dyn Clock>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The WebTransport endpoint. Dropping it stops it.
pub struct WebTransportServer {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for WebTransportServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebTransportServer").field("local", &self.shared.local).finish_non_exhaustive()
    }
}

/// A server configuration with `identity`, bound to `socket` (start) or to nothing (a reload
/// keeps the socket it has).
fn server_config(
    socket: Option<UdpSocket>,
    local: SocketAddr,
    identity: Identity,
    idle: Duration,
) -> Result<ServerConfig, StartError> {
    let builder = ServerConfig::builder();
    let builder = match socket {
        Some(s) => builder.with_bind_socket(s),
        None => builder.with_bind_address(local),
    };
    Ok(builder
        .with_identity(identity)
        .keep_alive_interval(None)
        .allow_migration(true)
        .max_idle_timeout(Some(idle))
        .map_err(|_| StartError::Config(format!("idle_timeout: {idle:?} is out of QUIC's range")))?
        .build())
}

impl WebTransportServer {
    /// Binds, makes or loads the certificate, starts the thread. `notify` runs on the endpoint's
    /// thread when events wait and the driver has drained everything before; it must only wake
    /// the driver (it must not call back into this endpoint).
    pub fn start(opts: Options, notify: impl Fn() + Send + Sync + 'static) -> Result<Self, StartError> {
        if opts.idle_timeout.is_zero() || opts.idle_timeout > Duration::from_secs(3600) {
            return Err(StartError::Config("idle_timeout: must be from 1 ms to 1 hour".into()));
        }
        let made = match &opts.identity {
            Some(pem) => cert::from_pem(pem)?,
            None => cert::self_signed(opts.clock.now())?,
        };
        let socket = UdpSocket::bind(opts.bind).map_err(StartError::Bind)?;
        socket.set_nonblocking(true).map_err(StartError::Bind)?;
        let local = socket.local_addr().map_err(StartError::Bind)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name("gamewire-webtransport")
            .build()
            .map_err(StartError::Runtime)?;
        let endpoint = {
            // quinn registers the socket with the runtime it is created in.
            let _guard = runtime.enter();
            Endpoint::server(server_config(Some(socket), local, made.identity, opts.idle_timeout)?)
                .map_err(StartError::Bind)?
        };
        let endpoint = Arc::new(endpoint);
        let (stop, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            queue: Queue::new(opts.max_queued_bytes, Box::new(notify)),
            counters: Counters::default(),
            sessions: Mutex::default(),
            next_id: AtomicU64::new(1),
            cert: RwLock::new(made.info),
            endpoint: Mutex::new(Some(Arc::clone(&endpoint))),
            stop,
            limiter: Limiter::new(opts.limits),
            local,
            path: opts.path,
            idle_timeout: opts.idle_timeout,
            clock: opts.clock,
        });
        let s2 = Arc::clone(&shared);
        let renew_every = opts.renew_check_every.max(Duration::from_millis(10));
        let thread = std::thread::Builder::new()
            .name("gamewire-webtransport".into())
            .spawn(move || run(runtime, s2, endpoint, renew_every))
            .map_err(StartError::Runtime)?;
        Ok(Self { shared, thread: Some(thread) })
    }

    /// The bound UDP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local
    }

    /// The certificate presented now (its hash changes when a self-signed one is renewed).
    pub fn certificate(&self) -> CertificateInfo {
        self.shared.cert.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Renews a self-signed certificate if it is due by the clock; returns true if it did.
    /// The endpoint's thread does this every `renew_check_every`; calling it is for tests and
    /// for operators who move the clock.
    pub fn check_certificate(&self) -> Result<bool, StartError> {
        check_certificate(&self.shared)
    }

    /// Moves up to `max` waiting events into `out`; returns how many. Never blocks.
    pub fn drain(&self, out: &mut Vec<Event>, max: usize) -> usize {
        self.shared.queue.drain(out, max)
    }

    /// Sends one datagram on a session: as a WebTransport datagram when it fits the path, else
    /// as a frame on the session's overflow stream. Never blocks; QUIC drops the oldest queued
    /// datagrams when its send buffer is full.
    pub fn send(&self, session: SessionId, data: &[u8]) -> Result<(), SendError> {
        let sessions = lock(&self.shared.sessions);
        self.send_locked(&sessions, session, data)
    }

    /// Sends many datagrams with one lock; returns how many were handed over.
    pub fn send_batch<'a>(&self, batch: impl IntoIterator<Item = (SessionId, &'a [u8])>) -> usize {
        let sessions = lock(&self.shared.sessions);
        batch.into_iter().filter(|(s, d)| self.send_locked(&sessions, *s, d).is_ok()).count()
    }

    fn send_locked(
        &self,
        sessions: &HashMap<SessionId, SessionEntry>,
        session: SessionId,
        data: &[u8],
    ) -> Result<(), SendError> {
        let c = &self.shared.counters;
        let result = match sessions.get(&session) {
            None => Err(SendError::UnknownSession),
            Some(_) if data.len() > MAX_FRAME => Err(SendError::TooLarge),
            Some(e) => {
                let fits = e.conn.max_datagram_size().is_some_and(|max| data.len() <= max);
                if fits {
                    match e.conn.send_datagram(data) {
                        Ok(()) => Ok(()),
                        // The path shrank between the check and the send: take the stream.
                        Err(SendDatagramError::TooLarge) => overflow(e, data),
                        Err(_) => Err(SendError::Dropped),
                    }
                } else {
                    overflow(e, data)
                }
            }
        };
        match result {
            Ok(()) => c.datagrams_out.fetch_add(1, Ordering::Relaxed),
            Err(_) => c.datagrams_send_failed.fetch_add(1, Ordering::Relaxed),
        };
        result
    }

    /// Largest datagram a session carries as a WebTransport datagram now (larger ones take the
    /// overflow stream); `None` for an unknown session.
    pub fn max_datagram_size(&self, session: SessionId) -> Option<usize> {
        lock(&self.shared.sessions).get(&session).map(|e| e.conn.max_datagram_size().unwrap_or(0))
    }

    /// Closes a session (the client sees the WebTransport session close); its `Closed` event
    /// follows.
    pub fn close(&self, session: SessionId) {
        if let Some(e) = lock(&self.shared.sessions).get(&session) {
            e.conn.close(VarInt::from_u32(CLOSE_CODE), b"closed by the server");
        }
    }

    /// The endpoint's counters.
    pub fn stats(&self) -> Stats {
        let c = &self.shared.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Stats {
            sessions: lock(&self.shared.sessions).len() as u64,
            sessions_opened: get(&c.sessions_opened),
            sessions_refused_per_ip: get(&c.sessions_refused_per_ip),
            sessions_refused_full: get(&c.sessions_refused_full),
            handshakes_failed: get(&c.handshakes_failed),
            datagrams_in: get(&c.datagrams_in),
            datagrams_out: get(&c.datagrams_out),
            datagrams_dropped_queue_full: get(&c.datagrams_dropped_queue_full),
            datagrams_send_failed: get(&c.datagrams_send_failed),
            certificates_renewed: get(&c.certificates_renewed),
        }
    }

    /// Stops: every session is closed (clients see CONNECTION_CLOSE), the thread ends, and the
    /// UDP port is free when this returns. No events are delivered afterwards. Idempotent.
    pub fn stop(&mut self) {
        self.shared.stop.send_replace(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for WebTransportServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Queues a frame for the session's overflow stream.
fn overflow(e: &SessionEntry, data: &[u8]) -> Result<(), SendError> {
    e.overflow.try_send(Bytes::copy_from_slice(data)).map_err(|_| SendError::Dropped)
}

fn check_certificate(shared: &Shared) -> Result<bool, StartError> {
    let now = shared.clock.now();
    let due = shared.cert.read().unwrap_or_else(PoisonError::into_inner).renewal_due(now);
    if !due {
        return Ok(false);
    }
    let Some(endpoint) = lock(&shared.endpoint).clone() else {
        return Ok(false);
    };
    let made = cert::self_signed(now)?;
    endpoint
        .reload_config(server_config(None, shared.local, made.identity, shared.idle_timeout)?, false)
        .map_err(StartError::Bind)?;
    *shared.cert.write().unwrap_or_else(PoisonError::into_inner) = made.info;
    shared.counters.certificates_renewed.fetch_add(1, Ordering::Relaxed);
    Ok(true)
}

/// The endpoint's thread: the accept loop and the renewal timer until stop, then a short close.
fn run(
    runtime: tokio::runtime::Runtime,
    shared: Arc<Shared>,
    endpoint: Arc<Endpoint<Server>>,
    renew: Duration,
) {
    let mut stop = shared.stop.subscribe();
    runtime.block_on(async {
        let accept = accept_loop(Arc::clone(&shared), Arc::clone(&endpoint));
        let renewal = async {
            let mut every = tokio::time::interval(renew);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                // A failed renewal keeps the current certificate; the next check tries again.
                let _ = check_certificate(&shared);
            }
        };
        tokio::select! {
            _ = accept => {}
            _ = renewal => {}
            _ = stop.wait_for(|s| *s) => {}
        }
        // Tell every client, give the CONNECTION_CLOSE packets a moment to leave.
        endpoint.close(VarInt::from_u32(CLOSE_CODE), b"server stopped");
        let _ = tokio::time::timeout(Duration::from_millis(200), endpoint.wait_idle()).await;
    });
    // The socket closes once no quinn handle is left: the sessions' connections, the shared
    // endpoint, this one, and the tasks that hold them (dropped with the runtime).
    lock(&shared.sessions).clear();
    lock(&shared.endpoint).take();
    drop(endpoint);
    runtime.shutdown_timeout(Duration::from_millis(100));
}

async fn accept_loop(shared: Arc<Shared>, endpoint: Arc<Endpoint<Server>>) {
    let mut swept = Instant::now();
    loop {
        let incoming = endpoint.accept().await;
        let now = Instant::now();
        let remote = incoming.remote_address();
        match shared.limiter.admit(remote.ip(), incoming.remote_address_validated(), now) {
            Admission::Accept(ticket) => {
                tokio::spawn(session(Arc::clone(&shared), incoming, ticket));
            }
            // Only asked for unvalidated addresses, so `retry` cannot panic.
            Admission::Retry => incoming.retry(),
            Admission::Refuse(why) => {
                let counter = match why {
                    Refusal::Full => &shared.counters.sessions_refused_full,
                    Refusal::IpSessions | Refusal::IpRate => &shared.counters.sessions_refused_per_ip,
                };
                counter.fetch_add(1, Ordering::Relaxed);
                incoming.refuse();
            }
        }
        if now.duration_since(swept) > Duration::from_secs(10) {
            shared.limiter.sweep(now);
            swept = now;
        }
    }
}

/// The handshake: QUIC, TLS, then the WebTransport CONNECT request (path checked).
async fn handshake(shared: &Shared, incoming: IncomingSession) -> Option<Connection> {
    let request = incoming.await.ok()?;
    if let Some(want) = &shared.path {
        let path = request.path();
        if path.split('?').next() != Some(want.as_str()) {
            request.not_found().await;
            return None;
        }
    }
    request.accept().await.ok()
}

async fn session(shared: Arc<Shared>, incoming: IncomingSession, mut ticket: Ticket) {
    let remote = incoming.remote_address();
    let timeout = shared.limiter.limits().handshake_timeout;
    let conn = match tokio::time::timeout(timeout, handshake(&shared, incoming)).await {
        Ok(Some(c)) => c,
        _ => {
            shared.counters.handshakes_failed.fetch_add(1, Ordering::Relaxed);
            return;
        }
    };
    ticket.established();
    let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
    let (overflow_tx, overflow_rx) = mpsc::channel(OVERFLOW_QUEUE);
    lock(&shared.sessions).insert(id, SessionEntry { conn: conn.clone(), overflow: overflow_tx });
    shared.counters.sessions_opened.fetch_add(1, Ordering::Relaxed);
    let remote = SocketAddr::new(limits::canonical(remote.ip()), remote.port());
    shared.queue.push(Event::Opened { session: id, remote }, &shared.counters);
    let mut stop = shared.stop.subscribe();
    tokio::select! {
        _ = receive(&shared, &conn, id) => {}
        _ = write_overflow(&conn, overflow_rx) => {}
        _ = stop.wait_for(|s| *s) => {}
    }
    conn.close(VarInt::from_u32(CLOSE_CODE), b"closed");
    lock(&shared.sessions).remove(&id);
    shared.queue.push(Event::Closed { session: id }, &shared.counters);
    drop(ticket);
}

/// Overflow streams one session may have open towards the server at once; more are stopped.
const MAX_INCOMING_STREAMS: usize = 4;

/// Datagrams and overflow streams in, until the connection ends or a stream breaks the rules.
/// Stream readers run as tasks of their own and are all ended before this returns, so no event
/// of the session can follow its `Closed`.
async fn receive(shared: &Arc<Shared>, conn: &Connection, id: SessionId) {
    let mut readers = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            d = conn.receive_datagram() => match d {
                Ok(d) => {
                    shared.queue.push(Event::Datagram { session: id, data: d.payload() }, &shared.counters);
                }
                Err(_) => break,
            },
            s = conn.accept_uni() => match s {
                Ok(stream) if readers.len() < MAX_INCOMING_STREAMS => {
                    readers.spawn(read_frames(Arc::clone(shared), stream, id));
                }
                Ok(stream) => stream.stop(VarInt::from_u32(CLOSE_CODE)),
                Err(_) => break,
            },
            Some(done) = readers.join_next(), if !readers.is_empty() => {
                // A reader that saw a bad frame ends the session.
                if matches!(done, Ok(FrameEnd::Bad)) {
                    break;
                }
            }
        }
    }
    readers.shutdown().await;
}

/// How an overflow stream ended.
enum FrameEnd {
    /// Finished, reset, or the connection went away.
    Done,
    /// A frame of length 0 or over [`MAX_FRAME`]: the client does not speak this protocol.
    Bad,
}

/// Reads an overflow stream's frames (2-byte big-endian length, then the bytes) until it ends.
async fn read_frames(shared: Arc<Shared>, mut stream: RecvStream, id: SessionId) -> FrameEnd {
    let mut len = [0u8; 2];
    loop {
        if stream.read_exact(&mut len).await.is_err() {
            return FrameEnd::Done;
        }
        let n = usize::from(u16::from_be_bytes(len));
        if n == 0 || n > MAX_FRAME {
            return FrameEnd::Bad;
        }
        let mut buf = vec![0u8; n];
        if stream.read_exact(&mut buf).await.is_err() {
            return FrameEnd::Done;
        }
        shared.queue.push(Event::Datagram { session: id, data: Bytes::from(buf) }, &shared.counters);
    }
}

/// Writes queued frames to the session's overflow stream, opened on the first frame.
async fn write_overflow(conn: &Connection, mut frames: mpsc::Receiver<Bytes>) {
    let mut stream: Option<SendStream> = None;
    while let Some(frame) = frames.recv().await {
        if stream.is_none() {
            match conn.open_uni().await {
                Ok(opening) => match opening.await {
                    Ok(s) => stream = Some(s),
                    Err(_) => return std::future::pending().await,
                },
                Err(_) => return std::future::pending().await,
            }
        }
        let Some(s) = stream.as_mut() else { continue };
        let Ok(len) = u16::try_from(frame.len()) else { continue };
        if s.write_all(&len.to_be_bytes()).await.is_err() || s.write_all(&frame).await.is_err() {
            // The stream broke (the peer stopped it): later frames are lost, like datagrams.
            return std::future::pending().await;
        }
    }
    std::future::pending().await
}
