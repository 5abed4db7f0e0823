//! Peer ids: the `u32` names the engine and the host use for remote addresses.
//!
//! An id is `generation << 24 | shard << 20 | slot`. The rules that keep a message from ever
//! reaching the wrong client:
//!
//! * an id the host has been told about (it saw the peer's CONNECTED record) is freed only after
//!   the host has seen its RELEASED record *and* come back for more events, so every send the
//!   host queued while it still named the old peer reaches the engine while the id is unknown to
//!   it, and is refused;
//! * a freed slot is reused last (free slots are a queue), and with the next generation, so even
//!   a stale id kept longer than that names no one;
//! * the address is forgotten at once on release: the next datagram from it gets a new id.
//!
//! Ids the host never heard of (a datagram that created no connection, a refused handshake) are
//! freed at once and their RELEASED records are not sent to the host at all.
//!
//! A peer is reached over a [`Route`]: the shard's UDP socket, a WebTransport session of the
//! native endpoint, or a connection of a transport the host runs itself (WebSocket).

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;

/// How a peer is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    /// A UDP address, over the shard's socket.
    Udp(SocketAddr),
    /// A session of the native WebTransport endpoint.
    WebTransport(u64),
    /// A connection of a transport the host runs (its key): datagrams for it go to the host.
    External(u32),
}

impl Route {
    /// The transport's number as the host sees it (0 UDP, 1 WebTransport, 2 the host's own).
    pub fn kind(self) -> u32 {
        match self {
            Self::Udp(_) => 0,
            Self::WebTransport(_) => 1,
            Self::External(_) => 2,
        }
    }
}

const SLOT_BITS: u32 = 20;
const SHARD_BITS: u32 = 4;
/// Most shards (socket threads) one server may have.
pub const MAX_SHARDS: usize = 1 << SHARD_BITS;
const SLOTS: usize = 1 << SLOT_BITS;

/// The shard an id belongs to.
pub(crate) fn shard_of(id: u32) -> usize {
    ((id >> SLOT_BITS) as usize) & (MAX_SHARDS - 1)
}

#[derive(Debug, Default)]
struct Slot {
    route: Option<Route>,
    /// The remote address behind the route.
    remote: Option<SocketAddr>,
    generation: u8,
    /// The host saw this peer's CONNECTED record.
    announced: bool,
}

/// The peers of one shard.
#[derive(Debug)]
pub(crate) struct Peers {
    shard: u32,
    by_route: HashMap<Route, u32>,
    slots: Vec<Slot>,
    free: VecDeque<u32>,
    /// Slots whose RELEASED record the host got in its last drain: freed at its next one.
    releasing: Vec<u32>,
}

impl Peers {
    pub(crate) fn new(shard: usize) -> Self {
        Self {
            shard: shard as u32,
            by_route: HashMap::new(),
            slots: Vec::new(),
            free: VecDeque::new(),
            releasing: Vec::new(),
        }
    }

    fn id(&self, slot: u32) -> u32 {
        (u32::from(self.slots[slot as usize].generation) << 24) | (self.shard << SLOT_BITS) | slot
    }

    /// The slot of `id` if `id` is live (right shard, current generation, in use).
    fn slot_of(&self, id: u32) -> Option<u32> {
        let slot = id & ((1 << SLOT_BITS) - 1);
        let s = self.slots.get(slot as usize)?;
        (shard_of(id) as u32 == self.shard && self.id(slot) == id && s.route.is_some()).then_some(slot)
    }

    /// The id of a UDP address, allocated on first sight (`None` when every slot is taken).
    pub(crate) fn id_of(&mut self, addr: SocketAddr) -> Option<u32> {
        self.id_of_route(Route::Udp(addr), addr)
    }

