//! Packets sent and not yet acknowledged or timed out (wire spec §8), and the RTT estimate.
//!
//! Packets are recorded in send order in a ring; each carries the handles of the messages it
//! held, stored contiguously in a second ring, so recording and retiring a packet allocates
//! nothing in steady state. A received header acks the packet `ack` and those of the 32 before it
//! whose bit is set; lookups are by position, O(33) per received packet.

use std::collections::VecDeque;

use crate::seq::Seq;
use crate::time::Instant;

/// A packet in flight.
#[derive(Debug, Clone, Copy)]
struct Sent {
    seq: Seq,
    at: Instant,
    acked: bool,
    first_msg: u64,
    msgs: u16,
}

/// Packets in flight, with the message handles `H` each carried.
#[derive(Debug)]
pub struct SentPackets<H: Copy> {
    packets: VecDeque<Sent>,
    /// Absolute index of `packets[0]`.
    front: u64,
    handles: VecDeque<H>,
    /// Absolute index of `handles[0]`.
    handles_front: u64,
    /// Seq of the newest packet recorded.
    newest: Seq,
    /// Packets neither acknowledged nor timed out.
    unacked: usize,
}

impl<H: Copy> Default for SentPackets<H> {
    fn default() -> Self {
        Self {
            packets: VecDeque::new(),
            front: 0,
            handles: VecDeque::new(),
            handles_front: 0,
            newest: Seq::UNSET,
            unacked: 0,
        }
    }
}

/// What happened to one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Acknowledged after `rtt` microseconds.
    Acked {
        /// Round trip in microseconds.
        rtt_us: u64,
    },
    /// Not acknowledged in time.
    TimedOut,
}

impl<H: Copy> SentPackets<H> {
    /// Packets in flight: sent, neither acknowledged nor timed out.
    pub fn len(&self) -> usize {
        self.unacked
    }

    /// True when nothing is in flight.
    pub fn is_empty(&self) -> bool {
        self.unacked == 0
    }

    /// When the oldest packet in flight was sent.
    pub fn oldest(&self) -> Option<Instant> {
        self.packets.iter().find(|p| !p.acked).map(|p| p.at)
    }

    /// Records a packet (seqs must be recorded in the order they were sent) and its messages.
    pub fn record(&mut self, seq: Seq, at: Instant, msgs: impl IntoIterator<Item = H>) {
        let first_msg = self.handles_front + self.handles.len() as u64;
        let before = self.handles.len();
        self.handles.extend(msgs);
        let n = (self.handles.len() - before) as u16;
        self.packets.push_back(Sent { seq, at, acked: false, first_msg, msgs: n });
        self.newest = seq;
        self.unacked += 1;
    }

    /// Applies a received `ack`/`ack_bits`, calling `on` for every packet it newly acknowledges
    /// with its handles. Returns how many packets were acked.
    pub fn on_ack(&mut self, now: Instant, ack: Seq, ack_bits: u32, mut on: impl FnMut(Fate, &[H])) -> usize {
        if !ack.is_set() || self.packets.is_empty() {
            return 0;
        }
        // How far back from the newest packet the acked one is; a seq we never sent (newer than
        // our newest) acks nothing.
        let behind = self.newest.diff(ack);
        if behind < 0 {
            return 0;
        }
        let newest_abs = self.front + self.packets.len() as u64 - 1;
        let mut count = 0;
        for k in 0..=32u32 {
            if k > 0 && ack_bits & (1 << (32 - k)) == 0 {
                continue;
            }
            let back = behind as u64 + u64::from(k);
            let Some(abs) = newest_abs.checked_sub(back) else { break };
            if abs < self.front {
                break;
            }
            let idx = (abs - self.front) as usize;
            let p = &mut self.packets[idx];
            if p.acked || p.seq != ack.back(k) {
                continue;
            }
            p.acked = true;
            count += 1;
            self.unacked -= 1;
            let rtt_us = now.as_micros().saturating_sub(p.at.as_micros());
            let (start, n) = ((p.first_msg - self.handles_front) as usize, usize::from(p.msgs));
            let hs = self.handles.make_contiguous();
            on(Fate::Acked { rtt_us }, &hs[start..start + n]);
        }
        // Nothing waits on an acknowledged packet: retire those at the front now. Left for
        // `expire`, which runs only when some deadline passes, they piled up on a connection that
        // kept sending and being acknowledged, and `oldest` walked them all on every call.
        while self.packets.front().is_some_and(|p| p.acked) {
            self.retire_front();
        }
        count
    }

