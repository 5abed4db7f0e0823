//! The tagged value encoding of mpgameserver's handshake bodies (wire spec §9.1).
//!
//! ```text
//! object : type_id u16 | fields
//! int    : tag u16 (3 int8, 4 int16, 5 int32, 6 int64) | value (signed, big-endian)
//!          the writer picks the smallest width by absolute value
//! bytes  : tag 0x000E | length as an int | raw bytes
//! ```

/// Tag of an int8.
pub const TAG_I8: u16 = 3;
/// Tag of an int16.
pub const TAG_I16: u16 = 4;
/// Tag of an int32.
pub const TAG_I32: u16 = 5;
/// Tag of an int64.
pub const TAG_I64: u16 = 6;
/// Tag of a byte string.
pub const TAG_BYTES: u16 = 0x000E;

/// A decoding error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SerialError {
    /// The input ends early.
    #[error("truncated value")]
    Truncated,
    /// A different tag was found than the one expected.
    #[error("unexpected tag {found:#06x}")]
    UnexpectedTag {
        /// The tag found.
        found: u16,
    },
    /// A length is negative or does not fit.
    #[error("invalid length")]
    BadLength,
}

/// Appends an int in the smallest width that holds its absolute value.
pub fn put_int(out: &mut Vec<u8>, v: i64) {
    let a = v.unsigned_abs();
    if a <= 0x7F {
        out.extend_from_slice(&TAG_I8.to_be_bytes());
        out.push(v as i8 as u8);
    } else if a <= 0x7FFF {
        out.extend_from_slice(&TAG_I16.to_be_bytes());
        out.extend_from_slice(&(v as i16).to_be_bytes());
    } else if a <= 0x7FFF_FFFF {
        out.extend_from_slice(&TAG_I32.to_be_bytes());
        out.extend_from_slice(&(v as i32).to_be_bytes());
    } else {
        out.extend_from_slice(&TAG_I64.to_be_bytes());
        out.extend_from_slice(&v.to_be_bytes());
    }
}

/// Appends a byte string.
pub fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&TAG_BYTES.to_be_bytes());
    put_int(out, b.len() as i64);
    out.extend_from_slice(b);
}

/// A cursor over encoded values.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Starts reading at the beginning of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes not yet consumed.
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], SerialError> {
        let s = self.buf.get(self.pos..self.pos + n).ok_or(SerialError::Truncated)?;
        self.pos += n;
        Ok(s)
    }

    /// Reads a raw big-endian u16 (object type ids, tags).
    pub fn u16(&mut self) -> Result<u16, SerialError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    /// Reads an int of any width.
    pub fn int(&mut self) -> Result<i64, SerialError> {
        let tag = self.u16()?;
        let b = match tag {
            TAG_I8 => return Ok(i64::from(self.take(1)?[0] as i8)),
            TAG_I16 => self.take(2)?,
            TAG_I32 => self.take(4)?,
            TAG_I64 => self.take(8)?,
            found => return Err(SerialError::UnexpectedTag { found }),
        };
        Ok(match b.len() {
            2 => i64::from(i16::from_be_bytes([b[0], b[1]])),
            4 => i64::from(i32::from_be_bytes([b[0], b[1], b[2], b[3]])),
            _ => i64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
        })
    }

    /// Reads a byte string.
    pub fn bytes(&mut self) -> Result<&'a [u8], SerialError> {
        let tag = self.u16()?;
        if tag != TAG_BYTES {
            return Err(SerialError::UnexpectedTag { found: tag });
        }
        let len = usize::try_from(self.int()?).map_err(|_| SerialError::BadLength)?;
        self.take(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_by_absolute_value() {
        let enc = |v| {
            let mut o = vec![];
            put_int(&mut o, v);
            hex(&o)
        };
        assert_eq!(enc(-1), "0003ff");
        assert_eq!(enc(-128), "0004ff80");
        assert_eq!(enc(32768), "000500008000");
        assert_eq!(enc(2147483648), "00060000000080000000");
        for v in [0, 1, -1, 127, 128, -128, 32767, -32768, 1 << 40, i64::MIN + 1] {
            let mut o = vec![];
            put_int(&mut o, v);
            assert_eq!(Reader::new(&o).int(), Ok(v));
        }
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
}
