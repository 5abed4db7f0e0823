//! Wake-ups of a host that sleeps until `poll_timeout` or the next datagram, as gamewire's socket
//! threads and timers do. Quiet connections exchange only keep-alives; each keep-alive may wait
//! a quarter interval for a wake-up that comes anyway, so a server with many quiet clients does
//! not wake once per keep-alive, and no client ever waits longer than 1.25 intervals.
mod support;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use gamewire_core::crypto::RootKey;
use gamewire_core::{Config, Endpoint, Instant, Status};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use support::{drain, SERVER};

const DELAY_US: u64 = 1_000;

/// A datagram on its way: (arrival µs, order, to_server, client, bytes).
type InFlight = (u64, u64, bool, u32, Vec<u8>);

/// One server and `n` clients that connect 7 ms apart (so their timers are out of phase), driven
/// only by deadlines and arrivals: no fixed tick.
struct EventHost {
    now: Instant,
    server: Endpoint<u32>,
    clients: Vec<Endpoint<u32>>,
    wire: BinaryHeap<Reverse<InFlight>>,
    order: u64,
    /// Server wake-ups made for its own deadline (no datagram arrived at that instant).
    server_timer_wakes: u64,
    /// Per client: when the server last sent it a datagram, and the longest gap seen.
    last_to_client: Vec<Option<Instant>>,
    longest_gap: Vec<Duration>,
    measuring: bool,
}

impl EventHost {
    fn new(seed: u64, n: usize) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let root = RootKey::generate(&mut rng);
        let mut s = [0u8; 32];
        rng.fill_bytes(&mut s);
        let server = Endpoint::server(Config::default(), root, s);
        let clients = (0..n)
            .map(|_| {
                rng.fill_bytes(&mut s);
                Endpoint::client(Config::default(), s)
            })
            .collect();
        Self {
            now: Instant::ZERO,
            server,
            clients,
            wire: BinaryHeap::new(),
            order: 0,
            server_timer_wakes: 0,
            last_to_client: vec![None; n],
            longest_gap: vec![Duration::ZERO; n],
            measuring: false,
        }
    }

    fn flush(&mut self) {
        let mut buf = vec![0u8; 2048];
        while let Some(t) = self.server.poll_transmit(self.now, &mut buf) {
            let i = t.to as usize;
            if let (true, Some(prev)) = (self.measuring, self.last_to_client[i]) {
                self.longest_gap[i] = self.longest_gap[i].max(self.now.saturating_since(prev));
            }
            self.last_to_client[i] = Some(self.now);
            self.order += 1;
            self.wire.push(Reverse((
                self.now.as_micros() + DELAY_US,
                self.order,
                false,
                t.to,
                buf[..t.len].to_vec(),
            )));
        }
        for (i, c) in self.clients.iter_mut().enumerate() {
            while let Some(t) = c.poll_transmit(self.now, &mut buf) {
                self.order += 1;
                self.wire.push(Reverse((
                    self.now.as_micros() + DELAY_US,
                    self.order,
                    true,
                    i as u32,
                    buf[..t.len].to_vec(),
                )));
            }
        }
        let mut evs = Vec::new();
        drain(&mut self.server, &mut evs);
        for c in &mut self.clients {
            drain(c, &mut evs);
        }
    }

    /// Runs until `end`, connecting client i at i × 7 ms.
    fn run(&mut self, end: Instant) {
        loop {
            let arrival = self.wire.peek().map(|Reverse(d)| Instant::from_micros(d.0));
            let connect = self
                .clients
                .iter()
                .position(|c| c.status(&SERVER).is_none())
                .map(|i| Instant::from_micros(i as u64 * 7_000));
            let timers = std::iter::once(self.server.poll_timeout())
                .chain(self.clients.iter_mut().map(Endpoint::poll_timeout))
                .flatten();
            let Some(next) = [arrival, connect].into_iter().flatten().chain(timers).min() else { break };
            if next > end {
                break;
            }
            self.now = self.now.max(next);
            let now = self.now;
            if let Some(i) = connect
                .filter(|t| *t <= now)
                .and_then(|_| self.clients.iter().position(|c| c.status(&SERVER).is_none()))
            {
                let public = self.server.root_key().map(RootKey::public);
                self.clients[i].connect(now, SERVER, public, false).expect("connect");
            }
            // Arrivals: each receiver handles its batch, then its due timers (as the hosts do).
            let mut server_received = false;
            let mut clients_received = vec![false; self.clients.len()];
            while let Some(Reverse(d)) = self.wire.peek() {
                if Instant::from_micros(d.0) > now {
                    break;
                }
                let Some(Reverse((_, _, to_server, client, mut bytes))) = self.wire.pop() else { break };
                if to_server {
                    let _ = self.server.handle_datagram(now, client, &mut bytes);
                    server_received = true;
                } else {
                    let _ = self.clients[client as usize].handle_datagram(now, SERVER, &mut bytes);
                    clients_received[client as usize] = true;
                }
            }
            if server_received || self.server.poll_timeout().is_some_and(|t| t <= now) {
                if !server_received {
                    self.server_timer_wakes += u64::from(self.measuring);
                }
                self.server.process_handshakes(now, usize::MAX);
                self.server.handle_timeout(now);
            }
            for (c, received) in self.clients.iter_mut().zip(clients_received) {
                if received || c.poll_timeout().is_some_and(|t| t <= now) {
                    c.handle_timeout(now);
                }
            }
            self.flush();
        }
        self.now = end;
    }

    fn server_keep_alives(&self) -> u64 {
        (0..self.clients.len() as u32)
            .filter_map(|i| self.server.connection_stats(&i))
            .map(|s| s.counters.keep_alives_sent)
            .sum()
    }
}

