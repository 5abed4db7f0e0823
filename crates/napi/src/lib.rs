//! N-API glue: each export converts its arguments, calls `gamewire_abi` (the flat interface every
//! binding shares), and converts the result. No protocol logic lives here. The names match
//! `crates/wasm` one for one, so one TypeScript interface describes both.
//!
//! Errors reach JavaScript with `err.code` set to the flat interface's code (`ERR_CONFIG`,
//! `ERR_BAD_KEY`, `ERR_INVALID_ARG`, `ERR_ENTROPY`) or, for sockets, the operating system's name
//! (`EADDRINUSE`, …); the TypeScript layer turns them into its error classes.
#![deny(clippy::all)]

use gamewire_abi::{self as abi, AbiError};
use gamewire_core::codec::{Direction, Header};
use gamewire_core::Seq;
use napi::bindgen_prelude::*;
use napi_derive::napi;

fn coded(e: AbiError) -> Error<String> {
    Error::new(e.code.to_string(), e.message)
}

fn invalid(msg: impl std::fmt::Display) -> Error {
    Error::new(Status::InvalidArg, msg.to_string())
}

fn seq(v: u32) -> Result<Seq> {
    u16::try_from(v).map(Seq::new).map_err(|_| invalid(format!("sequence number out of range: {v}")))
}

/// The core's version (the crate version it was built from).
#[napi]
pub fn core_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// The sequence number after `a` on the 1..=65535 ring.
#[napi]
pub fn seq_next(a: u32) -> Result<u32> {
    Ok(u32::from(seq(a)?.next().get()))
}

/// `a + n` on the ring, folded once as mpgameserver does; throws when it leaves the ring.
#[napi]
pub fn seq_add(a: u32, n: i64) -> Result<u32> {
    seq(a)?.checked_add(n).map(|s| u32::from(s.get())).map_err(invalid)
}

/// `a - n` on the ring, folded once; throws when it leaves the ring.
#[napi]
pub fn seq_sub(a: u32, n: i64) -> Result<u32> {
    seq(a)?.checked_sub(n).map(|s| u32::from(s.get())).map_err(invalid)
}

/// `a - b` folded into [-32767, 32767].
#[napi]
pub fn seq_diff(a: u32, b: u32) -> Result<i32> {
    Ok(seq(a)?.diff(seq(b)?))
}

/// True when `a` is newer than `b`.
#[napi]
pub fn seq_newer_than(a: u32, b: u32) -> Result<bool> {
    Ok(seq(a)?.newer_than(seq(b)?))
}

/// CRC-32 (zlib) of `data`.
#[napi]
pub fn crc32(data: &[u8]) -> u32 {
    gamewire_core::crc32(data)
}

/// Encodes a header from `fields` = [toServer, ctime, seq, ack, type, length, count, ackBits]
/// into the first 20 bytes of `out`.
#[napi]
pub fn encode_header(fields: &[u32], mut out: BufferSlice) -> Result<()> {
    let h = header_from_fields(fields)?;
    if out.len() < gamewire_core::codec::HEADER_SIZE {
        return Err(invalid("output buffer shorter than 20 bytes"));
    }
    h.encode(&mut out);
    Ok(())
}

/// Decodes the header at the start of `buf` as a server (`asServer`) or client would, writing
/// [toServer, ctime, seq, ack, type, length, count, ackBits] to `out` (the bytes of a
/// `Uint32Array`, little-endian). Returns 0, or the error
/// code of `gamewire_core::codec::HeaderError` (1 too short, 2 unknown type, 3 bad magic,
/// 4 wrong direction).
#[napi]
pub fn decode_header(buf: &[u8], as_server: bool, mut out: BufferSlice) -> Result<u32> {
    let expect = if as_server { Direction::ToServer } else { Direction::ToClient };
    match Header::decode(buf, expect) {
        Ok(h) => {
            abi::write_u32s(&mut out, &header_to_fields(&h)).map_err(|e| invalid(e.message))?;
            Ok(0)
        }
        Err(e) => Ok(abi::header_error_code(e)),
    }
}

