//! Bytes on the wire: the header, message framing, the handshake bodies and fragments.

pub mod header;

pub use header::{Direction, Header, HeaderError, PacketType, HEADER_SIZE, NONCE_SIZE};
