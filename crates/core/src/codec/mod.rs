//! Bytes on the wire: the header, message framing, the handshake bodies and fragments.

pub mod fragment;
pub mod framing;
pub mod handshake;
pub mod header;
pub mod serial;

pub use framing::{overhead, FrameError, Message, Messages, PayloadWriter, MAX_PAYLOAD, MAX_SINGLE_MESSAGE};
pub use header::{Direction, Header, HeaderError, PacketType, HEADER_SIZE, NONCE_SIZE};