fn header_from_fields(f: &[u32]) -> Result<Header> {
    abi::header_from_fields(f).map_err(|e| invalid(e.message))
}

fn header_to_fields(h: &Header) -> [u32; 8] {
    abi::header_to_fields(h)
}

// ---- the engine ---------------------------------------------------------------------------------

/// Description of every flat layout (JSON), checked by the TypeScript loader.
#[napi]
pub fn layout() -> String {
    abi::layout_json()
}

/// The default configuration, flat.
#[napi]
pub fn default_config() -> Float64Array {
    Float64Array::new(abi::config_to_flat(&gamewire_core::Config::default()))
}

/// A fresh root key, PKCS#8 DER.
#[napi]
pub fn key_generate() -> Result<Uint8Array, String> {
    abi::keys::key_generate().map(Uint8Array::new).map_err(coded)
}

/// PKCS#8 DER of a PEM private key (PKCS#8 or SEC1).
#[napi]
pub fn key_from_pem(pem: String) -> Result<Uint8Array, String> {
    abi::keys::key_from_pem(&pem).map(Uint8Array::new).map_err(coded)
}

/// PKCS#8 PEM of a PKCS#8 DER private key.
#[napi]
pub fn key_to_pem(der: &[u8]) -> Result<String, String> {
    abi::keys::key_to_pem(der).map_err(coded)
}

/// SPKI DER public key of a PKCS#8 DER private key.
#[napi]
pub fn key_public(der: &[u8]) -> Result<Uint8Array, String> {
    abi::keys::key_public(der).map(Uint8Array::new).map_err(coded)
}

/// SPKI DER of a PEM public key.
#[napi]
pub fn public_key_from_pem(pem: String) -> Result<Uint8Array, String> {
    abi::keys::public_key_from_pem(&pem).map(Uint8Array::new).map_err(coded)
}

/// SPKI PEM of an SPKI DER public key.
#[napi]
pub fn public_key_to_pem(spki: &[u8]) -> Result<String, String> {
    abi::keys::public_key_to_pem(spki).map_err(coded)
}

/// A gamewire endpoint (`gamewire_core::abi::FlatEngine`): buffers are the caller's.
#[napi]
pub struct Engine {
    inner: abi::FlatEngine,
}

#[napi]
impl Engine {
    /// A server engine; `rootPkcs8` empty = a fresh key; `seed` (32 bytes) fixes the RNG.
    #[napi(factory)]
    pub fn server(config: &[f64], root_pkcs8: &[u8], seed: &[u8]) -> Result<Self, String> {
        abi::FlatEngine::server(config, root_pkcs8, seed).map(|inner| Self { inner }).map_err(coded)
    }

    /// A client engine.
    #[napi(factory)]
    pub fn client(config: &[f64], seed: &[u8]) -> Result<Self, String> {
        abi::FlatEngine::client(config, seed).map(|inner| Self { inner }).map_err(coded)
    }

    /// Replaces the configuration.
    #[napi]
    pub fn set_config(&mut self, config: &[f64]) -> Result<(), String> {
        self.inner.set_config(config).map_err(coded)
    }

    /// The root public key (SPKI DER; empty for a client).
    #[napi]
    pub fn root_public_spki(&self) -> Uint8Array {
        Uint8Array::new(self.inner.root_public_spki())
    }

    /// Handles `count` datagrams of `buf` described by `meta` (peer, offset, len, source); one
    /// result code per datagram goes to `status`. Hellos are queued for `processHandshakes`.
    #[napi]
    pub fn handle(
        &mut self,
        now: f64,
        mut buf: BufferSlice,
        meta: &[u32],
        count: u32,
        mut status: BufferSlice,
    ) -> u32 {
        self.inner.handle(now, &mut buf, meta, count as usize, &mut status)
    }

