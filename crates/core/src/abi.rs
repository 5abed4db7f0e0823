//! Flat layouts shared by the two bindings (`crates/napi`, `crates/wasm`).
//!
//! JavaScript crosses into Rust through typed arrays that it owns; these helpers turn the core's
//! types into fixed arrays of integers and back, so that both bindings stay glue only and agree
//! on every index. The TypeScript side of each layout is in `ts/backend/abi.ts`.

use crate::codec::{Direction, Header, HeaderError, PacketType};
use crate::seq::Seq;

/// Number of `u32` slots of a flat header.
pub const HEADER_FIELDS: usize = 8;

/// `[toServer, ctime, seq, ack, type, length, count, ackBits]`.
pub fn header_to_fields(h: &Header) -> [u32; HEADER_FIELDS] {
    [
        u32::from(h.direction == Direction::ToServer),
        h.ctime,
        u32::from(h.seq.get()),
        u32::from(h.ack.get()),
        h.ptype as u32,
        u32::from(h.length),
        u32::from(h.count),
        h.ack_bits,
    ]
}

/// The reverse of [`header_to_fields`]; refuses out-of-range fields with a message naming them.
pub fn header_from_fields(f: &[u32]) -> Result<Header, String> {
    if f.len() < HEADER_FIELDS {
        return Err(format!("header needs {HEADER_FIELDS} fields, got {}", f.len()));
    }
    let u16f = |i: usize, name: &str| {
        u16::try_from(f[i]).map_err(|_| format!("header field `{name}` out of range: {}", f[i]))
    };
    let direction = match f[0] {
        0 => Direction::ToClient,
        1 => Direction::ToServer,
        v => return Err(format!("header field `toServer` must be 0 or 1, got {v}")),
    };
    let ptype = u8::try_from(f[4])
        .ok()
        .and_then(PacketType::from_u8)
        .ok_or_else(|| format!("header field `type` is not a packet type: {}", f[4]))?;
    let count = u8::try_from(f[6]).map_err(|_| format!("header field `count` out of range: {}", f[6]))?;
    Ok(Header {
        direction,
        ctime: f[1],
        seq: Seq::new(u16f(2, "seq")?),
        ack: Seq::new(u16f(3, "ack")?),
        ptype,
        length: u16f(5, "length")?,
        count,
        ack_bits: f[7],
    })
}

/// Stable numeric codes for [`HeaderError`] (0 is success).
pub fn header_error_code(e: HeaderError) -> u32 {
    match e {
        HeaderError::TooShort => 1,
        HeaderError::UnknownType(_) => 2,
        HeaderError::BadMagic => 3,
        HeaderError::WrongDirection => 4,
    }
}

/// Writes `vals` as little-endian `u32`s (the layout of a JavaScript `Uint32Array` on every
/// platform Node runs on) at the start of `out`.
pub fn write_u32s(out: &mut [u8], vals: &[u32]) -> Result<(), String> {
    let need = vals.len() * 4;
    let Some(dst) = out.get_mut(..need) else {
        return Err(format!("output buffer needs {need} bytes, has {}", out.len()));
    };
    for (chunk, v) in dst.chunks_exact_mut(4).zip(vals) {
        chunk.copy_from_slice(&v.to_le_bytes());
    }
    Ok(())
}

// ---- the engine: an Endpoint<u32> behind flat buffers -------------------------------------------

use crate::config::{Config, ConfigError};
use crate::connection::outbox::RetryMode;
use crate::crypto::{KeyError, RootKey, RootPublicKey};
use crate::endpoint::{ConnectError, Endpoint, SendError, Status};
use crate::event::Event;
use crate::stats::{ConnectionStats, Counters};
use crate::time::Instant;
use core::time::Duration;

/// Names of the flat configuration array, in order (seconds for durations).
pub const CONFIG_FIELDS: &[&str] = &[
    "sendInterval",
    "keepAliveInterval",
    "messageTimeout",
    "connectionTimeout",
    "tempConnectionTimeout",
    "handshakeRetransmit",
    "connectTimeout",
    "maxDatagram",
    "maxConnections",
    "maxPendingHandshakes",
    "handshakesPerSecond",
    "messageWindow",
    "packetWindow",
    "maxCtimeAge",
    "maxMessageSize",
    "maxReassemblyBytesPerConnection",
    "maxReassemblyBytesTotal",
    "maxQueuedMessages",
    "unixMillisAtZero",
];

fn secs(field: &'static str, v: f64) -> Result<Duration, ConfigError> {
    if v.is_finite() && (0.0..=86_400.0).contains(&v) {
        Ok(Duration::from_secs_f64(v))
    } else {
        Err(ConfigError { field, message: format!("must be a number of seconds from 0 to 86400, got {v}") })
    }
}

