//! wasm-bindgen glue: each export converts its arguments, calls `gamewire_core`, and converts the
//! result. No protocol logic lives here. The names match `crates/napi` one for one.

use gamewire_core::abi;
use gamewire_core::codec::{self, Direction, Header};
use gamewire_core::Seq;
use wasm_bindgen::prelude::*;

fn seq(v: u32) -> Result<Seq, JsError> {
    u16::try_from(v).map(Seq::new).map_err(|_| JsError::new(&format!("sequence number out of range: {v}")))
}

/// The core's version (the crate version it was built from).
#[wasm_bindgen(js_name = coreVersion)]
pub fn core_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// The sequence number after `a` on the 1..=65535 ring.
#[wasm_bindgen(js_name = seqNext)]
pub fn seq_next(a: u32) -> Result<u32, JsError> {
    Ok(u32::from(seq(a)?.next().get()))
}

/// `a + n` on the ring, folded once as mpgameserver does; throws when it leaves the ring.
#[wasm_bindgen(js_name = seqAdd)]
pub fn seq_add(a: u32, n: f64) -> Result<u32, JsError> {
    seq(a)?.checked_add(n as i64).map(|s| u32::from(s.get())).map_err(|e| JsError::new(&e.to_string()))
}

/// `a - n` on the ring, folded once; throws when it leaves the ring.
#[wasm_bindgen(js_name = seqSub)]
pub fn seq_sub(a: u32, n: f64) -> Result<u32, JsError> {
    seq(a)?.checked_sub(n as i64).map(|s| u32::from(s.get())).map_err(|e| JsError::new(&e.to_string()))
}

/// `a - b` folded into [-32767, 32767].
#[wasm_bindgen(js_name = seqDiff)]
pub fn seq_diff(a: u32, b: u32) -> Result<i32, JsError> {
    Ok(seq(a)?.diff(seq(b)?))
}

/// True when `a` is newer than `b`.
#[wasm_bindgen(js_name = seqNewerThan)]
pub fn seq_newer_than(a: u32, b: u32) -> Result<bool, JsError> {
    Ok(seq(a)?.newer_than(seq(b)?))
}

/// CRC-32 (zlib) of `data`.
#[wasm_bindgen]
pub fn crc32(data: &[u8]) -> u32 {
    gamewire_core::crc32(data)
}

/// Encodes a header from `fields` = [toServer, ctime, seq, ack, type, length, count, ackBits]
/// into the first 20 bytes of `out`.
#[wasm_bindgen(js_name = encodeHeader)]
pub fn encode_header(fields: &[u32], out: &mut [u8]) -> Result<(), JsError> {
    let h = abi::header_from_fields(fields).map_err(|e| JsError::new(&e))?;
    if out.len() < codec::HEADER_SIZE {
        return Err(JsError::new("output buffer shorter than 20 bytes"));
    }
    h.encode(out);
    Ok(())
}

/// Decodes the header at the start of `buf`; see the napi binding for the codes.
#[wasm_bindgen(js_name = decodeHeader)]
pub fn decode_header(buf: &[u8], as_server: bool, out: &mut [u8]) -> Result<u32, JsError> {
    let expect = if as_server { Direction::ToServer } else { Direction::ToClient };
    match Header::decode(buf, expect) {
        Ok(h) => {
            abi::write_u32s(out, &abi::header_to_fields(&h)).map_err(|e| JsError::new(&e))?;
            Ok(0)
        }
        Err(e) => Ok(abi::header_error_code(e)),
    }
}
