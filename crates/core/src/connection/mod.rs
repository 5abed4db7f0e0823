//! One connection's state machine, for either role.
//!
//! ```text
//!  client: Connecting --SERVER_HELLO ok--> Keyed --first AEAD packet--> Connected
//!  server: (CLIENT_HELLO accepted) HalfOpen --CHALLENGE_RESP ok-------> Connected
//!  both:   Connected --disconnect (this side)--> Closing, draining: queued messages still go out
//!          until acknowledged or settled, at most message_timeout; then DISCONNECT
//!          Connected --DISCONNECT from the peer--> Closing (what was queued is given up)
//!          Closing --DISCONNECT acked / linger over--> Done
//!          Connected --nothing received for connection_timeout--------------------------> Done
//! ```
//! A connection reports through `ConnEvent`s and is removed by its endpoint once `Done`.

pub(crate) mod outbox;
pub(crate) mod reassembly;

use core::time::Duration;

use rand_core::CryptoRngCore;

use crate::codec::fragment::{self, FragmentHeader};
use crate::codec::handshake::{self, ClientHello, ServerHello, SALT_LEN};
use crate::codec::{
    overhead, Direction, Header, Message, Messages, PacketType, PayloadWriter, HEADER_SIZE, MAX_PAYLOAD,
};
use crate::config::{Config, Role};
use crate::crypto::{session_key, EphemeralSecret, PacketCipher, RootKey, RootPublicKey, SPKI_LEN, TAG_SIZE};
use crate::event::CloseReason;
use crate::packet::{self, UnprotectError};
use crate::seq::Seq;
use crate::stats::{ConnectionStats, Counters, DropReason};
use crate::time::Instant;
use crate::window::{sent::Fate, Insert, ReplayWindow, Rtt, SentPackets};
use outbox::{MsgHandle, Outbox, RetryMode, Settlement};
use reassembly::{Added, Reassembly};

/// A keep-alive may wait up to `keep_alive_interval / KEEP_ALIVE_SLACK` past its time for a
/// wake-up that comes anyway (see [`Connection::next_deadline`]).
const KEEP_ALIVE_SLACK: u32 = 4;

/// When a connection next has work: from `at` on, and at the latest by `latest` (`at <= latest`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Deadline {
    pub at: Instant,
    pub latest: Instant,
}

/// Send an ack-carrying packet once this many packets arrived since we last sent one (only
/// matters when pacing allows it: gamewire-to-gamewire links with `send_interval` 0).
const ACK_EVERY: u32 = 16;
/// A half-open server connection re-sends its SERVER_HELLO at most this often.
const HELLO_RESEND_GAP: Duration = Duration::from_millis(100);

/// Where a connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Client: CLIENT_HELLO sent, waiting for a valid SERVER_HELLO.
    Connecting,
    /// Client: key derived, CHALLENGE_RESP sent, waiting for the server's first AEAD packet.
    Keyed,
    /// Server: SERVER_HELLO sent, waiting for the CHALLENGE_RESP.
    HalfOpen,
    /// Both: established.
    Connected,
    /// Both: closed by one side; DISCONNECT in flight until acknowledged or the linger ends.
    Closing,
    /// Finished; the endpoint removes it.
    Done,
}

/// What a connection reports.
#[derive(Debug)]
pub(crate) enum ConnEvent<'a> {
    Connected(u32),
    Message(Seq, &'a [u8]),
    Settled(Settlement),
    Closed(CloseReason),
}

enum Handshake {
    Client {
        secret: EphemeralSecret,
        hello: Vec<u8>,
        hello_seq: Seq,
        pinned: Option<RootPublicKey>,
        due: Instant,
        started: Instant,
        bad_key: bool,
    },
    Server {
        client_key: [u8; SPKI_LEN],
        hello: Vec<u8>,
        hello_seq: Seq,
        resend: bool,
        next_resend: Instant,
    },
    Done,
}

impl core::fmt::Debug for Handshake {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Client { .. } => "Handshake::Client",
            Self::Server { .. } => "Handshake::Server",
            Self::Done => "Handshake::Done",
        })
    }
}

/// A connection.
#[derive(Debug)]
pub(crate) struct Connection {
    role: Role,
    pub(crate) state: State,
    pub(crate) token: u32,
    cipher: Option<PacketCipher>,
    packet_window: ReplayWindow,
    message_window: ReplayWindow,
    max_ctime: u32,
    pub(crate) last_recv: Instant,
    last_send: Option<Instant>,
    close_until: Instant,
    /// Closing from this side, still delivering what the application queued before it closed.
    draining: bool,
    pkt_seq: Seq,
    msg_seq: Seq,
    frag_id: Seq,
    ctime_sec: u32,
    ctime_count: u32,
    recv_since_send: u32,
    sent: SentPackets<MsgHandle>,
    outbox: Outbox,
    reasm: Reassembly,
    rtt: Rtt,
    pub(crate) counters: Counters,
    hs: Handshake,
    picked: Vec<MsgHandle>,
    settled: Vec<Settlement>,
}

