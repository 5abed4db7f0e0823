//! # gamewire-abi
//!
//! The flat interface every gamewire binding shares: the N-API addon (`crates/napi`), the
//! WebAssembly module (`crates/wasm`) and the threaded socket driver (`crates/udp`). JavaScript
//! crosses into Rust through typed arrays, so the core's types are turned here into fixed arrays of
//! integers and byte records, and back:
//!
//! * [`tables`]: every number that crosses the boundary (result codes, event kinds, close and drop
//!   reasons, header errors, record sizes, configuration and statistics names), defined once;
//!   [`typescript`] writes them out for the TypeScript side;
//! * [`config`]: the configuration as a flat `f64` array;
//! * [`engine`]: [`FlatEngine`], an endpoint behind batched flat buffers;
//! * [`keys`]: key conversions (PEM, PKCS#8, SPKI);
//! * [`entropy`]: the operating system's random generator, which the core leaves to its caller;
//!   a failure is an error, never a weaker fallback;
//! * `testing` (feature `testing` only): entry points for tests and benchmarks that the released
//!   bindings leave out.
//!
//! Errors are [`AbiError`]s with a stable code the bindings hand to JavaScript as `err.code`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod engine;
pub mod entropy;
pub mod keys;
pub mod tables;
#[cfg(feature = "testing")]
pub mod testing;
pub mod typescript;

pub use config::{config_from_flat, config_to_flat};
pub use engine::FlatEngine;
pub use tables::{code, event_kind, layout, CONFIG_FIELDS};

use gamewire_core::codec::{Direction, Header, HeaderError, PacketType};
use gamewire_core::seq::Seq;

/// An error of the flat interface: a stable code (what JavaScript sees as `err.code`) and a
/// message. `field` names the configuration field of an `ERR_CONFIG`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AbiError {
    /// `ERR_CONFIG`, `ERR_BAD_KEY`, `ERR_INVALID_ARG` or `ERR_ENTROPY`.
    pub code: &'static str,
    /// The configuration field, for `ERR_CONFIG`.
    pub field: Option<&'static str>,
    /// What went wrong.
    pub message: String,
}

impl AbiError {
    /// An argument out of range or of the wrong shape.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self { code: "ERR_INVALID_ARG", field: None, message: message.into() }
    }

    /// A key that does not parse.
    pub fn bad_key(message: impl Into<String>) -> Self {
        Self { code: "ERR_BAD_KEY", field: None, message: message.into() }
    }
}

impl From<gamewire_core::ConfigError> for AbiError {
    fn from(e: gamewire_core::ConfigError) -> Self {
        Self { code: "ERR_CONFIG", field: Some(e.field), message: e.to_string() }
    }
}

impl From<entropy::EntropyError> for AbiError {
    fn from(e: entropy::EntropyError) -> Self {
        Self { code: "ERR_ENTROPY", field: None, message: e.to_string() }
    }
}

/// `[toServer, ctime, seq, ack, type, length, count, ackBits]`.
pub fn header_to_fields(h: &Header) -> [u32; layout::HEADER_FIELDS as usize] {
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
pub fn header_from_fields(f: &[u32]) -> Result<Header, AbiError> {
    let n = layout::HEADER_FIELDS as usize;
    if f.len() < n {
        return Err(AbiError::invalid(format!("header needs {n} fields, got {}", f.len())));
    }
    let u16f = |i: usize, name: &str| {
        u16::try_from(f[i])
            .map_err(|_| AbiError::invalid(format!("header field `{name}` out of range: {}", f[i])))
    };
    let direction = match f[0] {
        0 => Direction::ToClient,
        1 => Direction::ToServer,
        v => return Err(AbiError::invalid(format!("header field `toServer` must be 0 or 1, got {v}"))),
    };
    let ptype = u8::try_from(f[4])
        .ok()
        .and_then(PacketType::from_u8)
        .ok_or_else(|| AbiError::invalid(format!("header field `type` is not a packet type: {}", f[4])))?;
    let count = u8::try_from(f[6])
        .map_err(|_| AbiError::invalid(format!("header field `count` out of range: {}", f[6])))?;
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

/// The [`tables::header_error`] code of a [`HeaderError`].
pub fn header_error_code(e: HeaderError) -> u32 {
    use tables::header_error as H;
    match e {
        HeaderError::TooShort => H::TOO_SHORT,
        HeaderError::UnknownType(_) => H::UNKNOWN_TYPE,
        HeaderError::BadMagic => H::BAD_MAGIC,
        HeaderError::WrongDirection => H::WRONG_DIRECTION,
    }
}

/// Writes `vals` as little-endian `u32`s (the layout of a JavaScript `Uint32Array` on every
/// platform Node runs on) at the start of `out`.
pub fn write_u32s(out: &mut [u8], vals: &[u32]) -> Result<(), AbiError> {
    let need = vals.len() * 4;
    let Some(dst) = out.get_mut(..need) else {
        return Err(AbiError::invalid(format!("output buffer needs {need} bytes, has {}", out.len())));
    };
    for (chunk, v) in dst.chunks_exact_mut(4).zip(vals) {
        chunk.copy_from_slice(&v.to_le_bytes());
    }
    Ok(())
}

/// Names of the flat statistics array: the counters, then the gauges.
pub fn stats_fields() -> Vec<&'static str> {
    use gamewire_core::stats::{ConnectionStats, Counters};
    let mut v: Vec<&'static str> = Counters::NAMES.to_vec();
    v.extend_from_slice(ConnectionStats::GAUGES);
    v
}

/// Every table of [`tables`], the configuration and statistics names, as one JSON object: what a
/// loaded binding reports, and what `ts/backend/abi.generated.ts` holds, so the TypeScript side
/// can refuse a binary built from other tables.
pub fn layout_json() -> String {
    typescript::abi_json()
}
