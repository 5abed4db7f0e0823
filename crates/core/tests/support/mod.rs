//! A deterministic simulated network for endpoint tests: one server, any number of clients,
//! joined by a lossy link (seeded loss, duplication, reordering, jitter) under a simulated clock.
#![allow(dead_code, unreachable_pub)] // shared by several test binaries, each using a subset

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::time::Duration;

use gamewire_core::crypto::RootKey;
use gamewire_core::{CloseReason, Config, Endpoint, Event, Instant, RetryMode};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// The server's address as clients see it.
pub const SERVER: u32 = 0;

/// Link impairments, one direction.
#[derive(Debug, Clone, Copy)]
pub struct Link {
    pub loss: f64,
    pub duplicate: f64,
    /// Probability that a datagram gets an extra delay (reordering).
    pub reorder: f64,
    pub reorder_extra_us: u64,
    pub delay_us: u64,
    pub jitter_us: u64,
}

impl Link {
    pub const PERFECT: Self =
        Self { loss: 0.0, duplicate: 0.0, reorder: 0.0, reorder_extra_us: 0, delay_us: 1_000, jitter_us: 0 };
    pub const LOSSY: Self = Self {
        loss: 0.2,
        duplicate: 0.05,
        reorder: 0.2,
        reorder_extra_us: 40_000,
        delay_us: 20_000,
        jitter_us: 10_000,
    };
}

/// What an endpoint reported, with message bytes copied out.
#[derive(Debug, Clone, PartialEq)]
pub enum Ev {
    Connected { peer: u32, token: u32 },
    Message { peer: u32, seq: u16, data: Vec<u8> },
    Settled { peer: u32, callback: u32, acked: bool },
    Disconnected { peer: u32, reason: CloseReason },
    Released { peer: u32 },
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct InFlight {
    at: u64,
    n: u64,
    to_server: bool,
    /// Client index (sender for to_server, receiver otherwise).
    client: u32,
    bytes: Vec<u8>,
}

pub struct Sim {
    pub now: Instant,
    pub server: Endpoint<u32>,
    pub clients: Vec<Endpoint<u32>>,
    pub up: Link,
    pub down: Link,
    rng: ChaCha8Rng,
    queue: BinaryHeap<Reverse<InFlight>>,
    n: u64,
    pub server_events: Vec<Ev>,
    pub client_events: Vec<Vec<Ev>>,
    pub tick: Duration,
    next_tick: Instant,
    /// Datagrams put on the wire: (to_server, client, bytes).
    pub wire: Vec<(bool, u32, Vec<u8>)>,
    pub record_wire: bool,
    /// Clients whose datagrams the link drops entirely (gone silent).
    pub muted: Vec<bool>,
    pub server_echo: bool,
}

pub fn drain(ep: &mut Endpoint<u32>, out: &mut Vec<Ev>) {
    while let Some(e) = ep.poll_event() {
        out.push(match e {
            Event::Connected { addr, token } => Ev::Connected { peer: addr, token },
            Event::Message { addr, seq, data } => {
                Ev::Message { peer: addr, seq, data: ep.event_data(data).to_vec() }
            }
            Event::Settled { addr, callback, acked } => Ev::Settled { peer: addr, callback, acked },
            Event::Disconnected { addr, reason } => Ev::Disconnected { peer: addr, reason },
            Event::Released { addr } => Ev::Released { peer: addr },
        });
    }
}

impl Sim {
    pub fn new(seed: u64, clients: usize, cfg: Config, link: Link) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let root = RootKey::generate(&mut rng);
        let public = root.public();
        let mut seed32 = [0u8; 32];
        rng.fill_bytes(&mut seed32);
        let server = Endpoint::server(cfg.clone(), root, seed32);
        let mut cs = Vec::new();
        for i in 0..clients {
            let mut s = [0u8; 32];
            rng.fill_bytes(&mut s);
            let mut c = Endpoint::client(cfg.clone(), s);
            c.connect(Instant::ZERO, SERVER, Some(public.clone()), false).unwrap();
            let _ = i;
            cs.push(c);
        }
        Self {
            now: Instant::ZERO,
            server,
            clients: cs,
            up: link,
            down: link,
            rng,
            queue: BinaryHeap::new(),
            n: 0,
            server_events: Vec::new(),
            client_events: vec![Vec::new(); clients],
            tick: Duration::from_micros(16_667),
            next_tick: Instant::ZERO,
            wire: Vec::new(),
            record_wire: false,
            muted: vec![false; clients],
            server_echo: false,
        }
    }

    fn rand(&mut self) -> f64 {
        f64::from(self.rng.next_u32()) / 4_294_967_296.0
    }