/// How a protection failure is counted.
fn unprotect_drop(e: UnprotectError) -> DropReason {
    match e {
        UnprotectError::Length => DropReason::Malformed,
        UnprotectError::Crc | UnprotectError::Tag => DropReason::AuthFailed,
    }
}

/// The first message of a handshake datagram (in the clear, CRC-protected) when it is of type
/// `expect`; otherwise why the datagram is dropped.
pub(crate) fn handshake_message<'a>(
    datagram: &'a mut [u8],
    header: &Header,
    expect: PacketType,
) -> Result<Message<'a>, DropReason> {
    let payload = packet::unprotect(datagram, header, None).map_err(unprotect_drop)?;
    let datagram: &'a [u8] = datagram;
    Messages::parse(&datagram[payload], header.count, header.ptype)
        .ok()
        .and_then(|mut ms| ms.next())
        .filter(|m| m.ptype == expect)
        .ok_or(DropReason::Malformed)
}

impl Connection {
    fn new(role: Role, cfg: &Config, now: Instant, hs: Handshake, state: State) -> Self {
        Self {
            role,
            state,
            token: 0,
            cipher: None,
            packet_window: ReplayWindow::new(cfg.packet_window),
            message_window: ReplayWindow::new(cfg.message_window),
            max_ctime: 0,
            last_recv: now,
            last_send: None,
            close_until: now,
            draining: false,
            pkt_seq: Seq::UNSET,
            msg_seq: Seq::UNSET,
            frag_id: Seq::UNSET,
            ctime_sec: 0,
            ctime_count: 0,
            recv_since_send: 0,
            sent: SentPackets::default(),
            outbox: Outbox::default(),
            reasm: Reassembly::default(),
            rtt: Rtt::default(),
            counters: Counters::default(),
            hs,
            picked: Vec::new(),
            settled: Vec::new(),
        }
    }

    /// Client: starts a connection, queueing the CLIENT_HELLO.
    pub(crate) fn connect(
        now: Instant,
        cfg: &Config,
        rng: &mut impl CryptoRngCore,
        pinned: Option<RootPublicKey>,
        ephemeral: Option<EphemeralSecret>,
    ) -> Self {
        let secret = ephemeral.unwrap_or_else(|| EphemeralSecret::generate(rng));
        let mut hello = Vec::with_capacity(1412);
        ClientHello { public_key: &secret.public_spki() }.encode(&mut hello, |pad| rng.fill_bytes(pad));
        let hs = Handshake::Client {
            secret,
            hello,
            hello_seq: Seq::UNSET,
            pinned,
            due: now,
            started: now,
            bad_key: false,
        };
        let mut c = Self::new(Role::Client, cfg, now, hs, State::Connecting);
        c.msg_seq = c.msg_seq.next();
        if let Handshake::Client { hello_seq, .. } = &mut c.hs {
            *hello_seq = c.msg_seq;
        }
        c.counters.handshakes_started += 1;
        c
    }

