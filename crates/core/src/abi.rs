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