    /// Answers up to `max` queued CLIENT_HELLOs; returns how many were taken from the queue.
    #[napi]
    pub fn process_handshakes(&mut self, now: f64, max: u32) -> u32 {
        self.inner.process_handshakes(now, max)
    }

    /// CLIENT_HELLOs waiting for `processHandshakes`.
    #[napi]
    pub fn queued_handshakes(&self) -> u32 {
        self.inner.queued_handshakes()
    }

    /// Runs the timers.
    #[napi]
    pub fn tick(&mut self, now: f64) {
        self.inner.tick(now);
    }

    /// Writes due datagrams into `out` and (peer, offset, len) triples into `meta`.
    #[napi]
    pub fn transmit(&mut self, now: f64, mut out: BufferSlice, mut meta: BufferSlice) -> u32 {
        self.inner.transmit(now, &mut out, &mut meta)
    }

    /// Writes queued events into `out`; returns the bytes written.
    #[napi]
    pub fn events(&mut self, mut out: BufferSlice) -> u32 {
        self.inner.events(&mut out)
    }

    /// Room the next event needs when it did not fit (0 if none waits).
    #[napi]
    pub fn pending_event_size(&self) -> u32 {
        self.inner.pending_event_size()
    }

    /// Queues a message; 0 or a negative code.
    #[napi]
    pub fn send(&mut self, now: f64, peer: u32, data: &[u8], mode: i32, callback: u32) -> i32 {
        self.inner.send(now, peer, data, mode, callback)
    }

    /// Queues one message to many peers; returns how many accepted it.
    #[napi]
    pub fn broadcast(&mut self, now: f64, peers: &[u32], data: &[u8], mode: i32) -> u32 {
        self.inner.broadcast(now, peers, data, mode)
    }

    /// Queues a batch of message records; one result code per record into `results`.
    #[napi]
    pub fn send_batch(&mut self, now: f64, cmds: &[u8], count: u32, mut results: BufferSlice) -> u32 {
        self.inner.send_batch(now, cmds, count as usize, &mut results)
    }

    /// Client: connects to `peer`; 0 or a negative code.
    #[napi]
    pub fn connect(&mut self, now: f64, peer: u32, pinned_spki: &[u8], insecure: bool) -> i32 {
        self.inner.connect(now, peer, pinned_spki, insecure)
    }

    /// Closes the connection with `peer` gracefully.
    #[napi]
    pub fn disconnect(&mut self, now: f64, peer: u32) {
        self.inner.disconnect(now, peer);
    }

    /// Ends the connection with `peer` at once (its transport is gone).
    #[napi]
    pub fn abort(&mut self, now: f64, peer: u32) {
        self.inner.abort(now, peer);
    }

    /// Closes every connection gracefully.
    #[napi]
    pub fn close_all(&mut self, now: f64) {
        self.inner.close_all(now);
    }

    /// Forgets every connection.
    #[napi]
    pub fn abort_all(&mut self) {
        self.inner.abort_all();
    }

    /// 0 none, 1 connecting, 2 connected, 3 disconnecting.
    #[napi]
    pub fn status(&self, peer: u32) -> u32 {
        self.inner.status(peer)
    }

    /// The session token.
    #[napi]
    pub fn token(&self, peer: u32) -> u32 {
        self.inner.token(peer)
    }

    /// Latency in seconds (-1 unknown).
    #[napi]
    pub fn latency(&self, peer: u32) -> f64 {
        self.inner.latency(peer)
    }

    /// Connections, handshakes included.
    #[napi]
    pub fn connection_count(&self) -> u32 {
        self.inner.connection_count()
    }

    /// Writes a connection's statistics (f64 LE) into `out`.
    #[napi]
    pub fn connection_stats(&self, peer: u32, mut out: BufferSlice) -> bool {
        self.inner.connection_stats(peer, &mut out)
    }

    /// Writes the endpoint's statistics (f64 LE) into `out`.
    #[napi]
    pub fn stats(&self, mut out: BufferSlice) -> bool {
        self.inner.stats(&mut out)
    }

