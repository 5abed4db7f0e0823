//! CRC-32 (IEEE 802.3 / zlib) as used by the CRC-framed handshake packets (wire spec §4).

/// CRC-32 of `data`: reflected, polynomial 0xEDB88320, init and xorout 0xFFFFFFFF.
#[inline]
pub fn crc32(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

#[cfg(test)]
mod tests {
    #[test]
    fn check_value() {
        assert_eq!(super::crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(super::crc32(b""), 0);
    }
}
