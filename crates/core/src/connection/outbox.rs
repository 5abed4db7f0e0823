//! Messages waiting to be sent or acknowledged, and the retry rules of the three RetryModes.
//!
//! Every message gets a slot (a slab with generation counters, so stale handles in old packets
//! are harmless) and settles exactly once: `true` when a packet carrying it is acknowledged,
//! `false` when it is given up. NONE and BEST_EFFORT give up when a carrying packet times out
//! (BEST_EFFORT re-sends every retry interval until then); RETRY_ON_TIMEOUT re-sends until
//! acknowledged and gives up only when the connection closes. A fragmented message is a group of
//! fragment messages that settles once, when all fragments did (or at the first that failed).

use std::collections::VecDeque;

use crate::codec::PacketType;
use crate::seq::Seq;
use crate::time::Instant;

/// mpgameserver's per-message reliability modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryMode {
    /// Sent once.
    None,
    /// Re-sent every retry interval until acknowledged or the first carrying packet times out.
    BestEffort,
    /// Re-sent until acknowledged, for as long as the connection lives.
    RetryOnTimeout,
}

/// A handle to a message slot; stale once the message settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MsgHandle {
    idx: u32,
    gen: u32,
}

#[derive(Debug)]
pub(crate) struct OutMsg {
    pub(crate) seq: Seq,
    pub(crate) ptype: PacketType,
    pub(crate) mode: RetryMode,
    /// Handshake/teardown messages: the only ones sent before the connection is established or
    /// while it closes.
    pub(crate) control: bool,
    callback: u32,
    group: u32,
    pub(crate) data: Vec<u8>,
    sent_once: bool,
    gen: u32,
    live: bool,
}

#[derive(Debug, Clone, Copy)]
struct Group {
    remaining: u32,
    callback: u32,
    live: bool,
}

/// A message that settled and had a callback: report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Settlement {
    pub(crate) callback: u32,
    pub(crate) acked: bool,
}

/// The send side of one connection.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    slots: Vec<OutMsg>,
    free: Vec<u32>,
    groups: Vec<Group>,
    free_groups: Vec<u32>,
    /// Never sent yet, FIFO.
    queue: VecDeque<MsgHandle>,
    /// Sent, not settled, to be re-sent at `due`; ordered by `due`.
    retry: VecDeque<(MsgHandle, Instant)>,
    pool: Vec<Vec<u8>>,
    /// Messages not yet settled (fragments counted individually).
    pub(crate) pending: usize,
    /// Of those, handshake and teardown messages.
    control_pending: usize,
    /// Settled user messages (a group counts once): acked, given up.
    pub(crate) acked: u64,
    pub(crate) failed: u64,
    pub(crate) retransmitted: u64,
    pub(crate) late_acks: u64,
}

const POOL_MAX: usize = 256;

impl Outbox {
    /// Unsent and unsettled messages.
    pub(crate) fn pending(&self) -> usize {
        self.pending
    }

    /// Unsent and unsettled messages of the application (not handshake or teardown ones).
    pub(crate) fn app_pending(&self) -> usize {
        self.pending - self.control_pending
    }

    pub(crate) fn new_group(&mut self, parts: u32, callback: u32) -> u32 {
        let g = Group { remaining: parts, callback, live: true };
        if let Some(i) = self.free_groups.pop() {
            self.groups[i as usize] = g;
            i + 1
        } else {
            self.groups.push(g);
            self.groups.len() as u32
        }
    }

    /// Queues a message. `group` 0 = standalone; `callback` 0 = none.
    #[allow(clippy::too_many_arguments)] // one call site; a struct would only rename the arguments
    pub(crate) fn push(
        &mut self,
        seq: Seq,
        ptype: PacketType,
        mode: RetryMode,
        control: bool,
        callback: u32,
        group: u32,
        parts: &[&[u8]],
    ) -> MsgHandle {
        let mut data = self.pool.pop().unwrap_or_default();
        data.clear();
        for p in parts {
            data.extend_from_slice(p);
        }
        let msg =
            OutMsg { seq, ptype, mode, control, callback, group, data, sent_once: false, gen: 0, live: true };
        let h = if let Some(idx) = self.free.pop() {
            let slot = &mut self.slots[idx as usize];
            let gen = slot.gen.wrapping_add(1);
            *slot = OutMsg { gen, ..msg };
            MsgHandle { idx, gen }
        } else {
            self.slots.push(msg);
            MsgHandle { idx: self.slots.len() as u32 - 1, gen: 0 }
        };
        self.queue.push_back(h);
        self.pending += 1;
        self.control_pending += usize::from(control);
        h
    }

