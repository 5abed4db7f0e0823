//! Every number that crosses the boundary between Rust and JavaScript, defined once.
//!
//! Each table is a module of constants plus `ENTRIES` (constant name, value, JavaScript name).
//! [`crate::typescript::render`] turns them into `ts/backend/abi.generated.ts`, and
//! [`crate::layout_json`] reports them from a loaded binding, so the TypeScript side checks at load
//! time that the binary was built from the same tables. A test fails when the generated file is
//! out of date.

use gamewire_core::stats::DropReason;
use gamewire_core::{CloseReason, RetryMode};

/// One entry of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<T: 'static> {
    /// The Rust constant's name (also the TypeScript key).
    pub name: &'static str,
    /// The value.
    pub value: T,
    /// The JavaScript name (a string code, a camelCase field name or an enum member).
    pub js: &'static str,
    /// The doc comment, for the generated TypeScript.
    pub doc: &'static str,
}

macro_rules! table {
    ($(#[doc = $mdoc:literal])* pub mod $name:ident: $ty:ty {
        $($(#[doc = $fdoc:literal])* $c:ident = $v:expr => $js:literal,)*
    }) => {
        $(#[doc = $mdoc])*
        pub mod $name {
            $($(#[doc = $fdoc])* pub const $c: $ty = $v;)*
            /// The table's doc comment, for the generated TypeScript.
            pub const DOC: &str = concat!($($mdoc),*);
            /// Every entry, in order.
            pub const ENTRIES: &[super::Entry<$ty>] =
                &[$(super::Entry { name: stringify!($c), value: $c, js: $js, doc: concat!($($fdoc),*) },)*];
        }
    };
}

table! {
    /// Result codes of engine commands (`send`, `connect`, …): 0 or negative.
    pub mod code: i32 {
        /// Done.
        OK = 0 => "ok",
        /// No connection with that peer.
        UNKNOWN_CONNECTION = -1 => "unknown-connection",
        /// The connection cannot carry application messages (handshake or closing).
        NOT_CONNECTED = -2 => "not-connected",
        /// The message is larger than the configured maximum.
        TOO_LARGE = -3 => "too-large",
        /// The connection's send queue is full.
        QUEUE_FULL = -4 => "queue-full",
        /// Not a client endpoint.
        NOT_A_CLIENT = -5 => "not-a-client",
        /// No pinned server key and no explicit insecure opt-in.
        NO_PINNED_KEY = -6 => "no-pinned-key",
        /// Already connected to that peer.
        ALREADY_CONNECTED = -7 => "already-connected",
        /// The connection limit is reached.
        TOO_MANY_CONNECTIONS = -8 => "too-many-connections",
        /// Not a retry mode.
        BAD_RETRY_MODE = -9 => "bad-retry-mode",
        /// A pinned key that is not a P-256 SPKI.
        BAD_KEY = -10 => "bad-key",
    }
}

table! {
    /// Kinds of the records of the flat event stream.
    pub mod event_kind: u32 {
        /// A handshake completed; `a` = session token.
        CONNECTED = 1 => "connected",
        /// An application message; `a` = its sequence number, followed by `len` bytes.
        MESSAGE = 2 => "message",
        /// A message with a callback was acknowledged; `a` = the callback id.
        ACKED = 3 => "acked",
        /// A message with a callback was given up; `a` = the callback id.
        FAILED = 4 => "failed",
        /// An established connection ended; `a` = a close reason code.
        DISCONNECTED = 5 => "disconnected",
        /// No state is held for the peer any more: the host may forget the peer id.
        RELEASED = 6 => "released",
        /// A datagram for a peer whose transport the host owns (`len` bytes follow).
        TRANSMIT = 7 => "transmit",
    }
}

table! {
    /// Why a connection ended (the `a` of a DISCONNECTED record).
    pub mod close_reason: u32 {
        /// This side closed it.
        LOCAL = 1 => "local",
        /// The peer sent DISCONNECT.
        PEER = 2 => "peer",
        /// Nothing was received for the connection timeout.
        TIMED_OUT = 3 => "timeout",
        /// Client: the handshake did not complete within the connect timeout.
        CONNECT_TIMEOUT = 4 => "connect-timeout",
        /// Client: the server's key signature did not verify with the pinned key.
        BAD_SERVER_KEY = 5 => "bad-server-key",
        /// The transport under the connection (WebSocket, WebTransport) ended.
        TRANSPORT_CLOSED = 6 => "transport-closed",
    }
}

table! {
    /// Per-datagram results of `handle` (0 accepted, else why it was dropped).
    pub mod drop_reason: u8 {
        /// Accepted.
        ACCEPTED = 0 => "accepted",
        /// Could not be parsed.
        MALFORMED = 1 => "malformed",
        /// Failed authentication.
        AUTH_FAILED = 2 => "auth-failed",
        /// A replay or duplicate.
        REPLAY = 3 => "replay",
        /// The source is on the block list.
        BLOCKED = 4 => "blocked",
        /// Not a CLIENT_HELLO and no connection exists for the source.
        UNKNOWN_CONNECTION = 5 => "unknown-connection",
        /// Larger than the maximum datagram.
        TOO_LARGE = 6 => "too-large",
        /// A handshake refused by the endpoint's limits.
        RATE_LIMITED = 7 => "rate-limited",
        /// Authentic but not acceptable in the connection's state.
        UNEXPECTED = 8 => "unexpected",
    }
}

table! {
    /// Results of decoding a header (0 = ok); the JavaScript name is the error code it throws.
    pub mod header_error: u32 {
        /// Decoded.
        OK = 0 => "OK",
        /// Shorter than the 20-byte header.
        TOO_SHORT = 1 => "ERR_HEADER_TOO_SHORT",
        /// An unknown packet type.
        UNKNOWN_TYPE = 2 => "ERR_HEADER_UNKNOWN_TYPE",
        /// Not the protocol's magic number.
        BAD_MAGIC = 3 => "ERR_HEADER_BAD_MAGIC",
        /// A packet in the wrong direction.
        WRONG_DIRECTION = 4 => "ERR_HEADER_WRONG_DIRECTION",
    }
}

table! {
    /// A peer's state as `status(peer)` reports it.
    pub mod peer_status: u32 {
        /// No connection.
        NONE = 0 => "none",
        /// Handshake in progress.
        CONNECTING = 1 => "connecting",
        /// Established.
        CONNECTED = 2 => "connected",
        /// Closing.
        DISCONNECTING = 3 => "disconnecting",
    }
}

table! {
    /// mpgameserver's RetryMode values (the `mode` of a send).
    pub mod retry_mode: i32 {
        /// Re-sent until acknowledged, for as long as the connection lives.
        RETRY_ON_TIMEOUT = -1 => "RETRY_ON_TIMEOUT",
        /// Sent once.
        NONE = 0 => "NONE",
        /// Re-sent every keep-alive interval until acknowledged or the message timeout passes.
        BEST_EFFORT = 1 => "BEST_EFFORT",
    }
}

table! {
    /// mpgameserver's ConnectionStatus values.
    pub mod connection_status: u32 {
        /// Handshake in progress.
        CONNECTING = 1 => "CONNECTING",
        /// Established.
        CONNECTED = 2 => "CONNECTED",
        /// Closing.
        DISCONNECTING = 3 => "DISCONNECTING",
        /// Ended normally.
        DISCONNECTED = 4 => "DISCONNECTED",
        /// Ended by a timeout.
        DROPPED = 5 => "DROPPED",
    }
}

table! {
    /// Sizes of the flat records, in bytes (or `u32` fields where named so).
    pub mod layout: u32 {
        /// An event record's head: kind, peer, a, len (u32 LE each), then `len` bytes padded to 4.
        EVENT_HEAD = 16 => "eventHead",
        /// A send record's head: peer, mode (i32), callback, len (u32 LE each), then the message
        /// padded to 4.
        SEND_HEAD = 16 => "sendHead",
        /// A received datagram's descriptor in `handle`'s meta array: peer, offset, len, source
        /// (u32 fields).
        IN_META_FIELDS = 4 => "inMetaFields",
        /// A transmit descriptor in the out-meta array: peer, offset, len (u32 LE each).
        TRANSMIT_META = 12 => "transmitMeta",
        /// Room one datagram takes in the input and output buffers.
        DATAGRAM_ROOM = 2048 => "datagramRoom",
        /// Fields of a flat header.
        HEADER_FIELDS = 8 => "headerFields",
    }
}

/// Names of the flat configuration array, in order (seconds for durations).
pub const CONFIG_FIELDS: &[&str] = &[
    "sendInterval",
    "keepAliveInterval",
    "messageTimeout",
    "connectionTimeout",
    "tempConnectionTimeout",
    "handshakeRetransmit",
    "connectTimeout",
    "maxDatagram",
    "maxConnections",
    "maxPendingHandshakes",
    "handshakesPerSecond",
    "handshakeQueue",
    "handshakeQueuePerSource",
    "messageWindow",
    "packetWindow",
    "maxCtimeAge",
    "maxMessageSize",
    "maxReassemblyBytesPerConnection",
    "maxReassemblyBytesTotal",
    "maxQueuedMessages",
    "unixMillisAtZero",
];

/// The index of `name` in [`CONFIG_FIELDS`].
pub fn config_index(name: &str) -> Option<usize> {
    CONFIG_FIELDS.iter().position(|f| *f == name)
}

/// The code of a [`CloseReason`].
pub const fn close_reason_code(r: CloseReason) -> u32 {
    match r {
        CloseReason::Local => close_reason::LOCAL,
        CloseReason::Peer => close_reason::PEER,
        CloseReason::TimedOut => close_reason::TIMED_OUT,
        CloseReason::ConnectTimeout => close_reason::CONNECT_TIMEOUT,
        CloseReason::BadServerKey => close_reason::BAD_SERVER_KEY,
        CloseReason::TransportClosed => close_reason::TRANSPORT_CLOSED,
    }
}

/// The code of a [`DropReason`].
pub const fn drop_code(r: DropReason) -> u8 {
    match r {
        DropReason::Malformed => drop_reason::MALFORMED,
        DropReason::AuthFailed => drop_reason::AUTH_FAILED,
        DropReason::Replay => drop_reason::REPLAY,
        DropReason::Blocked => drop_reason::BLOCKED,
        DropReason::UnknownConnection => drop_reason::UNKNOWN_CONNECTION,
        DropReason::TooLarge => drop_reason::TOO_LARGE,
        DropReason::RateLimited => drop_reason::RATE_LIMITED,
        DropReason::Unexpected => drop_reason::UNEXPECTED,
    }
}

/// The [`RetryMode`] of a mode value.
pub const fn retry_mode_of(v: i32) -> Option<RetryMode> {
    match v {
        retry_mode::NONE => Some(RetryMode::None),
        retry_mode::BEST_EFFORT => Some(RetryMode::BestEffort),
        retry_mode::RETRY_ON_TIMEOUT => Some(RetryMode::RetryOnTimeout),
        _ => None,
    }
}
