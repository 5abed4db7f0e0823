//! A sliding receive window over sequence numbers (wire spec §7), used twice per connection:
//! for packet seqs (replay protection, and the `ack`/`ack_bits` sent back) and for message seqs
//! (de-duplication).
//!
//! mpgameserver's window is 32 bits for packets and 256 for messages, and accepts anything older
//! than that as new. Ours holds `capacity` positions (a power of two, 64..=32768) and treats
//! anything older as stale: a replay, dropped. With the default 32768-message window, every
//! message seq within half the ring of the newest is remembered exactly.

use crate::seq::Seq;

/// What [`ReplayWindow::insert`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insert {
    /// Not seen before; now recorded.
    New,
    /// Already recorded.
    Duplicate,
    /// Older than the window can tell; treated as a replay.
    Stale,
}

/// The ring of received sequence numbers.
#[derive(Debug, Clone)]
pub struct ReplayWindow {
    words: Box<[u64]>,
    mask: u64,
    /// Newest seq received; `UNSET` before the first.
    current: Seq,
    /// Absolute position of `current` (starts high so that looking back never underflows).
    head: u64,
}

const ORIGIN: u64 = 1 << 40;

impl ReplayWindow {
    /// A window of `capacity` positions (rounded up to a power of two, at least 64).
    pub fn new(capacity: usize) -> Self {
        let cap = capacity.clamp(64, 1 << 15).next_power_of_two();
        Self {
            words: vec![0u64; cap / 64].into_boxed_slice(),
            mask: cap as u64 - 1,
            current: Seq::UNSET,
            head: ORIGIN,
        }
    }

    /// Number of positions (the newest included).
    pub fn capacity(&self) -> usize {
        self.mask as usize + 1
    }

    /// Newest seq received (`UNSET` before the first).
    pub fn current(&self) -> Seq {
        self.current
    }

    #[inline]
    fn bit(&self, pos: u64) -> bool {
        let i = pos & self.mask;
        self.words[(i >> 6) as usize] & (1 << (i & 63)) != 0
    }

    #[inline]
    fn set(&mut self, pos: u64) {
        let i = pos & self.mask;
        self.words[(i >> 6) as usize] |= 1 << (i & 63);
    }

    #[inline]
    fn clear(&mut self, pos: u64) {
        let i = pos & self.mask;
        self.words[(i >> 6) as usize] &= !(1 << (i & 63));
    }

    /// Records `s`. `s` must be set (non-zero); callers reject seq 0 as malformed.
    pub fn insert(&mut self, s: Seq) -> Insert {
        if !self.current.is_set() {
            self.current = s;
            self.set(self.head);
            return Insert::New;
        }
        let d = self.current.diff(s);
        if d < 0 {
            let n = u64::from(d.unsigned_abs());
            if n > self.mask {
                self.words.fill(0);
            } else if n <= 64 {
                for p in self.head + 1..self.head + n {
                    self.clear(p);
                }
            } else {
                self.clear_span(self.head + 1, n - 1);
            }
            self.head += n;
            self.current = s;
            self.set(self.head);
            Insert::New
        } else if d == 0 {
            Insert::Duplicate
        } else if u64::from(d.unsigned_abs()) > self.mask {
            Insert::Stale
        } else {
            let pos = self.head - u64::from(d.unsigned_abs());
            if self.bit(pos) {
                Insert::Duplicate
            } else {
                self.set(pos);
                Insert::New
            }
        }
    }

    fn clear_span(&mut self, mut pos: u64, mut n: u64) {
        while n > 0 {
            let i = pos & self.mask;
            let off = i & 63;
            let take = (64 - off).min(n);
            let bits = if take == 64 { u64::MAX } else { ((1u64 << take) - 1) << off };
            self.words[(i >> 6) as usize] &= !bits;
            pos += take;
            n -= take;
        }
    }

