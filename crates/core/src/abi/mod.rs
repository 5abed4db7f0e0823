//! Flat layouts shared by the two bindings (`crates/napi`, `crates/wasm`).
//!
//! JavaScript crosses into Rust through typed arrays; these helpers turn the core's types into
//! fixed arrays of integers and back, so that both bindings stay glue only and agree on every
//! index. The TypeScript side of each layout is in `ts/backend/` (`types.ts`, `native.ts`,
//! `wasm.ts`), which checks [`layout_json`] at load time.
//!
//! * this module: the header, the configuration, the statistics names, the layout description;
//! * [`engine`]: [`FlatEngine`], an endpoint behind batched flat buffers (what the bindings wrap);
//! * [`batch`]: batch codec and AEAD calls for the micro-benchmarks;
//! * [`keys`]: key conversions (PEM, PKCS#8, SPKI).

pub mod batch;
pub mod engine;
pub mod keys;

pub use engine::FlatEngine;
pub use keys::*;

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

// ---- configuration, codes, layout ------------------------------------------------------------

use crate::config::{Config, ConfigError};
use crate::endpoint::{ConnectError, SendError};
use crate::stats::{ConnectionStats, Counters};
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

pub(crate) fn send_code(e: &SendError) -> i32 {
    match e {
        SendError::UnknownConnection => code::UNKNOWN_CONNECTION,
        SendError::NotConnected => code::NOT_CONNECTED,
        SendError::TooLarge { .. } => code::TOO_LARGE,
        SendError::QueueFull => code::QUEUE_FULL,
    }
}

pub(crate) fn connect_code(e: &ConnectError) -> i32 {
    match e {
        ConnectError::NotAClient => code::NOT_A_CLIENT,
        ConnectError::NoPinnedKey => code::NO_PINNED_KEY,
        ConnectError::AlreadyConnected => code::ALREADY_CONNECTED,
        ConnectError::TooManyConnections => code::TOO_MANY_CONNECTIONS,
    }
}

/// Per-datagram result codes of `FlatEngine::handle` (0 = accepted).
pub fn drop_code(reason: crate::stats::DropReason) -> u8 {
    use crate::stats::DropReason as D;
    match reason {
        D::Malformed => 1,
        D::AuthFailed => 2,
        D::Replay => 3,
        D::Blocked => 4,
        D::UnknownConnection => 5,
        D::TooLarge => 6,
        D::RateLimited => 7,
        D::Unexpected => 8,
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
