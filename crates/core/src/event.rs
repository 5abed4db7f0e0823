//! What an endpoint reports to its caller.

/// Why a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseReason {
    /// This side called `disconnect` (or `close_all`).
    Local,
    /// The peer sent DISCONNECT.
    Peer,
    /// Nothing was received for the connection timeout.
    TimedOut,
    /// Client: the handshake did not complete within the connect timeout.
    ConnectTimeout,
    /// Client: a SERVER_HELLO arrived whose signature does not verify with the pinned key (the
    /// connection then waits for a genuine one until the connect timeout; this reason is
    /// reported only if none came).
    BadServerKey,
    /// The transport under the connection ended (a WebSocket or WebTransport session closed):
    /// no datagram can reach the peer any more.
    TransportClosed,
}

/// An event of an endpoint, addressed by the peer address `A`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<A> {
    /// A connection completed its handshake. Server: the client proved the key. Client: the
    /// server answered with an authenticated packet. `token` is the session id from SERVER_HELLO.
    Connected {
        /// The peer.
        addr: A,
        /// The session token.
        token: u32,
    },
    /// An application message arrived (after de-duplication and reassembly). Its bytes are
    /// `Endpoint::event_data(range)`, valid until the event queue is drained.
    Message {
        /// The peer.
        addr: A,
        /// Message sequence number (of the first fragment, for a reassembled message).
        seq: u16,
        /// Where the bytes are in the endpoint's event arena.
        data: core::ops::Range<usize>,
    },
    /// A message sent with a callback id was settled: delivered (`acked`), or given up. Fires
    /// exactly once per message.
    Settled {
        /// The peer.
        addr: A,
        /// The callback id given to `send`.
        callback: u32,
        /// True when the peer acknowledged it.
        acked: bool,
    },
    /// A connection that had completed its handshake ended. Fires exactly once per such
    /// connection; for clients also when a connect attempt fails.
    Disconnected {
        /// The peer.
        addr: A,
        /// Why.
        reason: CloseReason,
    },
    /// The endpoint holds no more state for this address (handshake expired, linger over, or a
    /// datagram from an unknown address that created nothing). The caller may forget the address.
    Released {
        /// The peer.
        addr: A,
    },
}
