//! The endpoint: a table of connections keyed by peer address, driven by its caller.
//!
//! ```text
//!            datagrams + now                      app commands
//!                 │                                    │
//!   handle_datagram(now, from, bytes)    send / connect / disconnect / close_all
//!                 ▼                                    ▼
//!          ┌──────────────────────── Endpoint<A> ─────────────────────┐
//!          │ handshake admission · routing · connections · counters   │
//!          └──────────────────────────────────────────────────────────┘
//!                 │                   │                      │
//!   poll_transmit(now, buf)     poll_event()          poll_timeout()
//!        datagrams to send      events for the app    when to call handle_timeout
//! ```
//! Polling order after any input: drain `poll_transmit` until `None`, then `poll_event` until
//! `None`, then arm a timer for `poll_timeout`. `handle_timeout(now)` may be called early or late;
//! a server typically calls it once per tick. Time must be monotonic; the endpoint clamps it.
//!
//! `A` is whatever identifies a peer to the caller: a `SocketAddr` for a Rust socket driver, a
//! small integer peer id for the flat interface the bindings share (`gamewire-abi`).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::hash::Hash;
use std::ops::Range;

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

use crate::codec::handshake::ClientHello;
use crate::codec::{Direction, Header, PacketType};
use crate::config::{Config, Role};
use crate::connection::outbox::RetryMode;
use crate::connection::{handshake_message, ConnEvent, Connection, Deadline, State};
use crate::crypto::{EphemeralSecret, RootKey, RootPublicKey, SPKI_LEN};
use crate::event::Event;
use crate::seq::Seq;
use crate::stats::{ConnectionStats, Counters, DropReason};
use crate::time::{Instant, MonotonicClock};

/// Why `send` refused a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// No connection with that address.
    #[error("no connection to that peer")]
    UnknownConnection,
    /// The connection is not (or no longer) able to carry application messages.
    #[error("the connection is not open")]
    NotConnected,
    /// Larger than `Config::max_message_size`.
    #[error("message of {len} bytes exceeds the maximum of {max}")]
    TooLarge {
        /// The message size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// `Config::max_queued_messages` unsettled messages are already queued.
    #[error("too many messages queued for this connection")]
    QueueFull,
}

/// Why `connect` refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    /// This endpoint is a server.
    #[error("a server endpoint cannot connect")]
    NotAClient,
    /// No pinned root key and no explicit insecure opt-in.
    #[error(
        "no pinned server root key: pass the server's public key, or opt in to insecure mode explicitly"
    )]
    NoPinnedKey,
    /// Already connected or connecting to that address.
    #[error("already connected to that peer")]
    AlreadyConnected,
    /// `Config::max_connections` reached.
    #[error("connection limit reached")]
    TooManyConnections,
}

/// A datagram to send: where to, and how long (its bytes are at the start of the buffer given
/// to [`Endpoint::poll_transmit`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit<A> {
    /// Destination.
    pub to: A,
    /// Length in bytes.
    pub len: usize,
}

/// The public state of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Handshake in progress.
    Connecting,
    /// Established.
    Connected,
    /// Closing (DISCONNECT in flight).
    Disconnecting,
}

#[derive(Debug)]
struct Slot<A> {
    addr: A,
    conn: Connection,
    ready: bool,
    /// A server handshake counted in `handshakes_pending`.
    pending_handshake: bool,
    /// The connection's next deadline, as last scheduled in the timer heaps.
    deadline: Option<Deadline>,
    /// The stamp of its live timer-heap entry (older entries for this slot are stale).
    timer: u64,
}

/// Token bucket limiting handshakes.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// A CLIENT_HELLO that passed the cheap checks, waiting for its elliptic-curve work.
#[derive(Debug)]
struct QueuedHello<A> {
    from: A,
    header: Header,
    msg_seq: Seq,
    client_key: [u8; SPKI_LEN],
    at: Instant,
    bytes: usize,
}

/// CLIENT_HELLOs waiting to be answered, per source, answered in turn: a sender flooding hellos
/// holds at most `handshake_queue_per_source` places and gets one answer per round, like any other.
#[derive(Debug)]
struct HelloQueue<A> {
    by_source: HashMap<u32, VecDeque<QueuedHello<A>>>,
    /// Sources with queued hellos, in the order they are served.
    turn: VecDeque<u32>,
    /// Addresses with a queued hello (their peer ids stay in use until it is answered).
    addrs: HashSet<A>,
    len: usize,
}