    pub(crate) fn get(&self, h: MsgHandle) -> Option<&OutMsg> {
        self.slots.get(h.idx as usize).filter(|m| m.live && m.gen == h.gen)
    }

    /// Picks the messages for the next packet: retries that are due, then new messages in order,
    /// as long as `fits(len)` says the next one fits. Only `control` messages when `control_only`.
    /// Picked messages are marked sent and scheduled for their next retry.
    pub(crate) fn pick(
        &mut self,
        now: Instant,
        retry_us: u64,
        control_only: bool,
        out: &mut Vec<MsgHandle>,
        mut fits: impl FnMut(usize) -> bool,
    ) {
        out.clear();
        // Due retries, oldest first. Stale handles (settled messages) are dropped on the way.
        let mut i = 0;
        while i < self.retry.len() && out.len() < crate::codec::framing::MAX_MESSAGES {
            let (h, due) = self.retry[i];
            if due > now {
                break;
            }
            let Some(m) = self.get(h) else {
                self.retry.remove(i);
                continue;
            };
            if control_only && !m.control {
                i += 1;
                continue;
            }
            if !fits(m.data.len()) {
                break;
            }
            self.retry.remove(i);
            out.push(h);
        }
        // New messages, in order; stop at the first that does not fit (no overtaking).
        let mut j = 0;
        while j < self.queue.len() && out.len() < crate::codec::framing::MAX_MESSAGES {
            let h = self.queue[j];
            let Some(m) = self.get(h) else {
                self.queue.remove(j);
                continue;
            };
            if control_only && !m.control {
                j += 1;
                continue;
            }
            if !fits(m.data.len()) {
                break;
            }
            self.queue.remove(j);
            out.push(h);
        }
        for &h in out.iter() {
            let m = &mut self.slots[h.idx as usize];
            if m.sent_once && !m.control {
                self.retransmitted += 1;
            }
            m.sent_once = true;
            if m.mode != RetryMode::None {
                self.retry.push_back((h, now + core::time::Duration::from_micros(retry_us)));
            }
        }
    }

    /// True when a retry is due or a new message waits (honouring `control_only`).
    pub(crate) fn has_work(&self, now: Instant, control_only: bool) -> bool {
        let ok = |h: &MsgHandle| self.get(*h).is_some_and(|m| !control_only || m.control);
        self.queue.iter().any(ok) || self.retry.iter().take_while(|(_, due)| *due <= now).any(|(h, _)| ok(h))
    }

    /// When the next retry falls due.
    pub(crate) fn next_retry(&self) -> Option<Instant> {
        self.retry.iter().find(|(h, _)| self.get(*h).is_some()).map(|&(_, due)| due)
    }

    /// True when unsent messages wait (control only, if asked).
    pub(crate) fn has_queued(&self, control_only: bool) -> bool {
        self.queue.iter().any(|h| self.get(*h).is_some_and(|m| !control_only || m.control))
    }

    /// A packet carrying `h` was acknowledged.
    pub(crate) fn on_acked(&mut self, h: MsgHandle, settled: &mut Vec<Settlement>) {
        if self.get(h).is_some() {
            self.settle(h, true, settled);
            // Acks come about in send order, so settled retries gather at the front: drop them
            // now rather than have `next_retry` step over them on every deadline.
            while self.retry.front().is_some_and(|(h, _)| self.get(*h).is_none()) {
                self.retry.pop_front();
            }
        } else {
            self.late_acks += 1;
        }
    }

    /// A packet carrying `h` timed out.
    pub(crate) fn on_timed_out(&mut self, h: MsgHandle, settled: &mut Vec<Settlement>) {
        if let Some(m) = self.get(h) {
            if m.mode != RetryMode::RetryOnTimeout {
                self.settle(h, false, settled);
            }
        }
    }

