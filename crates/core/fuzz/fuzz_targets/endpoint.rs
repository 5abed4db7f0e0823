//! The endpoint's receive path and state machine. A real client and server are connected first
//! (fixed seeds, so runs are reproducible); the input then drives a sequence of operations: raw
//! datagrams to either side, authenticated datagrams with arbitrary payloads (reaching the parsing
//! behind AES-GCM), sends of any size and mode, a lossy/corrupting link, time, disconnects.
#![no_main]

use gamewire_core::crypto::RootKey;
use gamewire_core::{Config, Endpoint, Instant, RetryMode};
use libfuzzer_sys::fuzz_target;
use std::time::Duration;

struct Pair {
    now: Instant,
    server: Endpoint<u8>,
    client: Endpoint<u8>,
    up: Vec<Vec<u8>>,
    down: Vec<Vec<u8>>,
    buf: Vec<u8>,
}

impl Pair {
    fn new() -> Self {
        let root = RootKey::from_scalar(&[0x11; 32]).expect("valid scalar");
        let public = root.public();
        let cfg = Config { max_reassembly_bytes_per_connection: 200_000, ..Config::default() };
        let mut p = Self {
            now: Instant::ZERO,
            server: Endpoint::server(cfg.clone(), root, [1; 32]),
            client: Endpoint::client(cfg, [2; 32]),
            up: vec![],
            down: vec![],
            buf: vec![0u8; 2048],
        };
        p.client.connect(p.now, 0, Some(public), false).expect("connect");
        for _ in 0..40 {
            p.collect();
            p.deliver(usize::MAX, 0, false);
            p.advance(20);
        }
        p
    }

    fn collect(&mut self) {
        while let Some(t) = self.client.poll_transmit(self.now, &mut self.buf) {
            self.up.push(self.buf[..t.len].to_vec());
        }
        while let Some(t) = self.server.poll_transmit(self.now, &mut self.buf) {
            self.down.push(self.buf[..t.len].to_vec());
        }
        while self.client.poll_event().is_some() {}
        while self.server.poll_event().is_some() {}
    }

    /// Delivers in-flight datagrams; `flip` corrupts byte `flip % len` of each, `skip` drops every
    /// `skip`-th.
    fn deliver(&mut self, flip: usize, skip: usize, dup: bool) {
        for (i, mut d) in self.up.drain(..).enumerate() {
            if skip > 1 && i % skip == 0 {
                continue;
            }
            if flip != usize::MAX && !d.is_empty() {
                let at = flip % d.len();
                d[at] ^= 0x5a;
            }
            if dup {
                let _ = self.server.handle_datagram(self.now, 1, &mut d.clone());
                self.server.process_handshakes(self.now, usize::MAX);
            }
            let _ = self.server.handle_datagram(self.now, 1, &mut d);
            self.server.process_handshakes(self.now, usize::MAX);
        }
        for (i, mut d) in self.down.drain(..).enumerate() {
            if skip > 1 && i % skip == 1 {
                continue;
            }
            let _ = self.client.handle_datagram(self.now, 0, &mut d);
        }
    }

    fn advance(&mut self, ms: u64) {
        self.now = self.now + Duration::from_millis(ms);
        self.server.handle_timeout(self.now);
        self.client.handle_timeout(self.now);
    }
}

fuzz_target!(|data: &[u8]| {
    let mut p = Pair::new();
    let mut i = 0usize;
    let byte = |i: &mut usize| -> u8 {
        let b = data.get(*i).copied().unwrap_or(0);
        *i += 1;
        b
    };
    while i < data.len() {
        let op = byte(&mut i) % 9;
        let len = usize::from(byte(&mut i)) * 8 + usize::from(byte(&mut i) % 8);
        let start = i.min(data.len());
        let end = (start + len).min(data.len());
        let chunk = &data[start..end];
        match op {
            0 => {
                let mut d = chunk.to_vec();
                let _ = p.server.handle_datagram(p.now, 1, &mut d);
            }
            1 => {
                let mut d = chunk.to_vec();
                let _ = p.client.handle_datagram(p.now, 0, &mut d);
            }
            2 => {
                let mut d = chunk.to_vec();
                let from = chunk.first().copied().unwrap_or(3);
                let _ = p.server.handle_datagram(p.now, from, &mut d);
                p.server.process_handshakes(p.now, usize::MAX);
            }
            3 => {
                let (ptype, count) = (chunk.first().copied().unwrap_or(6) % 8, chunk.get(1).copied().unwrap_or(1));
                let mut out = vec![0u8; 2048];
                let payload = chunk.get(2..).unwrap_or(&[]);
                if let Some(n) = p.client.fuzz_seal(p.now, &0, ptype, count, payload, &mut out) {
                    let _ = p.server.handle_datagram(p.now, 1, &mut out[..n]);
                }
                if let Some(n) = p.server.fuzz_seal(p.now, &1, ptype, count, payload, &mut out) {
                    let _ = p.client.handle_datagram(p.now, 0, &mut out[..n]);
                }
            }
            4 => {
                let mode = [RetryMode::None, RetryMode::BestEffort, RetryMode::RetryOnTimeout][len % 3];
                let size = usize::from(chunk.first().copied().unwrap_or(0)) * 64 + chunk.len();
                let _ = p.client.send(p.now, &0, &vec![0xab; size], mode, 1);
                let _ = p.server.send(p.now, &1, chunk, mode, 2);
            }
            5 => {
                p.collect();
                let flip = if len % 4 == 0 { len } else { usize::MAX };
                p.deliver(flip, len % 5, len % 7 == 0);
            }
            6 => p.advance(len as u64 % 3000),
            7 => {
                if len % 2 == 0 {
                    p.client.disconnect(p.now, &0);
                } else {
                    p.server.disconnect(p.now, &1);
                }
            }
            _ => {
                let _ = p.server.poll_timeout();
                let _ = p.client.poll_timeout();
                let _ = p.server.stats();
            }
        }
        i = end;
        assert!(p.server.connection_count() <= 4);
    }
    p.collect();
});
