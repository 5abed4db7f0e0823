//! Batch codec and AEAD calls over flat buffers, for the micro-benchmarks (`bench/`): the same
//! header, framing and AES-GCM code the endpoint uses, without connection state, many datagrams
//! per call. Layouts follow `bench/lib/impl.ts`:
//!
//! * slots: datagram `i` is `buf[offsets[i] .. offsets[i] + lengths[i]]`;
//! * header rows: 8 × u32 `[toServer, ctime, seq, ack, type, length, count, ackBits]`;
//! * message rows (out): 4 × u32 `[type, offset, length, seq]` over a data buffer, packet `i`
//!   holding rows `first[i] .. first[i + 1]`;
//! * message rows (in): 5 × u32 `[item, seq, type, offset, length]`;
//! * status: 0 ok, 1-4 header errors, 5 length, 6 auth, 7 framing.

use crate::header_error_code;
use gamewire_core::codec::{
    overhead, Direction, Header, Messages, PacketType, PayloadWriter, HEADER_SIZE, MAX_PAYLOAD,
};
use gamewire_core::crypto::{PacketCipher, TAG_SIZE};
use gamewire_core::packet::{protect, unprotect, UnprotectError};
use gamewire_core::seq::Seq;

const ST_LENGTH: u8 = 5;
const ST_AUTH: u8 = 6;
const ST_FRAMING: u8 = 7;

/// Refuses a batch whose arrays are shorter than `count` items (they come from JavaScript).
fn check_len(count: usize, arrays: &[(&str, usize, usize)]) -> Result<(), String> {
    for &(name, len, per_item) in arrays {
        if len < count.saturating_mul(per_item) {
            return Err(format!(
                "{name} holds {len} values, the batch of {count} needs {}",
                count * per_item
            ));
        }
    }
    Ok(())
}

fn u32_at(v: &[u32], i: usize) -> Result<u32, String> {
    v.get(i).copied().ok_or_else(|| format!("index {i} out of range"))
}

/// Writes header + framed payload of packet `i` at `out[at..]`; returns the payload length.
fn encode_one(
    headers: &[u32],
    data: &[u8],
    rows: &[u32],
    first: &[u32],
    i: usize,
    out: &mut [u8],
) -> Result<(Header, usize), String> {
    let (r0, r1) = (u32_at(first, i)? as usize, u32_at(first, i + 1)? as usize);
    let n = r1.checked_sub(r0).ok_or("first[] must not decrease")?;
    if n > 255 {
        return Err(format!("packet {i}: {n} messages (255 at most)"));
    }
    let mut data_len = 0usize;
    for r in r0..r1 {
        data_len += u32_at(rows, r * 4 + 2)? as usize;
    }
    let length = data_len + overhead(n);
    if length > MAX_PAYLOAD {
        return Err(format!("packet {i}: payload of {length} bytes over the {MAX_PAYLOAD}-byte budget"));
    }
    let h = &headers.get(i * 8..i * 8 + 8).ok_or("headers too short")?;
    let ptype = if n == 0 {
        PacketType::KeepAlive
    } else {
        PacketType::from_u8(u32_at(rows, r0 * 4)? as u8).ok_or("bad message type")?
    };
    let header = Header {
        direction: if h[0] == 1 { Direction::ToServer } else { Direction::ToClient },
        ctime: h[1],
        seq: Seq::new(h[2] as u16),
        ack: Seq::new(h[3] as u16),
        ptype,
        length: length as u16,
        count: n as u8,
        ack_bits: h[7],
    };
    let body = out.get_mut(HEADER_SIZE..HEADER_SIZE + length).ok_or("output slot too small")?;
    let mut w = PayloadWriter::new(body, n);
    for r in r0..r1 {
        let t = PacketType::from_u8(rows[r * 4] as u8).ok_or("bad message type")?;
        let (off, len) = (rows[r * 4 + 1] as usize, rows[r * 4 + 2] as usize);
        let seq = Seq::new(rows[r * 4 + 3] as u16);
        let d = data.get(off..off + len).ok_or("message data out of range")?;
        w.push(seq, t, d).ok_or("message does not fit")?;
    }
    header.encode(out);
    Ok((header, length))
}

