//! Events from the endpoint's runtime to the driver thread: a bounded queue the driver drains in
//! batches without blocking, and a coalesced "events wait" notification.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use bytes::Bytes;

/// A session id: unique for the endpoint's life, never reused.
pub type SessionId = u64;

/// What the endpoint reports, in order per session: `Opened`, then datagrams, then `Closed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A WebTransport session was accepted.
    Opened {
        /// Its id.
        session: SessionId,
        /// The client's UDP address (IPv4-mapped addresses as IPv4).
        remote: SocketAddr,
    },
    /// A datagram arrived on a session.
    Datagram {
        /// The session.
        session: SessionId,
        /// Its payload (one gamewire datagram).
        data: Bytes,
    },
    /// A session ended (closed by either side, timed out, or the endpoint stopped). Its id is
    /// never reported again.
    Closed {
        /// The session.
        session: SessionId,
    },
}

/// Counters of the endpoint (monotonic).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) sessions_opened: AtomicU64,
    pub(crate) sessions_refused_per_ip: AtomicU64,
    pub(crate) sessions_refused_full: AtomicU64,
    pub(crate) handshakes_failed: AtomicU64,
    pub(crate) datagrams_in: AtomicU64,
    pub(crate) datagrams_out: AtomicU64,
    pub(crate) datagrams_dropped_queue_full: AtomicU64,
    pub(crate) datagrams_send_failed: AtomicU64,
    pub(crate) certificates_renewed: AtomicU64,
}

#[derive(Debug, Default)]
struct Inner {
    events: VecDeque<Event>,
    /// Payload bytes of the queued datagrams.
    bytes: usize,
}

/// The bounded event queue.
pub(crate) struct Queue {
    inner: Mutex<Inner>,
    max_bytes: usize,
    notified: AtomicBool,
    notify: Box<dyn Fn() + Send + Sync>,
}

impl Queue {
    pub(crate) fn new(max_bytes: usize, notify: Box<dyn Fn() + Send + Sync>) -> Self {
        Self { inner: Mutex::default(), max_bytes, notified: AtomicBool::new(false), notify }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues an event. Datagrams past `max_bytes` are dropped (the protocol recovers, as from
    /// any loss); session events always go in. Returns false when dropped.
    pub(crate) fn push(&self, ev: Event, counters: &Counters) -> bool {
        {
            let mut inner = self.lock();
            if let Event::Datagram { data, .. } = &ev {
                if inner.bytes + data.len() > self.max_bytes {
                    counters.datagrams_dropped_queue_full.fetch_add(1, Ordering::Relaxed);
                    return false;
                }
                inner.bytes += data.len();
                counters.datagrams_in.fetch_add(1, Ordering::Relaxed);
            }
            inner.events.push_back(ev);
        }
        if !self.notified.swap(true, Ordering::AcqRel) {
            (self.notify)();
        }
        true
    }

    /// Moves up to `max` events to `out`; returns how many. Never blocks on the network.
    pub(crate) fn drain(&self, out: &mut Vec<Event>, max: usize) -> usize {
        let mut guard = self.lock();
        let inner = &mut *guard;
        let n = max.min(inner.events.len());
        for ev in inner.events.drain(..n) {
            if let Event::Datagram { data, .. } = &ev {
                // `bytes` is the sum of the queued datagrams' lengths, each added once.
                inner.bytes = inner.bytes.saturating_sub(data.len());
            }
            out.push(ev);
        }
        if inner.events.is_empty() {
            // Cleared under the lock: a push after this notifies again.
            self.notified.store(false, Ordering::Release);
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn notifies_once_until_drained_and_bounds_datagram_bytes() {
        let calls = Arc::new(AtomicU64::new(0));
        let c2 = Arc::clone(&calls);
        let q = Queue::new(
            10,
            Box::new(move || {
                c2.fetch_add(1, Ordering::Relaxed);
            }),
        );
        let counters = Counters::default();
        let dg = |n: usize| Event::Datagram { session: 1, data: Bytes::from(vec![0u8; n]) };
        assert!(q.push(Event::Opened { session: 1, remote: "127.0.0.1:1".parse().unwrap() }, &counters));
        assert!(q.push(dg(6), &counters));
        assert!(!q.push(dg(6), &counters), "over the byte bound: dropped");
        assert!(q.push(Event::Closed { session: 1 }, &counters), "session events always go in");
        assert_eq!(calls.load(Ordering::Relaxed), 1, "one notification until drained");
        let mut out = Vec::new();
        assert_eq!(q.drain(&mut out, 2), 2);
        assert!(q.push(dg(4), &counters), "draining gave the bytes back");
        assert_eq!(calls.load(Ordering::Relaxed), 1, "not empty yet: no new notification");
        assert_eq!(q.drain(&mut out, 100), 2);
        assert_eq!(out.len(), 4);
        assert!(q.push(dg(1), &counters));
        assert_eq!(calls.load(Ordering::Relaxed), 2, "drained empty: the next push notifies");
        assert_eq!(counters.datagrams_dropped_queue_full.load(Ordering::Relaxed), 1);
    }
}
