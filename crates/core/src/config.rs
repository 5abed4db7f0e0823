//! Endpoint configuration: timers and limits, with mpgameserver's defaults.

use core::time::Duration;

/// What kind of peer an endpoint is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Accepts handshakes; packets go out as `FSOC`.
    Server,
    /// Initiates connections; packets go out as `FSOS`.
    Client,
}

/// Timers and limits of an endpoint. Defaults are mpgameserver 0.2.4's (wire spec §12), except
/// where a limit exists only in gamewire (marked).
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Minimum gap between two packets of one connection (mpgameserver: 1/60 s). Zero lifts the
    /// per-connection pacing for gamewire-to-gamewire links; never do that towards a Python peer.
    pub send_interval: Duration,
    /// Send a KEEP_ALIVE when nothing went out for this long; also the retransmit delay of
    /// BEST_EFFORT and RETRY_ON_TIMEOUT messages (0.1 s).
    pub keep_alive_interval: Duration,
    /// A packet not acked within this time has timed out (1 s).
    pub message_timeout: Duration,
    /// A connection that received nothing for this long is dropped (5 s).
    pub connection_timeout: Duration,
    /// A handshake not completed within this time is forgotten (2 s).
    pub temp_connection_timeout: Duration,
    /// Client: re-send the CLIENT_HELLO after this long without a SERVER_HELLO (gamewire; 0.5 s).
    pub handshake_retransmit: Duration,
    /// Client: give up connecting after this long (gamewire; 5 s).
    pub connect_timeout: Duration,
    /// Largest datagram accepted; larger ones are dropped as `TooLarge` (gamewire; 2048, the
    /// receive buffer of mpgameserver's peers).
    pub max_datagram: usize,
    /// Most connections an endpoint holds, handshakes included (gamewire; 65536).
    pub max_connections: usize,
    /// Most handshakes in progress at once (gamewire; 4096).
    pub max_pending_handshakes: usize,
    /// CLIENT_HELLOs answered per second, endpoint-wide, with a burst of the same size
    /// (gamewire; 2000). Each costs three P-256 scalar multiplications. A ceiling only: the driver
    /// also limits handshakes to a share of its time (`Endpoint::process_handshakes`).
    pub handshakes_per_second: u32,
    /// CLIENT_HELLOs that passed the cheap checks and wait for `Endpoint::process_handshakes`
    /// (gamewire; 1024). Beyond it new ones are dropped as rate-limited.
    pub handshake_queue: usize,
    /// Of those, how many one source (the driver's id for a sender's IP address) may hold
    /// (gamewire; 256: players behind one NAT share an address), so that one flooding sender
    /// cannot fill the whole queue; senders are answered in turn whatever they hold.
    pub handshake_queue_per_source: usize,
    /// Message de-duplication window in messages, a power of two from 64 to 32768 (gamewire:
    /// 32768, half the sequence ring, so no retransmission of a Python peer slips through).
    pub message_window: usize,
    /// Packet replay window in packets, a power of two from 64 to 32768 (gamewire: 1024; the
    /// wire's ack field covers the newest 33 of them).
    pub packet_window: usize,
    /// Authenticated packets whose `ctime` is this much older than the newest one seen from the
    /// peer are dropped as replays (gamewire; 60 s).
    pub max_ctime_age: Duration,
    /// Largest message `send` accepts (mpgameserver: 1024 × 8192 bytes).
    pub max_message_size: usize,
    /// Bytes of unfinished fragmented messages one connection may hold (gamewire; 8 MiB + 64 KiB).
    pub max_reassembly_bytes_per_connection: usize,
    /// Bytes of unfinished fragmented messages the whole endpoint may hold (gamewire; 256 MiB).
    pub max_reassembly_bytes_total: usize,
    /// Unsent and unacknowledged messages one connection may hold before `send` refuses more
    /// (gamewire; 65536).
    pub max_queued_messages: usize,
    /// Unix time in milliseconds at the instant `Instant::ZERO`; `ctime` in headers is derived
    /// from it and the monotonic `now`, so it never goes backwards.
    pub unix_millis_at_zero: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            send_interval: Duration::from_micros(16_667),
            keep_alive_interval: Duration::from_millis(100),
            message_timeout: Duration::from_secs(1),
            connection_timeout: Duration::from_secs(5),
            temp_connection_timeout: Duration::from_secs(2),
            handshake_retransmit: Duration::from_millis(500),
            connect_timeout: Duration::from_secs(5),
            max_datagram: 2048,
            max_connections: 65_536,
            max_pending_handshakes: 4096,
            handshakes_per_second: 2000,
            handshake_queue: 1024,
            handshake_queue_per_source: 256,
            message_window: 32_768,
            packet_window: 1024,
            max_ctime_age: Duration::from_secs(60),
            max_message_size: 1024 * 8192,
            max_reassembly_bytes_per_connection: 8 * 1024 * 1024 + 64 * 1024,
            max_reassembly_bytes_total: 256 * 1024 * 1024,
            max_queued_messages: 65_536,
            unix_millis_at_zero: 0,
        }
    }
}

/// A configuration value out of range; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ConfigError {
    /// The field.
    pub field: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl Config {
    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let err = |field, message: &str| Err(ConfigError { field, message: message.to_string() });
        let pow2 = |v: usize| v.is_power_of_two() && (64..=32_768).contains(&v);
        if self.keep_alive_interval.is_zero() {
            return err("keepAliveInterval", "must be greater than 0");
        }
        if self.message_timeout.is_zero() {
            return err("messageTimeout", "must be greater than 0");
        }
        if self.connection_timeout.is_zero() {
            return err("connectionTimeout", "must be greater than 0");
        }
        if self.temp_connection_timeout.is_zero() {
            return err("tempConnectionTimeout", "must be greater than 0");
        }
        if self.send_interval > Duration::from_secs(1) {
            return err("sendInterval", "must be at most 1 s");
        }
        if !pow2(self.message_window) {
            return err("messageWindow", "must be a power of two from 64 to 32768");
        }
        if !pow2(self.packet_window) {
            return err("packetWindow", "must be a power of two from 64 to 32768");
        }
        if self.max_datagram < 64 {
            return err("maxDatagram", "must be at least 64");
        }
        if self.handshake_queue == 0 || self.handshake_queue > 1 << 20 {
            return err("handshakeQueue", "must be from 1 to 1048576");
        }
        if self.handshake_queue_per_source == 0 {
            return err("handshakeQueuePerSource", "must be at least 1");
        }
        if self.max_connections == 0 {
            return err("maxConnections", "must be at least 1");
        }
        if self.max_message_size == 0 || self.max_message_size > 1024 * 65_535 {
            return err("maxMessageSize", "must be from 1 to 67107840 (1024 x 65535) bytes");
        }
        Ok(())
    }
}