    /// Counts a datagram the driver's block list dropped.
    #[napi]
    pub fn count_blocked(&mut self, bytes: u32) {
        self.inner.count_blocked(bytes);
    }

    /// The next deadline in caller milliseconds, or -1.
    #[napi]
    pub fn next_timeout(&mut self) -> f64 {
        self.inner.next_timeout()
    }
}

// ---- tests and micro-benchmarks only (feature `testing`) ------------------------------------------

#[cfg(feature = "testing")]
#[napi]
impl Engine {
    /// A connection already established with a 16-byte key (no handshake).
    #[napi]
    pub fn danger_establish(&mut self, now: f64, peer: u32, key: &[u8], token: u32) -> bool {
        self.inner.danger_establish(now, peer, key, token)
    }
}

#[cfg(feature = "testing")]
use abi::testing::batch;

#[cfg(feature = "testing")]
fn words(b: &mut [u8]) -> Result<&mut [u32]> {
    bytemuck::try_cast_slice_mut(b).map_err(|e| invalid(format!("u32 output buffer: {e:?}")))
}

/// Encodes unprotected packets (`gamewire_abi::testing::batch::encode`); `lengths` is the bytes
/// of a Uint32Array.
#[cfg(feature = "testing")]
#[napi]
#[allow(clippy::too_many_arguments)] // mirrors the flat batch layout
pub fn codec_encode(
    headers: &[u32],
    data: &[u8],
    rows: &[u32],
    first: &[u32],
    count: u32,
    mut out: BufferSlice,
    offsets: &[u32],
    mut lengths: BufferSlice,
    capacity: u32,
) -> Result<()> {
    let packets = batch::Packets { headers, data, rows, first };
    let out = batch::SlotsMut { buf: &mut out, offsets, lengths: words(&mut lengths)? };
    batch::encode(packets, count as usize, out, capacity as usize).map_err(invalid)
}

/// Decodes unprotected packets (`gamewire_abi::testing::batch::decode`).
#[cfg(feature = "testing")]
#[napi]
#[allow(clippy::too_many_arguments)]
pub fn codec_decode(
    src: &[u8],
    offsets: &[u32],
    lengths: &[u32],
    count: u32,
    as_server: bool,
    mut headers: BufferSlice,
    mut status: BufferSlice,
    mut msgs: BufferSlice,
) -> Result<u32> {
    let src = batch::Slots { buf: src, offsets, lengths };
    Ok(batch::decode(src, count as usize, as_server, words(&mut headers)?, &mut status, words(&mut msgs)?))
}

/// AES-128-GCM over batches of datagrams (`gamewire_abi::testing::batch::AeadBatch`).
#[cfg(feature = "testing")]
#[napi]
pub struct AeadBatch {
    inner: batch::AeadBatch,
}

#[cfg(feature = "testing")]
#[napi]
impl AeadBatch {
    /// Prepares a 16-byte key.
    #[napi(constructor)]
    pub fn new(key: &[u8]) -> Result<Self> {
        batch::AeadBatch::new(key).map(|inner| Self { inner }).map_err(invalid)
    }

    /// Seals packets into `out` slots.
    #[napi]
    #[allow(clippy::too_many_arguments)]
    pub fn seal(
        &self,
        src: &[u8],
        offsets: &[u32],
        lengths: &[u32],
        count: u32,
        mut out: BufferSlice,
        out_offsets: &[u32],
        mut out_lengths: BufferSlice,
    ) -> Result<()> {
        let src = batch::Slots { buf: src, offsets, lengths };
        let out = batch::SlotsMut { buf: &mut out, offsets: out_offsets, lengths: words(&mut out_lengths)? };
        self.inner.seal(src, count as usize, out).map_err(invalid)
    }

