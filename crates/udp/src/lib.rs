//! # gamewire-udp
//!
//! A socket driver for the sans-IO endpoint of `gamewire-core` (through the flat interface of
//! `gamewire-abi`) that runs on threads of its own: they receive datagrams, run the endpoint
//! (decryption, acks, retries, timers, handshakes) and send, so the host's thread (Node's event
//! loop, for the N-API binding) only drains batches of events and queues messages.
//!
//! ```text
//!   host thread (event loop)                      socket thread, one per shard
//!   ────────────────────────                      ─────────────────────────────
//!                                     ┌────────── ppoll(socket, waker, next deadline)
//!                                     │           recvmmsg: up to 64 datagrams per call
//!   events(buf) ◀── lock, drain ──── shard ◀───── lock: handle them, run due timers,
//!   send_batch  ──── lock, queue ───▶ state        answer hellos within the handshake budget,
//!   transmit_now ─── lock, collect ─┘             collect what is due; unlock; sendmmsg
//!        └──── sendmmsg (replies leave from here)  notify the host once per batch of events
//!                                                  (at most `notify_delay` after the first)
//! ```
//!
//! * **Batches both ways.** `recvmmsg` drains the socket; what is due leaves in one `sendmmsg`,
//!   where several datagrams to one peer go as one UDP GSO buffer the kernel splits (Linux 4.18+;
//!   `GAMEWIRE_UDP_GSO=0` turns it off, and a kernel or device that refuses it turns it off).
//!   No system call moves no data: the thread sleeps in `ppoll` until a datagram, a wake from the
//!   host, or the endpoint's own next deadline (an idle server with no connections sleeps).
//! * **Hand-off.** The state of a shard is behind one lock, taken once per batch by either side
//!   and never while JavaScript runs: events are copied out in one drain, sends cross in one
//!   batch. The host is woken at most once per batch, at most `notify_delay` after the first
//!   event of a batch (a shard does not tell it sooner), so under load wake-ups coalesce. While
//!   events wait, for their notify time or for the host to drain them, the thread leaves the
//!   socket alone and reads what came meanwhile in one drain per turn of `notify_delay`: a
//!   wake-up of its own per turn, not one per datagram, and no datagram waits longer than
//!   `notify_delay` to be read. The first datagram after a turn is read at once. One notification
//!   serves every shard: the host drains them all when told, so a shard whose batch is ready
//!   while another shard's notification waits does not wake the host again.
//! * **Shards.** With `threads: N` (Linux), N sockets share the port (`SO_REUSEPORT`; the kernel
//!   spreads senders by address hash, so a connection stays on its shard). Each shard owns its
//!   engine and its peers; a peer id carries its shard, so ids are unique across shards.
//! * **Peer ids** never name the wrong client: see the `peers` module.
//! * **Other transports.** Browser players reach the same engine (shard 0) over a WebTransport
//!   session of the native endpoint (feature `webtransport`; its events wake shard 0's thread,
//!   its datagrams go out with the shard's transmits) or over a connection of a transport the
//!   host runs itself (WebSocket): the host hands its datagrams in with
//!   [`SocketServer::receive_external`], and datagrams for it come back to the host as TRANSMIT
//!   records of the event stream.
//! * **Stop** joins the threads and closes every socket at once: the port is free when `stop`
//!   returns.
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod budget;
mod peers;
#[allow(unsafe_code)]
mod sys;

use std::collections::{HashSet, VecDeque};
use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixDatagram;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant as StdInstant, SystemTime, UNIX_EPOCH};

use gamewire_abi::tables::{code, config_index, event_kind};
use gamewire_abi::{config_to_flat, AbiError, FlatEngine};
use gamewire_core::stats::{ConnectionStats, DropReason};
use gamewire_core::Instant;

use peers::{shard_of, Peers};
pub use peers::{Route, MAX_SHARDS};
use sys::{RecvBatch, SendBatch, ROOM};

/// Datagrams per `recvmmsg`/`sendmmsg`.
const BATCH: usize = 64;

/// Options of a [`SocketServer`].
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Address to bind.
    pub bind: SocketAddr,
    /// The engine configuration, flat (`CONFIG_FIELDS` order); `unixMillisAtZero` is set here.
    pub config: Vec<f64>,
    /// The root key, PKCS#8 DER (empty: a fresh one).
    pub root_pkcs8: Vec<u8>,
    /// The socket's receive buffer in bytes (the OS caps it); 0 keeps the OS default.
    pub recv_buffer: usize,
    /// Socket threads sharing the port (1 to [`MAX_SHARDS`]; more than 1 needs `SO_REUSEPORT`).
    pub threads: usize,
    /// How long the thread may hold back the host's wake-up after the first event of a batch;
    /// datagrams that arrive meanwhile wait in the socket and are read in one drain at the end.
    /// Until the host drains, the thread keeps reading in such turns.
    pub notify_delay: Duration,
    /// The share of a thread's time handshakes may take under load.
    pub handshake_share: f64,
    /// A WebTransport endpoint whose sessions are peers of shard 0 (feature `webtransport`).
    #[cfg(feature = "webtransport")]
    pub webtransport: Option<gamewire_webtransport::Options>,
    /// A WebTransport session that carries no connected client this long after it opened is
    /// closed (it would otherwise hold one of its address's sessions while sending garbage).
    #[cfg(feature = "webtransport")]
    pub webtransport_join_timeout: Duration,
}