fn count(field: &'static str, v: f64) -> Result<usize, ConfigError> {
    if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= 9.007_199_254_740_991e15 {
        Ok(v as usize)
    } else {
        Err(ConfigError { field, message: format!("must be a whole number, got {v}") })
    }
}

/// Reads a configuration from its flat form ([`CONFIG_FIELDS`] order) and validates it.
pub fn config_from_flat(f: &[f64]) -> Result<Config, ConfigError> {
    if f.len() != CONFIG_FIELDS.len() {
        return Err(ConfigError {
            field: "config",
            message: format!("expected {} values, got {}", CONFIG_FIELDS.len(), f.len()),
        });
    }
    let cfg = Config {
        send_interval: secs("sendInterval", f[0])?,
        keep_alive_interval: secs("keepAliveInterval", f[1])?,
        message_timeout: secs("messageTimeout", f[2])?,
        connection_timeout: secs("connectionTimeout", f[3])?,
        temp_connection_timeout: secs("tempConnectionTimeout", f[4])?,
        handshake_retransmit: secs("handshakeRetransmit", f[5])?,
        connect_timeout: secs("connectTimeout", f[6])?,
        max_datagram: count("maxDatagram", f[7])?,
        max_connections: count("maxConnections", f[8])?,
        max_pending_handshakes: count("maxPendingHandshakes", f[9])?,
        handshakes_per_second: u32::try_from(count("handshakesPerSecond", f[10])?).unwrap_or(u32::MAX),
        message_window: count("messageWindow", f[11])?,
        packet_window: count("packetWindow", f[12])?,
        max_ctime_age: secs("maxCtimeAge", f[13])?,
        max_message_size: count("maxMessageSize", f[14])?,
        max_reassembly_bytes_per_connection: count("maxReassemblyBytesPerConnection", f[15])?,
        max_reassembly_bytes_total: count("maxReassemblyBytesTotal", f[16])?,
        max_queued_messages: count("maxQueuedMessages", f[17])?,
        unix_millis_at_zero: count("unixMillisAtZero", f[18])? as u64,
    };
    cfg.validate()?;
    Ok(cfg)
}

/// The flat form of a configuration.
pub fn config_to_flat(c: &Config) -> Vec<f64> {
    vec![
        c.send_interval.as_secs_f64(),
        c.keep_alive_interval.as_secs_f64(),
        c.message_timeout.as_secs_f64(),
        c.connection_timeout.as_secs_f64(),
        c.temp_connection_timeout.as_secs_f64(),
        c.handshake_retransmit.as_secs_f64(),
        c.connect_timeout.as_secs_f64(),
        c.max_datagram as f64,
        c.max_connections as f64,
        c.max_pending_handshakes as f64,
        f64::from(c.handshakes_per_second),
        c.message_window as f64,
        c.packet_window as f64,
        c.max_ctime_age.as_secs_f64(),
        c.max_message_size as f64,
        c.max_reassembly_bytes_per_connection as f64,
        c.max_reassembly_bytes_total as f64,
        c.max_queued_messages as f64,
        c.unix_millis_at_zero as f64,
    ]
}

/// Event kinds of the flat event stream.
pub mod event_kind {
    /// `a` = token.
    pub const CONNECTED: u32 = 1;
    /// `a` = message seq; followed by `len` bytes.
    pub const MESSAGE: u32 = 2;
    /// `a` = callback id; the message was acknowledged.
    pub const ACKED: u32 = 3;
    /// `a` = callback id; the message was given up.
    pub const FAILED: u32 = 4;
    /// `a` = close reason code.
    pub const DISCONNECTED: u32 = 5;
    /// No state is held for the peer any more.
    pub const RELEASED: u32 = 6;
}

/// Bytes of an event record's head: kind, peer, a, len (u32 LE each).
pub const EVENT_HEAD: usize = 16;
/// Bytes of one transmit descriptor in the out-meta array: peer, offset, len (u32 LE each).
pub const TRANSMIT_META: usize = 12;
/// Room a transmit needs in the output buffer.
pub const TRANSMIT_ROOM: usize = 2048;

