//! N-API glue: each export converts its arguments, calls `gamewire_core`, and converts the result.
//! No protocol logic lives here. The names match `crates/wasm` one for one, so one TypeScript
//! interface (`ts/backend/types.ts`) describes both.
#![deny(clippy::all)]

use gamewire_core::abi;
use gamewire_core::codec::{Direction, Header};
use gamewire_core::Seq;
use napi::bindgen_prelude::*;
use napi_derive::napi;

fn invalid(msg: impl std::fmt::Display) -> Error {
    Error::new(Status::InvalidArg, msg.to_string())
}

fn seq(v: u32) -> Result<Seq> {
    u16::try_from(v).map(Seq::new).map_err(|_| invalid(format!("sequence number out of range: {v}")))
}

/// The core's version (the crate version it was built from).
#[napi]
pub fn core_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// The sequence number after `a` on the 1..=65535 ring.
#[napi]
pub fn seq_next(a: u32) -> Result<u32> {
    Ok(u32::from(seq(a)?.next().get()))
}

/// `a + n` on the ring, folded once as mpgameserver does; throws when it leaves the ring.
#[napi]
pub fn seq_add(a: u32, n: i64) -> Result<u32> {
    seq(a)?.checked_add(n).map(|s| u32::from(s.get())).map_err(invalid)
}

/// `a - n` on the ring, folded once; throws when it leaves the ring.
#[napi]
pub fn seq_sub(a: u32, n: i64) -> Result<u32> {
    seq(a)?.checked_sub(n).map(|s| u32::from(s.get())).map_err(invalid)
}

/// `a - b` folded into [-32767, 32767].
#[napi]
pub fn seq_diff(a: u32, b: u32) -> Result<i32> {
    Ok(seq(a)?.diff(seq(b)?))
}

/// True when `a` is newer than `b`.
#[napi]
pub fn seq_newer_than(a: u32, b: u32) -> Result<bool> {
    Ok(seq(a)?.newer_than(seq(b)?))
}

/// CRC-32 (zlib) of `data`.
#[napi]
pub fn crc32(data: &[u8]) -> u32 {
    gamewire_core::crc32(data)
}

/// Encodes a header from `fields` = [toServer, ctime, seq, ack, type, length, count, ackBits]
/// into the first 20 bytes of `out`.
#[napi]
pub fn encode_header(fields: &[u32], mut out: BufferSlice) -> Result<()> {
    let h = header_from_fields(fields)?;
    if out.len() < gamewire_core::codec::HEADER_SIZE {
        return Err(invalid("output buffer shorter than 20 bytes"));
    }
    h.encode(&mut out);
    Ok(())
}

/// Decodes the header at the start of `buf` as a server (`asServer`) or client would, writing
/// [toServer, ctime, seq, ack, type, length, count, ackBits] to `out` (the bytes of a
/// `Uint32Array`, little-endian). Returns 0, or the error
/// code of `gamewire_core::codec::HeaderError` (1 too short, 2 unknown type, 3 bad magic,
/// 4 wrong direction).
#[napi]
pub fn decode_header(buf: &[u8], as_server: bool, mut out: BufferSlice) -> Result<u32> {
    let expect = if as_server { Direction::ToServer } else { Direction::ToClient };
    match Header::decode(buf, expect) {
        Ok(h) => {
            abi::write_u32s(&mut out, &header_to_fields(&h)).map_err(invalid)?;
            Ok(0)
        }
        Err(e) => Ok(abi::header_error_code(e)),
    }
}

fn header_from_fields(f: &[u32]) -> Result<Header> {
    abi::header_from_fields(f).map_err(invalid)
}

fn header_to_fields(h: &Header) -> [u32; 8] {
    abi::header_to_fields(h)
}
