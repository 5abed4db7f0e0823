//! Counters, per connection and per endpoint.
//!
//! Every field is a lifetime counter except where noted. The field list is defined once (the
//! `counters!` macro) so the flat layout the bindings export (`Stats::NAMES`, `Stats::to_array`)
//! cannot drift from the struct.

/// Why a datagram was dropped. Every drop is counted under exactly one reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// Could not be parsed: short or bad header, sequence number 0, framing that does not add up,
    /// a handshake body that does not decode.
    Malformed,
    /// Failed authentication: bad CRC, bad AES-GCM tag, wrong challenge token, a server key
    /// signature that does not verify, or an unauthenticated (CRC) packet where a key exists.
    AuthFailed,
    /// A replay or duplicate: a packet seq already seen or older than the packet window, or a
    /// `ctime` far older than the peer's newest.
    Replay,
    /// The source address is on the block list (counted by the I/O driver, before parsing).
    Blocked,
    /// Not a CLIENT_HELLO and no connection exists for the source address.
    UnknownConnection,
    /// Larger than the configured maximum datagram.
    TooLarge,
    /// A handshake refused by the endpoint's limits (rate, pending handshakes, connections).
    RateLimited,
    /// Authentic but not acceptable in the connection's state (e.g. anything but the challenge
    /// response on a half-open connection, handshake messages on an established one).
    Unexpected,
}

impl DropReason {
    /// Every reason, in the order of the flat layout.
    pub const ALL: [Self; 8] = [
        Self::Malformed,
        Self::AuthFailed,
        Self::Replay,
        Self::Blocked,
        Self::UnknownConnection,
        Self::TooLarge,
        Self::RateLimited,
        Self::Unexpected,
    ];
}

macro_rules! counters {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$fmeta:meta])* $field:ident => $js:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $name { $($(#[$fmeta])* pub $field: u64,)* }

        impl $name {
            /// Field names in the flat layout's order (camelCase, as JavaScript sees them).
            pub const NAMES: &'static [&'static str] = &[$($js,)*];

            /// The counters as numbers, in [`Self::NAMES`] order.
            pub fn to_array(&self) -> Vec<f64> {
                vec![$(self.$field as f64,)*]
            }

            /// Adds `other` into `self`.
            pub fn add(&mut self, other: &Self) {
                $(self.$field += other.$field;)*
            }
        }
    };
}

counters! {
    /// Traffic and reliability counters.
    pub struct Counters {
        /// Datagrams received (all, before any check).
        datagrams_in => "datagramsIn",
        /// Bytes received.
        bytes_in => "bytesIn",
        /// Datagrams sent.
        datagrams_out => "datagramsOut",
        /// Bytes sent.
        bytes_out => "bytesOut",
        /// Packets sent that the peer acknowledged.
        packets_acked => "packetsAcked",
        /// Packets sent that were not acknowledged in time.
        packets_timed_out => "packetsTimedOut",
        /// KEEP_ALIVE packets sent.
        keep_alives_sent => "keepAlivesSent",
        /// Messages queued by the application (a fragmented message counts once).
        messages_sent => "messagesSent",
        /// Messages delivered to the application (after de-duplication and reassembly).
        messages_received => "messagesReceived",
        /// Messages whose delivery was confirmed (callback `true`).
        messages_acked => "messagesAcked",
        /// Messages that were given up (callback `false`).
        messages_timed_out => "messagesTimedOut",
        /// Re-transmissions of messages (every copy after the first).
        messages_retransmitted => "messagesRetransmitted",
        /// Duplicate messages received and dropped.
        duplicate_messages => "duplicateMessages",
        /// Fragmented messages reassembled.
        messages_reassembled => "messagesReassembled",
        /// Acks that arrived for messages already settled.
        late_acks => "lateAcks",
        /// Dropped: malformed.
        drop_malformed => "dropMalformed",
        /// Dropped: authentication failed.
        drop_auth_failed => "dropAuthFailed",
        /// Dropped: replay or duplicate packet.
        drop_replay => "dropReplay",
        /// Dropped: blocked address.
        drop_blocked => "dropBlocked",
        /// Dropped: unknown connection.
        drop_unknown_connection => "dropUnknownConnection",
        /// Dropped: too large.
        drop_too_large => "dropTooLarge",
        /// Dropped: handshake rate or capacity limits.
        drop_rate_limited => "dropRateLimited",
        /// Dropped: unexpected in the connection's state.
        drop_unexpected => "dropUnexpected",
        /// Handshakes started (valid CLIENT_HELLOs answered, or hellos sent by a client).
        handshakes_started => "handshakesStarted",
        /// Handshakes completed.
        handshakes_completed => "handshakesCompleted",
        /// Handshakes that expired or failed.
        handshakes_failed => "handshakesFailed",
        /// Connections closed gracefully (either side).
        connections_closed => "connectionsClosed",
        /// Connections dropped by timeout.
        connections_timed_out => "connectionsTimedOut",
    }
}