impl<A: Clone + Eq + Hash> HelloQueue<A> {
    fn new() -> Self {
        Self { by_source: HashMap::new(), turn: VecDeque::new(), addrs: HashSet::new(), len: 0 }
    }

    fn has_room(&self, cfg: &Config, source: u32) -> bool {
        self.len < cfg.handshake_queue
            && self.by_source.get(&source).map_or(0, VecDeque::len) < cfg.handshake_queue_per_source
    }

    fn push(&mut self, source: u32, hello: QueuedHello<A>) {
        self.addrs.insert(hello.from.clone());
        let q = self.by_source.entry(source).or_default();
        if q.is_empty() {
            self.turn.push_back(source);
        }
        q.push_back(hello);
        self.len += 1;
    }

    /// The next hello, taking sources in turn.
    fn pop(&mut self) -> Option<QueuedHello<A>> {
        let source = self.turn.pop_front()?;
        let q = self.by_source.get_mut(&source)?;
        let hello = q.pop_front()?;
        if q.is_empty() {
            self.by_source.remove(&source);
        } else {
            self.turn.push_back(source);
        }
        self.addrs.remove(&hello.from);
        self.len -= 1;
        Some(hello)
    }
}

/// A gamewire endpoint (server or client side).
#[derive(Debug)]
pub struct Endpoint<A: Clone + Eq + Hash> {
    cfg: Config,
    role: Role,
    root: Option<RootKey>,
    rng: ChaCha20Rng,
    slots: Vec<Option<Slot<A>>>,
    free: Vec<usize>,
    by_addr: HashMap<A, usize>,
    ready: VecDeque<usize>,
    /// Connections by the earliest instant they have work: (at, slot, stamp); entries whose
    /// stamp is not the slot's current one are stale and skipped. `handle_timeout` visits only
    /// what is due.
    timers: BinaryHeap<Reverse<(Instant, usize, u64)>>,
    /// The same connections by the instant they must be visited by (`Deadline::latest`):
    /// `poll_timeout` reports the first of these, so a keep-alive that may wait does not cost a
    /// wake-up of its own when another comes first.
    wakes: BinaryHeap<Reverse<(Instant, usize, u64)>>,
    timer_stamp: u64,
    events: VecDeque<Event<A>>,
    arena: Vec<u8>,
    /// Counts for datagrams that reached no connection.
    own: Counters,
    /// Counts of connections that are gone.
    retired: Counters,
    bucket: Bucket,
    hellos: HelloQueue<A>,
    handshakes_pending: usize,
    /// Bytes held by unfinished fragmented messages, all connections.
    reassembly_total: usize,
    clock: MonotonicClock,
    #[cfg(any(test, feature = "testing"))]
    test_ephemeral: Option<Vec<u8>>,
}

impl<A: Clone + Eq + Hash> Endpoint<A> {
    fn new(cfg: Config, role: Role, root: Option<RootKey>, seed: [u8; 32]) -> Self {
        let rng = ChaCha20Rng::from_seed(seed);
        let burst = f64::from(cfg.handshakes_per_second.max(1));
        Self {
            cfg,
            role,
            root,
            rng,
            slots: Vec::new(),
            free: Vec::new(),
            by_addr: HashMap::new(),
            ready: VecDeque::new(),
            timers: BinaryHeap::new(),
            wakes: BinaryHeap::new(),
            timer_stamp: 0,
            events: VecDeque::new(),
            arena: Vec::new(),
            own: Counters::default(),
            retired: Counters::default(),
            bucket: Bucket { tokens: burst, at: Instant::ZERO },
            hellos: HelloQueue::new(),
            handshakes_pending: 0,
            reassembly_total: 0,
            clock: MonotonicClock::default(),
            #[cfg(any(test, feature = "testing"))]
            test_ephemeral: None,
        }
    }

    /// A server endpoint signing its handshakes with `root`. Every random value it draws
    /// (ephemeral keys, salts, session tokens) comes from a ChaCha20 generator seeded with `seed`:
    /// the caller passes 32 bytes from the operating system's generator (a fixed seed only in
    /// tests). The core has no randomness of its own, so it can never fall back to a weak one.
    pub fn server(cfg: Config, root: RootKey, seed: [u8; 32]) -> Self {
        Self::new(cfg, Role::Server, Some(root), seed)
    }

