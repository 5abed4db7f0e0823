//! Whole datagrams: protecting a header + payload with AES-GCM or a CRC, and the reverse
//! (wire spec §4).
//!
//! ```text
//! CRC mode : header(20) | payload(length) | CRC32(header | payload), u32 BE
//! AEAD mode: header(20) | AES-128-GCM(payload) (length) | tag(16)
//! ```
//! Bytes after the trailer are ignored, as mpgameserver ignores them.

use core::ops::Range;

use crate::codec::{Header, HEADER_SIZE};
use crate::crypto::{PacketCipher, TAG_SIZE};

/// Bytes of the CRC trailer.
pub const CRC_SIZE: usize = 4;

/// Why a datagram's protection did not check out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UnprotectError {
    /// The header's length runs past the datagram (or the trailer is missing).
    #[error("length error")]
    Length,
    /// CRC mismatch.
    #[error("crc error")]
    Crc,
    /// AES-GCM authentication failed.
    #[error("invalid tag")]
    Tag,
}

/// Finishes a datagram in `buf`, whose payload (`header.length` bytes) is already at
/// `buf[20..]`: writes the header, then encrypts in place and appends the tag (`cipher` given)
/// or appends the CRC. Returns the datagram's length.
pub fn protect(buf: &mut [u8], header: &Header, cipher: Option<&PacketCipher>) -> usize {
    let end = HEADER_SIZE + usize::from(header.length);
    let hbytes = header.to_bytes();
    buf[..HEADER_SIZE].copy_from_slice(&hbytes);
    match cipher {
        Some(c) => {
            let tag = c.seal(&hbytes, &mut buf[HEADER_SIZE..end]);
            buf[end..end + TAG_SIZE].copy_from_slice(&tag);
            end + TAG_SIZE
        }
        None => {
            let crc = crate::crc32(&buf[..end]);
            buf[end..end + CRC_SIZE].copy_from_slice(&crc.to_be_bytes());
            end + CRC_SIZE
        }
    }
}

/// Checks a datagram's protection: decrypts the payload in place (`cipher` given) or checks the
/// CRC. Returns where the plaintext payload is.
pub fn unprotect(
    datagram: &mut [u8],
    header: &Header,
    cipher: Option<&PacketCipher>,
) -> Result<Range<usize>, UnprotectError> {
    let end = HEADER_SIZE + usize::from(header.length);
    let trailer = if cipher.is_some() { TAG_SIZE } else { CRC_SIZE };
    if datagram.len() < end + trailer {
        return Err(UnprotectError::Length);
    }
    match cipher {
        Some(c) => {
            let mut hbytes = [0u8; HEADER_SIZE];
            hbytes.copy_from_slice(&datagram[..HEADER_SIZE]);
            let mut tag = [0u8; TAG_SIZE];
            tag.copy_from_slice(&datagram[end..end + TAG_SIZE]);
            c.open(&hbytes, &mut datagram[HEADER_SIZE..end], &tag).map_err(|_| UnprotectError::Tag)?;
        }
        None => {
            let c = &datagram[end..end + CRC_SIZE];
            if crate::crc32(&datagram[..end]) != u32::from_be_bytes([c[0], c[1], c[2], c[3]]) {
                return Err(UnprotectError::Crc);
            }
        }
    }
    Ok(HEADER_SIZE..end)
}