    /// Drops the front packet and its handles.
    fn retire_front(&mut self) {
        if let Some(p) = self.packets.pop_front() {
            self.front += 1;
            self.handles.drain(..usize::from(p.msgs));
            self.handles_front += u64::from(p.msgs);
        }
    }

    /// Retires packets from the front: acked ones silently, unacked ones older than `timeout`
    /// (sent at or before `now - timeout`) as timed out, calling `on` with their handles.
    pub fn expire(&mut self, now: Instant, timeout_us: u64, mut on: impl FnMut(Fate, &[H])) -> usize {
        let mut timed_out = 0;
        while let Some(p) = self.packets.front().copied() {
            let expired = now.as_micros().saturating_sub(p.at.as_micros()) > timeout_us;
            if !p.acked && !expired {
                break;
            }
            if !p.acked {
                timed_out += 1;
                self.unacked -= 1;
                let n = usize::from(p.msgs);
                let hs = self.handles.make_contiguous();
                on(Fate::TimedOut, &hs[..n]);
            }
            self.retire_front();
        }
        timed_out
    }

    /// Forgets everything (the connection closed), returning the handles of unacked packets.
    pub fn drain_unacked(&mut self, mut on: impl FnMut(&[H])) {
        let hs = self.handles.make_contiguous();
        for p in self.packets.iter().filter(|p| !p.acked) {
            let start = (p.first_msg - self.handles_front) as usize;
            on(&hs[start..start + usize::from(p.msgs)]);
        }
        self.front += self.packets.len() as u64;
        self.handles_front += self.handles.len() as u64;
        self.packets.clear();
        self.handles.clear();
        self.unacked = 0;
    }
}

/// Round-trip estimates: mpgameserver's `latency` (EWMA, alpha 0.1, of rtt/2, seconds) plus
/// RFC 6298 smoothed RTT and the minimum.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Rtt {
    /// mpgameserver's latency, seconds.
    pub latency: f64,
    /// Smoothed RTT, seconds (0 before the first sample).
    pub srtt: f64,
    /// RTT variation, seconds.
    pub rttvar: f64,
    /// Smallest RTT seen, seconds (0 before the first sample).
    pub min: f64,
    samples: u64,
}

