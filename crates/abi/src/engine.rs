//! [`FlatEngine`]: an `Endpoint<u32>` behind the flat, batched buffers every binding exports.

use gamewire_core::crypto::{RootKey, RootPublicKey};
use gamewire_core::endpoint::{ConnectError, Endpoint, SendError, Status};
use gamewire_core::{Event, Instant};

use crate::config::config_from_flat;
use crate::entropy::{self, Entropy, OsEntropy};
use crate::tables::{close_reason_code, code, drop_code, event_kind, layout, peer_status, retry_mode_of};
use crate::AbiError;

const EVENT_HEAD: usize = layout::EVENT_HEAD as usize;
const SEND_HEAD: usize = layout::SEND_HEAD as usize;
const TRANSMIT_META: usize = layout::TRANSMIT_META as usize;
const DATAGRAM_ROOM: usize = layout::DATAGRAM_ROOM as usize;
const IN_META: usize = layout::IN_META_FIELDS as usize;

fn send_code(e: &SendError) -> i32 {
    match e {
        SendError::UnknownConnection => code::UNKNOWN_CONNECTION,
        SendError::NotConnected => code::NOT_CONNECTED,
        SendError::TooLarge { .. } => code::TOO_LARGE,
        SendError::QueueFull => code::QUEUE_FULL,
    }
}

fn connect_code(e: &ConnectError) -> i32 {
    match e {
        ConnectError::NotAClient => code::NOT_A_CLIENT,
        ConnectError::NoPinnedKey => code::NO_PINNED_KEY,
        ConnectError::AlreadyConnected => code::ALREADY_CONNECTED,
        ConnectError::TooManyConnections => code::TOO_MANY_CONNECTIONS,
    }
}

/// An event that did not fit the caller's buffer, kept with its own copy of any bytes.
#[derive(Debug)]
struct Pending {
    head: [u32; 4],
    data: Vec<u8>,
}

/// An `Endpoint<u32>` (peers are small integers the JavaScript driver assigns) behind the flat,
/// batched interface both bindings export.
#[derive(Debug)]
pub struct FlatEngine {
    ep: Endpoint<u32>,
    pending: Option<Pending>,
}

