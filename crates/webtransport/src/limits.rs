//! Admission of new sessions: per source IP (concurrent sessions and a token bucket of new
//! attempts) and endpoint-wide (sessions, handshakes in progress). A refused attempt costs a
//! CONNECTION_REFUSED packet and nothing else: no TLS work, no task. So a flood from one address
//! spends its own budget and leaves everyone else's alone.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Limits on new sessions.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Sessions (and handshakes) one source IP may hold at once (default 16).
    pub sessions_per_ip: u32,
    /// New session attempts one source IP may start per second, on average (default 4).
    pub attempts_per_ip_per_second: f64,
    /// Attempts one source IP may start in a burst (default 16).
    pub attempts_per_ip_burst: u32,
    /// Sessions the endpoint holds at most (default 65536).
    pub max_sessions: u32,
    /// Handshakes (QUIC + TLS + the WebTransport request) in progress at most (default 256).
    pub max_handshakes: u32,
    /// Past this many handshakes in progress, attempts from unvalidated addresses get a QUIC
    /// Retry first, which proves they own their source address (default 64).
    pub retry_above_handshakes: u32,
    /// A handshake not completed within this time is dropped (default 10 s).
    pub handshake_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            sessions_per_ip: 16,
            attempts_per_ip_per_second: 4.0,
            attempts_per_ip_burst: 16,
            max_sessions: 65_536,
            max_handshakes: 256,
            retry_above_handshakes: 64,
            handshake_timeout: Duration::from_secs(10),
        }
    }
}

/// Why an attempt was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The source IP holds `sessions_per_ip` sessions already.
    IpSessions,
    /// The source IP spent its attempts.
    IpRate,
    /// The endpoint is full (sessions or handshakes).
    Full,
}

/// What to do with an attempt.
#[derive(Debug)]
pub(crate) enum Admission {
    /// Go on with the handshake; the ticket gives the slot back when dropped.
    Accept(Ticket),
    /// Ask the client to prove its address first (QUIC Retry); nothing was counted.
    Retry,
    Refuse(Refusal),
}

#[derive(Debug)]
struct PerIp {
    sessions: u32,
    tokens: f64,
    at: Instant,
}

#[derive(Debug, Default)]
struct Inner {
    ips: HashMap<IpAddr, PerIp>,
    sessions: u32,
    handshakes: u32,
}

/// The admission state, shared by the accept loop and the session tasks.
#[derive(Debug, Clone)]
pub(crate) struct Limiter {
    limits: Limits,
    inner: Arc<Mutex<Inner>>,
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is (one source, one budget).
pub(crate) fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

impl Limiter {
    pub(crate) fn new(limits: Limits) -> Self {
        Self { limits, inner: Arc::default() }
    }

