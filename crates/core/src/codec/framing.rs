//! Message framing inside a packet payload (wire spec §5).
//!
//! ```text
//! count 0 : (empty)
//! count 1 : msg_seq u16 | data                          (the message type is the header type)
//! count n : n x ( data_len u16 | msg_seq u16 | type u8 | data )
//! ```
//! A payload is at most [`MAX_PAYLOAD`] bytes. The parser is strict: entries must add up to the
//! payload length exactly and every type byte must be a packet type. mpgameserver's own packer
//! always produces such payloads.

use super::header::PacketType;
use crate::seq::Seq;

/// Budget for the plaintext payload of a packet (1472 − 20 − 16 − 2).
pub const MAX_PAYLOAD: usize = 1434;
/// Largest message that fits a packet on its own (`MAX_PAYLOAD` − 2 bytes of framing).
pub const MAX_SINGLE_MESSAGE: usize = MAX_PAYLOAD - 2;
/// Most messages in one packet (the header's count is a u8).
pub const MAX_MESSAGES: usize = 255;

/// Framing bytes for `n` messages: 0, 2, then 5 per message.
#[inline]
pub const fn overhead(n: usize) -> usize {
    match n {
        0 => 0,
        1 => 2,
        n => 5 * n,
    }
}

/// A framing error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The payload ends inside a message entry.
    #[error("message framing runs past the payload")]
    Truncated,
    /// Bytes are left after the last message, or a count-0 packet has a payload.
    #[error("message framing does not add up to the payload length")]
    Trailing,
    /// A per-message type byte is not a packet type.
    #[error("unknown message type {0}")]
    UnknownType(u8),
}

/// One message inside a payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    /// Message sequence number.
    pub seq: Seq,
    /// Message type.
    pub ptype: PacketType,
    /// The message's bytes.
    pub data: &'a [u8],
}

/// Checks that `payload` holds exactly `count` well-formed messages.
pub fn validate(payload: &[u8], count: u8) -> Result<(), FrameError> {
    match count {
        0 if payload.is_empty() => Ok(()),
        0 => Err(FrameError::Trailing),
        1 if payload.len() >= 2 => Ok(()),
        1 => Err(FrameError::Truncated),
        n => {
            let mut pos = 0usize;
            for _ in 0..n {
                let entry = payload.get(pos..pos + 5).ok_or(FrameError::Truncated)?;
                let len = usize::from(u16::from_be_bytes([entry[0], entry[1]]));
                PacketType::from_u8(entry[4]).ok_or(FrameError::UnknownType(entry[4]))?;
                pos += 5 + len;
                if pos > payload.len() {
                    return Err(FrameError::Truncated);
                }
            }
            if pos == payload.len() {
                Ok(())
            } else {
                Err(FrameError::Trailing)
            }
        }
    }
}

/// Iterates the messages of a payload that [`validate`] accepted.
#[derive(Debug, Clone)]
pub struct Messages<'a> {
    payload: &'a [u8],
    header_type: PacketType,
    remaining: u8,
    single: bool,
    pos: usize,
}

impl<'a> Messages<'a> {
    /// Validates `payload` and returns an iterator over its messages.
    pub fn parse(payload: &'a [u8], count: u8, header_type: PacketType) -> Result<Self, FrameError> {
        validate(payload, count)?;
        Ok(Self { payload, header_type, remaining: count, single: count == 1, pos: 0 })
    }
}

impl<'a> Iterator for Messages<'a> {
    type Item = Message<'a>;

    fn next(&mut self) -> Option<Message<'a>> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let p = self.payload;
        if self.single {
            return Some(Message {
                seq: Seq::new(u16::from_be_bytes([p[0], p[1]])),
                ptype: self.header_type,
                data: &p[2..],
            });
        }
        // `validate` guaranteed every index below.
        let e = &p[self.pos..];
        let len = usize::from(u16::from_be_bytes([e[0], e[1]]));
        let msg = Message {
            seq: Seq::new(u16::from_be_bytes([e[2], e[3]])),
            ptype: PacketType::from_u8(e[4]).unwrap_or(PacketType::Unknown),
            data: &e[5..5 + len],
        };
        self.pos += 5 + len;
        Some(msg)
    }
}

/// Writes messages into a payload buffer. Callers check the budget with [`overhead`] first.
#[derive(Debug)]
pub struct PayloadWriter<'a> {
    out: &'a mut [u8],
    pos: usize,
    multi: bool,
}

impl<'a> PayloadWriter<'a> {
    /// Starts a payload for `count` messages (the layout differs for one and for several).
    pub fn new(out: &'a mut [u8], count: usize) -> Self {
        Self { out, pos: 0, multi: count > 1 }
    }

    /// Appends one message. Returns `None` (writing nothing) if it does not fit in `out`.
    pub fn push(&mut self, seq: Seq, ptype: PacketType, data: &[u8]) -> Option<()> {
        let head = if self.multi { 5 } else { 2 };
        let end = self.pos + head + data.len();
        let dst = self.out.get_mut(self.pos..end)?;
        if self.multi {
            let len = u16::try_from(data.len()).ok()?;
            dst[..2].copy_from_slice(&len.to_be_bytes());
            dst[2..4].copy_from_slice(&seq.get().to_be_bytes());
            dst[4] = ptype as u8;
        } else {
            dst[..2].copy_from_slice(&seq.get().to_be_bytes());
        }
        dst[head..].copy_from_slice(data);
        self.pos = end;
        Some(())
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.pos
    }

    /// True when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.pos == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_parse() {
        let mut buf = [0u8; 64];
        let mut w = PayloadWriter::new(&mut buf, 2);
        w.push(Seq::new(4), PacketType::App, b"a").unwrap();
        w.push(Seq::new(5), PacketType::Disconnect, b"").unwrap();
        let n = w.len();
        assert_eq!(n, 6 + 5);
        let msgs: Vec<_> = Messages::parse(&buf[..n], 2, PacketType::App).unwrap().collect();
        assert_eq!(msgs[0], Message { seq: Seq::new(4), ptype: PacketType::App, data: b"a" });
        assert_eq!(msgs[1].ptype, PacketType::Disconnect);
        assert_eq!(Messages::parse(&buf[..n - 1], 2, PacketType::App).err(), Some(FrameError::Truncated));
        assert_eq!(Messages::parse(&buf[..n], 1, PacketType::App).map(|m| m.count()), Ok(1));
        assert_eq!(validate(&buf[..n + 1], 2), Err(FrameError::Trailing));
        assert_eq!(validate(b"x", 0), Err(FrameError::Trailing));
        assert_eq!(validate(b"x", 1), Err(FrameError::Truncated));
        let bad = [0, 0, 0, 1, 9, 0, 0, 0, 2, 6];
        assert_eq!(validate(&bad, 2), Err(FrameError::UnknownType(9)));
    }

    #[test]
    fn overhead_table() {
        assert_eq!([overhead(0), overhead(1), overhead(2), overhead(3), overhead(4)], [0, 2, 10, 15, 20]);
    }
}
