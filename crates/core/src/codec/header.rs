//! The fixed 20-byte packet header (wire spec §3).
//!
//! ```text
//! offset  0: magic+direction  "FSOS" (to server) | "FSOC" (to client)
//! offset  4: ctime     u32    sender's unix seconds; part of the AEAD nonce
//! offset  8: seq       u16    packet sequence number
//! offset 10: ack       u16    newest packet seq received from the peer
//! offset 12: type      u8     PacketType of the first message (KEEP_ALIVE when none)
//! offset 13: length    u16    plaintext payload length
//! offset 15: count     u8     number of messages in the payload
//! offset 16: ack_bits  u32    which of the 32 packets before `ack` were received
//! ```
//! All integers are big-endian. The first 12 bytes are the AES-GCM nonce; all 20 are the AAD.

use crate::seq::Seq;

/// Size of the header in bytes.
pub const HEADER_SIZE: usize = 20;
/// Bytes of the header that form the AES-GCM nonce.
pub const NONCE_SIZE: usize = 12;
const MAGIC: [u8; 3] = *b"FSO";

/// Which way a packet travels; the fourth magic byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `FSOS`: client to server.
    ToServer,
    /// `FSOC`: server to client.
    ToClient,
}

impl Direction {
    const fn byte(self) -> u8 {
        match self {
            Self::ToServer => b'S',
            Self::ToClient => b'C',
        }
    }

    /// The other direction.
    pub const fn reverse(self) -> Self {
        match self {
            Self::ToServer => Self::ToClient,
            Self::ToClient => Self::ToServer,
        }
    }
}

/// Packet and message types (wire spec §2). The header's type byte and the per-message type byte
/// share these numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PacketType {
    /// Accepted by the parser, never produced.
    Unknown = 0,
    /// Starts a connection (CRC-framed).
    ClientHello = 1,
    /// The server's signed reply (CRC-framed).
    ServerHello = 2,
    /// The client's encrypted proof of the key.
    ChallengeResp = 3,
    /// A packet with no messages: acks and liveness.
    KeepAlive = 4,
    /// Graceful close.
    Disconnect = 5,
    /// One application message.
    App = 6,
    /// One fragment of a large application message.
    AppFragment = 7,
}

impl PacketType {
    /// Parses a type byte; values of 8 and above are not types.
    pub const fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0 => Self::Unknown,
            1 => Self::ClientHello,
            2 => Self::ServerHello,
            3 => Self::ChallengeResp,
            4 => Self::KeepAlive,
            5 => Self::Disconnect,
            6 => Self::App,
            7 => Self::AppFragment,
            _ => return None,
        })
    }

    /// True for the two CRC-framed handshake types.
    pub const fn is_crc_framed(self) -> bool {
        matches!(self, Self::ClientHello | Self::ServerHello)
    }
}

/// Why a header did not parse. The order of the checks is mpgameserver's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// Fewer than 20 bytes.
    #[error("datagram shorter than the 20-byte header")]
    TooShort,
    /// Type byte 8 or above.
    #[error("unknown packet type {0}")]
    UnknownType(u8),
    /// Not `FSO?`.
    #[error("invalid magic number")]
    BadMagic,
    /// `FSOS` where `FSOC` was expected, or the reverse (or another fourth byte).
    #[error("direction error")]
    WrongDirection,
}

/// A decoded packet header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Direction of travel.
    pub direction: Direction,
    /// Sender's unix seconds when it built the packet.
    pub ctime: u32,
    /// Packet sequence number.
    pub seq: Seq,
    /// Newest packet seq received from the peer (0 = none).
    pub ack: Seq,
    /// Type of the first message, or `KeepAlive`.
    pub ptype: PacketType,
    /// Plaintext payload length.
    pub length: u16,
    /// Number of messages.
    pub count: u8,
    /// Receipt bits for the 32 packets before `ack`; MSB = `ack - 1`.
    pub ack_bits: u32,
}

impl Header {
    /// Writes the header into the first 20 bytes of `out`.
    ///
    /// # Panics
    /// If `out` is shorter than [`HEADER_SIZE`]; callers size their buffers.
    #[inline]
    pub fn encode(&self, out: &mut [u8]) {
        let out = &mut out[..HEADER_SIZE];
        out[..3].copy_from_slice(&MAGIC);
        out[3] = self.direction.byte();
        out[4..8].copy_from_slice(&self.ctime.to_be_bytes());
        out[8..10].copy_from_slice(&self.seq.get().to_be_bytes());
        out[10..12].copy_from_slice(&self.ack.get().to_be_bytes());
        out[12] = self.ptype as u8;
        out[13..15].copy_from_slice(&self.length.to_be_bytes());
        out[15] = self.count;
        out[16..20].copy_from_slice(&self.ack_bits.to_be_bytes());
    }

    /// The encoded 20 bytes.
    pub fn to_bytes(&self) -> [u8; HEADER_SIZE] {
        let mut b = [0u8; HEADER_SIZE];
        self.encode(&mut b);
        b
    }

    /// Parses the header at the start of `buf` as the receiver expecting `expect` (a server
    /// expects [`Direction::ToServer`]). Bytes after the header are not looked at.
    pub fn decode(buf: &[u8], expect: Direction) -> Result<Self, HeaderError> {
        let Some(h) = buf.get(..HEADER_SIZE) else {
            return Err(HeaderError::TooShort);
        };
        let ptype = PacketType::from_u8(h[12]).ok_or(HeaderError::UnknownType(h[12]))?;
        if h[..3] != MAGIC || (h[3] != b'S' && h[3] != b'C') {
            return Err(HeaderError::BadMagic);
        }
        if h[3] != expect.byte() {
            return Err(HeaderError::WrongDirection);
        }
        let be16 = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
        let be32 = |i: usize| u32::from_be_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        Ok(Self {
            direction: expect,
            ctime: be32(4),
            seq: Seq::new(be16(8)),
            ack: Seq::new(be16(10)),
            ptype,
            length: be16(13),
            count: h[15],
            ack_bits: be32(16),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        let h = Header {
            direction: Direction::ToClient,
            ctime: 0xDEAD_BEEF,
            seq: Seq::new(65535),
            ack: Seq::new(1),
            ptype: PacketType::AppFragment,
            length: 1434,
            count: 255,
            ack_bits: 0x8000_0001,
        };
        let b = h.to_bytes();
        assert_eq!(&b[..4], b"FSOC");
        assert_eq!(Header::decode(&b, Direction::ToClient), Ok(h));
        assert_eq!(Header::decode(&b, Direction::ToServer), Err(HeaderError::WrongDirection));
        assert_eq!(Header::decode(&b[..19], Direction::ToClient), Err(HeaderError::TooShort));
    }
}