    pub(crate) fn limits(&self) -> &Limits {
        &self.limits
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Decides on an attempt from `ip` at `now`. `validated`: the QUIC layer already proved the
    /// source address (a Retry round trip).
    pub(crate) fn admit(&self, ip: IpAddr, validated: bool, now: Instant) -> Admission {
        let ip = canonical(ip);
        let l = &self.limits;
        let mut inner = self.lock();
        if inner.sessions >= l.max_sessions || inner.handshakes >= l.max_handshakes {
            return Admission::Refuse(Refusal::Full);
        }
        if !validated && inner.handshakes >= l.retry_above_handshakes {
            return Admission::Retry;
        }
        let burst = f64::from(l.attempts_per_ip_burst.max(1));
        let entry = inner.ips.entry(ip).or_insert(PerIp { sessions: 0, tokens: burst, at: now });
        let elapsed = now.saturating_duration_since(entry.at).as_secs_f64();
        entry.tokens = (entry.tokens + elapsed * l.attempts_per_ip_per_second).min(burst);
        entry.at = now;
        if entry.sessions >= l.sessions_per_ip {
            return Admission::Refuse(Refusal::IpSessions);
        }
        if entry.tokens < 1.0 {
            return Admission::Refuse(Refusal::IpRate);
        }
        entry.tokens -= 1.0;
        entry.sessions += 1;
        inner.sessions += 1;
        inner.handshakes += 1;
        Admission::Accept(Ticket { limiter: self.clone(), ip, handshaking: true })
    }

    /// Forgets source IPs with no session whose bucket has refilled (keeps the map small).
    pub(crate) fn sweep(&self, now: Instant) {
        let l = &self.limits;
        let burst = f64::from(l.attempts_per_ip_burst.max(1));
        self.lock().ips.retain(|_, e| {
            let tokens =
                e.tokens + now.saturating_duration_since(e.at).as_secs_f64() * l.attempts_per_ip_per_second;
            e.sessions > 0 || tokens < burst
        });
    }

    /// (sessions, handshakes in progress, source IPs tracked).
    #[cfg(test)]
    fn counts(&self) -> (u32, u32, usize) {
        let i = self.lock();
        (i.sessions, i.handshakes, i.ips.len())
    }
}

/// One admitted attempt's slot: a handshake until [`Ticket::established`], then a session; its
/// drop gives the slot back.
#[derive(Debug)]
pub(crate) struct Ticket {
    limiter: Limiter,
    ip: IpAddr,
    handshaking: bool,
}

impl Ticket {
    /// The handshake completed: the slot now counts as a session only.
    pub(crate) fn established(&mut self) {
        if self.handshaking {
            self.handshaking = false;
            let mut inner = self.limiter.lock();
            inner.handshakes = inner.handshakes.saturating_sub(1);
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut inner = self.limiter.lock();
        if self.handshaking {
            inner.handshakes = inner.handshakes.saturating_sub(1);
        }
        inner.sessions = inner.sessions.saturating_sub(1);
        if let Some(e) = inner.ips.get_mut(&self.ip) {
            e.sessions = e.sessions.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn accept(a: Admission) -> Ticket {
        match a {
            Admission::Accept(t) => t,
            other => panic!("expected Accept, got {other:?}"),
        }
    }

    #[test]
    fn one_ip_spends_its_own_budget_only() {
        let lim = Limiter::new(Limits {
            attempts_per_ip_burst: 3,
            attempts_per_ip_per_second: 1.0,
            ..Limits::default()
        });
        let t0 = Instant::now();
        let mut held = Vec::new();
        for _ in 0..3 {
            held.push(accept(lim.admit(ip("10.0.0.1"), true, t0)));
        }
        assert!(matches!(lim.admit(ip("10.0.0.1"), true, t0), Admission::Refuse(Refusal::IpRate)));
        // Another source is untouched by the flood.
        held.push(accept(lim.admit(ip("10.0.0.2"), true, t0)));
        // The bucket refills with time: one attempt a second.
        assert!(matches!(
            lim.admit(ip("10.0.0.1"), true, t0 + Duration::from_millis(500)),
            Admission::Refuse(_)
        ));
        held.push(accept(lim.admit(ip("10.0.0.1"), true, t0 + Duration::from_millis(1600))));
        assert_eq!(lim.counts().0, 5);
        drop(held);
        assert_eq!(lim.counts(), (0, 0, 2));
        lim.sweep(t0 + Duration::from_secs(60));
        assert_eq!(lim.counts().2, 0, "idle, refilled sources are forgotten");
    }

    #[test]
    fn concurrent_sessions_per_ip_and_mapped_addresses_share_a_budget() {
        let lim = Limiter::new(Limits { sessions_per_ip: 2, ..Limits::default() });
        let now = Instant::now();
        let mut a = accept(lim.admit(ip("192.0.2.7"), true, now));
        a.established();
        let _b = accept(lim.admit(ip("::ffff:192.0.2.7"), true, now));
        assert!(matches!(lim.admit(ip("192.0.2.7"), true, now), Admission::Refuse(Refusal::IpSessions)));
        assert_eq!(lim.counts(), (2, 1, 1));
        drop(a);
        let _c = accept(lim.admit(ip("192.0.2.7"), true, now));
    }

    #[test]
    fn handshake_pressure_asks_for_retry_then_refuses() {
        let lim = Limiter::new(Limits { retry_above_handshakes: 1, max_handshakes: 2, ..Limits::default() });
        let now = Instant::now();
        let _a = accept(lim.admit(ip("10.0.0.1"), false, now));
        assert!(matches!(lim.admit(ip("10.0.0.2"), false, now), Admission::Retry));
        let _b = accept(lim.admit(ip("10.0.0.2"), true, now));
        assert!(matches!(lim.admit(ip("10.0.0.3"), true, now), Admission::Refuse(Refusal::Full)));
    }
}
