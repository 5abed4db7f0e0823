//! Time as the core sees it: an opaque monotonic instant in microseconds, supplied by the caller.
//!
//! The core never reads a clock. Every call that can start or check a timer takes `now`; callers
//! must pass values that never go backwards (a smaller `now` than before is treated as the
//! previous one).

use core::ops::{Add, Sub};
use core::time::Duration;

/// A monotonic instant, in microseconds since an origin the caller chooses.
#[derive(Copy, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Instant(pub u64);

impl Instant {
    /// The origin.
    pub const ZERO: Self = Self(0);

    /// From milliseconds (as JavaScript's `performance.now()` gives them).
    pub fn from_millis_f64(ms: f64) -> Self {
        if ms.is_finite() && ms > 0.0 {
            Self((ms * 1000.0) as u64)
        } else {
            Self(0)
        }
    }

    /// From whole microseconds.
    pub const fn from_micros(us: u64) -> Self {
        Self(us)
    }

    /// Microseconds since the origin.
    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// Milliseconds since the origin.
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    /// Time elapsed since `earlier`, zero if `earlier` is later.
    pub fn saturating_since(self, earlier: Self) -> Duration {
        Duration::from_micros(self.0.saturating_sub(earlier.0))
    }
}

impl Add<Duration> for Instant {
    type Output = Self;
    fn add(self, d: Duration) -> Self {
        Self(self.0.saturating_add(d.as_micros().min(u128::from(u64::MAX)) as u64))
    }
}

impl Sub<Duration> for Instant {
    type Output = Self;
    fn sub(self, d: Duration) -> Self {
        Self(self.0.saturating_sub(d.as_micros().min(u128::from(u64::MAX)) as u64))
    }
}

/// Keeps a caller's clock monotonic: returns the larger of `now` and the last value seen.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct MonotonicClock {
    last: Instant,
}

impl MonotonicClock {
    pub(crate) fn observe(&mut self, now: Instant) -> Instant {
        if now > self.last {
            self.last = now;
        }
        self.last
    }
}