    /// Opens datagrams into `out` slots; returns how many opened.
    #[napi]
    #[allow(clippy::too_many_arguments)]
    pub fn open(
        &self,
        src: &[u8],
        offsets: &[u32],
        lengths: &[u32],
        count: u32,
        mut out: BufferSlice,
        out_offsets: &[u32],
        mut out_lengths: BufferSlice,
        mut status: BufferSlice,
    ) -> Result<u32> {
        let src = batch::Slots { buf: src, offsets, lengths };
        let out = batch::SlotsMut { buf: &mut out, offsets: out_offsets, lengths: words(&mut out_lengths)? };
        Ok(self.inner.open(src, count as usize, out, &mut status))
    }

    /// Encodes and seals packets straight into `out` slots.
    #[napi]
    #[allow(clippy::too_many_arguments)]
    pub fn encode_seal(
        &self,
        headers: &[u32],
        data: &[u8],
        rows: &[u32],
        first: &[u32],
        count: u32,
        mut out: BufferSlice,
        offsets: &[u32],
        mut lengths: BufferSlice,
        capacity: u32,
    ) -> Result<()> {
        let packets = batch::Packets { headers, data, rows, first };
        let out = batch::SlotsMut { buf: &mut out, offsets, lengths: words(&mut lengths)? };
        self.inner.encode_seal(packets, count as usize, out, capacity as usize).map_err(invalid)
    }
}

// ---- the threaded socket driver (gamewire-udp) ---------------------------------------------------

use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode, UnknownReturnValue};

/// The JavaScript callback a socket thread calls (weakly: it does not keep Node alive) when
/// events wait.
type EventsReady = ThreadsafeFunction<(), UnknownReturnValue, (), Status, false, true>;

/// Options of `NativeSocketServer.start` beyond the address, configuration and key.
#[napi(object)]
pub struct SocketServerOptions {
    /// The socket's receive buffer, bytes (0: the OS default).
    pub recv_buffer: u32,
    /// Socket threads sharing the port (1 to 16).
    pub threads: u32,
    /// How long a thread may hold back the event loop's wake-up after the first event of a
    /// batch, microseconds.
    pub notify_delay_us: u32,
    /// The share of a thread's time handshakes may take under load (0.05 to 1).
    pub handshake_share: f64,
    /// A WebTransport endpoint for browser players (its sessions are peers of the same engine).
    pub webtransport: Option<WebTransportOptions>,
}

/// Options of the WebTransport endpoint.
#[napi(object)]
pub struct WebTransportOptions {
    /// Address to bind (UDP).
    pub host: String,
    /// Port (0 picks a free one).
    pub port: u32,
    /// The operator's certificate chain, PEM (with `keyPem`); absent: a self-signed certificate
    /// valid 13 days and renewed before it expires.
    pub cert_pem: Option<String>,
    /// The certificate's private key, PKCS#8 PEM.
    pub key_pem: Option<String>,
    /// Accept sessions on this path only (absent: any).
    pub path: Option<String>,
    /// Close a session that carries no connected client this long after it opened, ms (absent: 15 s).
    pub join_timeout_ms: Option<u32>,
}

/// The WebTransport endpoint as it runs: where, and the certificate pages pin.
#[napi(object)]
pub struct WebTransportInfo {
    /// The bound address.
    pub host: String,
    /// The bound port.
    pub port: u32,
    /// SHA-256 of the certificate (DER), hex.
    pub certificate_hash: String,
    /// True for the self-signed development certificate.
    pub self_signed: bool,
}

/// A UDP server whose socket I/O and protocol work run on Rust threads (`gamewire_udp`); the
/// event loop only drains batches of events and queues messages.
#[napi]
pub struct NativeSocketServer {
    inner: gamewire_udp::SocketServer,
}