#[test]
fn quiet_clients_keep_alives_share_the_servers_wake_ups() {
    let n = 20;
    let mut host = EventHost::new(41, n);
    host.run(Instant::from_micros(1_000_000));
    assert_eq!(host.server.connection_count(), n, "every client connected");
    let before = host.server_keep_alives();
    host.measuring = true;
    host.run(Instant::from_micros(11_000_000));
    let keep_alives = host.server_keep_alives() - before;
    let interval = Config::default().keep_alive_interval;
    // Ten seconds of quiet: every client still hears from the server, at least every 1.25
    // intervals (the keep-alive's own bound), and stays connected.
    for (i, gap) in host.longest_gap.iter().enumerate() {
        assert!(*gap <= interval + interval / 4 + Duration::from_millis(1), "client {i} waited {gap:?}");
        assert_eq!(host.clients[i].status(&SERVER), Some(Status::Connected));
    }
    // About one keep-alive per client and interval...
    assert!(keep_alives >= 10 * n as u64 * 7, "{keep_alives} keep-alives");
    // ...and most leave in a wake-up the server made for a datagram anyway. Without the slack,
    // each keep-alive of an out-of-phase client needs a wake-up of its own.
    assert!(
        host.server_timer_wakes * 4 < keep_alives,
        "{} wake-ups of its own for {keep_alives} keep-alives",
        host.server_timer_wakes
    );
}

#[test]
fn a_silent_clients_keep_alives_still_leave_within_a_quarter_interval_of_due() {
    // One client: no other traffic comes to wake the server, so each keep-alive waits the whole
    // slack and no longer.
    let mut host = EventHost::new(42, 1);
    host.run(Instant::from_micros(500_000));
    assert_eq!(host.server.connection_count(), 1);
    host.measuring = true;
    host.run(Instant::from_micros(3_500_000));
    let interval = Config::default().keep_alive_interval;
    let gap = host.longest_gap[0];
    assert!(gap >= interval, "a keep-alive went early: {gap:?}");
    assert!(gap <= interval + interval / 4 + Duration::from_millis(1), "waited {gap:?}");
}

#[test]
fn a_client_is_connected_once_pacing_allows_not_a_keep_alive_interval_later() {
    // The server owes the client an authentic packet as soon as the challenge response arrives;
    // with a 1 ms link that is the 1/60 s pacing gap after its SERVER_HELLO, not the 100 ms
    // keep-alive interval the first authentic packet used to wait for.
    let mut host = EventHost::new(43, 1);
    let mut t = 0;
    while host.clients[0].status(&SERVER) != Some(Status::Connected) && t < 500_000 {
        t += 1_000;
        host.run(Instant::from_micros(t));
    }
    assert!(t <= 25_000, "connected after {t} µs");
}