impl ServerOptions {
    /// Options with the defaults for everything but the address, configuration and key.
    pub fn new(bind: SocketAddr, config: Vec<f64>, root_pkcs8: Vec<u8>) -> Self {
        Self {
            bind,
            config,
            root_pkcs8,
            recv_buffer: 4 << 20,
            threads: 1,
            notify_delay: Duration::ZERO,
            handshake_share: 0.5,
            #[cfg(feature = "webtransport")]
            webtransport: None,
            #[cfg(feature = "webtransport")]
            webtransport_join_timeout: Duration::from_secs(15),
        }
    }
}

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A socket call failed (the address is in use, …).
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The configuration or key was refused.
    #[error("{0}")]
    Abi(#[from] AbiError),
    /// The WebTransport endpoint did not start.
    #[cfg(feature = "webtransport")]
    #[error("webtransport: {0}")]
    WebTransport(#[from] gamewire_webtransport::StartError),
}

/// One shard's engine and peers (behind its lock).
#[derive(Debug)]
pub struct State {
    /// The engine.
    pub engine: FlatEngine,
    peers: Peers,
    blocklist: Arc<HashSet<IpAddr>>,
    /// Datagrams for peers of the host's own transports, waiting to go out as TRANSMIT records.
    external: ExternalOut,
}

/// Datagrams for the host's transports: (peer, key, start, len) over one byte buffer.
#[derive(Debug, Default)]
struct ExternalOut {
    bytes: Vec<u8>,
    items: VecDeque<(u32, u32, usize, usize)>,
}

impl State {
    fn has_events(&self) -> bool {
        !self.external.items.is_empty() || self.engine.has_events()
    }
}

/// Time spent by the socket threads, nanoseconds (the dashboard's time profile).
#[derive(Debug, Default)]
pub struct Profile {
    /// Handling received datagrams, timers and handshakes.
    pub handle_ns: AtomicU64,
    /// Building and sending datagrams.
    pub network_ns: AtomicU64,
    /// Waiting.
    pub idle_ns: AtomicU64,
    /// Wake-ups of the threads (each a `ppoll` that returned).
    pub wakeups: AtomicU64,
    /// Notifications to the host, a refused one (tried again later) included.
    pub notifications: AtomicU64,
    /// Datagrams handed to the kernel (a send it refused included).
    pub datagrams_sent: AtomicU64,
    /// The `sendmmsg` messages that carried them: fewer than the datagrams where UDP GSO sent
    /// several to one peer in one.
    pub send_messages: AtomicU64,
}

/// What the threads and the host share.
struct Common {
    start: StdInstant,
    notify: Box<dyn Fn() -> bool + Send + Sync>,
    notify_delay: Duration,
    /// The host was told events wait and has not drained every shard empty since. One flag for
    /// every shard: a drain takes every shard's events, so a shard whose batch is ready while
    /// another shard's notification waits for the host rides on that one instead of waking the
    /// host again.
    notified: AtomicBool,
    handshake_share: f64,
    profile: Profile,
    #[cfg(feature = "webtransport")]
    webtransport: std::sync::OnceLock<Mutex<gamewire_webtransport::WebTransportServer>>,
    #[cfg(feature = "webtransport")]
    join_timeout_ms: f64,
}

impl Common {
    fn now_ms(&self) -> f64 {
        self.start.elapsed().as_secs_f64() * 1000.0
    }
}

struct Shard {
    state: Mutex<State>,
    socket: UdpSocket,
    waker_rx: UnixDatagram,
    waker_tx: UnixDatagram,
    running: AtomicBool,
    /// When the thread will wake next, µs on the server clock (`u64::MAX`: not before a datagram).
    armed_us: AtomicU64,
}

impl Shard {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock would poison it; the state stays usable (every mutation
        // is a complete endpoint call), so recover it.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn wake(&self) {
        // Non-blocking: a full waker buffer already holds a wake.
        let _ = self.waker_tx.send(&[1]);
    }
}

/// A UDP server endpoint whose socket I/O and protocol work run on threads of their own.
pub struct SocketServer {
    shards: Vec<Arc<Shard>>,
    threads: Vec<JoinHandle<()>>,
    common: Arc<Common>,
    local: SocketAddr,
    /// The host's send batch, kept between calls.
    host_tx: Mutex<SendBatch>,
    /// Which shard the host's next drain starts with (fairness between shards).
    next_drain: AtomicUsize,
}

impl std::fmt::Debug for SocketServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketServer")
            .field("local", &self.local)
            .field("shards", &self.shards.len())
            .finish()
    }
}