    /// A client endpoint (one or many outgoing connections); `seed` as for [`Self::server`].
    pub fn client(cfg: Config, seed: [u8; 32]) -> Self {
        Self::new(cfg, Role::Client, None, seed)
    }

    /// Which side this is.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Replaces the configuration (applies to timers from now on).
    pub fn set_config(&mut self, cfg: Config) {
        self.cfg = cfg;
        let now = self.clock_now();
        for idx in 0..self.slots.len() {
            if let Some(s) = self.slots[idx].as_mut() {
                s.deadline = None;
            }
            self.schedule(idx, now);
        }
    }

    /// The server's root key.
    pub fn root_key(&self) -> Option<&RootKey> {
        self.root.as_ref()
    }

    /// Uses this fixed ephemeral scalar for every handshake instead of a random one. For
    /// reproducing mpgameserver's test vectors only: a fixed ephemeral key forfeits forward
    /// secrecy and, on a server, makes every session key depend on the salt alone.
    #[cfg(any(test, feature = "testing"))]
    pub fn danger_fix_ephemeral_for_tests(&mut self, scalar: Option<&[u8]>) {
        self.test_ephemeral = scalar.map(<[u8]>::to_vec);
    }

    /// Adds a connection to `addr` that is already established with session key `key` (no
    /// handshake). For benchmarks and tests that compare the per-datagram paths against another
    /// implementation sharing the key; a real peer cannot talk to such a connection without the
    /// key having been agreed some other way.
    #[cfg(any(test, feature = "testing"))]
    pub fn danger_establish(&mut self, now: Instant, addr: A, key: &[u8; 16], token: u32) -> bool {
        let now = self.clock.observe(now);
        if self.by_addr.contains_key(&addr) {
            return false;
        }
        let conn = Connection::established(self.role, &self.cfg, now, key, token);
        let idx = self.insert(addr, conn);
        self.after_input(idx, now);
        true
    }

    #[cfg(any(test, feature = "testing"))]
    fn ephemeral(&self) -> Option<EphemeralSecret> {
        self.test_ephemeral.as_deref().and_then(|s| EphemeralSecret::from_scalar(s).ok())
    }

    #[cfg(not(any(test, feature = "testing")))]
    fn ephemeral(&self) -> Option<EphemeralSecret> {
        None
    }

    /// Number of connections, handshakes included.
    pub fn connection_count(&self) -> usize {
        self.by_addr.len()
    }

    /// Addresses of established connections.
    pub fn connected(&self) -> impl Iterator<Item = &A> {
        self.slots.iter().flatten().filter(|s| s.conn.is_established()).map(|s| &s.addr)
    }

    fn slot(&self, addr: &A) -> Option<&Slot<A>> {
        self.by_addr.get(addr).and_then(|&i| self.slots[i].as_ref())
    }

    /// The public state of the connection with `addr`.
    pub fn status(&self, addr: &A) -> Option<Status> {
        self.slot(addr).and_then(|s| match s.conn.state {
            State::Connecting | State::Keyed | State::HalfOpen => Some(Status::Connecting),
            State::Connected => Some(Status::Connected),
            State::Closing => Some(Status::Disconnecting),
            State::Done => None,
        })
    }

    /// The session token of the connection with `addr` (0 before the SERVER_HELLO).
    pub fn token(&self, addr: &A) -> Option<u32> {
        self.slot(addr).map(|s| s.conn.token)
    }

    /// mpgameserver's latency estimate for `addr`, in seconds.
    pub fn latency(&self, addr: &A) -> Option<f64> {
        self.slot(addr).map(|s| s.conn.latency())
    }

    /// Statistics of the connection with `addr`.
    pub fn connection_stats(&self, addr: &A) -> Option<ConnectionStats> {
        self.slot(addr).map(|s| s.conn.stats())
    }

    /// Endpoint-wide statistics: every connection ever, plus datagrams that reached none.
    pub fn stats(&self) -> ConnectionStats {
        let mut total = ConnectionStats { counters: self.own.clone(), ..Default::default() };
        total.counters.add(&self.retired);
        let mut n = 0.0;
        for s in self.slots.iter().flatten() {
            let cs = s.conn.stats();
            total.counters.add(&cs.counters);
            total.messages_pending += cs.messages_pending;
            total.reassembly_bytes += cs.reassembly_bytes;
            total.packets_in_flight += cs.packets_in_flight;
            total.latency += cs.latency;
            total.srtt += cs.srtt;
            n += 1.0;
        }
        if n > 0.0 {
            total.latency /= n;
            total.srtt /= n;
        }
        total
    }

