//! Reassembly of fragmented messages (wire spec §11), with bounded memory.
//!
//! A slot per fragment id is created by the first fragment seen; its `count` fixes the number of
//! parts. When every part arrived, the message is delivered with the message seq of part 1.
//! Unfinished slots expire `1 + 0.5 × count` seconds after creation. Memory is bounded per
//! connection and endpoint-wide (the caller passes the endpoint's budget); fragments that do not
//! fit are dropped, which a RETRY_ON_TIMEOUT sender recovers from by re-sending.

use crate::codec::fragment::{FragmentHeader, MAX_FRAGMENTS};
use crate::seq::Seq;
use crate::time::Instant;

#[derive(Debug)]
struct Slot {
    id: Seq,
    count: u16,
    received: u16,
    first_seq: Option<Seq>,
    /// Part index (1-based) → data; parts arrive in any order.
    parts: Vec<(u16, Vec<u8>)>,
    bytes: usize,
    expires: Instant,
}

/// Outcome of adding a fragment.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Added {
    /// Stored; the message is not complete yet.
    Stored,
    /// The message is complete: (message seq of part 1, bytes).
    Complete(Seq, Vec<u8>),
    /// Refused: bad header, duplicate part, or over a memory bound.
    Refused,
}

/// The unfinished fragmented messages of one connection.
#[derive(Debug, Default)]
pub(crate) struct Reassembly {
    slots: Vec<Slot>,
    bytes: usize,
}

/// Most unfinished fragmented messages one connection may hold.
const MAX_SLOTS: usize = 64;

impl Reassembly {
    /// Bytes held.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Adds a fragment message. `budget_total` is what the endpoint may still hold; the bytes
    /// taken are added to/removed from `held_total` by the caller via the returned delta of
    /// [`Self::bytes`].
    pub(crate) fn add(
        &mut self,
        now: Instant,
        msg_seq: Seq,
        msg: &[u8],
        max_conn_bytes: usize,
        budget_total: usize,
    ) -> Added {
        let Some((h, data)) = FragmentHeader::parse(msg) else { return Added::Refused };
        if h.count == 0 || usize::from(h.count) > MAX_FRAGMENTS || h.index == 0 || h.index > h.count {
            return Added::Refused;
        }
        let pos = match self.slots.iter().position(|s| s.id == h.id) {
            Some(p) => p,
            None => {
                if self.slots.len() >= MAX_SLOTS {
                    return Added::Refused;
                }
                let life = 1_000_000 + 500_000 * u64::from(h.count);
                self.slots.push(Slot {
                    id: h.id,
                    count: h.count,
                    received: 0,
                    first_seq: None,
                    parts: Vec::new(),
                    bytes: 0,
                    expires: Instant::from_micros(now.as_micros() + life),
                });
                self.slots.len() - 1
            }
        };
        let slot = &mut self.slots[pos];
        if h.index > slot.count || slot.parts.iter().any(|(i, _)| *i == h.index) {
            return Added::Refused;
        }
        if self.bytes + data.len() > max_conn_bytes || data.len() > budget_total {
            return Added::Refused;
        }
        slot.parts.push((h.index, data.to_vec()));
        slot.bytes += data.len();
        slot.received += 1;
        self.bytes += data.len();
        if h.index == 1 {
            slot.first_seq = Some(msg_seq);
        }
        if slot.received < slot.count {
            return Added::Stored;
        }
        let mut slot = self.slots.swap_remove(pos);
        self.bytes -= slot.bytes;
        slot.parts.sort_unstable_by_key(|(i, _)| *i);
        let mut out = Vec::with_capacity(slot.bytes);
        for (_, d) in &slot.parts {
            out.extend_from_slice(d);
        }
        Added::Complete(slot.first_seq.unwrap_or(msg_seq), out)
    }

    /// Drops expired slots; returns how many.
    pub(crate) fn expire(&mut self, now: Instant) -> usize {
        let before = self.slots.len();
        let mut freed = 0;
        self.slots.retain(|s| {
            let keep = s.expires > now;
            if !keep {
                freed += s.bytes;
            }
            keep
        });
        self.bytes -= freed;
        before - self.slots.len()
    }

    /// The earliest expiry.
    pub(crate) fn next_expiry(&self) -> Option<Instant> {
        self.slots.iter().map(|s| s.expires).min()
    }

    /// Frees everything.
    pub(crate) fn clear(&mut self) {
        self.slots.clear();
        self.bytes = 0;
    }
}
