//! How much of the socket thread's time handshakes may take. Each queued CLIENT_HELLO costs an
//! ephemeral key, an ECDH and an ECDSA signature, on the thread that also serves established
//! connections. The budget earns `share` of the elapsed time as credit, spends it on handshakes
//! in slices of at most `slice` (measuring what they really cost), and lets none run while the
//! credit is spent: however many hellos arrive, established traffic keeps the rest of the thread
//! and waits at most one slice. The same policy as the node:dgram driver's (`ts/net`).

use std::time::{Duration, Instant};

use gamewire_abi::FlatEngine;

#[derive(Debug)]
pub(crate) struct HandshakeBudget {
    share: f64,
    slice: Duration,
    credit_ns: f64,
    last: Instant,
    /// Measured cost of one handshake, ns (moving average).
    cost_ns: f64,
}

impl HandshakeBudget {
    pub(crate) fn new(share: f64, slice: Duration) -> Self {
        Self { share, slice, credit_ns: slice.as_nanos() as f64, last: Instant::now(), cost_ns: 500_000.0 }
    }

    /// Answers queued hellos for as long as the credit allows; returns when to run again if
    /// hellos remain (`None`: the queue is empty).
    pub(crate) fn run(&mut self, engine: &mut FlatEngine, now_ms: impl Fn() -> f64) -> Option<Duration> {
        let start = Instant::now();
        let cap = (self.slice.as_nanos() as f64).max(self.cost_ns);
        self.credit_ns =
            (self.credit_ns + start.duration_since(self.last).as_nanos() as f64 * self.share).min(cap);
        self.last = start;
        while self.credit_ns > 0.0 && engine.queued_handshakes() > 0 {
            let n = (self.credit_ns / self.cost_ns).floor().clamp(1.0, 64.0) as u32;
            let t0 = Instant::now();
            let taken = engine.process_handshakes(now_ms(), n);
            let spent = t0.elapsed().as_nanos() as f64;
            if taken == 0 {
                break;
            }
            self.cost_ns = 0.8 * self.cost_ns + 0.2 * (spent / f64::from(taken));
            self.credit_ns -= spent;
            if start.elapsed() >= self.slice {
                break;
            }
        }
        self.last = Instant::now();
        if engine.queued_handshakes() == 0 {
            return None;
        }
        let wait_ns = if self.credit_ns > 0.0 { 0.0 } else { (-self.credit_ns / self.share).min(50e6) };
        Some(Duration::from_nanos(wait_ns as u64))
    }
}