/// Binds a UDP socket with the receive buffer asked for.
fn bind(addr: SocketAddr, recv_buffer: usize, reuse_port: bool) -> io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let s = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        // Dual-stack where the address allows it, as node:dgram's udp6 sockets are.
        let _ = s.set_only_v6(false);
    }
    if reuse_port {
        s.set_reuse_port(true)?;
    }
    if recv_buffer > 0 {
        // Best effort: the kernel caps it at net.core.rmem_max.
        let _ = s.set_recv_buffer_size(recv_buffer);
    }
    s.bind(&addr.into())?;
    #[cfg(not(target_os = "linux"))]
    s.set_nonblocking(true)?;
    Ok(s.into())
}

/// An IPv4-mapped IPv6 address as IPv4 (what a block list names).
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// The engine's `source` for an address: handshakes are shared out between IP addresses.
fn source_of(ip: IpAddr) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    let mut eat = |b: u8| {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    };
    match ip {
        IpAddr::V4(v4) => v4.octets().into_iter().for_each(&mut eat),
        IpAddr::V6(v6) => v6.octets().into_iter().for_each(&mut eat),
    }
    h
}

impl SocketServer {
    /// Binds, starts the threads. `notify` runs on a socket thread when events wait and the host
    /// has drained everything before; it must only schedule work on the host, and return whether
    /// it did (a notification that could not be queued is tried again a `notify_delay` later,
    /// since no shard notifies while the host is thought to be told).
    pub fn start(
        opts: ServerOptions,
        notify: impl Fn() -> bool + Send + Sync + 'static,
    ) -> Result<Self, StartError> {
        let threads = opts.threads.clamp(1, MAX_SHARDS);
        let mut config = opts.config;
        if let Some(slot) = config_index("unixMillisAtZero").and_then(|i| config.get_mut(i)) {
            *slot = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_millis() as f64);
        }
        // The first engine makes the root key if none was given; the others share it.
        let first = FlatEngine::server(&config, &opts.root_pkcs8, &[])?;
        let root = if opts.root_pkcs8.is_empty() {
            first.endpoint_ref().root_key().map(|k| k.to_pkcs8_der()).unwrap_or_default()
        } else {
            opts.root_pkcs8.clone()
        };
        let common = Arc::new(Common {
            start: StdInstant::now(),
            notify: Box::new(notify),
            notify_delay: opts.notify_delay,
            notified: AtomicBool::new(false),
            handshake_share: opts.handshake_share.clamp(0.05, 1.0),
            profile: Profile::default(),
            #[cfg(feature = "webtransport")]
            webtransport: std::sync::OnceLock::new(),
            #[cfg(feature = "webtransport")]
            join_timeout_ms: opts.webtransport_join_timeout.as_secs_f64() * 1000.0,
        });
        if threads > 1 && opts.bind.port() != 0 {
            // SO_REUSEPORT would let these sockets join another server's group on the same port
            // (of the same user) and split its traffic: the port must be free first.
            drop(bind(opts.bind, 0, false)?);
        }
        let mut shards = Vec::with_capacity(threads);
        let mut engine = Some(first);
        let mut local = opts.bind;
        for i in 0..threads {
            // Shard 0 binds the address asked for (port 0: a free one); the others join its port.
            let socket = bind(local, opts.recv_buffer, threads > 1)?;
            local = socket.local_addr()?;
            let engine = match engine.take() {
                Some(e) => e,
                None => FlatEngine::server(&config, &root, &[])?,
            };
            let (waker_tx, waker_rx) = UnixDatagram::pair()?;
            waker_tx.set_nonblocking(true)?;
            waker_rx.set_nonblocking(true)?;
            shards.push(Arc::new(Shard {
                state: Mutex::new(State {
                    engine,
                    peers: Peers::new(i),
                    blocklist: Arc::default(),
                    external: ExternalOut::default(),
                }),
                socket,
                waker_rx,
                waker_tx,
                running: AtomicBool::new(true),
                armed_us: AtomicU64::new(u64::MAX),
            }));
        }
        #[cfg(feature = "webtransport")]
        if let Some(wt_opts) = opts.webtransport {
            let shard0 = Arc::clone(&shards[0]);
            let wt = gamewire_webtransport::WebTransportServer::start(wt_opts, move || shard0.wake())?;
            let _ = common.webtransport.set(Mutex::new(wt));
        }
        let mut handles = Vec::with_capacity(threads);
        for (i, shard) in shards.iter().enumerate() {
            let (shard, common) = (Arc::clone(shard), Arc::clone(&common));
            let spawned = std::thread::Builder::new()
                .name(format!("gamewire-udp-{i}"))
                .spawn(move || run_shard(&shard, &common, i == 0));
            match spawned {
                Ok(h) => handles.push(h),
                Err(e) => {
                    stop_threads(&shards, &mut handles);
                    return Err(e.into());
                }
            }
        }
        Ok(Self {
            shards,
            threads: handles,
            common,
            local,
            host_tx: Mutex::new(SendBatch::new(BATCH)),
            next_drain: AtomicUsize::new(0),
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Socket threads (shards).
    pub fn threads(&self) -> usize {
        self.shards.len()
    }

    /// Milliseconds on the driver's clock (what the engine calls receive as `now`).
    pub fn now_ms(&self) -> f64 {
        self.common.now_ms()
    }

    /// Runs `f` on the shard that owns `peer` (`None` if no shard does, e.g. after `stop`).
    pub fn with_peer<R>(&self, peer: u32, f: impl FnOnce(&mut State, f64) -> R) -> Option<R> {
        let shard = self.shards.get(shard_of(peer))?;
        let now = self.now_ms();
        Some(f(&mut shard.lock(), now))
    }

    /// Runs `f` on every shard in turn.
    pub fn for_each(&self, mut f: impl FnMut(&mut State, f64)) {
        for s in &self.shards {
            let now = self.now_ms();
            f(&mut s.lock(), now);
        }
    }

    /// Drains events of every shard into `out` (the flat event records); returns the bytes
    /// written. Releases the host saw in its previous drain are settled first (their ids may be
    /// reused from now on); records about peers the host never heard of are left out. The host
    /// calls again until it gets 0: until a call leaves every shard empty, no shard notifies.
    pub fn events(&self, out: &mut [u8]) -> u32 {
        let k = self.shards.len();
        let first = self.next_drain.fetch_add(1, Ordering::Relaxed);
        let mut at = 0usize;
        let mut empty = true;
        for j in 0..k {
            empty &= self.drain_shard(&self.shards[(first + j) % k], out, &mut at, true);
        }
        if empty {
            // Every shard is drained empty: the host is no longer told of anything, and shards
            // notify again. A shard that added events after its drain above and found the flag
            // still set did so before this swap, which acquires them (every write of the flag is
            // a swap), so one more pass takes them; a shard that finds the flag clear notifies.
            self.common.notified.swap(false, Ordering::AcqRel);
            for j in 0..k {
                self.drain_shard(&self.shards[(first + j) % k], out, &mut at, false);
            }
        }
        at as u32
    }

    /// Drains one shard's events into `out` from `at`; true if it has none left. `settle`:
    /// settle the releases the host saw in its previous drain first (once per `events`).
    fn drain_shard(&self, shard: &Shard, out: &mut [u8], at: &mut usize, settle: bool) -> bool {
        let mut st = shard.lock();
        let State { engine, peers, external, .. } = &mut *st;
        if settle {
            peers.settle();
        }
        *at = write_transmits(external, out, *at);
        let room = out.get_mut(*at..).unwrap_or_default();
        let mut closed = Vec::new();
        *at += engine.events_with(room, |kind, peer| match kind {
            event_kind::CONNECTED => {
                peers.announce(peer);
                true
            }
            event_kind::RELEASED => {
                let (told, route) = peers.release(peer);
                // A client that was connected is gone: its session goes with it. A datagram
                // that made no connection (malformed, a refused handshake) leaves the session
                // open, as a UDP address stays usable: its next datagram gets a new id.
                if let (true, Some(Route::WebTransport(session))) = (told, route) {
                    closed.push(session);
                }
                told
            }
            _ => true,
        }) as usize;
        let empty = !st.has_events();
        drop(st);
        self.close_sessions(&closed);
        empty
    }

    /// Closes the WebTransport sessions of released peers.
    fn close_sessions(&self, sessions: &[u64]) {
        #[cfg(feature = "webtransport")]
        if let Some(wt) = self.common.webtransport.get() {
            let wt = wt.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            for s in sessions {
                wt.close(*s);
            }
        }
        #[cfg(not(feature = "webtransport"))]
        let _ = sessions;
    }

    /// A datagram from a connection of one of the host's own transports (`key`, whose remote end
    /// is `remote`): handled by shard 0's engine like one from the socket. Returns the peer id.
    pub fn receive_external(&self, key: u32, remote: SocketAddr, datagram: &mut [u8]) -> Option<u32> {
        let shard = self.shards.first()?;
        let now = Instant::from_millis_f64(self.now_ms());
        let mut st = shard.lock();
        let State { engine, peers, blocklist, .. } = &mut *st;
        let ip = canonical(remote.ip());
        let ep = engine.endpoint();
        if blocklist.contains(&ip) {
            ep.count_blocked(datagram.len());
            return None;
        }
        let id = peers.id_of_route(Route::External(key), remote)?;
        let _ = ep.handle_datagram_from(now, id, source_of(ip), datagram);
        let hello = engine.queued_handshakes() > 0;
        drop(st);
        if hello {
            // The thread answers handshakes within its budget.
            shard.wake();
        }
        Some(id)
    }

    /// A connection of the host's transports closed: its peer ends at once (`TransportClosed`).
    pub fn close_external(&self, key: u32) {
        let Some(shard) = self.shards.first() else { return };
        let now = self.now_ms();
        let mut st = shard.lock();
        if let Some(id) = st.peers.get(&Route::External(key)) {
            st.engine.abort(now, id);
        }
    }

    /// How a peer is reached (`None` once released).
    pub fn peer_route(&self, peer: u32) -> Option<Route> {
        self.with_peer(peer, |st, _| st.peers.route(peer)).flatten()
    }

    /// The WebTransport endpoint's address and current certificate (feature `webtransport`).
    #[cfg(feature = "webtransport")]
    pub fn webtransport(&self) -> Option<(SocketAddr, gamewire_webtransport::CertificateInfo)> {
        let wt = self.common.webtransport.get()?;
        let wt = wt.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        Some((wt.local_addr(), wt.certificate()))
    }

    /// Room the largest event that did not fit needs (0 if none waits).
    pub fn pending_event_size(&self) -> u32 {
        self.shards.iter().map(|s| s.lock().engine.pending_event_size()).max().unwrap_or(0)
    }

    /// Queues a batch of send records (the flat `send_batch` layout); each shard takes its own
    /// peers' records. One result code per record into `results`.
    pub fn send_batch(&self, cmds: &[u8], count: usize, results: &mut [u8]) -> u32 {
        for r in results.iter_mut().take(count) {
            *r = code::UNKNOWN_CONNECTION as i8 as u8;
        }
        let mut read = 0;
        for (i, s) in self.shards.iter().enumerate() {
            let now = self.now_ms();
            read = s.lock().engine.send_batch_for(now, cmds, count, results, |peer| shard_of(peer) == i);
        }
        read
    }

    /// Queues one message to many peers; returns how many accepted it.
    pub fn broadcast(&self, peers: &[u32], data: &[u8], mode: i32) -> u32 {
        let mut n = 0;
        for (i, s) in self.shards.iter().enumerate() {
            let mine: Vec<u32> = peers.iter().copied().filter(|p| shard_of(*p) == i).collect();
            if !mine.is_empty() {
                let now = self.now_ms();
                n += s.lock().engine.broadcast(now, &mine, data, mode);
            }
        }
        n
    }

    /// Sends what is due now from the caller's thread (after messages were queued), in one
    /// `sendmmsg` per batch, and wakes a socket thread only if the endpoint now wants it back
    /// sooner than it planned (a reply held by the send gate).
    pub fn transmit_now(&self) {
        let t0 = StdInstant::now();
        let mut tx = self.host_tx.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for s in &self.shards {
            // Datagrams for the host's own transports wait in the event stream: the caller
            // drains events next (it is in the middle of a handler round).
            let (next, _) = flush_transmits(s, &self.common, &mut tx);
            let armed = s.armed_us.load(Ordering::Acquire);
            if next.is_some_and(|us| us < armed) {
                s.wake();
            }
        }
        self.common.profile.network_ns.fetch_add(t0.elapsed().as_nanos() as u64, Ordering::Relaxed);
    }

    /// The socket address of a peer id.
    pub fn peer_addr(&self, peer: u32) -> Option<SocketAddr> {
        self.with_peer(peer, |st, _| st.peers.addr(peer)).flatten()
    }

    /// Replaces the block list (datagrams from these IPs are dropped before parsing, counted).
    pub fn set_block_list(&self, ips: impl IntoIterator<Item = IpAddr>) {
        let list: Arc<HashSet<IpAddr>> = Arc::new(ips.into_iter().map(canonical).collect());
        self.for_each(|st, _| st.blocklist = Arc::clone(&list));
    }

    /// Replaces the configuration of every shard (`unixMillisAtZero` is kept).
    pub fn set_config(&self, config: &[f64]) -> Result<(), AbiError> {
        let mut result = Ok(());
        self.for_each(|st, _| {
            let mut c = config.to_vec();
            if let Some(i) = config_index("unixMillisAtZero") {
                if let (Some(slot), Some(cur)) =
                    (c.get_mut(i), config_to_flat(st.engine.endpoint().config()).get(i))
                {
                    *slot = *cur;
                }
            }
            if result.is_ok() {
                result = st.engine.set_config(&c);
            }
        });
        for s in &self.shards {
            s.wake();
        }
        result
    }

    /// Connections of every shard, handshakes included.
    pub fn connection_count(&self) -> u32 {
        let mut n = 0;
        self.for_each(|st, _| n += st.engine.connection_count());
        n
    }

    /// Statistics of every shard together: counters and sizes added, latencies averaged over
    /// connections.
    pub fn stats(&self) -> ConnectionStats {
        let mut total = ConnectionStats::default();
        let mut weight = 0.0;
        self.for_each(|st, _| {
            let ep = st.engine.endpoint_ref();
            let s = ep.stats();
            let w = ep.connection_count() as f64;
            total.counters.add(&s.counters);
            total.messages_pending += s.messages_pending;
            total.reassembly_bytes += s.reassembly_bytes;
            total.packets_in_flight += s.packets_in_flight;
            total.latency += s.latency * w;
            total.srtt += s.srtt * w;
            weight += w;
        });
        if weight > 0.0 {
            total.latency /= weight;
            total.srtt /= weight;
        }
        total
    }

    /// Time spent by the threads.
    pub fn profile(&self) -> &Profile {
        &self.common.profile
    }

    /// Stops the threads (without telling peers: close connections first), joins them and closes
    /// every socket: the port is free when this returns.
    pub fn stop(&mut self) {
        stop_threads(&self.shards, &mut self.threads);
        #[cfg(feature = "webtransport")]
        if let Some(wt) = self.common.webtransport.get() {
            wt.lock().unwrap_or_else(std::sync::PoisonError::into_inner).stop();
        }
        // The threads are gone: these are the last handles on the sockets.
        self.shards.clear();
    }
}

fn stop_threads(shards: &[Arc<Shard>], threads: &mut Vec<JoinHandle<()>>) {
    for s in shards {
        s.running.store(false, Ordering::Release);
        s.wake();
    }
    for t in threads.drain(..) {
        let _ = t.join();
    }
}

impl Drop for SocketServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Writes waiting datagrams for the host's transports into `out` from `at` as TRANSMIT records
/// (kind, peer, key, len, bytes); returns the new end. What does not fit waits for the next call.
fn write_transmits(external: &mut ExternalOut, out: &mut [u8], mut at: usize) -> usize {
    let head = gamewire_abi::layout::EVENT_HEAD as usize;
    while let Some(&(peer, key, start, len)) = external.items.front() {
        let end = at + head + ((len + 3) & !3);
        let Some(rec) = out.get_mut(at..end) else { break };
        for (i, v) in [event_kind::TRANSMIT, peer, key, len as u32].into_iter().enumerate() {
            rec[4 * i..4 * i + 4].copy_from_slice(&v.to_le_bytes());
        }
        rec[head..head + len].copy_from_slice(&external.bytes[start..start + len]);
        external.items.pop_front();
        at = end;
    }
    if external.items.is_empty() {
        external.bytes.clear();
    }
    at
}

/// Collects what `shard`'s engine has due and sends it, batch by batch, until nothing is due:
/// UDP datagrams by `sendmmsg`, WebTransport ones through the endpoint, the host's transports'
/// ones into the event stream. Returns the engine's next deadline (µs on the server clock) and
/// whether datagrams for the host's transports are waiting.
fn flush_transmits(shard: &Shard, common: &Common, tx: &mut SendBatch) -> (Option<u64>, bool) {
    #[cfg(feature = "webtransport")]
    let mut sessions: Vec<(u64, usize, usize)> = Vec::new();
    loop {
        let now = common.now_ms();
        let (full, next, external) = {
            let mut st = shard.lock();
            let State { engine, peers, external, .. } = &mut *st;
            let ep = engine.endpoint();
            let mut at = 0usize;
            let mut n = 0;
            while n < BATCH && at + ROOM <= tx.bytes.len() {
                let Some(t) = ep.poll_transmit(Instant::from_millis_f64(now), &mut tx.bytes[at..]) else {
                    break;
                };
                match peers.route(t.to) {
                    Some(Route::Udp(to)) => tx.outs.push((to, at, t.len)),
                    #[cfg(feature = "webtransport")]
                    Some(Route::WebTransport(s)) => sessions.push((s, at, t.len)),
                    Some(Route::External(key)) => {
                        let start = external.bytes.len();
                        external.bytes.extend_from_slice(&tx.bytes[at..at + t.len]);
                        external.items.push_back((t.to, key, start, t.len));
                        continue;
                    }
                    _ => continue,
                }
                at += t.len;
                n += 1;
            }
            let full = n == BATCH || at + ROOM > tx.bytes.len();
            (full, engine.next_timeout(), !external.items.is_empty())
        };
        if !tx.outs.is_empty() {
            let (d, m) = (tx.sent_datagrams, tx.sent_messages);
            tx.send(&shard.socket);
            common.profile.datagrams_sent.fetch_add(tx.sent_datagrams - d, Ordering::Relaxed);
            common.profile.send_messages.fetch_add(tx.sent_messages - m, Ordering::Relaxed);
        }
        #[cfg(feature = "webtransport")]
        if !sessions.is_empty() {
            if let Some(wt) = common.webtransport.get() {
                let wt = wt.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let bytes = &tx.bytes;
                wt.send_batch(sessions.iter().map(|&(s, at, len)| (s, &bytes[at..at + len])));
            }
            sessions.clear();
        }
        if !full {
            return ((next >= 0.0).then_some((next * 1000.0) as u64), external);
        }
    }
}

/// The open WebTransport sessions as shard 0 knows them: remote address and when opened (ms on
/// the server's clock), and when they were last checked for the join timeout.
#[cfg(feature = "webtransport")]
#[derive(Default)]
struct WtSessions {
    open: std::collections::HashMap<u64, (SocketAddr, f64)>,
    swept_at: f64,
}

/// Shard 0 takes in what the WebTransport endpoint queued: a session's datagrams go to the
/// engine under the session's peer id (allocated at its first datagram, and again after a
/// datagram that made no connection released it, as for a UDP address), closed sessions end their
/// peers at once. `sessions` holds the remote address of every open session. At most once a
/// second, sessions open longer than the join timeout without a connected client are closed (a
/// silent one QUIC closes itself; this catches one that keeps sending what makes no connection).
#[cfg(feature = "webtransport")]
fn take_webtransport(
    shard: &Shard,
    common: &Common,
    events: &mut Vec<gamewire_webtransport::Event>,
    sessions: &mut WtSessions,
) {
    use gamewire_webtransport::Event as W;
    let Some(wt) = common.webtransport.get() else { return };
    loop {
        events.clear();
        let n = wt.lock().unwrap_or_else(std::sync::PoisonError::into_inner).drain(events, 256);
        if n == 0 {
            return;
        }
        let now = common.now_ms();
        let t = Instant::from_millis_f64(now);
        let mut refused = Vec::new();
        {
            let mut st = shard.lock();
            let State { engine, peers, blocklist, .. } = &mut *st;
            for ev in events.drain(..) {
                match ev {
                    W::Opened { session, remote } => {
                        if blocklist.contains(&canonical(remote.ip())) {
                            engine.endpoint().count_blocked(0);
                            refused.push(session);
                        } else {
                            sessions.open.insert(session, (remote, now));
                        }
                    }
                    W::Datagram { session, data } => {
                        let Some(&(remote, _)) = sessions.open.get(&session) else { continue };
                        let ep = engine.endpoint();
                        // The block list may have changed since the session opened.
                        if blocklist.contains(&canonical(remote.ip())) {
                            ep.count_blocked(data.len());
                            continue;
                        }
                        match peers.id_of_route(Route::WebTransport(session), remote) {
                            Some(id) => {
                                let mut buf = data.to_vec();
                                let source = source_of(canonical(remote.ip()));
                                let _ = ep.handle_datagram_from(t, id, source, &mut buf);
                            }
                            None => ep.count_dropped(DropReason::RateLimited, data.len()),
                        }
                    }
                    W::Closed { session } => {
                        sessions.open.remove(&session);
                        if let Some(id) = peers.get(&Route::WebTransport(session)) {
                            engine.abort(now, id);
                        }
                    }
                }
            }
            if now - sessions.swept_at >= 1000.0 {
                sessions.swept_at = now;
                let deadline = now - common.join_timeout_ms;
                for (&session, &(_, opened)) in &sessions.open {
                    let joined = peers.get(&Route::WebTransport(session)).is_some_and(|id| {
                        engine.endpoint_ref().status(&id) == Some(gamewire_core::Status::Connected)
                    });
                    if opened <= deadline && !joined {
                        refused.push(session);
                    }
                }
            }
        }
        if !refused.is_empty() {
            let wt = wt.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            for s in refused {
                wt.close(s);
            }
        }
        if n < 256 {
            return;
        }
    }
}

fn run_shard(shard: &Shard, common: &Common, first: bool) {
    #[cfg(feature = "webtransport")]
    let (mut wt_events, mut wt_sessions) = (Vec::new(), WtSessions::default());
    #[cfg(not(feature = "webtransport"))]
    let _ = first;
    let mut rx = RecvBatch::new(BATCH);
    let mut tx = SendBatch::new(BATCH);
    let mut budget = budget::HandshakeBudget::new(common.handshake_share, Duration::from_millis(2));
    let mut handshakes_at: Option<StdInstant> = None;
    let mut notify_at: Option<StdInstant> = None;
    let mut deadline_us: Option<u64> = None;
    let fd = shard.socket.as_raw_fd();
    let waker = shard.waker_rx.as_raw_fd();
    let profile = &common.profile;
    while shard.running.load(Ordering::Acquire) {
        // Sleep until a datagram, a wake from the host, or the first thing due.
        let deadline = deadline_us.map(|us| common.start + Duration::from_micros(us));
        let wake_at = [deadline, handshakes_at, notify_at].into_iter().flatten().min();
        let armed =
            wake_at.map_or(u64::MAX, |w| w.saturating_duration_since(common.start).as_micros() as u64);
        shard.armed_us.store(armed, Ordering::Release);
        let t0 = StdInstant::now();
        // While events wait (for their notify time or for the host's drain), datagrams wait in
        // the socket for the end of the turn: the host would not see them sooner, and one drain
        // then takes them all where waking for each would cost a wake-up apiece
        // (`notify_delay` bounds the wait; with 0 every datagram is read as it comes).
        let hold = notify_at.is_some();
        let polled = if hold { sys::NO_FD } else { fd };
        let ready = sys::wait(polled, waker, wake_at.map(|w| w.saturating_duration_since(t0)));
        let t1 = StdInstant::now();
        profile.idle_ns.fetch_add((t1 - t0).as_nanos() as u64, Ordering::Relaxed);
        profile.wakeups.fetch_add(1, Ordering::Relaxed);
        shard.armed_us.store(0, Ordering::Release);
        if ready.waker {
            let mut b = [0u8; 64];
            while shard.waker_rx.recv(&mut b).is_ok() {}
        }
        if !shard.running.load(Ordering::Acquire) {
            break;
        }
        if ready.socket || notify_at.is_some_and(|t| t <= t1) {
            receive(shard, common, &mut rx);
        }
        #[cfg(feature = "webtransport")]
        if first && ready.waker {
            take_webtransport(shard, common, &mut wt_events, &mut wt_sessions);
        }
        {
            let now = common.now_ms();
            let mut st = shard.lock();
            st.engine.tick(now);
        }
        let t2 = StdInstant::now();
        profile.handle_ns.fetch_add((t2 - t1).as_nanos() as u64, Ordering::Relaxed);
        // Replies to established traffic first, then handshakes within their budget.
        let (mut next, _) = flush_transmits(shard, common, &mut tx);
        let t3 = StdInstant::now();
        profile.network_ns.fetch_add((t3 - t2).as_nanos() as u64, Ordering::Relaxed);
        if handshakes_at.is_none_or(|t| t <= t3) {
            let ran = {
                let mut st = shard.lock();
                let queued = st.engine.queued_handshakes() > 0;
                handshakes_at = if queued {
                    budget.run(&mut st.engine, || common.now_ms()).map(|d| StdInstant::now() + d)
                } else {
                    None
                };
                queued
            };
            if ran {
                let t4 = StdInstant::now();
                profile.handle_ns.fetch_add((t4 - t3).as_nanos() as u64, Ordering::Relaxed);
                next = flush_transmits(shard, common, &mut tx).0;
                profile.network_ns.fetch_add(t4.elapsed().as_nanos() as u64, Ordering::Relaxed);
            }
        }
        deadline_us = next;
        // Tell the host once per batch of events (datagrams for its transports included), at
        // most `notify_delay` after the first. While events wait undrained, the socket is held
        // in turns of `notify_delay` whether or not a notification is pending (this shard's or
        // another's): the host takes them when it drains, and what comes meanwhile is read at
        // the end of the turn in one drain.
        let has_events = shard.lock().has_events();
        if has_events {
            let now = StdInstant::now();
            let due = *notify_at.get_or_insert(now + common.notify_delay);
            if due <= now {
                notify_at = None;
                if !common.notified.swap(true, Ordering::AcqRel) {
                    profile.notifications.fetch_add(1, Ordering::Relaxed);
                    if !(common.notify)() {
                        // Not queued (the host is shutting down, or its queue refused): the host
                        // was not told, and with the flag set no shard would tell it. The events
                        // still wait: try again after a turn (of 1 ms at least, not to spin).
                        common.notified.store(false, Ordering::Release);
                        notify_at = Some(now + common.notify_delay.max(Duration::from_millis(1)));
                    }
                }
            }
        } else {
            notify_at = None;
        }
    }
}

/// Drains the socket batch by batch and hands each batch to the engine under one lock.
fn receive(shard: &Shard, common: &Common, rx: &mut RecvBatch) {
    loop {
        let n = rx.recv(&shard.socket).unwrap_or(0);
        if n == 0 {
            return;
        }
        let now = common.now_ms();
        let t = Instant::from_millis_f64(now);
        let mut st = shard.lock();
        let State { engine, peers, blocklist, .. } = &mut *st;
        for i in 0..n {
            let (from, len) = (rx.from[i], rx.lens[i]);
            let ip = canonical(from.ip());
            let ep = engine.endpoint();
            if !blocklist.is_empty() && blocklist.contains(&ip) {
                ep.count_blocked(len);
            } else if len > ROOM {
                // Truncated on receipt: counted with its real size, dropped.
                ep.count_dropped(DropReason::TooLarge, len);
            } else if let Some(id) = peers.id_of(from) {
                let _ = ep.handle_datagram_from(t, id, source_of(ip), rx.datagram(i));
            } else {
                ep.count_dropped(DropReason::RateLimited, len);
            }
        }
        drop(st);
        if n < rx.capacity() {
            return;
        }
    }
}

#[cfg(test)]
mod tests;