    /// Counts a datagram the I/O driver dropped before handing it over (block list).
    pub fn count_blocked(&mut self, bytes: usize) {
        self.count_dropped(DropReason::Blocked, bytes);
    }

    /// Counts a datagram the I/O driver dropped itself (blocked, or too large to hand over).
    pub fn count_dropped(&mut self, reason: DropReason, bytes: usize) {
        self.own.datagrams_in += 1;
        self.own.bytes_in += bytes as u64;
        self.own.count_drop(reason);
    }

    // ---- input ----------------------------------------------------------------------------

    /// Handles one received datagram from `from`. The buffer is decrypted in place. Bad input is
    /// dropped and counted; the reason is returned for the caller's information. A CLIENT_HELLO
    /// from a new address is only checked cheaply and queued: [`Self::process_handshakes`]
    /// answers it. All senders count as one source here; see [`Self::handle_datagram_from`].
    pub fn handle_datagram(&mut self, now: Instant, from: A, datagram: &mut [u8]) -> Result<(), DropReason> {
        self.handle_datagram_from(now, from, 0, datagram)
    }

    /// [`Self::handle_datagram`], with `source` naming the sender (the caller's id for its IP
    /// address): queued handshakes are shared out between sources in turn.
    pub fn handle_datagram_from(
        &mut self,
        now: Instant,
        from: A,
        source: u32,
        datagram: &mut [u8],
    ) -> Result<(), DropReason> {
        let now = self.clock.observe(now);
        let expect = match self.role {
            Role::Server => Direction::ToServer,
            Role::Client => Direction::ToClient,
        };
        let routed = self.by_addr.get(&from).copied();
        let result = if datagram.len() > self.cfg.max_datagram {
            Err(DropReason::TooLarge)
        } else {
            match Header::decode(datagram, expect) {
                Err(_) => Err(DropReason::Malformed),
                Ok(h) if !h.seq.is_set() => Err(DropReason::Malformed),
                Ok(h) => match routed {
                    Some(idx) => return self.route(now, idx, &h, datagram),
                    None if self.role == Role::Server && h.ptype == PacketType::ClientHello => {
                        return self.accept(now, from, source, &h, datagram);
                    }
                    None => Err(DropReason::UnknownConnection),
                },
            }
        };
        match routed {
            Some(idx) => {
                if let Some(s) = self.slots[idx].as_mut() {
                    s.conn.counters.datagrams_in += 1;
                    s.conn.counters.bytes_in += datagram.len() as u64;
                    if let Err(r) = result {
                        s.conn.counters.count_drop(r);
                    }
                }
            }
            None => {
                self.own.datagrams_in += 1;
                self.own.bytes_in += datagram.len() as u64;
                if let Err(r) = result {
                    self.own.count_drop(r);
                }
                self.release_unknown(from);
            }
        }
        result
    }

    /// Tells the caller it may forget `from`, unless a queued hello still names it.
    fn release_unknown(&mut self, from: A) {
        if !self.hellos.addrs.contains(&from) {
            self.events.push_back(Event::Released { addr: from });
        }
    }

    fn route(&mut self, now: Instant, idx: usize, h: &Header, datagram: &mut [u8]) -> Result<(), DropReason> {
        let Self { slots, events, arena, cfg, reassembly_total, .. } = self;
        let Some(slot) = slots[idx].as_mut() else { return Err(DropReason::UnknownConnection) };
        let addr = slot.addr.clone();
        let held = slot.conn.reassembly_bytes();
        let budget = cfg.max_reassembly_bytes_total.saturating_sub(*reassembly_total);
        let r =
            slot.conn.handle(cfg, now, h, datagram, budget, &mut |ev| push_event(events, arena, &addr, ev));
        *reassembly_total = *reassembly_total + slot.conn.reassembly_bytes() - held;
        self.after_input(idx, now);
        r
    }

    fn refill_bucket(&mut self, now: Instant) {
        let rate = f64::from(self.cfg.handshakes_per_second.max(1));
        let dt = now.saturating_since(self.bucket.at).as_secs_f64();
        self.bucket.tokens = (self.bucket.tokens + dt * rate).min(rate);
        self.bucket.at = now;
    }