/// Encodes `count` unprotected packets (header ‖ payload) into `out` slots.
#[allow(clippy::too_many_arguments)] // a flat C-like batch signature, mirrored by the bindings
pub fn encode(
    headers: &[u32],
    data: &[u8],
    rows: &[u32],
    first: &[u32],
    count: usize,
    out: &mut [u8],
    offsets: &[u32],
    lengths: &mut [u32],
    capacity: usize,
) -> Result<(), String> {
    check_len(count, &[("offsets", offsets.len(), 1), ("lengths", lengths.len(), 1)])?;
    for (i, length_out) in lengths.iter_mut().enumerate().take(count) {
        let off = u32_at(offsets, i)? as usize;
        let slot = out.get_mut(off..off + capacity).ok_or("output slot out of range")?;
        let (_, length) = encode_one(headers, data, rows, first, i, slot)?;
        *length_out = (HEADER_SIZE + length) as u32;
    }
    Ok(())
}

/// Decodes `count` unprotected packets; writes status, header rows and message rows. Returns the
/// number of message rows.
#[allow(clippy::too_many_arguments)]
pub fn decode(
    src: &[u8],
    offsets: &[u32],
    lengths: &[u32],
    count: usize,
    as_server: bool,
    headers: &mut [u32],
    status: &mut [u8],
    msgs: &mut [u32],
) -> u32 {
    let expect = if as_server { Direction::ToServer } else { Direction::ToClient };
    let sizes = [
        ("offsets", offsets.len(), 1),
        ("lengths", lengths.len(), 1),
        ("status", status.len(), 1),
        ("headers", headers.len(), 8),
    ];
    if check_len(count, &sizes).is_err() {
        return 0;
    }
    let mut rows = 0usize;
    for i in 0..count {
        let (off, len) = (offsets[i] as usize, lengths[i] as usize);
        let Some(d) = src.get(off..off + len) else {
            status[i] = ST_LENGTH;
            continue;
        };
        let h = match Header::decode(d, expect) {
            Ok(h) => h,
            Err(e) => {
                status[i] = header_error_code(e) as u8;
                continue;
            }
        };
        let end = HEADER_SIZE + usize::from(h.length);
        if end > d.len() {
            status[i] = ST_LENGTH;
            continue;
        }
        let Ok(ms) = Messages::parse(&d[HEADER_SIZE..end], h.count, h.ptype) else {
            status[i] = ST_FRAMING;
            continue;
        };
        if rows + usize::from(h.count) > msgs.len() / 5 {
            status[i] = ST_FRAMING;
            continue;
        }
        headers[i * 8..i * 8 + 8].copy_from_slice(&crate::header_to_fields(&h));
        for m in ms {
            let at = m.data.as_ptr() as usize - src.as_ptr() as usize;
            let row = &mut msgs[rows * 5..rows * 5 + 5];
            row.copy_from_slice(&[
                i as u32,
                u32::from(m.seq.get()),
                m.ptype as u32,
                at as u32,
                m.data.len() as u32,
            ]);
            rows += 1;
        }
        status[i] = 0;
    }
    rows as u32
}

/// An AES-128-GCM key prepared for batches.
#[derive(Debug, Clone)]
pub struct AeadBatch {
    cipher: PacketCipher,
}

impl AeadBatch {
    /// Prepares a 16-byte key.
    pub fn new(key: &[u8]) -> Result<Self, String> {
        let k: &[u8; 16] = key.try_into().map_err(|_| "the key must be 16 bytes".to_string())?;
        Ok(Self { cipher: PacketCipher::new(k) })
    }