    /// Gives up every message (the connection ended).
    pub(crate) fn fail_all(&mut self, settled: &mut Vec<Settlement>) {
        for idx in 0..self.slots.len() {
            let m = &self.slots[idx];
            if m.live {
                let h = MsgHandle { idx: idx as u32, gen: m.gen };
                self.settle(h, false, settled);
            }
        }
        self.queue.clear();
        self.retry.clear();
    }

    /// Forgets unsent messages of the application (not control ones), settling them `false`.
    pub(crate) fn drop_app_messages(&mut self, settled: &mut Vec<Settlement>) {
        for idx in 0..self.slots.len() {
            let m = &self.slots[idx];
            if m.live && !m.control {
                let h = MsgHandle { idx: idx as u32, gen: m.gen };
                self.settle(h, false, settled);
            }
        }
    }

    /// Drops the data of a NONE message once sent (it will never be re-sent).
    pub(crate) fn sent(&mut self, h: MsgHandle) {
        if let Some(m) = self.slots.get_mut(h.idx as usize) {
            if m.live && m.gen == h.gen && m.mode == RetryMode::None && !m.data.is_empty() {
                let data = core::mem::take(&mut m.data);
                self.recycle(data);
            }
        }
    }

    fn recycle(&mut self, mut data: Vec<u8>) {
        if self.pool.len() < POOL_MAX && data.capacity() <= 2048 {
            data.clear();
            self.pool.push(data);
        }
    }

    fn settle(&mut self, h: MsgHandle, acked: bool, settled: &mut Vec<Settlement>) {
        let (callback, group, control, data) = {
            let m = &mut self.slots[h.idx as usize];
            m.live = false;
            (m.callback, m.group, m.control, core::mem::take(&mut m.data))
        };
        self.recycle(data);
        self.free.push(h.idx);
        self.pending -= 1;
        self.control_pending -= usize::from(control);
        if group == 0 {
            if control {
                // Handshake and teardown messages are not the application's: not counted.
            } else if acked {
                self.acked += 1;
            } else {
                self.failed += 1;
            }
            if callback != 0 {
                settled.push(Settlement { callback, acked });
            }
            return;
        }
        let gi = (group - 1) as usize;
        let g = &mut self.groups[gi];
        if !g.live {
            return;
        }
        if acked {
            g.remaining -= 1;
            if g.remaining > 0 {
                return;
            }
        }
        g.live = false;
        let cb = g.callback;
        self.free_groups.push(group - 1);
        if acked {
            self.acked += 1;
        } else {
            self.failed += 1;
        }
        if cb != 0 {
            settled.push(Settlement { callback: cb, acked });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acked_retries_leave_the_retry_queue_at_once() {
        let mut o = Outbox::default();
        let t0 = Instant::from_micros(0);
        let hs: Vec<MsgHandle> = (0..100u16)
            .map(|i| {
                o.push(Seq::new(i + 1), PacketType::App, RetryMode::RetryOnTimeout, false, 0, 0, &[b"x"])
            })
            .collect();
        let mut picked = Vec::new();
        o.pick(t0, 100_000, false, &mut picked, |_| true);
        assert_eq!(picked.len(), 100);
        assert_eq!(o.retry.len(), 100);
        // Acked in send order, as a live peer acks: each leaves the retry queue with its ack.
        let mut settled = Vec::new();
        for (i, &h) in hs.iter().enumerate() {
            o.on_acked(h, &mut settled);
            assert_eq!(o.retry.len(), 99 - i);
        }
        assert_eq!(o.next_retry(), None);
        // One left unacked keeps its place and its due time; those acked behind it wait for `pick`.
        let a = o.push(Seq::new(200), PacketType::App, RetryMode::RetryOnTimeout, false, 0, 0, &[b"a"]);
        let b = o.push(Seq::new(201), PacketType::App, RetryMode::RetryOnTimeout, false, 0, 0, &[b"b"]);
        o.pick(t0, 100_000, false, &mut picked, |_| true);
        o.on_acked(b, &mut settled);
        assert_eq!(o.retry.len(), 2);
        assert_eq!(o.next_retry(), Some(Instant::from_micros(100_000)));
        o.on_acked(a, &mut settled);
        assert_eq!(o.retry.len(), 0);
    }
}