    /// A CLIENT_HELLO from an unknown address: checked cheaply (limits, CRC, body) and queued,
    /// before any elliptic-curve work or allocation of a connection.
    fn accept(
        &mut self,
        now: Instant,
        from: A,
        source: u32,
        h: &Header,
        datagram: &mut [u8],
    ) -> Result<(), DropReason> {
        self.own.datagrams_in += 1;
        self.own.bytes_in += datagram.len() as u64;
        let r = self.try_queue(now, from.clone(), source, h, datagram);
        if let Err(reason) = r {
            self.own.count_drop(reason);
            self.release_unknown(from);
        }
        r
    }

    fn try_queue(
        &mut self,
        now: Instant,
        from: A,
        source: u32,
        h: &Header,
        datagram: &mut [u8],
    ) -> Result<(), DropReason> {
        if self.hellos.addrs.contains(&from) {
            // The client re-sent its hello before we answered the first one.
            return Err(DropReason::Replay);
        }
        if !self.hellos.has_room(&self.cfg, source) || self.handshakes_full(self.hellos.len) {
            return Err(DropReason::RateLimited);
        }
        let bytes = datagram.len();
        let m = handshake_message(datagram, h, PacketType::ClientHello)?;
        if !m.seq.is_set() {
            return Err(DropReason::Malformed);
        }
        let hello = ClientHello::decode(m.data).map_err(|_| DropReason::Malformed)?;
        let client_key: [u8; SPKI_LEN] = hello.public_key.try_into().map_err(|_| DropReason::Malformed)?;
        let queued = QueuedHello { from, header: *h, msg_seq: m.seq, client_key, at: now, bytes };
        self.hellos.push(source, queued);
        Ok(())
    }

    /// True when `more` further handshakes would pass the pending-handshake or connection limits.
    fn handshakes_full(&self, more: usize) -> bool {
        self.handshakes_pending + more >= self.cfg.max_pending_handshakes
            || self.by_addr.len() + more >= self.cfg.max_connections
    }

    /// CLIENT_HELLOs waiting for [`Self::process_handshakes`].
    pub fn queued_handshakes(&self) -> usize {
        self.hellos.len
    }

    /// Answers up to `max` queued CLIENT_HELLOs, taking sources in turn: each costs an ephemeral
    /// key, an ECDH and an ECDSA signature. A hello that waited longer than the handshake timeout,
    /// or that `handshakes_per_second` or the connection limits refuse now, is dropped (counted
    /// as rate-limited; the client retries). Returns how many hellos were taken from the queue.
    ///
    /// The driver decides how much time handshakes may take, so that datagrams of established
    /// connections are handled first however many hellos arrive.
    pub fn process_handshakes(&mut self, now: Instant, max: usize) -> usize {
        let now = self.clock.observe(now);
        let mut taken = 0;
        while taken < max {
            let Some(q) = self.hellos.pop() else { break };
            taken += 1;
            if let Err(reason) = self.answer(now, &q) {
                self.own.count_drop(reason);
                self.release_unknown(q.from);
            }
        }
        taken
    }

    fn answer(&mut self, now: Instant, q: &QueuedHello<A>) -> Result<(), DropReason> {
        if self.by_addr.contains_key(&q.from) {
            return Err(DropReason::Unexpected);
        }
        self.refill_bucket(now);
        if now.saturating_since(q.at) >= self.cfg.temp_connection_timeout
            || self.bucket.tokens < 1.0
            || self.handshakes_full(0)
        {
            return Err(DropReason::RateLimited);
        }
        self.bucket.tokens -= 1.0;
        let root = self.root.as_ref().ok_or(DropReason::Unexpected)?;
        let eph = self.ephemeral();
        let conn = Connection::accept(
            now,
            &self.cfg,
            &mut self.rng,
            root,
            &q.header,
            q.msg_seq,
            &q.client_key,
            eph,
        )?;
        self.handshakes_pending += 1;
        let idx = self.insert(q.from.clone(), conn);
        if let Some(s) = self.slots[idx].as_mut() {
            s.pending_handshake = true;
            s.conn.counters.datagrams_in += 1;
            s.conn.counters.bytes_in += q.bytes as u64;
        }
        // The datagram was counted on the endpoint when it was queued; move it to the connection.
        self.own.datagrams_in -= 1;
        self.own.bytes_in -= q.bytes as u64;
        self.after_input(idx, now);
        Ok(())
    }