fn put_u32(out: &mut [u8], at: usize, v: u32) {
    out[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn read_u32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// The generator seed: the caller's 32 bytes (tests), or fresh ones from `src` when empty.
fn seed_from(seed: &[u8], src: &mut impl Entropy) -> Result<[u8; 32], AbiError> {
    if seed.is_empty() {
        return Ok(entropy::seed(src)?);
    }
    <[u8; 32]>::try_from(seed)
        .map_err(|_| AbiError::invalid(format!("seed: 32 bytes or none, got {}", seed.len())))
}

impl FlatEngine {
    /// A server engine. `root_pkcs8` empty = a fresh root key; `seed` (32 bytes) fixes the
    /// random generator (tests), empty = from the operating system.
    pub fn server(config: &[f64], root_pkcs8: &[u8], seed: &[u8]) -> Result<Self, AbiError> {
        Self::server_from(config, root_pkcs8, seed, &mut OsEntropy)
    }

    /// [`Self::server`] with randomness from `src`.
    pub fn server_from(
        config: &[f64],
        root_pkcs8: &[u8],
        seed: &[u8],
        src: &mut impl Entropy,
    ) -> Result<Self, AbiError> {
        let cfg = config_from_flat(config)?;
        let root = if root_pkcs8.is_empty() {
            entropy::generate_root_key(src)?
        } else {
            RootKey::from_pkcs8_der(root_pkcs8).map_err(|e| AbiError::bad_key(format!("rootKey: {e}")))?
        };
        Ok(Self { ep: Endpoint::server(cfg, root, seed_from(seed, src)?), pending: None })
    }

    /// A client engine.
    pub fn client(config: &[f64], seed: &[u8]) -> Result<Self, AbiError> {
        Self::client_from(config, seed, &mut OsEntropy)
    }

    /// [`Self::client`] with randomness from `src`.
    pub fn client_from(config: &[f64], seed: &[u8], src: &mut impl Entropy) -> Result<Self, AbiError> {
        let cfg = config_from_flat(config)?;
        Ok(Self { ep: Endpoint::client(cfg, seed_from(seed, src)?), pending: None })
    }

    /// The endpoint, for callers that want the Rust API.
    pub fn endpoint(&mut self) -> &mut Endpoint<u32> {
        &mut self.ep
    }

    /// The endpoint, read-only.
    pub fn endpoint_ref(&self) -> &Endpoint<u32> {
        &self.ep
    }

    /// Replaces the configuration.
    pub fn set_config(&mut self, config: &[f64]) -> Result<(), AbiError> {
        self.ep.set_config(config_from_flat(config)?);
        Ok(())
    }

    /// The server's root public key as SPKI DER (empty for a client).
    pub fn root_public_spki(&self) -> Vec<u8> {
        self.ep.root_key().map(|k| k.public().to_spki().to_vec()).unwrap_or_default()
    }

    /// Handles `count` datagrams stored in `buf`, described by `meta` = `count` quadruples
    /// (peer, offset, len, source). Each is decrypted in place. `source` groups datagrams by
    /// sender (the driver's id for the source IP address) so that handshakes are shared out
    /// fairly between senders. A length above the datagram room marks a datagram the driver did
    /// not copy because it is too large: it is counted (with its real length) and dropped.
    /// Writes a result per datagram into `status` (a [`crate::tables::drop_reason`]) as far as it
    /// reaches. Returns how many were accepted. CLIENT_HELLOs are only queued here:
    /// [`Self::process_handshakes`] answers them. Timers that are due run after the batch (see
    /// [`Endpoint::handle_timeout`]): keep-alives waiting for a wake-up leave with the replies.
    pub fn handle(
        &mut self,
        now_ms: f64,
        buf: &mut [u8],
        meta: &[u32],
        count: usize,
        status: &mut [u8],
    ) -> u32 {
        use gamewire_core::stats::DropReason;
        let now = Instant::from_millis_f64(now_ms);
        let mut ok = 0;
        for (i, d) in meta.chunks_exact(IN_META).take(count).enumerate() {
            let (peer, off, len, source) = (d[0], d[1] as usize, d[2] as usize, d[3]);
            let r = if len > DATAGRAM_ROOM {
                self.ep.count_dropped(DropReason::TooLarge, len);
                Err(DropReason::TooLarge)
            } else if let Some(dg) = buf.get_mut(off..off.saturating_add(len)) {
                self.ep.handle_datagram_from(now, peer, source, dg)
            } else {
                Err(DropReason::Malformed)
            };
            if r.is_ok() {
                ok += 1;
            }
            if let Some(s) = status.get_mut(i) {
                *s = r.map_or_else(drop_code, |()| 0);
            }
        }
        self.ep.handle_timeout(now);
        ok
    }

    /// Answers up to `max` queued CLIENT_HELLOs (each costs three P-256 scalar multiplications),
    /// taking senders in turn. Returns how many were answered or dropped.
    pub fn process_handshakes(&mut self, now_ms: f64, max: u32) -> u32 {
        self.ep.process_handshakes(Instant::from_millis_f64(now_ms), max as usize) as u32
    }

    /// CLIENT_HELLOs waiting for [`Self::process_handshakes`].
    pub fn queued_handshakes(&self) -> u32 {
        self.ep.queued_handshakes() as u32
    }

    /// Adds a connection already established with a 16-byte session key (no handshake): for
    /// benchmarks that compare the per-datagram paths with another implementation.
    #[cfg(feature = "testing")]
    pub fn danger_establish(&mut self, now_ms: f64, peer: u32, key: &[u8], token: u32) -> bool {
        let Ok(k) = <&[u8; 16]>::try_from(key) else { return false };
        self.ep.danger_establish(Instant::from_millis_f64(now_ms), peer, k, token)
    }

    /// Runs the timers.
    pub fn tick(&mut self, now_ms: f64) {
        self.ep.handle_timeout(Instant::from_millis_f64(now_ms));
    }

    /// Writes due datagrams back to back into `out`, and (peer, offset, len) triples into
    /// `meta` (u32 LE). Returns how many; call again while it fills `meta` or `out`.
    pub fn transmit(&mut self, now_ms: f64, out: &mut [u8], meta: &mut [u8]) -> u32 {
        let now = Instant::from_millis_f64(now_ms);
        let mut off = 0usize;
        let mut n = 0usize;
        while (n + 1) * TRANSMIT_META <= meta.len() && off + DATAGRAM_ROOM <= out.len() {
            let Some(t) = self.ep.poll_transmit(now, &mut out[off..]) else { break };
            put_u32(meta, n * TRANSMIT_META, t.to);
            put_u32(meta, n * TRANSMIT_META + 4, off as u32);
            put_u32(meta, n * TRANSMIT_META + 8, t.len as u32);
            off += t.len;
            n += 1;
        }
        n as u32
    }

    fn write_record(out: &mut [u8], at: usize, head: [u32; 4], data: &[u8]) -> Option<usize> {
        let padded = (data.len() + 3) & !3;
        let end = at + EVENT_HEAD + padded;
        if end > out.len() {
            return None;
        }
        for (i, v) in head.iter().enumerate() {
            put_u32(out, at + 4 * i, *v);
        }
        out[at + EVENT_HEAD..at + EVENT_HEAD + data.len()].copy_from_slice(data);
        Some(end)
    }

    /// Writes queued events into `out` as records (kind, peer, a, len, then `len` bytes padded
    /// to 4). Returns the bytes written. If the next event does not fit an empty `out`,
    /// [`Self::pending_event_size`] says how large `out` must be.
    pub fn events(&mut self, out: &mut [u8]) -> u32 {
        self.events_with(out, |_, _| true)
    }

    /// [`Self::events`], asking `keep(kind, peer)` about every record before it is written: a
    /// driver that owns the peer ids learns which ids the caller has seen (CONNECTED), frees an
    /// id only once the caller has seen its release, and leaves out records about peers the
    /// caller never heard of (`keep` returns false).
    pub fn events_with(&mut self, out: &mut [u8], mut keep: impl FnMut(u32, u32) -> bool) -> u32 {
        let mut at = 0usize;
        if let Some(p) = self.pending.take() {
            match Self::write_record(out, at, p.head, &p.data) {
                Some(end) => at = end,
                None => {
                    self.pending = Some(p);
                    return 0;
                }
            }
        }
        while let Some(ev) = self.ep.poll_event() {
            let (head, range) = match ev {
                Event::Connected { addr, token } => ([event_kind::CONNECTED, addr, token, 0], None),
                Event::Message { addr, seq, data } => {
                    ([event_kind::MESSAGE, addr, u32::from(seq), data.len() as u32], Some(data))
                }
                Event::Settled { addr, callback, acked } => {
                    let kind = if acked { event_kind::ACKED } else { event_kind::FAILED };
                    ([kind, addr, callback, 0], None)
                }
                Event::Disconnected { addr, reason } => {
                    ([event_kind::DISCONNECTED, addr, close_reason_code(reason), 0], None)
                }
                Event::Released { addr } => ([event_kind::RELEASED, addr, 0, 0], None),
            };
            if !keep(head[0], head[1]) {
                continue;
            }
            let data = range.map_or(&[][..], |r| self.ep.event_data(r));
            match Self::write_record(out, at, head, data) {
                Some(end) => at = end,
                None => {
                    self.pending = Some(Pending { head, data: data.to_vec() });
                    break;
                }
            }
        }
        at as u32
    }

    /// True when events wait to be written.
    pub fn has_events(&self) -> bool {
        self.pending.is_some() || self.ep.has_events()
    }

    /// Size of the event waiting for room (0 if none).
    pub fn pending_event_size(&self) -> u32 {
        self.pending.as_ref().map_or(0, |p| (EVENT_HEAD + ((p.data.len() + 3) & !3)) as u32)
    }

    /// Queues a message. Returns 0 or a [`code`].
    pub fn send(&mut self, now_ms: f64, peer: u32, data: &[u8], mode: i32, callback: u32) -> i32 {
        let Some(mode) = retry_mode_of(mode) else { return code::BAD_RETRY_MODE };
        match self.ep.send(Instant::from_millis_f64(now_ms), &peer, data, mode, callback) {
            Ok(()) => 0,
            Err(e) => send_code(&e),
        }
    }

    /// Queues the same message to many peers (no callbacks). Returns how many accepted it.
    pub fn broadcast(&mut self, now_ms: f64, peers: &[u32], data: &[u8], mode: i32) -> u32 {
        let Some(mode) = retry_mode_of(mode) else { return 0 };
        let now = Instant::from_millis_f64(now_ms);
        peers.iter().filter(|p| self.ep.send(now, p, data, mode, 0).is_ok()).count() as u32
    }

    /// Queues a batch of messages: `cmds` holds `count` records (peer u32, mode i32, callback
    /// u32, len u32, then `len` bytes padded to 4: [`layout::SEND_HEAD`]), little-endian. Writes
    /// one result code per record into `results` (as i8). Returns how many records were read.
    pub fn send_batch(&mut self, now_ms: f64, cmds: &[u8], count: usize, results: &mut [u8]) -> u32 {
        self.send_batch_for(now_ms, cmds, count, results, |_| true)
    }

    /// [`Self::send_batch`] for the records whose peer `mine(peer)` accepts; the others are read
    /// past and their result slots left alone (a driver with several engines hands each its own).
    pub fn send_batch_for(
        &mut self,
        now_ms: f64,
        cmds: &[u8],
        count: usize,
        results: &mut [u8],
        mine: impl Fn(u32) -> bool,
    ) -> u32 {
        let mut at = 0usize;
        let mut n = 0usize;
        while n < count {
            let (Some(peer), Some(mode), Some(cb), Some(len)) =
                (read_u32(cmds, at), read_u32(cmds, at + 4), read_u32(cmds, at + 8), read_u32(cmds, at + 12))
            else {
                break;
            };
            let len = len as usize;
            let Some(data) = cmds.get(at + SEND_HEAD..at + SEND_HEAD + len) else { break };
            if mine(peer) {
                let r = self.send(now_ms, peer, data, mode as i32, cb);
                if let Some(slot) = results.get_mut(n) {
                    *slot = r as i8 as u8;
                }
            }
            at += SEND_HEAD + ((len + 3) & !3);
            n += 1;
        }
        n as u32
    }

    /// Client: connects to `peer`. `pinned_spki` empty = none (then `insecure` must be true).
    pub fn connect(&mut self, now_ms: f64, peer: u32, pinned_spki: &[u8], insecure: bool) -> i32 {
        let pinned = if pinned_spki.is_empty() {
            None
        } else {
            match RootPublicKey::from_spki(pinned_spki) {
                Ok(k) => Some(k),
                Err(_) => return code::BAD_KEY,
            }
        };
        match self.ep.connect(Instant::from_millis_f64(now_ms), peer, pinned, insecure) {
            Ok(()) => 0,
            Err(e) => connect_code(&e),
        }
    }

    /// Closes the connection with `peer` gracefully.
    pub fn disconnect(&mut self, now_ms: f64, peer: u32) {
        self.ep.disconnect(Instant::from_millis_f64(now_ms), &peer);
    }

    /// Ends the connection with `peer` at once: its transport is gone.
    pub fn abort(&mut self, now_ms: f64, peer: u32) {
        self.ep.abort(Instant::from_millis_f64(now_ms), &peer);
    }

    /// Closes every connection gracefully.
    pub fn close_all(&mut self, now_ms: f64) {
        self.ep.close_all(Instant::from_millis_f64(now_ms));
    }

    /// Forgets every connection without telling anyone.
    pub fn abort_all(&mut self) {
        self.ep.abort_all();
    }

    /// A [`peer_status`] value.
    pub fn status(&self, peer: u32) -> u32 {
        match self.ep.status(&peer) {
            None => peer_status::NONE,
            Some(Status::Connecting) => peer_status::CONNECTING,
            Some(Status::Connected) => peer_status::CONNECTED,
            Some(Status::Disconnecting) => peer_status::DISCONNECTING,
        }
    }

    /// The session token (0 if unknown).
    pub fn token(&self, peer: u32) -> u32 {
        self.ep.token(&peer).unwrap_or(0)
    }

    /// mpgameserver's latency for `peer`, seconds (-1 if unknown).
    pub fn latency(&self, peer: u32) -> f64 {
        self.ep.latency(&peer).unwrap_or(-1.0)
    }

    /// Number of connections (handshakes included).
    pub fn connection_count(&self) -> u32 {
        self.ep.connection_count() as u32
    }

    /// Writes `peer`'s statistics as f64 LE ([`crate::stats_fields`] order). False if unknown.
    pub fn connection_stats(&self, peer: u32, out: &mut [u8]) -> bool {
        match self.ep.connection_stats(&peer) {
            Some(s) => write_f64s(out, &s.to_array()),
            None => false,
        }
    }

    /// Writes the endpoint's statistics as f64 LE.
    pub fn stats(&self, out: &mut [u8]) -> bool {
        write_f64s(out, &self.ep.stats().to_array())
    }

    /// Counts a datagram dropped by the driver's block list.
    pub fn count_blocked(&mut self, bytes: u32) {
        self.ep.count_blocked(bytes as usize);
    }

    /// Milliseconds (on the caller's clock) of the next deadline, or -1.
    pub fn next_timeout(&mut self) -> f64 {
        self.ep.poll_timeout().map_or(-1.0, Instant::as_millis_f64)
    }
}

fn write_f64s(out: &mut [u8], vals: &[f64]) -> bool {
    if out.len() < vals.len() * 8 {
        return false;
    }
    for (i, v) in vals.iter().enumerate() {
        out[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::config_to_flat;
    use crate::entropy::tests::Broken;
    use gamewire_core::Config;

    fn record(out: &mut Vec<u8>, peer: u32, mode: i32, cb: u32, data: &[u8]) {
        out.extend_from_slice(&peer.to_le_bytes());
        out.extend_from_slice(&mode.to_le_bytes());
        out.extend_from_slice(&cb.to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(data);
        out.resize((out.len() + 3) & !3, 0);
    }

    /// One result per record, in order; a record cut short ends the batch without a panic.
    #[test]
    fn send_batch_results_and_truncation() {
        let cfg = Config { send_interval: core::time::Duration::ZERO, ..Config::default() };
        let mut e = FlatEngine::server(&config_to_flat(&cfg), &[], &[7; 32]).unwrap();
        assert!(e.danger_establish(0.0, 1, &[3; 16], 11));
        let mut cmds = Vec::new();
        record(&mut cmds, 1, 0, 0, b"hello");
        record(&mut cmds, 9, 0, 0, b"nobody");
        record(&mut cmds, 1, 5, 0, b"bad mode");
        record(&mut cmds, 1, -1, 42, b"guaranteed");
        let whole = cmds.len();
        record(&mut cmds, 1, 0, 0, b"cut short");
        let mut results = [0x55u8; 8];
        // All five fit.
        assert_eq!(e.send_batch(0.0, &cmds, 5, &mut results), 5);
        let codes: Vec<i32> = results[..5].iter().map(|&r| i32::from(r as i8)).collect();
        assert_eq!(codes, [0, code::UNKNOWN_CONNECTION, code::BAD_RETRY_MODE, 0, 0]);
        // The last record's data cut off: four read, the fifth left alone.
        let mut results = [0x55u8; 8];
        assert_eq!(e.send_batch(0.0, &cmds[..whole + 18], 5, &mut results), 4);
        assert_eq!(results[4], 0x55);
        // A count larger than the records present stops at the end of the buffer.
        assert_eq!(e.send_batch(0.0, &cmds[..whole], 100, &mut results), 4);
        // Fewer result slots than records: the records are still queued.
        assert_eq!(e.send_batch(0.0, &cmds[..whole], 4, &mut []), 4);
        let mut out = vec![0u8; 64 * DATAGRAM_ROOM];
        let mut meta = vec![0u8; 64 * TRANSMIT_META];
        assert!(e.transmit(1.0, &mut out, &mut meta) >= 1);
    }

    /// A batch of received datagrams also runs the timers that are due: a keep-alive waiting
    /// for a wake-up leaves with it instead of at its own deadline a quarter interval later.
    #[test]
    fn a_received_batch_sends_the_keep_alives_that_are_due() {
        let mut e = FlatEngine::server(&config_to_flat(&Config::default()), &[], &[7; 32]).unwrap();
        assert!(e.danger_establish(0.0, 1, &[3; 16], 11));
        assert!(e.danger_establish(0.0, 2, &[4; 16], 12));
        let mut out = vec![0u8; 64 * DATAGRAM_ROOM];
        let mut meta = vec![0u8; 64 * TRANSMIT_META];
        e.tick(0.0);
        while e.transmit(0.0, &mut out, &mut meta) > 0 {}
        // Due after 100 ms, but the host need not wake before 125 ms.
        let next = e.next_timeout();
        assert!((125.0..126.0).contains(&next), "next deadline {next} ms");
        assert_eq!(e.transmit(110.0, &mut out, &mut meta), 0, "nothing leaves without a wake-up");
        // A datagram arrives at 110 ms (from peer 2, and not even a valid one): peer 1's
        // keep-alive goes out with that wake-up.
        let mut buf = vec![0u8; 64];
        let in_meta = [2u32, 0, 64, 0];
        let mut status = [0u8; 1];
        assert_eq!(e.handle(110.0, &mut buf, &in_meta, 1, &mut status), 0);
        let n = e.transmit(110.0, &mut out, &mut meta) as usize;
        let peers: Vec<u32> = (0..n)
            .map(|i| u32::from_le_bytes(meta[i * TRANSMIT_META..i * TRANSMIT_META + 4].try_into().unwrap()))
            .collect();
        assert!(peers.contains(&1) && peers.contains(&2), "keep-alives to {peers:?}");
    }

    /// Without a working OS generator an engine is not made at all: no fixed or zero seed.
    #[test]
    fn a_failing_random_generator_refuses_the_engine() {
        let cfg = config_to_flat(&Config::default());
        let root = RootKey::from_scalar(&[7; 32]).unwrap().to_pkcs8_der();
        let err = FlatEngine::server_from(&cfg, &root, &[], &mut Broken).unwrap_err();
        assert_eq!(err.code, "ERR_ENTROPY");
        assert!(err.message.contains("random generator failed"), "{}", err.message);
        assert_eq!(
            FlatEngine::server_from(&cfg, &[], &[1; 32], &mut Broken).unwrap_err().code,
            "ERR_ENTROPY"
        );
        assert_eq!(FlatEngine::client_from(&cfg, &[], &mut Broken).unwrap_err().code, "ERR_ENTROPY");
        // A caller-given seed needs no generator.
        assert!(FlatEngine::server_from(&cfg, &root, &[1; 32], &mut Broken).is_ok());
    }
}