    /// The id of `route` (whose remote end is `remote`), allocated on first sight.
    pub(crate) fn id_of_route(&mut self, route: Route, remote: SocketAddr) -> Option<u32> {
        if let Some(&id) = self.by_route.get(&route) {
            return Some(id);
        }
        let slot = match self.free.pop_front() {
            Some(s) => s,
            None if self.slots.len() < SLOTS => {
                self.slots.push(Slot::default());
                (self.slots.len() - 1) as u32
            }
            None => return None,
        };
        let s = &mut self.slots[slot as usize];
        s.route = Some(route);
        s.remote = Some(remote);
        let id = self.id(slot);
        self.by_route.insert(route, id);
        Some(id)
    }

    /// The id of a route, if it has one.
    pub(crate) fn get(&self, route: &Route) -> Option<u32> {
        self.by_route.get(route).copied()
    }

    /// The route of a live id.
    pub(crate) fn route(&self, id: u32) -> Option<Route> {
        self.slot_of(id).and_then(|s| self.slots[s as usize].route)
    }

    /// The remote address of a live id.
    pub(crate) fn addr(&self, id: u32) -> Option<SocketAddr> {
        self.slot_of(id).and_then(|s| self.slots[s as usize].remote)
    }

    /// The host is about to see `id`'s CONNECTED record.
    pub(crate) fn announce(&mut self, id: u32) {
        if let Some(s) = self.slot_of(id) {
            self.slots[s as usize].announced = true;
        }
    }

    /// The engine released `id`. Returns whether the host must be told (it knew the peer: the
    /// id is then freed at the host's next drain, [`Self::settle`]; otherwise it is freed now),
    /// and the route it had.
    pub(crate) fn release(&mut self, id: u32) -> (bool, Option<Route>) {
        let Some(slot) = self.slot_of(id) else { return (false, None) };
        let s = &mut self.slots[slot as usize];
        let route = s.route.take();
        s.remote = None;
        if let Some(r) = route {
            self.by_route.remove(&r);
        }
        let told = if s.announced {
            self.releasing.push(slot);
            true
        } else {
            self.free_slot(slot);
            false
        };
        (told, route)
    }

    /// The host came back for events: the releases it was told about last time are settled.
    pub(crate) fn settle(&mut self) {
        for slot in std::mem::take(&mut self.releasing) {
            self.free_slot(slot);
        }
    }

    fn free_slot(&mut self, slot: u32) {
        let s = &mut self.slots[slot as usize];
        s.route = None;
        s.remote = None;
        s.announced = false;
        s.generation = s.generation.wrapping_add(1);
        self.free.push_back(slot);
    }

    /// Live peers (connections and addresses still being handled).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_route.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    /// The scenario of a reply reaching the wrong client: A leaves while the host still names it;
    /// B arrives. B never gets A's id, before or after the host settles.
    #[test]
    fn a_released_id_is_not_reused_while_the_host_may_name_it() {
        let mut p = Peers::new(0);
        let a = p.id_of(addr(1)).unwrap();
        p.announce(a);
        assert!(p.release(a).0, "the host knew A: it is told");
        let b = p.id_of(addr(2)).unwrap();
        assert_ne!(a, b);
        assert_eq!(p.addr(a), None, "A's id names no one");
        p.settle();
        let c = p.id_of(addr(3)).unwrap();
        assert_ne!(c, a, "the freed slot comes back with a new generation");
        assert_eq!(c & 0xF_FFFF, a & 0xF_FFFF, "same slot");
        assert_eq!(p.addr(a), None);
        assert_eq!(p.addr(c), Some(addr(3)));
    }

    #[test]
    fn unannounced_ids_are_freed_at_once_and_reused_last() {
        let mut p = Peers::new(3);
        let ids: Vec<u32> = (1..=3).map(|port| p.id_of(addr(port)).unwrap()).collect();
        assert!(ids.iter().all(|&id| shard_of(id) == 3));
        assert!(!p.release(ids[0]).0, "the host never heard of it");
        // The same address again: a new id (the old one is gone with its generation).
        let again = p.id_of(addr(1)).unwrap();
        assert_ne!(again, ids[0]);
        assert_eq!(p.len(), 3);
    }
}