    fn insert(&mut self, addr: A, conn: Connection) -> usize {
        let slot = Slot {
            addr: addr.clone(),
            conn,
            ready: false,
            pending_handshake: false,
            deadline: None,
            timer: 0,
        };
        let idx = match self.free.pop() {
            Some(i) => {
                self.slots[i] = Some(slot);
                i
            }
            None => {
                self.slots.push(Some(slot));
                self.slots.len() - 1
            }
        };
        self.by_addr.insert(addr, idx);
        idx
    }

    /// After input or a command: queue for transmission, or remove when done.
    fn after_input(&mut self, idx: usize, now: Instant) {
        let Some(slot) = self.slots[idx].as_mut() else { return };
        if slot.pending_handshake && slot.conn.state != State::HalfOpen {
            slot.pending_handshake = false;
            self.handshakes_pending = self.handshakes_pending.saturating_sub(1);
        }
        if slot.conn.state == State::Done {
            self.remove(idx);
            return;
        }
        if !slot.ready && slot.conn.wants_transmit(&self.cfg, now) {
            slot.ready = true;
            self.ready.push_back(idx);
        }
        self.schedule(idx, now);
    }

    /// Puts connection `idx` in the timer heaps at its next deadline (if that changed).
    fn schedule(&mut self, idx: usize, now: Instant) {
        let Some(slot) = self.slots[idx].as_mut() else { return };
        let d = slot.conn.next_deadline(&self.cfg, now);
        if d == slot.deadline {
            return;
        }
        slot.deadline = d;
        self.timer_stamp += 1;
        slot.timer = self.timer_stamp;
        if let Some(d) = d {
            self.timers.push(Reverse((d.at, idx, self.timer_stamp)));
            self.wakes.push(Reverse((d.latest, idx, self.timer_stamp)));
        }
        // Stale entries leave the heaps as they come due; rebuild them if they pile up.
        let limit = 4 * self.by_addr.len() + 64;
        if self.timers.len() > limit || self.wakes.len() > limit {
            let live = || {
                self.slots.iter().enumerate().filter_map(|(i, s)| {
                    let s = s.as_ref()?;
                    Some((s.deadline?, i, s.timer))
                })
            };
            self.timers = live().map(|(d, i, t)| Reverse((d.at, i, t))).collect();
            self.wakes = live().map(|(d, i, t)| Reverse((d.latest, i, t))).collect();
        }
    }

    /// Tests only: the timer heap agrees with every connection's own next deadline (the earliest
    /// of them is what `poll_timeout` reports, and no connection's deadline is missing from it).
    #[cfg(any(test, feature = "testing"))]
    pub fn timers_consistent(&mut self) -> bool {
        let now = self.clock_now();
        let mut ok = true;
        for s in self.slots.iter().flatten() {
            let want = s.conn.next_deadline(&self.cfg, now);
            // A deadline may only be recomputed as later or equal between two scheduling points
            // (time passed); an earlier one would be a missed timer.
            ok &= match (s.deadline, want) {
                (Some(have), Some(want)) => {
                    have.at <= have.latest
                        && (have.at <= want.at || have.at <= now)
                        && have.latest <= want.latest.max(now)
                }
                (None, Some(_)) => false,
                _ => true,
            };
        }
        let brute = self.slots.iter().flatten().filter_map(|s| s.deadline.map(|d| d.latest)).min();
        ok && self.poll_timeout() == brute
    }

    /// True when the heap entry `(idx, stamp)` is the slot's live one.
    fn timer_is_live(&self, idx: usize, stamp: u64) -> bool {
        self.slots.get(idx).and_then(Option::as_ref).is_some_and(|s| s.timer == stamp)
    }

    fn remove(&mut self, idx: usize) {
        if let Some(slot) = self.slots[idx].take() {
            if slot.pending_handshake {
                self.handshakes_pending = self.handshakes_pending.saturating_sub(1);
            }
            self.retired.add(&slot.conn.stats().counters);
            self.reassembly_total = self.reassembly_total.saturating_sub(slot.conn.reassembly_bytes());
            self.by_addr.remove(&slot.addr);
            self.free.push(idx);
            self.events.push_back(Event::Released { addr: slot.addr });
        }
    }

