//! APP_FRAGMENT messages (wire spec §11): `frag_id u16 | index u16 (1-based) | count u16 | data`.

use super::framing::MAX_SINGLE_MESSAGE;
use crate::seq::Seq;

/// Bytes of the fragment header.
pub const FRAGMENT_HEADER: usize = 6;
/// Data bytes of every fragment but the last.
pub const FRAGMENT_DATA: usize = 1024;
/// Most fragments in one message (mpgameserver's limit: 8 MiB messages).
pub const MAX_FRAGMENTS: usize = 8192;
/// A final fragment may carry this much: its message must fit a packet on its own.
pub const MAX_LAST_FRAGMENT: usize = MAX_SINGLE_MESSAGE - FRAGMENT_HEADER;

/// A fragment's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FragmentHeader {
    /// Which fragmented message this belongs to.
    pub id: Seq,
    /// 1-based position.
    pub index: u16,
    /// Number of fragments of the message.
    pub count: u16,
}

impl FragmentHeader {
    /// The 6 header bytes.
    pub fn to_bytes(self) -> [u8; FRAGMENT_HEADER] {
        let mut b = [0u8; FRAGMENT_HEADER];
        b[..2].copy_from_slice(&self.id.get().to_be_bytes());
        b[2..4].copy_from_slice(&self.index.to_be_bytes());
        b[4..].copy_from_slice(&self.count.to_be_bytes());
        b
    }

    /// Splits a fragment message into header and data; `None` if shorter than the header.
    pub fn parse(msg: &[u8]) -> Option<(Self, &[u8])> {
        let (h, data) = msg.split_at_checked(FRAGMENT_HEADER)?;
        Some((
            Self {
                id: Seq::new(u16::from_be_bytes([h[0], h[1]])),
                index: u16::from_be_bytes([h[2], h[3]]),
                count: u16::from_be_bytes([h[4], h[5]]),
            },
            data,
        ))
    }
}

/// The data ranges a message of `len` bytes is split into: 1024-byte pieces until the rest fits a
/// final fragment of at most [`MAX_LAST_FRAGMENT`] bytes. This matches mpgameserver's split
/// except that it never produces the 1427-byte final fragment mpgameserver cannot send.
pub fn split(len: usize) -> impl Iterator<Item = core::ops::Range<usize>> {
    let mut start = 0usize;
    core::iter::from_fn(move || {
        if start >= len {
            return None;
        }
        let rest = len - start;
        let n = if rest <= MAX_LAST_FRAGMENT { rest } else { FRAGMENT_DATA };
        let r = start..start + n;
        start += n;
        Some(r)
    })
}

/// Number of fragments [`split`] makes of `len` bytes.
pub fn fragment_count(len: usize) -> usize {
    split(len).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(len: usize) -> Vec<usize> {
        split(len).map(|r| r.len()).collect()
    }

    #[test]
    fn splits_like_mpgameserver_but_never_unsendable() {
        assert_eq!(sizes(1435), [1024, 411]);
        assert_eq!(sizes(3000), [1024, 1024, 952]);
        assert_eq!(sizes(2451), [1024, 1024, 403]); // mpgameserver: 1024 + 1427 (stuck)
        assert_eq!(sizes(1433), [1024, 409]);
        for len in 1433..5000 {
            let s = sizes(len);
            assert_eq!(s.iter().sum::<usize>(), len);
            assert!(s.iter().all(|&n| n + FRAGMENT_HEADER <= MAX_SINGLE_MESSAGE));
        }
    }
}
