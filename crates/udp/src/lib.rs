//! # gamewire-udp
//!
//! A socket driver for [`gamewire_core`]'s sans-IO endpoint that runs on a thread of its own:
//! it receives datagrams, runs the endpoint (decryption, acks, retries, timers) and sends, so the
//! host's thread (Node's event loop, for the N-API binding) only sees batches of events and makes
//! calls to queue messages.
//!
//! ```text
//!   host thread                         driver thread
//!   ───────────                         ─────────────
//!   send / disconnect ──┐            ┌── recv_from (blocking, timeout = next deadline)
//!   stats / status      ├─ Mutex<State> ─┤  handle_datagram, handle_timeout, poll_transmit
//!   events(buf) ◀───────┘            └── send_to; notify() when events wait
//!          ▲                                   │
//!          └────────────── notify ─────────────┘   (coalesced: once until the host drains)
//! ```
//! The endpoint's peers are `u32` ids (the same flat interface as [`FlatEngine`]); this crate maps
//! them to socket addresses and frees an id only after the host has seen its RELEASED event. The
//! host wakes the thread after queueing messages by sending it an empty datagram from a private
//! socket, so replies go out at once without the host doing socket I/O.
//!
//! Everything here uses std only: blocking sockets with read timeouts.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant as StdInstant, SystemTime, UNIX_EPOCH};

use gamewire_abi::{self as abi, FlatEngine};

const DATAGRAM_ROOM: usize = abi::layout::DATAGRAM_ROOM as usize;

/// Socket addresses to and from the endpoint's `u32` peer ids.
#[derive(Debug, Default)]
struct Peers {
    by_addr: HashMap<SocketAddr, u32>,
    by_id: Vec<Option<SocketAddr>>,
    free: Vec<u32>,
}

impl Peers {
    fn id_of(&mut self, a: SocketAddr) -> u32 {
        if let Some(&id) = self.by_addr.get(&a) {
            return id;
        }
        let id = self.free.pop().unwrap_or(self.by_id.len() as u32);
        if id as usize == self.by_id.len() {
            self.by_id.push(Some(a));
        } else {
            self.by_id[id as usize] = Some(a);
        }
        self.by_addr.insert(a, id);
        id
    }

    fn addr(&self, id: u32) -> Option<SocketAddr> {
        self.by_id.get(id as usize).copied().flatten()
    }

    fn release(&mut self, id: u32) {
        if let Some(a) = self.by_id.get_mut(id as usize).and_then(Option::take) {
            self.by_addr.remove(&a);
            self.free.push(id);
        }
    }
}

/// What the host and the driver thread share under one lock.
#[derive(Debug)]
pub struct State {
    /// The engine (the endpoint behind the flat interface).
    pub engine: FlatEngine,
    peers: Peers,
    blocklist: HashSet<IpAddr>,
}

/// Time spent by the driver thread, nanoseconds (the dashboard's time profile).
#[derive(Debug, Default)]
pub struct Profile {
    /// Handling received datagrams and timers.
    pub handle_ns: AtomicU64,
    /// Building and sending datagrams.
    pub network_ns: AtomicU64,
    /// Waiting for datagrams.
    pub idle_ns: AtomicU64,
}

struct Shared {
    state: Mutex<State>,
    running: AtomicBool,
    /// Set when the host was told events wait; cleared when it drains them.
    notified: AtomicBool,
    /// Set when a wake datagram is on its way; cleared by the thread.
    woken: AtomicBool,
    start: StdInstant,
    profile: Profile,
}

/// Options of a [`SocketServer`].
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Address to bind.
    pub bind: SocketAddr,
    /// The engine configuration, flat (`abi::CONFIG_FIELDS` order); `unixMillisAtZero` is set here.
    pub config: Vec<f64>,
    /// The root key, PKCS#8 DER (empty: a fresh one).
    pub root_pkcs8: Vec<u8>,
    /// How often the endpoint's timers run.
    pub tick: Duration,
    /// The socket's receive buffer in bytes (the OS caps it); 0 keeps the OS default.
    pub recv_buffer: usize,
}

/// Binds a UDP socket with the receive buffer asked for.
fn bind(addr: SocketAddr, recv_buffer: usize) -> io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let s = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        // Dual-stack where the address allows it, as node:dgram's udp6 sockets are.
        let _ = s.set_only_v6(false);
    }
    if recv_buffer > 0 {
        // Best effort: the kernel caps it at net.core.rmem_max.
        let _ = s.set_recv_buffer_size(recv_buffer);
    }
    s.bind(&addr.into())?;
    Ok(s.into())
}

/// A UDP server endpoint whose socket I/O and protocol work run on a thread of their own.
pub struct SocketServer {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    local: SocketAddr,
    waker: UdpSocket,
    /// The server socket (a second handle), for sends from the host's thread.
    tx: UdpSocket,
    /// The host's send arena, kept between calls.
    host_tx: Mutex<TxArena>,
}