    /// True when `s` has been recorded and is still inside the window.
    pub fn contains(&self, s: Seq) -> bool {
        if !self.current.is_set() {
            return false;
        }
        let d = self.current.diff(s);
        d >= 0
            && u64::from(d.unsigned_abs()) <= self.mask
            && self.bit(self.head - u64::from(d.unsigned_abs()))
    }

    /// The wire's ack bits: bit `32 - k` (MSB = k 1) is set when `current - k` was received.
    pub fn ack_bits(&self) -> u32 {
        if !self.current.is_set() {
            return 0;
        }
        let mut bits = 0u32;
        for k in 1..=32u64 {
            if self.bit(self.head - k) {
                bits |= 1 << (32 - k);
            }
        }
        bits
    }

    /// Sets the state directly: newest `current` and the 32 ack bits before it (test vectors).
    pub fn set_state(&mut self, current: Seq, ack_bits: u32) {
        self.words.fill(0);
        self.current = current;
        self.head = ORIGIN;
        if current.is_set() {
            self.set(self.head);
            for k in 1..=32u64 {
                if ack_bits & (1 << (32 - k)) != 0 {
                    self.set(self.head - k);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn python_bitfield_case() {
        let mut w = ReplayWindow::new(64);
        assert_eq!(w.insert(Seq::new(10)), Insert::New);
        assert_eq!(w.ack_bits(), 0);
        assert_eq!(w.insert(Seq::new(16)), Insert::New);
        assert_eq!(w.ack_bits(), 0x0400_0000);
        assert_eq!(w.insert(Seq::new(12)), Insert::New);
        assert_eq!(w.insert(Seq::new(12)), Insert::Duplicate);
        assert_eq!(w.ack_bits(), 0x1400_0000);
        assert_eq!(w.insert(Seq::new(17)), Insert::New);
        assert_eq!(w.ack_bits(), 0x8a00_0000);
        assert!(w.contains(Seq::new(10)) && !w.contains(Seq::new(11)));
    }

    #[test]
    fn far_jump_clears_and_stale_is_refused() {
        let mut w = ReplayWindow::new(1024);
        for s in 1..=500u16 {
            assert_eq!(w.insert(Seq::new(s)), Insert::New);
        }
        assert_eq!(w.insert(Seq::new(3000)), Insert::New);
        assert!(!w.contains(Seq::new(2999)));
        assert_eq!(w.insert(Seq::new(400)), Insert::Stale);
        assert_eq!(w.insert(Seq::new(2000)), Insert::New);
        assert_eq!(w.insert(Seq::new(2000)), Insert::Duplicate);
    }

    proptest! {
        /// Against a model (a set of absolute positions), over arbitrary in-window moves,
        /// including wrap-around of the 1..=65535 ring.
        #[test]
        fn matches_a_model(start in 1u16..=65535, steps in proptest::collection::vec(-300i32..300, 1..400)) {
            let mut w = ReplayWindow::new(256);
            let mut seen = std::collections::BTreeSet::<i64>::new();
            let mut newest: i64 = 0;
            let mut first = true;
            for step in steps {
                let pos = if first { 0 } else { newest + i64::from(step) };
                let s = Seq::new(((i64::from(start) - 1 + pos).rem_euclid(65_535) + 1) as u16);
                let got = w.insert(s);
                let want = if first || pos > newest {
                    Insert::New
                } else if newest - pos >= 256 {
                    Insert::Stale
                } else if seen.contains(&pos) {
                    Insert::Duplicate
                } else {
                    Insert::New
                };
                prop_assert_eq!(got, want, "pos {} newest {}", pos, newest);
                if want == Insert::New { seen.insert(pos); }
                if first || pos > newest { newest = pos; }
                first = false;
                // ack bits agree with the model too
                let mut bits = 0u32;
                for k in 1..=32 { if seen.contains(&(newest - k)) { bits |= 1 << (32 - k); } }
                prop_assert_eq!(w.ack_bits(), bits);
            }
        }
    }
}