impl Counters {
    /// Counts a drop under its reason.
    pub fn count_drop(&mut self, reason: DropReason) {
        *match reason {
            DropReason::Malformed => &mut self.drop_malformed,
            DropReason::AuthFailed => &mut self.drop_auth_failed,
            DropReason::Replay => &mut self.drop_replay,
            DropReason::Blocked => &mut self.drop_blocked,
            DropReason::UnknownConnection => &mut self.drop_unknown_connection,
            DropReason::TooLarge => &mut self.drop_too_large,
            DropReason::RateLimited => &mut self.drop_rate_limited,
            DropReason::Unexpected => &mut self.drop_unexpected,
        } += 1;
    }

    /// Total drops of every reason.
    pub fn drops(&self) -> u64 {
        self.drop_malformed
            + self.drop_auth_failed
            + self.drop_replay
            + self.drop_blocked
            + self.drop_unknown_connection
            + self.drop_too_large
            + self.drop_rate_limited
            + self.drop_unexpected
    }
}

/// A connection's statistics: counters plus live gauges.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConnectionStats {
    /// Lifetime counters.
    pub counters: Counters,
    /// Messages queued or in flight, not yet settled.
    pub messages_pending: u64,
    /// mpgameserver's latency: EWMA (alpha 0.1) of half the round trip, in seconds.
    pub latency: f64,
    /// Smoothed round-trip time (RFC 6298), seconds; 0 before the first sample.
    pub srtt: f64,
    /// Smallest round-trip time seen, seconds; 0 before the first sample.
    pub min_rtt: f64,
    /// Bytes held by unfinished fragmented messages.
    pub reassembly_bytes: u64,
    /// Packets sent and neither acknowledged nor timed out.
    pub packets_in_flight: u64,
    /// The `ack` this side sends: newest packet seq received.
    pub recv_ack: u64,
    /// The `ack_bits` this side sends.
    pub recv_ack_bits: u64,
}

impl ConnectionStats {
    /// Names of the gauges that follow the counters in the flat layout.
    pub const GAUGES: &'static [&'static str] = &[
        "messagesPending",
        "latency",
        "srtt",
        "minRtt",
        "reassemblyBytes",
        "packetsInFlight",
        "recvAck",
        "recvAckBits",
    ];

    /// Counters then gauges, as numbers.
    pub fn to_array(&self) -> Vec<f64> {
        let mut v = self.counters.to_array();
        v.extend([
            self.messages_pending as f64,
            self.latency,
            self.srtt,
            self.min_rtt,
            self.reassembly_bytes as f64,
            self.packets_in_flight as f64,
            self.recv_ack as f64,
            self.recv_ack_bits as f64,
        ]);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_layout_matches_names() {
        let s = ConnectionStats::default();
        assert_eq!(s.to_array().len(), Counters::NAMES.len() + ConnectionStats::GAUGES.len());
    }
}
