//! 16-bit sequence numbers on mpgameserver's ring (wire spec §6).
//!
//! Packet seqs, message seqs and fragment ids all live on the ring `1..=65535`; `0` means
//! "unset" and is never produced by [`Seq::next`]. Arithmetic is modulo 65535 on that range, so
//! `65535 + 1 == 1`. Comparisons use [`Seq::diff`], which folds the plain difference into
//! `[-32767, 32767]`.

use core::fmt;

/// The largest sequence number; the ring is `1..=SEQ_MAX`.
pub const SEQ_MAX: i32 = 65_535;
/// Half the ring: differences beyond this fold over.
pub const SEQ_THRESHOLD: i32 = 32_767;

/// A sequence number on the `1..=65535` ring (`0` = unset).
#[derive(Copy, Clone, Default, PartialEq, Eq, Hash)]
pub struct Seq(u16);

/// Sequence arithmetic that left the ring (mpgameserver raises `ValueError` for these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SeqError {
    /// The value is below zero.
    #[error("sequence numbers must not be negative")]
    Negative,
    /// The value is above 65535 (after one fold).
    #[error("value exceeds maximum sequence number")]
    TooLarge,
}

impl Seq {
    /// The unset value, `0`.
    pub const UNSET: Self = Self(0);

    /// Wraps a raw value as read from the wire.
    #[inline]
    pub const fn new(v: u16) -> Self {
        Self(v)
    }

    /// Builds a sequence number from any integer, refusing values outside `0..=65535`.
    pub fn try_from_i64(v: i64) -> Result<Self, SeqError> {
        if v < 0 {
            Err(SeqError::Negative)
        } else if v > i64::from(SEQ_MAX) {
            Err(SeqError::TooLarge)
        } else {
            Ok(Self(v as u16))
        }
    }

    /// The raw value.
    #[inline]
    pub const fn get(self) -> u16 {
        self.0
    }

    /// True unless this is the unset value `0`.
    #[inline]
    pub const fn is_set(self) -> bool {
        self.0 != 0
    }

    /// The following value on the ring: `65535 -> 1`, and `0 -> 1`.
    #[inline]
    pub const fn next(self) -> Self {
        if self.0 == u16::MAX {
            Self(1)
        } else {
            Self(self.0 + 1)
        }
    }

    /// `self + n` folded once onto the ring, as mpgameserver does (`SeqNum.__add__`).
    pub fn checked_add(self, n: i64) -> Result<Self, SeqError> {
        Self::fold(i64::from(self.0) + n)
    }

    /// `self - n` folded once onto the ring (`SeqNum.__sub__`).
    pub fn checked_sub(self, n: i64) -> Result<Self, SeqError> {
        Self::fold(i64::from(self.0) - n)
    }

    fn fold(mut v: i64) -> Result<Self, SeqError> {
        let max = i64::from(SEQ_MAX);
        if v > max {
            v -= max;
        } else if v < 1 {
            v += max;
        }
        Self::try_from_i64(v)
    }

    /// `self - other` folded into `[-32767, 32767]`; positive when `self` is newer.
    #[inline]
    pub fn diff(self, other: Self) -> i32 {
        let d = i32::from(self.0) - i32::from(other.0);
        if d > SEQ_THRESHOLD {
            d - SEQ_MAX
        } else if d < -SEQ_THRESHOLD {
            d + SEQ_MAX
        } else {
            d
        }
    }

    /// True when `self` comes after `other` on the ring.
    #[inline]
    pub fn newer_than(self, other: Self) -> bool {
        self.diff(other) > 0
    }

    /// The value `k` steps back (`k >= 0`), skipping 0 like the ring does.
    #[inline]
    pub fn back(self, k: u32) -> Self {
        let v = (i64::from(self.0) - 1 - i64::from(k)).rem_euclid(i64::from(SEQ_MAX)) + 1;
        Self(v as u16)
    }
}

impl fmt::Debug for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Seq({})", self.0)
    }
}

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl From<Seq> for u16 {
    fn from(s: Seq) -> Self {
        s.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn next_skips_zero() {
        assert_eq!(Seq::new(65535).next(), Seq::new(1));
        assert_eq!(Seq::UNSET.next(), Seq::new(1));
        assert_eq!(Seq::new(7).next(), Seq::new(8));
    }

    #[test]
    fn diff_examples_from_the_spec() {
        let d = |a, b| Seq::new(a).diff(Seq::new(b));
        assert_eq!(d(0x000A, 0xFFF0), 25);
        assert_eq!(d(0xFFF0, 0x000A), -25);
        assert_eq!(d(1, 65535), 1);
        assert_eq!(d(32768, 1), 32767);
        assert_eq!(d(32769, 1), -32767);
        assert_eq!(d(5, 0), 5);
        assert_eq!(d(40000, 0), -25535);
    }

    proptest! {
        #[test]
        fn next_is_one_newer(a in 1u16..=65535) {
            let s = Seq::new(a);
            prop_assert_eq!(s.next().diff(s), 1);
            prop_assert!(s.next().newer_than(s));
            prop_assert!(!s.newer_than(s.next()));
        }

        #[test]
        fn diff_is_antisymmetric_and_bounded(a in 0u16..=65535, b in 0u16..=65535) {
            let (x, y) = (Seq::new(a), Seq::new(b));
            let d = x.diff(y);
            prop_assert!((-SEQ_THRESHOLD..=SEQ_THRESHOLD).contains(&d));
            prop_assert_eq!(y.diff(x), -d);
        }

        #[test]
        fn back_then_diff(a in 1u16..=65535, k in 0u32..32767) {
            let s = Seq::new(a);
            prop_assert_eq!(s.diff(s.back(k)), k as i32);
            prop_assert!(s.back(k).is_set());
        }

        #[test]
        fn add_matches_repeated_next(a in 1u16..=65535, n in 0i64..2000) {
            let mut s = Seq::new(a);
            for _ in 0..n { s = s.next(); }
            if n > 0 { prop_assert_eq!(Seq::new(a).checked_add(n).unwrap(), s); }
        }
    }
}
