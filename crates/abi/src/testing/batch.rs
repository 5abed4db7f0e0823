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
//!
//! The bindings' exports take these arrays flat (one JavaScript argument each) and pass them here
//! as [`Packets`], [`Slots`] and [`SlotsMut`].

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

/// Packets to encode: a header row each, and their messages as rows over one data buffer.
#[derive(Debug, Clone, Copy)]
pub struct Packets<'a> {
    /// 8 × u32 per packet (the header row layout above; type, length and count are computed).
    pub headers: &'a [u32],
    /// The message bytes.
    pub data: &'a [u8],
    /// 4 × u32 per message: `[type, offset, length, seq]`, its bytes `data[offset .. offset + length]`.
    pub rows: &'a [u32],
    /// Packet `i` holds rows `first[i] .. first[i + 1]` (none: a KEEP_ALIVE).
    pub first: &'a [u32],
}

/// Datagrams to read.
#[derive(Debug, Clone, Copy)]
pub struct Slots<'a> {
    /// The buffer every datagram lives in.
    pub buf: &'a [u8],
    /// Where datagram `i` starts in `buf`.
    pub offsets: &'a [u32],
    /// Datagram `i`'s length.
    pub lengths: &'a [u32],
}

/// Datagrams to write.
#[derive(Debug)]
pub struct SlotsMut<'a> {
    /// The buffer every datagram is written to.
    pub buf: &'a mut [u8],
    /// Where datagram `i` goes in `buf`.
    pub offsets: &'a [u32],
    /// Written: datagram `i`'s length.
    pub lengths: &'a mut [u32],
}

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
fn encode_one(packets: Packets, i: usize, out: &mut [u8]) -> Result<(Header, usize), String> {
    let Packets { headers, data, rows, first } = packets;
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

/// Encodes `count` packets into `out` slots of `capacity` bytes; `finish(slot, header, length)`
/// completes each one once its header and `length` payload bytes are written and returns the
/// datagram's length.
fn encode_slots(
    packets: Packets,
    count: usize,
    out: SlotsMut,
    capacity: usize,
    mut finish: impl FnMut(&mut [u8], &Header, usize) -> usize,
) -> Result<(), String> {
    let SlotsMut { buf, offsets, lengths } = out;
    check_len(count, &[("offsets", offsets.len(), 1), ("lengths", lengths.len(), 1)])?;
    for (i, length_out) in lengths.iter_mut().enumerate().take(count) {
        let off = u32_at(offsets, i)? as usize;
        let slot = buf.get_mut(off..off + capacity).ok_or("output slot out of range")?;
        let (header, length) = encode_one(packets, i, slot)?;
        *length_out = finish(slot, &header, length) as u32;
    }
    Ok(())
}

/// Encodes `count` unprotected packets (header ‖ payload) into `out` slots of `capacity` bytes.
pub fn encode(packets: Packets, count: usize, out: SlotsMut, capacity: usize) -> Result<(), String> {
    encode_slots(packets, count, out, capacity, |_, _, length| HEADER_SIZE + length)
}

/// Decodes `count` unprotected packets; writes status, header rows and message rows. Returns the
/// number of message rows.
pub fn decode(
    src: Slots,
    count: usize,
    as_server: bool,
    headers: &mut [u32],
    status: &mut [u8],
    msgs: &mut [u32],
) -> u32 {
    let Slots { buf: src, offsets, lengths } = src;
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
    pub fn seal(&self, src: Slots, count: usize, out: SlotsMut) -> Result<(), String> {
        let Slots { buf: src, offsets, lengths } = src;
        let SlotsMut { buf: out, offsets: out_offsets, lengths: out_lengths } = out;
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
    pub fn open(&self, src: Slots, count: usize, out: SlotsMut, status: &mut [u8]) -> u32 {
        let Slots { buf: src, offsets, lengths } = src;
        let SlotsMut { buf: out, offsets: out_offsets, lengths: out_lengths } = out;
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

    /// Encodes and seals `count` packets straight into `out` slots of `capacity` bytes.
    pub fn encode_seal(
        &self,
        packets: Packets,
        count: usize,
        out: SlotsMut,
        capacity: usize,
    ) -> Result<(), String> {
        encode_slots(packets, count, out, capacity, |slot, header, _| {
            protect(slot, header, Some(&self.cipher))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAP: usize = 128;

    /// Two packets to the server: two APP messages, then a KEEP_ALIVE. Header rows as the
    /// caller writes them (type, length and count are the codec's to fill in).
    struct Input {
        headers: Vec<u32>,
        data: Vec<u8>,
        rows: Vec<u32>,
        first: Vec<u32>,
    }

    fn input() -> Input {
        let app = PacketType::App as u32;
        Input {
            headers: vec![1, 1000, 7, 3, 0, 0, 0, 0x0f, 1, 1001, 8, 3, 0, 0, 0, 0],
            data: b"hello world!".to_vec(),
            rows: vec![app, 0, 5, 1, app, 5, 7, 2],
            first: vec![0, 2, 2],
        }
    }

    fn packets(i: &Input) -> Packets<'_> {
        Packets { headers: &i.headers, data: &i.data, rows: &i.rows, first: &i.first }
    }

    const OFFSETS: [u32; 2] = [0, CAP as u32];

    #[test]
    fn encoded_packets_decode_to_their_headers_and_messages() {
        let i = input();
        let (mut buf, mut lengths) = (vec![0u8; 2 * CAP], [0u32; 2]);
        encode(packets(&i), 2, SlotsMut { buf: &mut buf, offsets: &OFFSETS, lengths: &mut lengths }, CAP)
            .unwrap();
        let (mut headers, mut status, mut rows) = ([0u32; 16], [9u8; 2], [0u32; 10]);
        let src = Slots { buf: &buf, offsets: &OFFSETS, lengths: &lengths };
        assert_eq!(decode(src, 2, true, &mut headers, &mut status, &mut rows), 2);
        assert_eq!(status, [0, 0]);
        let app = PacketType::App as u32;
        let (len0, ka) = (lengths[0] - HEADER_SIZE as u32, PacketType::KeepAlive as u32);
        assert_eq!(headers, [1, 1000, 7, 3, app, len0, 2, 0x0f, 1, 1001, 8, 3, ka, 0, 0, 0]);
        let data: Vec<&[u8]> = rows.chunks(5).map(|r| &buf[r[3] as usize..(r[3] + r[4]) as usize]).collect();
        assert_eq!(data, [&b"hello"[..], &b" world!"[..]]);
        assert_eq!([rows[0], rows[1], rows[5], rows[6]], [0, 1, 0, 2]);
    }

    #[test]
    fn encode_seal_is_encode_then_seal_and_open_gives_the_packets_back() {
        let i = input();
        let aead = AeadBatch::new(&[7u8; 16]).unwrap();
        let (mut plain, mut plain_len) = (vec![0u8; 2 * CAP], [0u32; 2]);
        let out = SlotsMut { buf: &mut plain, offsets: &OFFSETS, lengths: &mut plain_len };
        encode(packets(&i), 2, out, CAP).unwrap();
        let (mut sealed, mut sealed_len) = (vec![0u8; 2 * CAP], [0u32; 2]);
        let src = Slots { buf: &plain, offsets: &OFFSETS, lengths: &plain_len };
        aead.seal(src, 2, SlotsMut { buf: &mut sealed, offsets: &OFFSETS, lengths: &mut sealed_len })
            .unwrap();
        let (mut direct, mut direct_len) = (vec![0u8; 2 * CAP], [0u32; 2]);
        let out = SlotsMut { buf: &mut direct, offsets: &OFFSETS, lengths: &mut direct_len };
        aead.encode_seal(packets(&i), 2, out, CAP).unwrap();
        assert_eq!(direct_len, sealed_len);
        for k in 0..2 {
            let at = OFFSETS[k] as usize;
            assert_eq!(direct[at..at + direct_len[k] as usize], sealed[at..at + sealed_len[k] as usize]);
        }
        let (mut opened, mut opened_len, mut status) = (vec![0u8; 2 * CAP], [0u32; 2], [9u8; 2]);
        let src = Slots { buf: &direct, offsets: &OFFSETS, lengths: &direct_len };
        let out = SlotsMut { buf: &mut opened, offsets: &OFFSETS, lengths: &mut opened_len };
        assert_eq!(aead.open(src, 2, out, &mut status), 2);
        assert_eq!((status, opened_len), ([0, 0], plain_len));
        for k in 0..2 {
            let at = OFFSETS[k] as usize;
            assert_eq!(opened[at..at + plain_len[k] as usize], plain[at..at + plain_len[k] as usize]);
        }
    }
}