impl std::fmt::Debug for SocketServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketServer").field("local", &self.local).finish_non_exhaustive()
    }
}

fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    // A panic while holding the lock would poison it; the state stays usable (every mutation
    // is a complete endpoint call), so recover it.
    shared.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn now_ms(start: StdInstant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

/// Largest datagram read: anything longer is truncated, and dropped as too large by the engine.
const RECV_BUF: usize = 4096;

impl SocketServer {
    /// Binds, starts the thread. `notify` runs on the driver thread when events wait and the host
    /// has drained everything before; it must only schedule work on the host.
    pub fn start(opts: ServerOptions, notify: impl Fn() + Send + 'static) -> io::Result<Self> {
        let mut config = opts.config;
        if let Some(i) = abi::CONFIG_FIELDS.iter().position(|f| *f == "unixMillisAtZero") {
            if let Some(slot) = config.get_mut(i) {
                *slot = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_millis() as f64);
            }
        }
        let engine = FlatEngine::server(&config, &opts.root_pkcs8, &[])
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.message))?;
        let socket = bind(opts.bind, opts.recv_buffer)?;
        let tx = socket.try_clone()?;
        let local = socket.local_addr()?;
        let waker_bind: SocketAddr = if local.is_ipv6() { "[::1]:0".parse() } else { "127.0.0.1:0".parse() }
            .map_err(|e: std::net::AddrParseError| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let waker = UdpSocket::bind(waker_bind)?;
        let wake_to =
            if local.ip().is_unspecified() { SocketAddr::new(waker_bind.ip(), local.port()) } else { local };
        waker.connect(wake_to)?;
        let waker_addr = waker.local_addr()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State { engine, peers: Peers::default(), blocklist: HashSet::new() }),
            running: AtomicBool::new(true),
            notified: AtomicBool::new(false),
            woken: AtomicBool::new(false),
            start: StdInstant::now(),
            profile: Profile::default(),
        });
        let s2 = Arc::clone(&shared);
        let tick = opts.tick.max(Duration::from_millis(1));
        let thread = std::thread::Builder::new()
            .name("gamewire-udp".into())
            .spawn(move || run(s2, socket, waker_addr, tick, notify))?;
        Ok(Self { shared, thread: Some(thread), local, waker, tx, host_tx: Mutex::new(TxArena::new()) })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Milliseconds on the driver's clock (what the engine calls receive as `now`).
    pub fn now_ms(&self) -> f64 {
        now_ms(self.shared.start)
    }

    /// Runs `f` with the shared state locked (engine calls from the host).
    pub fn with<R>(&self, f: impl FnOnce(&mut State, f64) -> R) -> R {
        let now = self.now_ms();
        f(&mut lock(&self.shared), now)
    }

    /// Drains events into `out` (the flat event records); frees the ids of released peers.
    pub fn events(&self, out: &mut [u8]) -> u32 {
        let mut st = lock(&self.shared);
        let State { engine, peers, .. } = &mut *st;
        let n = engine.events_with(out, |id| peers.release(id));
        if !engine.has_events() {
            self.shared.notified.store(false, Ordering::Release);
        }
        n
    }

    /// The socket address of a peer id.
    pub fn peer_addr(&self, peer: u32) -> Option<SocketAddr> {
        lock(&self.shared).peers.addr(peer)
    }

    /// Replaces the block list (datagrams from these IPs are dropped before parsing, counted).
    pub fn set_block_list(&self, ips: impl IntoIterator<Item = IpAddr>) {
        lock(&self.shared).blocklist = ips.into_iter().collect();
    }

    /// Asks the thread to transmit now (after messages were queued). Coalesced.
    pub fn wake(&self) {
        if !self.shared.woken.swap(true, Ordering::AcqRel) {
            let _ = self.waker.send(&[]);
        }
    }

    /// Sends what is due now from the caller's thread (after messages were queued): the same
    /// work the thread does after each datagram, without the wake datagram and the thread's
    /// wakeup that [`wake`](Self::wake) costs. What the send gate holds back goes out with the
    /// thread's next timer step.
    pub fn transmit_now(&self) {
        let t0 = StdInstant::now();
        let mut tx = self.host_tx.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        {
            let now = self.now_ms();
            let mut st = lock(&self.shared);
            tx.collect(&mut st, now);
        }
        tx.send_all(&self.tx);
        self.shared.profile.network_ns.fetch_add(t0.elapsed().as_nanos() as u64, Ordering::Relaxed);
    }

    /// Time spent by the thread.
    pub fn profile(&self) -> &Profile {
        &self.shared.profile
    }

    /// Stops the thread (without telling peers: close connections first) and joins it.
    pub fn stop(&mut self) {
        self.shared.running.store(false, Ordering::Release);
        let _ = self.waker.send(&[]);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for SocketServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One datagram to send, in the out arena.
struct Out {
    to: SocketAddr,
    start: usize,
    len: usize,
}

/// Datagrams collected under the state's lock and sent after it is released.
struct TxArena {
    bytes: Vec<u8>,
    outs: Vec<Out>,
}

impl TxArena {
    fn new() -> Self {
        Self { bytes: vec![0u8; 64 * DATAGRAM_ROOM], outs: Vec::with_capacity(64) }
    }

    /// Takes what the endpoint has due at `now`, up to the arena's room (the rest stays queued
    /// for the next call).
    fn collect(&mut self, st: &mut State, now: f64) {
        let State { engine, peers, .. } = st;
        let ep = engine.endpoint();
        let mut at = 0usize;
        self.outs.clear();
        while at + DATAGRAM_ROOM <= self.bytes.len() {
            let Some(t) =
                ep.poll_transmit(gamewire_core::Instant::from_millis_f64(now), &mut self.bytes[at..])
            else {
                break;
            };
            if let Some(to) = peers.addr(t.to) {
                self.outs.push(Out { to, start: at, len: t.len });
                at += t.len;
            }
        }
    }

    fn send_all(&self, socket: &UdpSocket) {
        for o in &self.outs {
            // A failed send is a lost datagram; the protocol recovers.
            let _ = socket.send_to(&self.bytes[o.start..o.start + o.len], o.to);
        }
    }
}

fn run(shared: Arc<Shared>, socket: UdpSocket, waker: SocketAddr, tick: Duration, notify: impl Fn()) {
    let mut buf = vec![0u8; RECV_BUF];
    let mut tx = TxArena::new();
    let mut next_tick = StdInstant::now();
    while shared.running.load(Ordering::Acquire) {
        let wait = next_tick.saturating_duration_since(StdInstant::now()).max(Duration::from_micros(500));
        let _ = socket.set_read_timeout(Some(wait));
        let t0 = StdInstant::now();
        let got = socket.recv_from(&mut buf);
        let t1 = StdInstant::now();
        shared.profile.idle_ns.fetch_add((t1 - t0).as_nanos() as u64, Ordering::Relaxed);
        let now = now_ms(shared.start);
        let mut st = lock(&shared);
        match got {
            Ok((_, from)) if from == waker => shared.woken.store(false, Ordering::Release),
            Ok((n, from)) => {
                let State { engine, peers, blocklist } = &mut *st;
                let ip = match from.ip() {
                    IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
                    v4 => v4,
                };
                if !blocklist.is_empty() && blocklist.contains(&ip) {
                    engine.count_blocked(n as u32);
                } else {
                    let id = peers.id_of(from);
                    let meta = [id, 0, n as u32, 0];
                    engine.handle(now, &mut buf[..n.min(RECV_BUF)], &meta, 1, &mut []);
                    engine.process_handshakes(now, u32::MAX);
                }
            }
            Err(_) => {} // timeout: run the timers below
        }
        if StdInstant::now() >= next_tick {
            st.engine.tick(now);
            next_tick += tick;
            if next_tick < StdInstant::now() {
                next_tick = StdInstant::now() + tick;
            }
        }
        let t2 = StdInstant::now();
        shared.profile.handle_ns.fetch_add((t2 - t1).as_nanos() as u64, Ordering::Relaxed);
        // Collect what is due under the lock; send after releasing it.
        tx.collect(&mut st, now);
        let events = st.engine.has_events();
        drop(st);
        tx.send_all(&socket);
        shared.profile.network_ns.fetch_add(t2.elapsed().as_nanos() as u64, Ordering::Relaxed);
        if events && !shared.notified.swap(true, Ordering::AcqRel) {
            notify();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gamewire_core::crypto::RootKey;
    use gamewire_core::{Config, Endpoint, Event, Instant, RetryMode};
    use std::sync::mpsc;

    fn root() -> RootKey {
        RootKey::from_scalar(&[0x22; 32]).unwrap()
    }

    /// A threaded server on loopback whose `notify` feeds the returned channel.
    fn start(config: &Config, tick: Duration) -> (SocketServer, mpsc::Receiver<()>) {
        let (tx, rx) = mpsc::channel();
        let server = SocketServer::start(
            ServerOptions {
                bind: "127.0.0.1:0".parse().unwrap(),
                config: abi::config_to_flat(config),
                root_pkcs8: root().to_pkcs8_der(),
                tick,
                recv_buffer: 1 << 20,
            },
            move || {
                let _ = tx.send(());
            },
        )
        .unwrap();
        (server, rx)
    }

    /// A core client endpoint over a plain socket.
    struct Client {
        ep: Endpoint<u8>,
        sock: UdpSocket,
        start: StdInstant,
        buf: [u8; 2048],
    }

    impl Client {
        fn new() -> Self {
            let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
            sock.set_read_timeout(Some(Duration::from_millis(5))).unwrap();
            Self {
                ep: Endpoint::client(Config::default(), [9; 32]),
                sock,
                start: StdInstant::now(),
                buf: [0; 2048],
            }
        }
        fn now(&self) -> Instant {
            Instant::from_micros(self.start.elapsed().as_micros() as u64)
        }
        /// Sends what is due, reads one datagram (5 ms timeout), runs timers; returns the events.
        fn step(&mut self, to: SocketAddr, send: bool) -> Vec<(bool, Vec<u8>)> {
            let now = self.now();
            if send {
                while let Some(t) = self.ep.poll_transmit(now, &mut self.buf) {
                    self.sock.send_to(&self.buf[..t.len], to).unwrap();
                }
            }
            if let Ok((n, _)) = self.sock.recv_from(&mut self.buf) {
                let _ = self.ep.handle_datagram(self.now(), 0, &mut self.buf[..n]);
            }
            self.ep.handle_timeout(self.now());
            let mut out = Vec::new();
            while let Some(e) = self.ep.poll_event() {
                match e {
                    Event::Connected { .. } => out.push((true, Vec::new())),
                    Event::Message { data, .. } => out.push((false, self.ep.event_data(data).to_vec())),
                    _ => {}
                }
            }
            out
        }
    }

    /// Drains the server's events; the payloads of its MESSAGE events, with their peers.
    fn messages(server: &SocketServer) -> Vec<(u32, Vec<u8>)> {
        let mut ev = vec![0u8; 65536];
        let n = server.events(&mut ev) as usize;
        let mut at = 0;
        let mut out = Vec::new();
        while at < n {
            let w = |i: usize| u32::from_le_bytes(ev[at + i..at + i + 4].try_into().unwrap());
            let (kind, peer, len) = (w(0), w(4), w(12) as usize);
            if kind == abi::event_kind::MESSAGE {
                out.push((peer, ev[at + 16..at + 16 + len].to_vec()));
            }
            at += 16 + ((len + 3) & !3);
        }
        out
    }

    /// Connect, echo: the thread sends the echo after `wake`.
    #[test]
    fn echo_through_the_thread() {
        let (server, rx) = start(&Config::default(), Duration::from_millis(5));
        let mut client = Client::new();
        client.ep.connect(client.now(), 0, Some(root().public()), false).unwrap();
        let mut echoed = false;
        while client.start.elapsed() < Duration::from_secs(5) && !echoed {
            for (connected, data) in client.step(server.local_addr(), true) {
                if connected {
                    client.ep.send(client.now(), &0, b"ping", RetryMode::RetryOnTimeout, 0).unwrap();
                } else {
                    echoed = data == b"ping";
                }
            }
            if rx.try_recv().is_ok() {
                for (peer, data) in messages(&server) {
                    server.with(|st, now| st.engine.send(now, peer, &data, -1, 0));
                    server.wake();
                }
            }
        }
        assert!(echoed, "the server thread echoed the message");
        assert!(server.profile().idle_ns.load(Ordering::Relaxed) > 0);
    }

    /// `transmit_now` sends from the caller's thread: with the thread's timers 60 s apart and the
    /// client silent after its message, nothing else would send the reply.
    #[test]
    fn transmit_now_sends_without_the_thread() {
        let config = Config { send_interval: Duration::ZERO, ..Config::default() };
        let (server, rx) = start(&config, Duration::from_secs(60));
        let mut client = Client::new();
        client.ep.connect(client.now(), 0, Some(root().public()), false).unwrap();
        let mut got = None;
        while client.start.elapsed() < Duration::from_secs(5) && got.is_none() {
            for (connected, _) in client.step(server.local_addr(), true) {
                if connected {
                    client.ep.send(client.now(), &0, b"ping", RetryMode::None, 0).unwrap();
                }
            }
            if rx.try_recv().is_ok() {
                got = messages(&server).into_iter().next();
            }
        }
        let (peer, data) = got.expect("the server got the message");
        assert_eq!(data, b"ping");
        server.with(|st, now| st.engine.send(now, peer, b"pong", -1, 0));
        server.transmit_now();
        // The client only listens now: no datagram of its own wakes the server thread.
        let mut reply = None;
        let until = StdInstant::now() + Duration::from_millis(500);
        while StdInstant::now() < until && reply.is_none() {
            reply = client.step(server.local_addr(), false).into_iter().find(|(c, _)| !c).map(|(_, d)| d);
        }
        assert_eq!(reply.as_deref(), Some(&b"pong"[..]), "transmit_now sent the reply");
    }
}