    /// A connection already established with `key` (no handshake): benchmarks and tests that
    /// compare the per-datagram paths with another implementation sharing the key.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn established(role: Role, cfg: &Config, now: Instant, key: &[u8; 16], token: u32) -> Self {
        let mut c = Self::new(role, cfg, now, Handshake::Done, State::Connected);
        c.cipher = Some(PacketCipher::new(key));
        c.token = token;
        c
    }

    /// Server: answers a valid CLIENT_HELLO (already CRC-checked and decoded).
    #[allow(clippy::too_many_arguments)] // the endpoint's single call site passes the parsed hello
    pub(crate) fn accept(
        now: Instant,
        cfg: &Config,
        rng: &mut impl CryptoRngCore,
        root: &RootKey,
        header: &Header,
        hello_msg_seq: Seq,
        client_key: &[u8],
        ephemeral: Option<EphemeralSecret>,
    ) -> Result<Self, DropReason> {
        let client_key: [u8; SPKI_LEN] = client_key.try_into().map_err(|_| DropReason::Malformed)?;
        let secret = ephemeral.unwrap_or_else(|| EphemeralSecret::generate(rng));
        let shared = secret.diffie_hellman(&client_key).map_err(|_| DropReason::Malformed)?;
        let mut salt = [0u8; SALT_LEN];
        rng.fill_bytes(&mut salt);
        let token = (rng.next_u32() & 0x7FFF_FFFF) | 0x4000_0000;
        let signed = handshake::server_hello_signed_blob(&secret.public_spki(), &salt, token);
        let signature = root.sign(&signed);
        let mut hello = Vec::with_capacity(320);
        handshake::encode_server_hello(&mut hello, &root.public().to_spki(), &signed, &signature);
        let hs =
            Handshake::Server { client_key, hello, hello_seq: Seq::UNSET, resend: true, next_resend: now };
        let mut c = Self::new(Role::Server, cfg, now, hs, State::HalfOpen);
        c.cipher = Some(PacketCipher::new(&session_key(&shared, &salt)));
        c.token = token;
        c.packet_window.insert(header.seq);
        c.message_window.insert(hello_msg_seq);
        c.max_ctime = header.ctime;
        c.msg_seq = c.msg_seq.next();
        if let Handshake::Server { hello_seq, .. } = &mut c.hs {
            *hello_seq = c.msg_seq;
        }
        c.counters.handshakes_started += 1;
        Ok(c)
    }

    fn direction(&self) -> Direction {
        match self.role {
            Role::Server => Direction::ToClient,
            Role::Client => Direction::ToServer,
        }
    }

    /// Statistics snapshot.
    pub(crate) fn stats(&self) -> ConnectionStats {
        let mut counters = self.counters.clone();
        counters.messages_acked = self.outbox.acked;
        counters.messages_timed_out = self.outbox.failed;
        counters.messages_retransmitted = self.outbox.retransmitted;
        counters.late_acks = self.outbox.late_acks;
        ConnectionStats {
            counters,
            messages_pending: self.outbox.pending() as u64,
            latency: self.rtt.latency,
            srtt: self.rtt.srtt,
            min_rtt: self.rtt.min,
            reassembly_bytes: self.reasm.bytes() as u64,
            packets_in_flight: self.sent.len() as u64,
            recv_ack: u64::from(self.packet_window.current().get()),
            recv_ack_bits: u64::from(self.packet_window.ack_bits()),
        }
    }

    /// mpgameserver's latency estimate, seconds.
    pub(crate) fn latency(&self) -> f64 {
        self.rtt.latency
    }

    pub(crate) fn is_established(&self) -> bool {
        self.state == State::Connected
    }

    pub(crate) fn reassembly_bytes(&self) -> usize {
        self.reasm.bytes()
    }

    // ---- sending --------------------------------------------------------------------------

    /// Queues an application message (fragmenting above 1432 bytes). `callback` 0 = none.
    pub(crate) fn send(
        &mut self,
        cfg: &Config,
        data: &[u8],
        mode: RetryMode,
        callback: u32,
    ) -> Result<(), crate::endpoint::SendError> {
        use crate::endpoint::SendError;
        match self.state {
            State::Connecting | State::Keyed | State::Connected => {}
            State::HalfOpen | State::Closing | State::Done => return Err(SendError::NotConnected),
        }
        if data.len() > cfg.max_message_size {
            return Err(SendError::TooLarge { len: data.len(), max: cfg.max_message_size });
        }
        let parts = if data.len() > crate::codec::MAX_SINGLE_MESSAGE {
            fragment::fragment_count(data.len())
        } else {
            1
        };
        if self.outbox.pending() + parts > cfg.max_queued_messages {
            return Err(SendError::QueueFull);
        }
        self.counters.messages_sent += 1;
        if parts == 1 {
            self.msg_seq = self.msg_seq.next();
            self.outbox.push(self.msg_seq, PacketType::App, mode, false, callback, 0, &[data]);
            return Ok(());
        }
        self.frag_id = self.frag_id.next();
        let group = self.outbox.new_group(parts as u32, callback);
        for (i, r) in fragment::split(data.len()).enumerate() {
            let h = FragmentHeader { id: self.frag_id, index: i as u16 + 1, count: parts as u16 };
            self.msg_seq = self.msg_seq.next();
            self.outbox.push(
                self.msg_seq,
                PacketType::AppFragment,
                mode,
                false,
                0,
                group,
                &[&h.to_bytes(), &data[r]],
            );
        }
        Ok(())
    }

    fn unix_second(cfg: &Config, now: Instant) -> u32 {
        ((cfg.unix_millis_at_zero + now.as_micros() / 1000) / 1000) as u32
    }

    /// The earliest instant a packet may go out (pacing and the nonce budget).
    fn gate(&self, cfg: &Config, now: Instant) -> Instant {
        let mut at = match self.last_send {
            Some(t) => t + cfg.send_interval,
            None => now,
        };
        if self.ctime_count >= u32::from(u16::MAX) && Self::unix_second(cfg, now) == self.ctime_sec {
            // 65535 packets went out in this ctime second: another would repeat a nonce.
            let next_sec_ms = (u64::from(self.ctime_sec) + 1) * 1000;
            let us = next_sec_ms.saturating_sub(cfg.unix_millis_at_zero) * 1000;
            at = at.max(Instant::from_micros(us));
        }
        at
    }

    fn keep_alive_due(&self, cfg: &Config, now: Instant) -> bool {
        self.state == State::Connected
            && self.last_send.is_none_or(|t| now.saturating_since(t) > cfg.keep_alive_interval)
    }

    fn control_only(&self) -> bool {
        self.state != State::Connected && !self.draining
    }

    /// True when [`Self::poll_transmit`] would produce a datagram now.
    pub(crate) fn wants_transmit(&self, cfg: &Config, now: Instant) -> bool {
        if self.gate(cfg, now) > now {
            return false;
        }
        match (&self.state, &self.hs) {
            (State::Connecting, Handshake::Client { due, .. }) => *due <= now,
            (State::HalfOpen, Handshake::Server { resend, .. }) => *resend,
            (State::Keyed | State::Closing, _) => self.outbox.has_work(now, self.control_only()),
            (State::Connected, _) => {
                self.outbox.has_work(now, false)
                    || self.keep_alive_due(cfg, now)
                    || self.recv_since_send >= ACK_EVERY
            }
            _ => false,
        }
    }

    /// Builds the next datagram into `out` (at least 1472 bytes), if one is due.
    pub(crate) fn poll_transmit(&mut self, cfg: &Config, now: Instant, out: &mut [u8]) -> Option<usize> {
        if self.gate(cfg, now) > now || out.len() < HEADER_SIZE + MAX_PAYLOAD + TAG_SIZE {
            return None;
        }
        let n = match self.state {
            State::Connecting => self.transmit_client_hello(cfg, now, out)?,
            State::HalfOpen => self.transmit_server_hello(cfg, now, out)?,
            State::Keyed | State::Connected | State::Closing => self.transmit_aead(cfg, now, out)?,
            State::Done => return None,
        };
        self.counters.datagrams_out += 1;
        self.counters.bytes_out += n as u64;
        Some(n)
    }

    fn next_header(
        &mut self,
        cfg: &Config,
        now: Instant,
        ptype: PacketType,
        length: usize,
        count: usize,
    ) -> Header {
        let ctime = Self::unix_second(cfg, now);
        if ctime != self.ctime_sec {
            self.ctime_sec = ctime;
            self.ctime_count = 0;
        }
        self.ctime_count += 1;
        self.pkt_seq = self.pkt_seq.next();
        self.last_send = Some(now);
        self.recv_since_send = 0;
        Header {
            direction: self.direction(),
            ctime,
            seq: self.pkt_seq,
            ack: self.packet_window.current(),
            ptype,
            length: length as u16,
            count: count as u8,
            ack_bits: self.packet_window.ack_bits(),
        }
    }

    fn transmit_crc(
        &mut self,
        cfg: &Config,
        now: Instant,
        out: &mut [u8],
        ptype: PacketType,
        seq: Seq,
        body_of: fn(&Handshake) -> &[u8],
    ) -> usize {
        let body_len = body_of(&self.hs).len();
        let length = 2 + body_len;
        let header = self.next_header(cfg, now, ptype, length, 1);
        let mut w = PayloadWriter::new(&mut out[HEADER_SIZE..], 1);
        // The hello bodies are at most 1412 bytes: they always fit.
        let _ = w.push(seq, ptype, body_of(&self.hs));
        self.sent.record(header.seq, now, []);
        packet::protect(out, &header, None)
    }

    fn transmit_client_hello(&mut self, cfg: &Config, now: Instant, out: &mut [u8]) -> Option<usize> {
        let Handshake::Client { due, hello_seq, .. } = &mut self.hs else { return None };
        if *due > now {
            return None;
        }
        *due = now + cfg.handshake_retransmit;
        let seq = *hello_seq;
        Some(self.transmit_crc(cfg, now, out, PacketType::ClientHello, seq, |hs| match hs {
            Handshake::Client { hello, .. } => hello,
            _ => &[],
        }))
    }

    fn transmit_server_hello(&mut self, cfg: &Config, now: Instant, out: &mut [u8]) -> Option<usize> {
        let Handshake::Server { resend, hello_seq, next_resend, .. } = &mut self.hs else { return None };
        if !*resend {
            return None;
        }
        *resend = false;
        *next_resend = now + HELLO_RESEND_GAP;
        let seq = *hello_seq;
        Some(self.transmit_crc(cfg, now, out, PacketType::ServerHello, seq, |hs| match hs {
            Handshake::Server { hello, .. } => hello,
            _ => &[],
        }))
    }

    fn transmit_aead(&mut self, cfg: &Config, now: Instant, out: &mut [u8]) -> Option<usize> {
        let cipher = self.cipher.clone()?;
        let control_only = self.control_only();
        let retry_us = cfg.keep_alive_interval.as_micros() as u64;
        let mut picked = core::mem::take(&mut self.picked);
        let mut data_len = 0usize;
        let mut count = 0usize;
        self.outbox.pick(now, retry_us, control_only, &mut picked, |len| {
            let fits = data_len + len + overhead(count + 1) <= MAX_PAYLOAD;
            if fits {
                data_len += len;
                count += 1;
            }
            fits
        });
        let keep_alive = picked.is_empty();
        if keep_alive && !self.keep_alive_due(cfg, now) && self.recv_since_send < ACK_EVERY {
            self.picked = picked;
            return None;
        }
        let ptype =
            picked.first().and_then(|h| self.outbox.get(*h)).map_or(PacketType::KeepAlive, |m| m.ptype);
        let length = data_len + overhead(picked.len());
        let header = self.next_header(cfg, now, ptype, length, picked.len());
        {
            let mut w = PayloadWriter::new(&mut out[HEADER_SIZE..HEADER_SIZE + length], picked.len());
            for h in &picked {
                if let Some(m) = self.outbox.get(*h) {
                    // Sizes were checked by `pick`.
                    let _ = w.push(m.seq, m.ptype, &m.data);
                }
            }
        }
        let len = packet::protect(out, &header, Some(&cipher));
        for h in &picked {
            self.outbox.sent(*h);
        }
        self.sent.record(header.seq, now, picked.iter().copied());
        if keep_alive {
            self.counters.keep_alives_sent += 1;
        }
        self.picked = picked;
        Some(len)
    }

    /// Fuzzing only: seals an arbitrary payload under this connection's key, so a fuzzer can reach
    /// the parsing behind authentication.
    #[cfg(fuzzing)]
    pub(crate) fn fuzz_seal(
        &mut self,
        cfg: &Config,
        now: Instant,
        ptype: u8,
        count: u8,
        payload: &[u8],
        out: &mut [u8],
    ) -> Option<usize> {
        let cipher = self.cipher.clone()?;
        let ptype = PacketType::from_u8(ptype)?;
        let len = payload.len().min(MAX_PAYLOAD);
        let header = self.next_header(cfg, now, ptype, len, usize::from(count));
        out.get_mut(HEADER_SIZE..HEADER_SIZE + len)?.copy_from_slice(&payload[..len]);
        Some(packet::protect(out, &header, Some(&cipher)))
    }

    // ---- receiving ------------------------------------------------------------------------

    /// Handles a datagram routed to this connection (its header already parsed).
    pub(crate) fn handle(
        &mut self,
        cfg: &Config,
        now: Instant,
        header: &Header,
        datagram: &mut [u8],
        reassembly_budget: usize,
        emit: &mut dyn FnMut(ConnEvent<'_>),
    ) -> Result<(), DropReason> {
        self.counters.datagrams_in += 1;
        self.counters.bytes_in += datagram.len() as u64;
        let r = self.handle_inner(cfg, now, header, datagram, reassembly_budget, emit);
        if let Err(reason) = r {
            self.counters.count_drop(reason);
        }
        self.flush_settled(emit);
        r
    }

    fn handle_inner(
        &mut self,
        cfg: &Config,
        now: Instant,
        header: &Header,
        datagram: &mut [u8],
        reassembly_budget: usize,
        emit: &mut dyn FnMut(ConnEvent<'_>),
    ) -> Result<(), DropReason> {
        if header.ptype.is_crc_framed() {
            return match (self.state, header.ptype) {
                (State::HalfOpen, PacketType::ClientHello) => {
                    self.handle_repeated_hello(now, header, datagram)
                }
                (State::Connecting, PacketType::ServerHello) => {
                    self.handle_server_hello(now, header, datagram)
                }
                // Unauthenticated packets are refused once a key exists: a spoofed CLIENT_HELLO
                // cannot re-key a live session.
                _ => Err(DropReason::AuthFailed),
            };
        }
        let Some(cipher) = &self.cipher else { return Err(DropReason::AuthFailed) };
        let payload = packet::unprotect(datagram, header, Some(cipher)).map_err(unprotect_drop)?;
        if self.state == State::HalfOpen && header.ptype != PacketType::ChallengeResp {
            return Err(DropReason::Unexpected);
        }
        if self.state == State::Done {
            return Err(DropReason::Unexpected);
        }
        let messages = Messages::parse(&datagram[payload], header.count, header.ptype)
            .map_err(|_| DropReason::Malformed)?;
        self.accept_packet(cfg, now, header)?;

        if self.state == State::HalfOpen {
            // The first message must be the challenge response with our token.
            let first = messages.clone().next();
            let ok = first.is_some_and(|m| {
                m.ptype == PacketType::ChallengeResp
                    && handshake::decode_challenge_response(m.data).is_ok_and(|t| t == self.token)
            });
            if !ok {
                return Err(DropReason::AuthFailed);
            }
            self.state = State::Connected;
            self.hs = Handshake::Done;
            self.counters.handshakes_completed += 1;
            // The client is connected once an authentic packet from us arrives: owe it one now
            // (pacing permitting), not after a keep-alive interval.
            self.recv_since_send = self.recv_since_send.max(ACK_EVERY);
            emit(ConnEvent::Connected(self.token));
        } else if self.state == State::Keyed {
            // Any authentic packet proves the server holds the key: the handshake is complete.
            self.state = State::Connected;
            self.hs = Handshake::Done;
            self.counters.handshakes_completed += 1;
            emit(ConnEvent::Connected(self.token));
        }

        for m in messages {
            if !m.seq.is_set() {
                continue;
            }
            match self.message_window.insert(m.seq) {
                Insert::New => {}
                Insert::Duplicate | Insert::Stale => {
                    self.counters.duplicate_messages += 1;
                    continue;
                }
            }
            match m.ptype {
                PacketType::App if self.state == State::Connected => {
                    self.counters.messages_received += 1;
                    emit(ConnEvent::Message(m.seq, m.data));
                }
                PacketType::AppFragment if self.state == State::Connected => {
                    let per_conn = cfg.max_reassembly_bytes_per_connection;
                    match self.reasm.add(now, m.seq, m.data, per_conn, reassembly_budget) {
                        Added::Complete(seq, data) => {
                            self.counters.messages_received += 1;
                            self.counters.messages_reassembled += 1;
                            emit(ConnEvent::Message(seq, &data));
                        }
                        Added::Stored => {}
                        Added::Refused => self.counters.drop_malformed += 1,
                    }
                }
                PacketType::Disconnect => self.on_peer_disconnect(cfg, now, emit),
                _ => {}
            }
        }
        if self.state == State::Closing && self.draining && self.outbox.app_pending() == 0 {
            // Everything queued before the close was delivered: now the DISCONNECT.
            self.begin_closing(cfg, now);
        } else if self.state == State::Closing && self.outbox.pending() == 0 {
            // Our DISCONNECT was acknowledged.
            self.finish();
        }
        Ok(())
    }

    /// Replay checks, liveness and acks for an authenticated packet.
    fn accept_packet(&mut self, _cfg: &Config, now: Instant, header: &Header) -> Result<(), DropReason> {
        let max_age = _cfg.max_ctime_age.as_secs().min(u64::from(u32::MAX)) as u32;
        if header.ctime.saturating_add(max_age) < self.max_ctime {
            return Err(DropReason::Replay);
        }
        match self.packet_window.insert(header.seq) {
            Insert::New => {}
            Insert::Duplicate | Insert::Stale => return Err(DropReason::Replay),
        }
        self.max_ctime = self.max_ctime.max(header.ctime);
        self.last_recv = now;
        self.recv_since_send = self.recv_since_send.saturating_add(1);
        self.process_acks(now, header.ack, header.ack_bits);
        Ok(())
    }

    fn process_acks(&mut self, now: Instant, ack: Seq, ack_bits: u32) {
        let Self { sent, outbox, rtt, counters, settled, .. } = self;
        sent.on_ack(now, ack, ack_bits, |fate, handles| {
            if let Fate::Acked { rtt_us } = fate {
                rtt.sample(rtt_us);
            }
            counters.packets_acked += 1;
            for &h in handles {
                outbox.on_acked(h, settled);
            }
        });
    }

    fn handle_repeated_hello(
        &mut self,
        now: Instant,
        header: &Header,
        datagram: &mut [u8],
    ) -> Result<(), DropReason> {
        let m = handshake_message(datagram, header, PacketType::ClientHello)?;
        let hello = ClientHello::decode(m.data).map_err(|_| DropReason::Malformed)?;
        let Handshake::Server { client_key, resend, next_resend, .. } = &mut self.hs else {
            return Err(DropReason::Unexpected);
        };
        if hello.public_key != client_key.as_slice() {
            // Another key from the same address while a handshake is pending: not ours to restart.
            return Err(DropReason::Unexpected);
        }
        if self.packet_window.insert(header.seq) != Insert::New {
            return Err(DropReason::Replay);
        }
        // The client did not get our SERVER_HELLO: send it again (rate-limited; the request is
        // bigger than the answer, so this cannot amplify).
        if now >= *next_resend {
            *resend = true;
        }
        self.last_recv = now;
        Ok(())
    }

    fn handle_server_hello(
        &mut self,
        now: Instant,
        header: &Header,
        datagram: &mut [u8],
    ) -> Result<(), DropReason> {
        let m = handshake_message(datagram, header, PacketType::ServerHello)?;
        let body = ServerHello::decode(m.data).map_err(|_| DropReason::Malformed)?;
        let Handshake::Client { secret, pinned, bad_key, .. } = &mut self.hs else {
            return Err(DropReason::Unexpected);
        };
        let verified = match pinned {
            Some(key) => key.verify(body.signed, body.signature),
            // Only with the explicit insecure opt-in: the embedded key proves integrity, not identity.
            None => {
                RootPublicKey::from_spki(body.root_key).is_ok_and(|k| k.verify(body.signed, body.signature))
            }
        };
        if !verified {
            *bad_key = true;
            return Err(DropReason::AuthFailed);
        }
        let shared = secret.diffie_hellman(body.ephemeral_key).map_err(|_| DropReason::Malformed)?;
        if self.packet_window.insert(header.seq) != Insert::New {
            return Err(DropReason::Replay);
        }
        self.message_window.insert(m.seq);
        self.cipher = Some(PacketCipher::new(&session_key(&shared, body.salt)));
        self.token = body.token;
        self.max_ctime = header.ctime;
        self.last_recv = now;
        self.process_acks(now, header.ack, header.ack_bits);
        self.state = State::Keyed;
        let mut body = Vec::with_capacity(11);
        handshake::encode_challenge_response(&mut body, self.token);
        self.msg_seq = self.msg_seq.next();
        self.outbox.push(
            self.msg_seq,
            PacketType::ChallengeResp,
            RetryMode::RetryOnTimeout,
            true,
            0,
            0,
            &[&body],
        );
        Ok(())
    }

    // ---- closing and timers ---------------------------------------------------------------

    /// Queues the DISCONNECT (after giving up what the application still had queued) and
    /// lingers until it is acknowledged or the message timeout passes.
    fn begin_closing(&mut self, cfg: &Config, now: Instant) {
        let Self { outbox, settled, .. } = self;
        outbox.drop_app_messages(settled);
        self.draining = false;
        self.msg_seq = self.msg_seq.next();
        self.outbox.push(self.msg_seq, PacketType::Disconnect, RetryMode::RetryOnTimeout, true, 0, 0, &[]);
        self.state = State::Closing;
        self.close_until = now + cfg.message_timeout;
    }

    fn on_peer_disconnect(&mut self, cfg: &Config, now: Instant, emit: &mut dyn FnMut(ConnEvent<'_>)) {
        match self.state {
            State::Connected | State::Keyed => {
                self.counters.connections_closed += 1;
                emit(ConnEvent::Closed(CloseReason::Peer));
                // Answer with our own DISCONNECT (its header acks theirs), then linger briefly.
                self.begin_closing(cfg, now);
            }
            State::Closing => self.finish(),
            _ => {}
        }
    }

    /// Closes from this side. An established connection first delivers what the application
    /// queued before the close (for at most the message timeout), then sends DISCONNECT.
    pub(crate) fn close(&mut self, cfg: &Config, now: Instant, emit: &mut dyn FnMut(ConnEvent<'_>)) {
        match self.state {
            State::Connected if self.outbox.app_pending() > 0 => {
                self.counters.connections_closed += 1;
                emit(ConnEvent::Closed(CloseReason::Local));
                self.state = State::Closing;
                self.draining = true;
                self.close_until = now + cfg.message_timeout;
            }
            State::Connected | State::Keyed => {
                self.counters.connections_closed += 1;
                emit(ConnEvent::Closed(CloseReason::Local));
                self.begin_closing(cfg, now);
            }
            State::Connecting => {
                emit(ConnEvent::Closed(CloseReason::Local));
                self.finish();
            }
            State::HalfOpen => self.finish(),
            State::Closing | State::Done => {}
        }
        self.flush_settled(emit);
    }

    /// Ends the connection at once: its transport is gone.
    pub(crate) fn abort(&mut self, emit: &mut dyn FnMut(ConnEvent<'_>)) {
        if matches!(self.state, State::Connected | State::Keyed) {
            self.counters.connections_closed += 1;
            emit(ConnEvent::Closed(CloseReason::TransportClosed));
        }
        if self.state != State::Done {
            self.finish();
        }
        self.flush_settled(emit);
    }

    fn finish(&mut self) {
        self.state = State::Done;
        let Self { outbox, sent, settled, .. } = self;
        sent.drain_unacked(|_| {});
        outbox.fail_all(settled);
        self.reasm.clear();
    }

    fn flush_settled(&mut self, emit: &mut dyn FnMut(ConnEvent<'_>)) {
        for s in self.settled.drain(..) {
            emit(ConnEvent::Settled(s));
        }
    }

    /// Runs the timers: packet timeouts, reassembly expiry, handshake retransmission and expiry,
    /// connection timeout, linger.
    pub(crate) fn handle_timeout(&mut self, cfg: &Config, now: Instant, emit: &mut dyn FnMut(ConnEvent<'_>)) {
        let timeout_us = cfg.message_timeout.as_micros() as u64;
        {
            let Self { sent, outbox, counters, settled, .. } = self;
            sent.expire(now, timeout_us, |_, handles| {
                counters.packets_timed_out += 1;
                for &h in handles {
                    outbox.on_timed_out(h, settled);
                }
            });
        }
        self.reasm.expire(now);
        match self.state {
            State::Connecting | State::Keyed => {
                let (started, bad_key) = match &self.hs {
                    Handshake::Client { started, bad_key, .. } => (*started, *bad_key),
                    _ => (now, false),
                };
                if now.saturating_since(started) >= cfg.connect_timeout {
                    self.counters.handshakes_failed += 1;
                    let reason =
                        if bad_key { CloseReason::BadServerKey } else { CloseReason::ConnectTimeout };
                    emit(ConnEvent::Closed(reason));
                    self.finish();
                }
            }
            State::HalfOpen => {
                if now.saturating_since(self.last_recv) >= cfg.temp_connection_timeout {
                    self.counters.handshakes_failed += 1;
                    self.finish();
                }
            }
            State::Connected => {
                if now.saturating_since(self.last_recv) >= cfg.connection_timeout {
                    self.counters.connections_timed_out += 1;
                    emit(ConnEvent::Closed(CloseReason::TimedOut));
                    self.finish();
                }
            }
            State::Closing if self.draining => {
                if now >= self.close_until || self.outbox.app_pending() == 0 {
                    // Delivered, or out of time: what is left is given up; now the DISCONNECT.
                    self.begin_closing(cfg, now);
                }
            }
            State::Closing => {
                let disconnect_done = !self.outbox.has_queued(true) && self.outbox.pending() == 0;
                if now >= self.close_until || disconnect_done {
                    self.finish();
                }
            }
            State::Done => {}
        }
        self.flush_settled(emit);
    }

    /// When this connection next needs [`Self::handle_timeout`] or can transmit: `at` is the
    /// earliest instant it has work, `latest` the instant it must be visited by. They differ only
    /// when the first work is a keep-alive, which may wait up to a quarter interval for a wake-up
    /// that comes anyway (a datagram from any peer, another connection's timer): the keep-alives
    /// of many quiet connections then share wake-ups instead of each costing one.
    pub(crate) fn next_deadline(&self, cfg: &Config, now: Instant) -> Option<Deadline> {
        let mut at: Option<Instant> = None;
        let mut consider = |t: Instant| at = Some(at.map_or(t, |a: Instant| a.min(t)));
        let mut keep_alive: Option<Instant> = None;
        let gate = self.gate(cfg, now);
        match (&self.state, &self.hs) {
            (State::Connecting, Handshake::Client { due, started, .. }) => {
                consider((*due).max(gate));
                consider(*started + cfg.connect_timeout);
            }
            (State::Keyed, Handshake::Client { started, .. }) => consider(*started + cfg.connect_timeout),
            (State::HalfOpen, Handshake::Server { resend, .. }) => {
                if *resend {
                    consider(gate);
                }
                consider(self.last_recv + cfg.temp_connection_timeout);
            }
            (State::Connected, _) => {
                consider(self.last_recv + cfg.connection_timeout);
                let ka =
                    self.last_send.map_or(now, |t| t + cfg.keep_alive_interval + Duration::from_micros(1));
                keep_alive = Some(ka.max(gate));
            }
            (State::Closing, _) => consider(self.close_until),
            _ => {}
        }
        if matches!(self.state, State::Keyed | State::Connected | State::Closing) {
            let ack_owed = self.state == State::Connected && self.recv_since_send >= ACK_EVERY;
            if self.outbox.has_queued(self.control_only()) || ack_owed {
                consider(gate);
            }
            if let Some(r) = self.outbox.next_retry() {
                consider(r.max(gate));
            }
        }
        if let Some(t) = self.sent.oldest() {
            consider(t + cfg.message_timeout + Duration::from_micros(1));
        }
        if let Some(t) = self.reasm.next_expiry() {
            consider(t);
        }
        let Some(ka) = keep_alive else { return at.map(|t| Deadline { at: t, latest: t }) };
        let late = ka + cfg.keep_alive_interval / KEEP_ALIVE_SLACK;
        Some(Deadline { at: at.map_or(ka, |t| t.min(ka)), latest: at.map_or(late, |t| t.min(late)) })
    }
}