    /// Runs every connection's timers: packet timeouts, retransmissions, keep-alives, handshake
    /// and connection timeouts. Call it at least every `keep_alive_interval` (a server tick), at
    /// [`Self::poll_timeout`], and best after every batch of received datagrams: a keep-alive
    /// that is due but may still wait goes out then, in a wake-up the host makes anyway.
    /// Only connections whose deadline has come are visited (a heap of deadlines), so an idle
    /// server with many connections does little work per call.
    pub fn handle_timeout(&mut self, now: Instant) {
        let now = self.clock.observe(now);
        // Take what is due first: a connection may come due again at once (ready to transmit),
        // and is then visited on the next call, not in a loop here.
        let mut due = Vec::new();
        while let Some(&Reverse((d, idx, stamp))) = self.timers.peek() {
            if d > now {
                break;
            }
            self.timers.pop();
            if self.timer_is_live(idx, stamp) {
                due.push(idx);
            }
        }
        for idx in due {
            let Self { slots, events, arena, cfg, reassembly_total, .. } = self;
            let Some(slot) = slots[idx].as_mut() else { continue };
            slot.deadline = None;
            let addr = slot.addr.clone();
            let held = slot.conn.reassembly_bytes();
            slot.conn.handle_timeout(cfg, now, &mut |ev| push_event(events, arena, &addr, ev));
            *reassembly_total = *reassembly_total + slot.conn.reassembly_bytes() - held;
            self.after_input(idx, now);
        }
    }