/// Result codes of commands (0 = ok).
pub mod code {
    /// No connection with that peer.
    pub const UNKNOWN_CONNECTION: i32 = -1;
    /// The connection cannot carry application messages (handshake or closing).
    pub const NOT_CONNECTED: i32 = -2;
    /// The message is too large.
    pub const TOO_LARGE: i32 = -3;
    /// The connection's queue is full.
    pub const QUEUE_FULL: i32 = -4;
    /// Not a client endpoint.
    pub const NOT_A_CLIENT: i32 = -5;
    /// No pinned key and no insecure opt-in.
    pub const NO_PINNED_KEY: i32 = -6;
    /// Already connected to that peer.
    pub const ALREADY_CONNECTED: i32 = -7;
    /// Connection limit reached.
    pub const TOO_MANY_CONNECTIONS: i32 = -8;
    /// Unknown retry mode.
    pub const BAD_RETRY_MODE: i32 = -9;
    /// A pinned key that is not a P-256 SPKI.
    pub const BAD_KEY: i32 = -10;
}

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

/// Names of the flat statistics array: the counters, then the gauges.
pub fn stats_fields() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = Counters::NAMES.to_vec();
    v.extend_from_slice(ConnectionStats::GAUGES);
    v
}

/// A description of every flat layout, as JSON, so the TypeScript side can check at load time
/// that it was built against the same layouts.
pub fn layout_json() -> String {
    let list = |v: &[&str]| v.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(",");
    format!(
        "{{\"config\":[{}],\"stats\":[{}],\"eventHead\":{EVENT_HEAD},\"transmitMeta\":{TRANSMIT_META},\"transmitRoom\":{TRANSMIT_ROOM}}}",
        list(CONFIG_FIELDS),
        list(&stats_fields())
    )
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

/// Reads a root key from PKCS#8 DER, or makes a new one when `der` is empty.
fn root_from(der: &[u8]) -> Result<RootKey, KeyError> {
    if der.is_empty() {
        Ok(RootKey::generate(&mut rand_core::OsRng))
    } else {
        RootKey::from_pkcs8_der(der)
    }
}

fn seed_from(seed: &[u8]) -> Option<[u8; 32]> {
    seed.try_into().ok()
}

impl FlatEngine {
    /// A server engine. `root_pkcs8` empty = a fresh root key; `seed` (32 bytes) fixes the
    /// random generator, empty = from the operating system.
    pub fn server(config: &[f64], root_pkcs8: &[u8], seed: &[u8]) -> Result<Self, String> {
        let cfg = config_from_flat(config).map_err(|e| e.to_string())?;
        let root = root_from(root_pkcs8).map_err(|e| format!("rootKey: {e}"))?;
        Ok(Self { ep: Endpoint::server(cfg, root, seed_from(seed)), pending: None })
    }

    /// A client engine.
    pub fn client(config: &[f64], seed: &[u8]) -> Result<Self, String> {
        let cfg = config_from_flat(config).map_err(|e| e.to_string())?;
        Ok(Self { ep: Endpoint::client(cfg, seed_from(seed)), pending: None })
    }

    /// The endpoint, for callers that want the Rust API.
    pub fn endpoint(&mut self) -> &mut Endpoint<u32> {
        &mut self.ep
    }

    /// Replaces the configuration.
    pub fn set_config(&mut self, config: &[f64]) -> Result<(), String> {
        let cfg = config_from_flat(config).map_err(|e| e.to_string())?;
        self.ep.set_config(cfg);
        Ok(())
    }

    /// The server's root public key as SPKI DER (empty for a client).
    pub fn root_public_spki(&self) -> Vec<u8> {
        self.ep.root_key().map(|k| k.public().to_spki().to_vec()).unwrap_or_default()
    }

    /// Handles `count` datagrams stored in `buf`, described by `meta` = `count` triples
    /// (peer, offset, len). Each is decrypted in place. A length above [`TRANSMIT_ROOM`] marks a
    /// datagram the driver did not copy because it is too large: it is counted and dropped.
    /// Returns how many were accepted.
    pub fn handle(&mut self, now_ms: f64, buf: &mut [u8], meta: &[u32], count: usize) -> u32 {
        let now = Instant::from_millis_f64(now_ms);
        let mut ok = 0;
        for d in meta.chunks_exact(3).take(count) {
            let (peer, off, len) = (d[0], d[1] as usize, d[2] as usize);
            if len > TRANSMIT_ROOM {
                self.ep.count_dropped(crate::stats::DropReason::TooLarge, len);
                continue;
            }
            let Some(dg) = buf.get_mut(off..off.saturating_add(len)) else { continue };
            if self.ep.handle_datagram(now, peer, dg).is_ok() {
                ok += 1;
            }
        }
        ok
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
        while (n + 1) * TRANSMIT_META <= meta.len() && off + TRANSMIT_ROOM <= out.len() {
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
                    ([event_kind::DISCONNECTED, addr, u32::from(reason.code()), 0], None)
                }
                Event::Released { addr } => ([event_kind::RELEASED, addr, 0, 0], None),
            };
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

    /// Size of the event waiting for room (0 if none).
    pub fn pending_event_size(&self) -> u32 {
        self.pending.as_ref().map_or(0, |p| (EVENT_HEAD + ((p.data.len() + 3) & !3)) as u32)
    }

    /// Queues a message. Returns 0 or a [`code`].
    pub fn send(&mut self, now_ms: f64, peer: u32, data: &[u8], mode: i32, callback: u32) -> i32 {
        let Some(mode) = RetryMode::from_i32(mode) else { return code::BAD_RETRY_MODE };
        match self.ep.send(Instant::from_millis_f64(now_ms), &peer, data, mode, callback) {
            Ok(()) => 0,
            Err(e) => send_code(&e),
        }
    }

    /// Queues the same message to many peers (no callbacks). Returns how many accepted it.
    pub fn broadcast(&mut self, now_ms: f64, peers: &[u32], data: &[u8], mode: i32) -> u32 {
        let Some(mode) = RetryMode::from_i32(mode) else { return 0 };
        let now = Instant::from_millis_f64(now_ms);
        peers.iter().filter(|p| self.ep.send(now, p, data, mode, 0).is_ok()).count() as u32
    }

    /// Queues a batch of messages: `cmds` holds `count` records (peer u32, mode i32, callback
    /// u32, len u32, then `len` bytes padded to 4), little-endian. Writes one result code per
    /// record into `results` (as i8). Returns how many records were read.
    pub fn send_batch(&mut self, now_ms: f64, cmds: &[u8], count: usize, results: &mut [u8]) -> u32 {
        let mut at = 0usize;
        let mut n = 0usize;
        while n < count {
            let (Some(peer), Some(mode), Some(cb), Some(len)) =
                (read_u32(cmds, at), read_u32(cmds, at + 4), read_u32(cmds, at + 8), read_u32(cmds, at + 12))
            else {
                break;
            };
            let len = len as usize;
            let Some(data) = cmds.get(at + 16..at + 16 + len) else { break };
            let r = self.send(now_ms, peer, data, mode as i32, cb);
            if let Some(slot) = results.get_mut(n) {
                *slot = r as i8 as u8;
            }
            at += 16 + ((len + 3) & !3);
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

    /// Closes every connection gracefully.
    pub fn close_all(&mut self, now_ms: f64) {
        self.ep.close_all(Instant::from_millis_f64(now_ms));
    }

    /// Forgets every connection without telling anyone.
    pub fn abort_all(&mut self) {
        self.ep.abort_all();
    }

    /// 0 none, 1 connecting, 2 connected, 3 disconnecting.
    pub fn status(&self, peer: u32) -> u32 {
        match self.ep.status(&peer) {
            None => 0,
            Some(Status::Connecting) => 1,
            Some(Status::Connected) => 2,
            Some(Status::Disconnecting) => 3,
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

    /// Writes `peer`'s statistics as f64 LE ([`stats_fields`] order). False if unknown.
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
    pub fn next_timeout(&self) -> f64 {
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

// ---- keys ------------------------------------------------------------------------------------

/// A fresh root key as PKCS#8 DER.
pub fn key_generate() -> Vec<u8> {
    RootKey::generate(&mut rand_core::OsRng).to_pkcs8_der()
}

/// PKCS#8 DER from a PEM private key (PKCS#8 or SEC1).
pub fn key_from_pem(pem: &str) -> Result<Vec<u8>, String> {
    RootKey::from_pem(pem).map(|k| k.to_pkcs8_der()).map_err(|e| e.to_string())
}

/// PKCS#8 PEM of a PKCS#8 DER private key.
pub fn key_to_pem(der: &[u8]) -> Result<String, String> {
    RootKey::from_pkcs8_der(der).map(|k| k.to_pem()).map_err(|e| e.to_string())
}

/// The public key (SPKI DER) of a PKCS#8 DER private key.
pub fn key_public(der: &[u8]) -> Result<Vec<u8>, String> {
    RootKey::from_pkcs8_der(der).map(|k| k.public().to_spki().to_vec()).map_err(|e| e.to_string())
}

/// SPKI DER from a PEM public key.
pub fn public_key_from_pem(pem: &str) -> Result<Vec<u8>, String> {
    RootPublicKey::from_pem(pem).map(|k| k.to_spki().to_vec()).map_err(|e| e.to_string())
}

/// SPKI PEM of an SPKI DER public key.
pub fn public_key_to_pem(spki: &[u8]) -> Result<String, String> {
    RootPublicKey::from_spki(spki).map(|k| k.to_pem()).map_err(|e| e.to_string())
}