impl Rtt {
    /// Takes a sample of `rtt_us` microseconds.
    pub fn sample(&mut self, rtt_us: u64) {
        let rtt = rtt_us as f64 / 1e6;
        self.latency += 0.1 * (rtt / 2.0 - self.latency);
        if self.samples == 0 {
            self.srtt = rtt;
            self.rttvar = rtt / 2.0;
            self.min = rtt;
        } else {
            self.rttvar = 0.75 * self.rttvar + 0.25 * (self.srtt - rtt).abs();
            self.srtt = 0.875 * self.srtt + 0.125 * rtt;
            self.min = self.min.min(rtt);
        }
        self.samples += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(seqs: &[u16]) -> SentPackets<u16> {
        let mut s = SentPackets::default();
        for &q in seqs {
            s.record(Seq::new(q), Instant::from_micros(u64::from(q)), [q]);
        }
        s
    }

    fn acked(s: &mut SentPackets<u16>, ack: u16, bits: u32) -> Vec<u16> {
        let mut out = vec![];
        s.on_ack(Instant::from_micros(1_000_000), Seq::new(ack), bits, |_, h| out.extend_from_slice(h));
        out.sort_unstable();
        out
    }

    #[test]
    fn ack_vectors_shape() {
        assert_eq!(acked(&mut sent(&[9, 10]), 10, 0x8000_0000), [9, 10]);
        assert_eq!(acked(&mut sent(&[7, 8, 9, 10]), 10, 0x4000_0000), [8, 10]);
        assert_eq!(acked(&mut sent(&[65534, 65535, 1, 2]), 2, 0xa000_0000), [1, 2, 65534]);
        assert_eq!(acked(&mut sent(&[11, 12]), 10, u32::MAX), Vec::<u16>::new());
        // 33 behind is outside the window
        let seqs: Vec<u16> = (67..=100).collect();
        assert_eq!(acked(&mut sent(&seqs), 100, u32::MAX).len(), 33);
    }

    #[test]
    fn each_packet_is_acked_once_and_expiry_skips_acked() {
        let mut s = sent(&[1, 2, 3]);
        assert_eq!(acked(&mut s, 2, 0), [2]);
        assert_eq!(acked(&mut s, 2, 0), Vec::<u16>::new());
        let mut timed = vec![];
        s.expire(Instant::from_micros(10_000_000), 1_000_000, |f, h| {
            assert_eq!(f, Fate::TimedOut);
            timed.extend_from_slice(h)
        });
        assert_eq!(timed, [1, 3]);
        assert!(s.is_empty());
    }

    #[test]
    fn acknowledged_packets_leave_the_window_at_once() {
        // A connection that keeps sending, each packet acked soon after (the peer's ack covers its
        // newest and the 32 before): the window holds what is in flight, not everything ever sent.
        let mut s: SentPackets<u32> = SentPackets::default();
        let mut seq = Seq::new(1);
        for i in 0..10_000u32 {
            s.record(seq, Instant::from_micros(u64::from(i)), [i]);
            if i % 8 == 7 {
                s.on_ack(Instant::from_micros(u64::from(i) + 50), seq, u32::MAX, |_, _| {});
            }
            seq = seq.next();
        }
        assert!(s.is_empty());
        assert_eq!((s.packets.len(), s.handles.len()), (0, 0));
        assert_eq!(s.oldest(), None);
        // A packet whose ack was lost holds its place (and those behind it) until it expires.
        s.record(seq, Instant::from_micros(20_000), [1]);
        s.record(seq.next(), Instant::from_micros(20_001), [2]);
        s.on_ack(Instant::from_micros(20_050), seq.next(), 0, |_, _| {});
        assert_eq!((s.len(), s.packets.len()), (1, 2));
        assert_eq!(s.oldest(), Some(Instant::from_micros(20_000)));
        let mut timed = vec![];
        s.expire(Instant::from_micros(2_000_000), 1_000_000, |_, h| timed.extend_from_slice(h));
        assert_eq!((timed, s.packets.len()), (vec![1], 0));
    }

    proptest::proptest! {
        /// Whatever acks arrive (real or bogus, any order, across the seq wrap): each packet is
        /// reported once, acked or timed out, never both; the in-flight count matches.
        #[test]
        fn every_packet_settles_once(
            start in 1u16..=65535,
            n in 1usize..300,
            acks in proptest::collection::vec((0u32..400, proptest::num::u32::ANY), 0..60),
        ) {
            let mut s: SentPackets<u32> = SentPackets::default();
            let mut seq = Seq::new(start);
            let mut seqs = vec![];
            for i in 0..n {
                s.record(seq, Instant::from_micros(i as u64), [i as u32]);
                seqs.push(seq);
                seq = seq.next();
            }
            let mut seen = vec![0u32; n];
            let mut wrong_fate = false;
            for (back, bits) in acks {
                let ack = seqs[n - 1].back(back);
                s.on_ack(Instant::from_micros(5000), ack, bits, |f, h| {
                    wrong_fate |= !matches!(f, Fate::Acked { .. });
                    for &i in h { seen[i as usize] += 1; }
                });
            }
            proptest::prop_assert!(!wrong_fate);
            let acked: u32 = seen.iter().sum();
            proptest::prop_assert_eq!(s.len(), n - acked as usize);
            s.expire(Instant::from_micros(10_000_000), 1_000_000, |_, h| for &i in h { seen[i as usize] += 1; });
            proptest::prop_assert!(seen.iter().all(|&c| c == 1), "{:?}", seen);
            proptest::prop_assert!(s.is_empty());
        }
    }

    #[test]
    fn latency_ewma_matches_vectors() {
        let mut r = Rtt::default();
        r.sample(100_000);
        assert!((r.latency - 0.005).abs() < 1e-12);
        r.sample(50_000);
        assert!((r.latency - 0.007).abs() < 1e-12);
        r.sample(300_000);
        assert!((r.latency - 0.0213).abs() < 1e-12);
    }
}
