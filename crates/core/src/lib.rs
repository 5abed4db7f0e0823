//! # gamewire-core
//!
//! The protocol of [mpgameserver] 0.2.4, re-implemented byte for byte and hardened: the datagram
//! codec, the handshake and per-datagram encryption, and the ack/retry window.
//!
//! The crate is **sans-IO**: it owns no socket, reads no clock and spawns nothing. The caller
//! feeds an [`Endpoint`] datagrams and the current time, and takes out datagrams to send,
//! events, and the next instant it wants to be called again:
//!
//! ```text
//!   socket ──datagram──▶ Endpoint::handle_datagram ─┐
//!   timer  ──now───────▶ Endpoint::handle_timeout  ─┤
//!   app    ──send──────▶ Endpoint::send            ─┤
//!                                                   ▼
//!   socket ◀─datagram── Endpoint::poll_transmit ◀── connections ──▶ Endpoint::poll_event ──▶ app
//!                          Endpoint::poll_timeout ──▶ timer
//! ```
//!
//! Modules, bottom up: [`seq`] (the 16-bit ring), [`codec`] (header, framing, handshake bodies,
//! fragments), [`crypto`] (P-256, ECDSA, HKDF, AES-GCM), [`window`] (replay/ack windows, packets
//! in flight, RTT), `connection` (one connection's state machine and retry rules), [`endpoint`]
//! (the connection table and handshake admission). The flat interface the bindings share
//! (numeric tables, flat buffers) is the crate `gamewire-abi`, not this one.
//!
//! [mpgameserver]: https://github.com/nsetzer/mpgameserver
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod codec;
pub mod config;
pub(crate) mod connection;
pub mod crc;
pub mod crypto;
pub mod endpoint;
pub mod event;
pub mod packet;
pub mod seq;
pub mod stats;
pub mod time;
pub mod window;

pub use config::{Config, ConfigError, Role};
pub use connection::outbox::RetryMode;
pub use connection::State as ConnectionState;
pub use crc::crc32;
pub use endpoint::{ConnectError, Endpoint, SendError, Status, Transmit};
pub use event::{CloseReason, Event};
pub use seq::{Seq, SeqError};
pub use stats::{ConnectionStats, Counters, DropReason};
pub use time::Instant;
