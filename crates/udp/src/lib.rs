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

use gamewire_core::abi::{self, FlatEngine};

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
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let socket = bind(opts.bind, opts.recv_buffer)?;
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
        Ok(Self { shared, thread: Some(thread), local, waker })
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

fn run(shared: Arc<Shared>, socket: UdpSocket, waker: SocketAddr, tick: Duration, notify: impl Fn()) {
    let mut buf = vec![0u8; RECV_BUF];
    let mut arena = vec![0u8; 64 * abi::TRANSMIT_ROOM];
    let mut outs: Vec<Out> = Vec::with_capacity(64);
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
                    let meta = [id, 0, n as u32];
                    engine.handle(now, &mut buf[..n.min(RECV_BUF)], &meta, 1, &mut []);
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
        let State { engine, peers, .. } = &mut *st;
        let ep = engine.endpoint();
        let mut at = 0usize;
        outs.clear();
        while at + abi::TRANSMIT_ROOM <= arena.len() {
            let Some(t) = ep.poll_transmit(gamewire_core::Instant::from_millis_f64(now), &mut arena[at..])
            else {
                break;
            };
            if let Some(to) = peers.addr(t.to) {
                outs.push(Out { to, start: at, len: t.len });
                at += t.len;
            }
        }
        let events = engine.has_events();
        drop(st);
        for o in &outs {
            // A failed send is a lost datagram; the protocol recovers.
            let _ = socket.send_to(&arena[o.start..o.start + o.len], o.to);
        }
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

    /// A core client endpoint over a plain socket talks to the threaded server: connect, echo.
    #[test]
    fn echo_through_the_thread() {
        let root = RootKey::from_scalar(&[0x22; 32]).unwrap();
        let (tx, rx) = mpsc::channel();
        let server = SocketServer::start(
            ServerOptions {
                bind: "127.0.0.1:0".parse().unwrap(),
                config: abi::config_to_flat(&Config::default()),
                root_pkcs8: root.to_pkcs8_der(),
                tick: Duration::from_millis(5),
                recv_buffer: 1 << 20,
            },
            move || {
                let _ = tx.send(());
            },
        )
        .unwrap();
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(5))).unwrap();
        let mut client: Endpoint<u8> = Endpoint::client(Config::default(), Some([9; 32]));
        let start = StdInstant::now();
        let now = || Instant::from_micros(start.elapsed().as_micros() as u64);
        client.connect(now(), 0, Some(root.public()), false).unwrap();
        let mut buf = [0u8; 2048];
        let mut ev = vec![0u8; 65536];
        let mut echoed = false;
        let mut sent = false;
        while start.elapsed() < Duration::from_secs(5) && !echoed {
            while let Some(t) = client.poll_transmit(now(), &mut buf) {
                sock.send_to(&buf[..t.len], server.local_addr()).unwrap();
            }
            if let Ok((n, _)) = sock.recv_from(&mut buf) {
                let _ = client.handle_datagram(now(), 0, &mut buf[..n]);
            }
            client.handle_timeout(now());
            while let Some(e) = client.poll_event() {
                match e {
                    Event::Connected { .. } if !sent => {
                        client.send(now(), &0, b"ping", RetryMode::RetryOnTimeout, 0).unwrap();
                        sent = true;
                    }
                    Event::Message { data, .. } => echoed = client.event_data(data) == b"ping",
                    _ => {}
                }
            }
            // The host side: drain events, echo messages back.
            if rx.try_recv().is_ok() {
                let n = server.events(&mut ev) as usize;
                let mut at = 0;
                while at < n {
                    let w = |i: usize| u32::from_le_bytes(ev[at + i..at + i + 4].try_into().unwrap());
                    let (kind, peer, len) = (w(0), w(4), w(12) as usize);
                    if kind == abi::event_kind::MESSAGE {
                        let data = ev[at + 16..at + 16 + len].to_vec();
                        server.with(|st, now| st.engine.send(now, peer, &data, -1, 0));
                        server.wake();
                    }
                    at += 16 + ((len + 3) & !3);
                }
            }
        }
        assert!(echoed, "the server thread echoed the message");
        assert!(server.profile().idle_ns.load(Ordering::Relaxed) > 0);
    }
}