#[napi]
impl NativeSocketServer {
    /// Binds `host:port` and starts the threads; `onEvents` is called when events wait.
    #[napi(factory)]
    pub fn start(
        host: String,
        port: u32,
        config: &[f64],
        root_pkcs8: &[u8],
        options: SocketServerOptions,
        on_events: EventsReady,
    ) -> Result<Self, String> {
        let bad = |m: String| Error::new("ERR_INVALID_ARG".to_string(), m);
        let ip: std::net::IpAddr = host.parse().map_err(|e| bad(format!("host {host:?}: {e}")))?;
        let port = u16::try_from(port).map_err(|_| bad(format!("port out of range: {port}")))?;
        let bind = std::net::SocketAddr::new(ip, port);
        let mut opts = gamewire_udp::ServerOptions::new(bind, config.to_vec(), root_pkcs8.to_vec());
        opts.recv_buffer = options.recv_buffer as usize;
        opts.threads = options.threads as usize;
        opts.notify_delay = std::time::Duration::from_micros(u64::from(options.notify_delay_us));
        opts.handshake_share = options.handshake_share;
        if let Some(wt) = options.webtransport {
            #[cfg(feature = "webtransport")]
            {
                if let Some(ms) = wt.join_timeout_ms {
                    opts.webtransport_join_timeout = std::time::Duration::from_millis(u64::from(ms));
                }
                opts.webtransport = Some(webtransport_options(wt)?);
            }
            #[cfg(not(feature = "webtransport"))]
            webtransport_options(wt)?;
        }
        let notify = move || on_events.call((), ThreadsafeFunctionCallMode::NonBlocking) == Status::Ok;
        gamewire_udp::SocketServer::start(opts, notify).map(|inner| Self { inner }).map_err(|e| match e {
            gamewire_udp::StartError::Io(e) => {
                Error::new(io_code(&e).to_string(), format!("bind {bind}: {e}"))
            }
            gamewire_udp::StartError::Abi(e) => coded(e),
            #[cfg(feature = "webtransport")]
            gamewire_udp::StartError::WebTransport(e) => webtransport_error(&e),
        })
    }

    /// A datagram from a connection of a transport JavaScript runs (WebSocket), `key` naming
    /// the connection, from `host:port`; returns its peer id (-1 if refused: blocked, full).
    #[napi]
    pub fn receive_external(&self, key: u32, host: String, port: u32, mut datagram: BufferSlice) -> i64 {
        let ip = host.parse().unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
        let remote = std::net::SocketAddr::new(ip, u16::try_from(port).unwrap_or(0));
        self.inner.receive_external(key, remote, &mut datagram).map_or(-1, i64::from)
    }

    /// The connection `key` of a JavaScript transport closed: its peer ends at once.
    #[napi]
    pub fn close_external(&self, key: u32) {
        self.inner.close_external(key);
    }

    /// How a peer is reached: 0 UDP, 1 WebTransport, 2 a JavaScript transport (-1 unknown).
    #[napi]
    pub fn peer_transport(&self, peer: u32) -> i32 {
        self.inner.peer_route(peer).map_or(-1, |r| r.kind() as i32)
    }

    /// The WebTransport endpoint (null when it was not asked for).
    #[napi]
    pub fn webtransport(&self) -> Option<WebTransportInfo> {
        #[cfg(feature = "webtransport")]
        {
            self.inner.webtransport().map(|(addr, cert)| WebTransportInfo {
                host: addr.ip().to_string(),
                port: u32::from(addr.port()),
                certificate_hash: cert.hash_hex(),
                self_signed: cert.self_signed,
            })
        }
        #[cfg(not(feature = "webtransport"))]
        None
    }

    /// The bound IP address.
    #[napi]
    pub fn local_host(&self) -> String {
        self.inner.local_addr().ip().to_string()
    }

    /// The bound port.
    #[napi]
    pub fn local_port(&self) -> u32 {
        u32::from(self.inner.local_addr().port())
    }

    /// Socket threads.
    #[napi]
    pub fn threads(&self) -> u32 {
        self.inner.threads() as u32
    }

    /// The driver's clock, milliseconds.
    #[napi]
    pub fn now(&self) -> f64 {
        self.inner.now_ms()
    }