    /// Seals `count` packets (header ‖ payload) into `out` slots (header ‖ ciphertext ‖ tag).
    #[allow(clippy::too_many_arguments)]
    pub fn seal(
        &self,
        src: &[u8],
        offsets: &[u32],
        lengths: &[u32],
        count: usize,
        out: &mut [u8],
        out_offsets: &[u32],
        out_lengths: &mut [u32],
    ) -> Result<(), String> {
        check_len(
            count,
            &[
                ("offsets", offsets.len(), 1),
                ("lengths", lengths.len(), 1),
                ("outOffsets", out_offsets.len(), 1),
                ("outLengths", out_lengths.len(), 1),
            ],
        )?;
        for i in 0..count {
            let (off, len) = (offsets[i] as usize, lengths[i] as usize);
            let p = src.get(off..off + len).ok_or("source slot out of range")?;
            if len < HEADER_SIZE {
                return Err(format!("packet {i} shorter than a header"));
            }
            let o = out_offsets[i] as usize;
            let dst = out.get_mut(o..o + len + TAG_SIZE).ok_or("output slot out of range")?;
            dst[..len].copy_from_slice(p);
            let mut hb = [0u8; HEADER_SIZE];
            hb.copy_from_slice(&p[..HEADER_SIZE]);
            let tag = self.cipher.seal(&hb, &mut dst[HEADER_SIZE..len]);
            dst[len..].copy_from_slice(&tag);
            out_lengths[i] = (len + TAG_SIZE) as u32;
        }
        Ok(())
    }

    /// Opens `count` datagrams into `out` slots (header ‖ plaintext); writes a status per
    /// datagram. Returns how many opened.
    #[allow(clippy::too_many_arguments)]
    pub fn open(
        &self,
        src: &[u8],
        offsets: &[u32],
        lengths: &[u32],
        count: usize,
        out: &mut [u8],
        out_offsets: &[u32],
        out_lengths: &mut [u32],
        status: &mut [u8],
    ) -> u32 {
        let sizes = [
            ("offsets", offsets.len(), 1),
            ("lengths", lengths.len(), 1),
            ("outOffsets", out_offsets.len(), 1),
            ("outLengths", out_lengths.len(), 1),
            ("status", status.len(), 1),
        ];
        if check_len(count, &sizes).is_err() {
            return 0;
        }
        let mut ok = 0;
        for i in 0..count {
            out_lengths[i] = 0;
            let (off, len) = (offsets[i] as usize, lengths[i] as usize);
            let o = out_offsets[i] as usize;
            let (Some(d), Some(dst)) = (src.get(off..off + len), out.get_mut(o..o + len)) else {
                status[i] = ST_LENGTH;
                continue;
            };
            if len < HEADER_SIZE {
                status[i] = 1;
                continue;
            }
            dst.copy_from_slice(d);
            let h = Header {
                direction: Direction::ToServer,
                ctime: 0,
                seq: Seq::UNSET,
                ack: Seq::UNSET,
                ptype: PacketType::App,
                length: u16::from_be_bytes([d[13], d[14]]),
                count: 0,
                ack_bits: 0,
            };
            match unprotect(dst, &h, Some(&self.cipher)) {
                Ok(r) => {
                    out_lengths[i] = r.end as u32;
                    status[i] = 0;
                    ok += 1;
                }
                Err(UnprotectError::Length) => status[i] = ST_LENGTH,
                Err(_) => status[i] = ST_AUTH,
            }
        }
        ok
    }

    /// Encodes and seals `count` packets straight into `out` slots.
    #[allow(clippy::too_many_arguments)]
    pub fn encode_seal(
        &self,
        headers: &[u32],
        data: &[u8],
        rows: &[u32],
        first: &[u32],
        count: usize,
        out: &mut [u8],
        offsets: &[u32],
        lengths: &mut [u32],
        capacity: usize,
    ) -> Result<(), String> {
        check_len(count, &[("offsets", offsets.len(), 1), ("lengths", lengths.len(), 1)])?;
        for (i, length_out) in lengths.iter_mut().enumerate().take(count) {
            let off = u32_at(offsets, i)? as usize;
            let slot = out.get_mut(off..off + capacity).ok_or("output slot out of range")?;
            let (header, _) = encode_one(headers, data, rows, first, i, slot)?;
            *length_out = protect(slot, &header, Some(&self.cipher)) as u32;
        }
        Ok(())
    }
}