    fn enqueue(&mut self, to_server: bool, client: u32, bytes: Vec<u8>) {
        let link = if to_server { self.up } else { self.down };
        if self.record_wire {
            self.wire.push((to_server, client, bytes.clone()));
        }
        if to_server && self.muted[client as usize] {
            return;
        }
        if self.rand() < link.loss {
            return;
        }
        let copies = if self.rand() < link.duplicate { 2 } else { 1 };
        for _ in 0..copies {
            let mut delay = link.delay_us;
            if link.jitter_us > 0 {
                delay += u64::from(self.rng.next_u32()) % link.jitter_us;
            }
            if self.rand() < link.reorder {
                delay += u64::from(self.rng.next_u32()) % link.reorder_extra_us.max(1);
            }
            self.n += 1;
            let item = InFlight {
                at: self.now.as_micros() + delay,
                n: self.n,
                to_server,
                client,
                bytes: bytes.clone(),
            };
            self.queue.push(Reverse(item));
        }
    }

    /// Moves every endpoint's output onto the link and collects events.
    pub fn flush(&mut self) {
        let mut buf = vec![0u8; 2048];
        while let Some(t) = self.server.poll_transmit(self.now, &mut buf) {
            let bytes = buf[..t.len].to_vec();
            self.enqueue(false, t.to, bytes);
        }
        for i in 0..self.clients.len() {
            while let Some(t) = self.clients[i].poll_transmit(self.now, &mut buf) {
                assert_eq!(t.to, SERVER);
                let bytes = buf[..t.len].to_vec();
                self.enqueue(true, i as u32, bytes);
            }
        }
        let mut evs = Vec::new();
        drain(&mut self.server, &mut evs);
        if self.server_echo {
            for e in &evs {
                if let Ev::Message { peer, data, .. } = e {
                    let mut reply = b"echo:".to_vec();
                    reply.extend_from_slice(data);
                    let _ = self.server.send(self.now, peer, &reply, RetryMode::RetryOnTimeout, 0);
                }
            }
        }
        self.server_events.extend(evs);
        for i in 0..self.clients.len() {
            drain(&mut self.clients[i], &mut self.client_events[i]);
        }
        if self.server_echo {
            // Echo replies queued above go out now (pacing permitting).
            while let Some(t) = self.server.poll_transmit(self.now, &mut buf) {
                let bytes = buf[..t.len].to_vec();
                self.enqueue(false, t.to, bytes);
            }
        }
    }

    /// Advances the clock by `d`, delivering datagrams and running timers on every tick.
    pub fn run(&mut self, d: Duration) {
        let end = self.now + d;
        loop {
            let next_delivery = self.queue.peek().map(|Reverse(i)| Instant::from_micros(i.at));
            let next = [Some(self.next_tick), next_delivery].into_iter().flatten().min().unwrap_or(end);
            if next > end {
                self.now = end;
                break;
            }
            self.now = next.max(self.now);
            while let Some(Reverse(i)) = self.queue.peek() {
                if i.at > self.now.as_micros() {
                    break;
                }
                let Reverse(mut item) = self.queue.pop().unwrap();
                if item.to_server {
                    let _ = self.server.handle_datagram(self.now, item.client, &mut item.bytes);
                    self.server.process_handshakes(self.now, usize::MAX);
                } else {
                    let _ =
                        self.clients[item.client as usize].handle_datagram(self.now, SERVER, &mut item.bytes);
                }
            }
            if self.now >= self.next_tick {
                self.server.handle_timeout(self.now);
                for c in &mut self.clients {
                    c.handle_timeout(self.now);
                }
                self.next_tick = self.now + self.tick;
            }
            self.flush();
            assert!(self.server.timers_consistent(), "server timer heap out of step at {:?}", self.now);
            for c in &mut self.clients {
                assert!(c.timers_consistent(), "client timer heap out of step");
            }
        }
    }

    pub fn connected_clients(&self) -> usize {
        self.server_events.iter().filter(|e| matches!(e, Ev::Connected { .. })).count()
    }
}

/// Callbacks grouped: id → outcomes seen.
pub fn settlements(evs: &[Ev]) -> BTreeMap<u32, Vec<bool>> {
    let mut m: BTreeMap<u32, Vec<bool>> = BTreeMap::new();
    for e in evs {
        if let Ev::Settled { callback, acked, .. } = e {
            m.entry(*callback).or_default().push(*acked);
        }
    }
    m
}

/// Messages received, by payload.
pub fn received(evs: &[Ev]) -> BTreeMap<Vec<u8>, usize> {
    let mut m = BTreeMap::new();
    for e in evs {
        if let Ev::Message { data, .. } = e {
            *m.entry(data.clone()).or_insert(0) += 1;
        }
    }
    m
}
