//! # gamewire-core
//!
//! The protocol of [mpgameserver] 0.2.4, re-implemented byte for byte and hardened: the datagram
//! codec, the handshake and per-datagram encryption, and the ack/retry window.
//!
//! The crate is **sans-IO**: it owns no socket, reads no clock and spawns nothing. The caller
//! feeds it datagrams and the current time, and takes out datagrams to send, events, and the next
//! instant it wants to be called again.
//!
//! [mpgameserver]: https://github.com/nsetzer/mpgameserver
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod abi;
pub mod codec;
pub mod crc;
pub mod seq;

pub use crc::crc32;
pub use seq::{Seq, SeqError};