    /// The instant by which `handle_timeout` must run next, if any (O(1) amortized). Work may
    /// be due earlier: a keep-alive waits up to a quarter of `keep_alive_interval` for a call
    /// the host makes anyway, so quiet connections share wake-ups.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        while let Some(&Reverse((d, idx, stamp))) = self.wakes.peek() {
            if self.timer_is_live(idx, stamp) {
                return Some(d);
            }
            self.wakes.pop();
        }
        None
    }

    fn clock_now(&self) -> Instant {
        let mut c = self.clock;
        c.observe(Instant::ZERO)
    }

    // ---- output ---------------------------------------------------------------------------

    /// Writes the next datagram due into `buf` (at least 1472 bytes) and says where it goes.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit<A>> {
        let now = self.clock.observe(now);
        while let Some(idx) = self.ready.pop_front() {
            let cfg = &self.cfg;
            let Some(slot) = self.slots[idx].as_mut() else { continue };
            slot.ready = false;
            let Some(len) = slot.conn.poll_transmit(cfg, now, buf) else { continue };
            let to = slot.addr.clone();
            if slot.conn.wants_transmit(cfg, now) {
                slot.ready = true;
                self.ready.push_back(idx);
            }
            self.schedule(idx, now);
            return Some(Transmit { to, len });
        }
        None
    }

    /// The next event, if any. A `Message`'s bytes are in [`Self::event_data`] until the next
    /// event is queued after the queue ran empty.
    ///
    /// A `Released` whose address is in use again by the time it is taken (a hello from it was
    /// queued, or it connected, after the release was queued) is withheld: the caller would
    /// otherwise forget an address the endpoint is about to answer.
    pub fn poll_event(&mut self) -> Option<Event<A>> {
        loop {
            let ev = self.events.pop_front()?;
            if let Event::Released { addr } = &ev {
                if self.by_addr.contains_key(addr) || self.hellos.addrs.contains(addr) {
                    continue;
                }
            }
            return Some(ev);
        }
    }

    /// True when `poll_event` has something.
    pub fn has_events(&self) -> bool {
        !self.events.is_empty()
    }

    /// The bytes of a `Message` event.
    pub fn event_data(&self, range: Range<usize>) -> &[u8] {
        self.arena.get(range).unwrap_or(&[])
    }

    // ---- commands -------------------------------------------------------------------------

    /// Queues an application message to `to`. `callback` (non-zero) is reported exactly once in a
    /// `Settled` event.
    pub fn send(
        &mut self,
        now: Instant,
        to: &A,
        data: &[u8],
        mode: RetryMode,
        callback: u32,
    ) -> Result<(), SendError> {
        let now = self.clock.observe(now);
        let &idx = self.by_addr.get(to).ok_or(SendError::UnknownConnection)?;
        let slot = self.slots[idx].as_mut().ok_or(SendError::UnknownConnection)?;
        slot.conn.send(&self.cfg, data, mode, callback)?;
        self.after_input(idx, now);
        Ok(())
    }

    /// Client: starts connecting to the server at `to`. `pinned` is the server's root public
    /// key; without one, `insecure_accept_any_server_key` must be set explicitly (the embedded
    /// key then only proves integrity and the connection is open to a man in the middle).
    pub fn connect(
        &mut self,
        now: Instant,
        to: A,
        pinned: Option<RootPublicKey>,
        insecure_accept_any_server_key: bool,
    ) -> Result<(), ConnectError> {
        let now = self.clock.observe(now);
        if self.role != Role::Client {
            return Err(ConnectError::NotAClient);
        }
        if pinned.is_none() && !insecure_accept_any_server_key {
            return Err(ConnectError::NoPinnedKey);
        }
        if self.by_addr.contains_key(&to) {
            return Err(ConnectError::AlreadyConnected);
        }
        if self.by_addr.len() >= self.cfg.max_connections {
            return Err(ConnectError::TooManyConnections);
        }
        let eph = self.ephemeral();
        let conn = Connection::connect(now, &self.cfg, &mut self.rng, pinned, eph);
        let idx = self.insert(to, conn);
        self.after_input(idx, now);
        Ok(())
    }

    /// Closes the connection with `addr` gracefully (DISCONNECT, then a short linger). Its
    /// `Disconnected` event is queued at once. Unknown addresses are ignored.
    pub fn disconnect(&mut self, now: Instant, addr: &A) {
        let now = self.clock.observe(now);
        let Some(&idx) = self.by_addr.get(addr) else { return };
        let Self { slots, events, arena, cfg, .. } = self;
        let Some(slot) = slots[idx].as_mut() else { return };
        let a = slot.addr.clone();
        slot.conn.close(cfg, now, &mut |ev| push_event(events, arena, &a, ev));
        self.after_input(idx, now);
    }

    /// Ends the connection with `addr` at once, without telling the peer: its transport is gone
    /// (a WebSocket or WebTransport session closed). An established connection reports
    /// `Disconnected { reason: TransportClosed }`; what it had queued is given up (callbacks
    /// false); then `Released`. Unknown addresses are ignored.
    pub fn abort(&mut self, now: Instant, addr: &A) {
        let now = self.clock.observe(now);
        let Some(&idx) = self.by_addr.get(addr) else { return };
        let Self { slots, events, arena, .. } = self;
        let Some(slot) = slots[idx].as_mut() else { return };
        let a = slot.addr.clone();
        slot.conn.abort(&mut |ev| push_event(events, arena, &a, ev));
        self.after_input(idx, now);
    }

    /// Closes every connection (server shutdown: clients are told).
    pub fn close_all(&mut self, now: Instant) {
        let addrs: Vec<A> = self.by_addr.keys().cloned().collect();
        for a in addrs {
            self.disconnect(now, &a);
        }
    }

    /// Forgets every connection and queued handshake at once, without telling peers.
    pub fn abort_all(&mut self) {
        for idx in 0..self.slots.len() {
            if self.slots[idx].is_some() {
                self.remove(idx);
            }
        }
        while let Some(q) = self.hellos.pop() {
            self.events.push_back(Event::Released { addr: q.from });
        }
    }

    /// Fuzzing only: an authenticated datagram to `to` carrying an arbitrary payload.
    #[cfg(fuzzing)]
    pub fn fuzz_seal(
        &mut self,
        now: Instant,
        to: &A,
        ptype: u8,
        count: u8,
        payload: &[u8],
        out: &mut [u8],
    ) -> Option<usize> {
        let &idx = self.by_addr.get(to)?;
        let cfg = &self.cfg;
        self.slots[idx].as_mut()?.conn.fuzz_seal(cfg, now, ptype, count, payload, out)
    }

    /// Random bytes from the endpoint's generator (tokens for upper layers, tests).
    pub fn fill_random(&mut self, out: &mut [u8]) {
        self.rng.fill_bytes(out);
    }
}

fn push_event<A: Clone>(events: &mut VecDeque<Event<A>>, arena: &mut Vec<u8>, addr: &A, ev: ConnEvent<'_>) {
    if events.is_empty() {
        arena.clear();
    }
    let addr = addr.clone();
    events.push_back(match ev {
        ConnEvent::Connected(token) => Event::Connected { addr, token },
        ConnEvent::Message(seq, data) => {
            let start = arena.len();
            arena.extend_from_slice(data);
            Event::Message { addr, seq: seq.get(), data: start..arena.len() }
        }
        ConnEvent::Settled(s) => Event::Settled { addr, callback: s.callback, acked: s.acked },
        ConnEvent::Closed(reason) => Event::Disconnected { addr, reason },
    });
}