    /// Drains events into `out` (flat records); returns the bytes written.
    #[napi]
    pub fn events(&self, mut out: BufferSlice) -> u32 {
        self.inner.events(&mut out)
    }

    /// Room the next event needs when it did not fit.
    #[napi]
    pub fn pending_event_size(&self) -> u32 {
        self.inner.pending_event_size()
    }

    /// A peer's IP address (null if unknown).
    #[napi]
    pub fn peer_host(&self, peer: u32) -> Option<String> {
        self.inner.peer_addr(peer).map(|a| a.ip().to_string())
    }

    /// A peer's port (0 if unknown).
    #[napi]
    pub fn peer_port(&self, peer: u32) -> u32 {
        self.inner.peer_addr(peer).map_or(0, |a| u32::from(a.port()))
    }

    /// Queues a message; 0 or a negative code. Call `transmitNow()` after a batch of sends.
    #[napi]
    pub fn send(&self, peer: u32, data: &[u8], mode: i32, callback: u32) -> i32 {
        self.inner
            .with_peer(peer, |st, now| st.engine.send(now, peer, data, mode, callback))
            .unwrap_or(abi::code::UNKNOWN_CONNECTION)
    }

    /// Queues a batch of message records (the flat `send_batch` layout), each on its peer's
    /// shard; one result code per record into `results`. Call `transmitNow()` after.
    #[napi]
    pub fn send_batch(&self, cmds: &[u8], count: u32, mut results: BufferSlice) -> u32 {
        self.inner.send_batch(cmds, count as usize, &mut results)
    }

    /// Queues one message to many peers; returns how many accepted it.
    #[napi]
    pub fn broadcast(&self, peers: &[u32], data: &[u8], mode: i32) -> u32 {
        self.inner.broadcast(peers, data, mode)
    }

    /// Closes one connection gracefully.
    #[napi]
    pub fn disconnect(&self, peer: u32) {
        self.inner.with_peer(peer, |st, now| st.engine.disconnect(now, peer));
    }

    /// Closes every connection gracefully.
    #[napi]
    pub fn close_all(&self) {
        self.inner.for_each(|st, now| st.engine.close_all(now));
    }

    /// Sends what is due now from the calling (JavaScript) thread, in batches.
    #[napi]
    pub fn transmit_now(&self) {
        self.inner.transmit_now();
    }

    /// Connections, handshakes included.
    #[napi]
    pub fn connection_count(&self) -> u32 {
        self.inner.connection_count()
    }

    /// A `PEER_STATUS` value.
    #[napi]
    pub fn status(&self, peer: u32) -> u32 {
        self.inner.with_peer(peer, |st, _| st.engine.status(peer)).unwrap_or(abi::tables::peer_status::NONE)
    }

    /// The session token.
    #[napi]
    pub fn token(&self, peer: u32) -> u32 {
        self.inner.with_peer(peer, |st, _| st.engine.token(peer)).unwrap_or(0)
    }

    /// Latency in seconds (-1 unknown).
    #[napi]
    pub fn latency(&self, peer: u32) -> f64 {
        self.inner.with_peer(peer, |st, _| st.engine.latency(peer)).unwrap_or(-1.0)
    }

    /// A connection's statistics (f64 LE) into `out`.
    #[napi]
    pub fn connection_stats(&self, peer: u32, mut out: BufferSlice) -> bool {
        self.inner.with_peer(peer, |st, _| st.engine.connection_stats(peer, &mut out)).unwrap_or(false)
    }

    /// Every shard's statistics together (f64 LE) into `out`.
    #[napi]
    pub fn stats(&self, mut out: BufferSlice) -> bool {
        let vals = self.inner.stats().to_array();
        if out.len() < vals.len() * 8 {
            return false;
        }
        for (i, v) in vals.iter().enumerate() {
            out[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
        }
        true
    }

    /// Replaces the configuration (flat; `unixMillisAtZero` is kept).
    #[napi]
    pub fn set_config(&self, config: &[f64]) -> Result<(), String> {
        self.inner.set_config(config).map_err(coded)
    }

    /// Replaces the block list of IP addresses (validated by the caller; all or nothing).
    #[napi]
    pub fn set_block_list(&self, ips: Vec<String>) -> Result<(), String> {
        let parsed: std::result::Result<Vec<std::net::IpAddr>, _> = ips.iter().map(|s| s.parse()).collect();
        let ips =
            parsed.map_err(|e| Error::new("ERR_INVALID_ARG".to_string(), format!("block list: {e}")))?;
        self.inner.set_block_list(ips);
        Ok(())
    }

    /// The threads' time and activity: [handle ms, network ms, idle ms, wake-ups, notifications,
    /// datagrams sent, send messages (fewer than datagrams where UDP GSO grouped them)].
    #[napi]
    pub fn profile(&self) -> Vec<f64> {
        use std::sync::atomic::Ordering::Relaxed;
        let p = self.inner.profile();
        let ms = |a: &std::sync::atomic::AtomicU64| a.load(Relaxed) as f64 / 1e6;
        vec![
            ms(&p.handle_ns),
            ms(&p.network_ns),
            ms(&p.idle_ns),
            p.wakeups.load(Relaxed) as f64,
            p.notifications.load(Relaxed) as f64,
            p.datagrams_sent.load(Relaxed) as f64,
            p.send_messages.load(Relaxed) as f64,
        ]
    }

    /// Forgets every connection (without telling peers), stops the threads and closes the
    /// sockets: the port is free when this returns.
    #[napi]
    pub fn stop(&mut self) {
        self.inner.for_each(|st, _| st.engine.abort_all());
        self.inner.stop();
    }
}

/// The endpoint's options from JavaScript's.
#[cfg(feature = "webtransport")]
fn webtransport_options(o: WebTransportOptions) -> Result<gamewire_webtransport::Options, String> {
    let bad = |m: String| Error::new("ERR_CONFIG".to_string(), m);
    let ip: std::net::IpAddr =
        o.host.parse().map_err(|e| bad(format!("webtransport.host: {:?}: {e}", o.host)))?;
    let port =
        u16::try_from(o.port).map_err(|_| bad(format!("webtransport.port: out of range: {}", o.port)))?;
    let mut opts = gamewire_webtransport::Options::new(std::net::SocketAddr::new(ip, port));
    opts.path = o.path;
    opts.identity = match (o.cert_pem, o.key_pem) {
        (Some(cert_pem), Some(key_pem)) => Some(gamewire_webtransport::PemIdentity { cert_pem, key_pem }),
        (None, None) => None,
        _ => return Err(bad("webtransport.cert: certPem and keyPem go together".to_string())),
    };
    Ok(opts)
}

#[cfg(not(feature = "webtransport"))]
fn webtransport_options(_o: WebTransportOptions) -> Result<(), String> {
    Err(Error::new(
        "ERR_CONFIG".to_string(),
        "webtransport: this build of the native addon has no WebTransport endpoint".to_string(),
    ))
}

/// A WebTransport start error as JavaScript sees it.
#[cfg(feature = "webtransport")]
fn webtransport_error(e: &gamewire_webtransport::StartError) -> Error<String> {
    match e {
        gamewire_webtransport::StartError::Bind(io) => {
            Error::new(io_code(io).to_string(), format!("bind webtransport: {io}"))
        }
        other => Error::new("ERR_CONFIG".to_string(), format!("webtransport: {other}")),
    }
}

/// The code JavaScript sees for a socket error: Node's name for the common ones.
fn io_code(e: &std::io::Error) -> &'static str {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => "EADDRINUSE",
        std::io::ErrorKind::AddrNotAvailable => "EADDRNOTAVAIL",
        std::io::ErrorKind::PermissionDenied => "EACCES",
        _ => "ERR_SOCKET",
    }
}
