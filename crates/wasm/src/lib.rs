//! wasm-bindgen glue: each export converts its arguments, calls `gamewire_abi` (the flat interface
//! every binding shares), and converts the result. No protocol logic lives here. The names match
//! `crates/napi` one for one.
//!
//! Errors of the flat interface reach JavaScript as `Error`s with `code` set (`ERR_CONFIG`,
//! `ERR_BAD_KEY`, `ERR_INVALID_ARG`, `ERR_ENTROPY`), as from the N-API addon.

use gamewire_abi::{self as abi, AbiError};
use gamewire_core::codec::{self, Direction, Header};
use gamewire_core::Seq;
use wasm_bindgen::prelude::*;

fn seq(v: u32) -> Result<Seq, JsError> {
    u16::try_from(v).map(Seq::new).map_err(|_| JsError::new(&format!("sequence number out of range: {v}")))
}

/// The core's version (the crate version it was built from).
#[wasm_bindgen(js_name = coreVersion)]
pub fn core_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// The sequence number after `a` on the 1..=65535 ring.
#[wasm_bindgen(js_name = seqNext)]
pub fn seq_next(a: u32) -> Result<u32, JsError> {
    Ok(u32::from(seq(a)?.next().get()))
}

/// `a + n` on the ring, folded once as mpgameserver does; throws when it leaves the ring.
#[wasm_bindgen(js_name = seqAdd)]
pub fn seq_add(a: u32, n: f64) -> Result<u32, JsError> {
    seq(a)?.checked_add(n as i64).map(|s| u32::from(s.get())).map_err(|e| JsError::new(&e.to_string()))
}

/// `a - n` on the ring, folded once; throws when it leaves the ring.
#[wasm_bindgen(js_name = seqSub)]
pub fn seq_sub(a: u32, n: f64) -> Result<u32, JsError> {
    seq(a)?.checked_sub(n as i64).map(|s| u32::from(s.get())).map_err(|e| JsError::new(&e.to_string()))
}

/// `a - b` folded into [-32767, 32767].
#[wasm_bindgen(js_name = seqDiff)]
pub fn seq_diff(a: u32, b: u32) -> Result<i32, JsError> {
    Ok(seq(a)?.diff(seq(b)?))
}

/// True when `a` is newer than `b`.
#[wasm_bindgen(js_name = seqNewerThan)]
pub fn seq_newer_than(a: u32, b: u32) -> Result<bool, JsError> {
    Ok(seq(a)?.newer_than(seq(b)?))
}

/// CRC-32 (zlib) of `data`.
#[wasm_bindgen]
pub fn crc32(data: &[u8]) -> u32 {
    gamewire_core::crc32(data)
}

/// Encodes a header from `fields` = [toServer, ctime, seq, ack, type, length, count, ackBits]
/// into the first 20 bytes of `out`.
#[wasm_bindgen(js_name = encodeHeader)]
pub fn encode_header(fields: &[u32], out: &mut [u8]) -> Result<(), JsError> {
    let h = abi::header_from_fields(fields).map_err(|e| JsError::new(&e.message))?;
    if out.len() < codec::HEADER_SIZE {
        return Err(JsError::new("output buffer shorter than 20 bytes"));
    }
    h.encode(out);
    Ok(())
}

/// Decodes the header at the start of `buf`; see the napi binding for the codes.
#[wasm_bindgen(js_name = decodeHeader)]
pub fn decode_header(buf: &[u8], as_server: bool, out: &mut [u8]) -> Result<u32, JsError> {
    let expect = if as_server { Direction::ToServer } else { Direction::ToClient };
    match Header::decode(buf, expect) {
        Ok(h) => {
            abi::write_u32s(out, &abi::header_to_fields(&h)).map_err(|e| JsError::new(&e.message))?;
            Ok(0)
        }
        Err(e) => Ok(abi::header_error_code(e)),
    }
}

// ---- the engine ---------------------------------------------------------------------------------

/// The module's linear memory, for the typed-array views over the engine's buffers. (Not named
/// `memory`: that is the name of the memory export itself.)
#[wasm_bindgen(js_name = wasmMemory)]
pub fn wasm_memory() -> JsValue {
    wasm_bindgen::memory()
}

/// Description of every flat layout (JSON), checked by the TypeScript loader.
#[wasm_bindgen]
pub fn layout() -> String {
    abi::layout_json()
}

/// The default configuration, flat.
#[wasm_bindgen(js_name = defaultConfig)]
pub fn default_config() -> Vec<f64> {
    abi::config_to_flat(&gamewire_core::Config::default())
}

/// A JavaScript `Error` carrying the flat interface's `code`.
fn coded(e: AbiError) -> JsValue {
    let err = js_sys::Error::new(&e.message);
    // Setting a property on a fresh Error object cannot fail.
    let _ = js_sys::Reflect::set(&err, &JsValue::from_str("code"), &JsValue::from_str(e.code));
    err.into()
}

/// A fresh root key, PKCS#8 DER.
#[wasm_bindgen(js_name = keyGenerate)]
pub fn key_generate() -> Result<Vec<u8>, JsValue> {
    abi::keys::key_generate().map_err(coded)
}

/// PKCS#8 DER of a PEM private key (PKCS#8 or SEC1).
#[wasm_bindgen(js_name = keyFromPem)]
pub fn key_from_pem(pem: &str) -> Result<Vec<u8>, JsValue> {
    abi::keys::key_from_pem(pem).map_err(coded)
}

/// PKCS#8 PEM of a PKCS#8 DER private key.
#[wasm_bindgen(js_name = keyToPem)]
pub fn key_to_pem(der: &[u8]) -> Result<String, JsValue> {
    abi::keys::key_to_pem(der).map_err(coded)
}

/// SPKI DER public key of a PKCS#8 DER private key.
#[wasm_bindgen(js_name = keyPublic)]
pub fn key_public(der: &[u8]) -> Result<Vec<u8>, JsValue> {
    abi::keys::key_public(der).map_err(coded)
}

/// SPKI DER of a PEM public key.
#[wasm_bindgen(js_name = publicKeyFromPem)]
pub fn public_key_from_pem(pem: &str) -> Result<Vec<u8>, JsValue> {
    abi::keys::public_key_from_pem(pem).map_err(coded)
}

/// SPKI PEM of an SPKI DER public key.
#[wasm_bindgen(js_name = publicKeyToPem)]
pub fn public_key_to_pem(spki: &[u8]) -> Result<String, JsValue> {
    abi::keys::public_key_to_pem(spki).map_err(coded)
}

/// Datagrams one `handle` call takes at most.
const IN_DATAGRAMS: usize = 256;
/// Datagrams one `transmit` call writes at most.
const OUT_DATAGRAMS: usize = 128;
const EVENT_BYTES: usize = 256 * 1024;
const DATAGRAM_ROOM: usize = abi::layout::DATAGRAM_ROOM as usize;
const COMMAND_BYTES: usize = 256 * 1024;

/// A gamewire endpoint whose I/O buffers live in this module's memory: JavaScript writes
/// datagrams and commands into them through views (see the `*Ptr` getters) and reads results
/// the same way, so nothing is copied across the boundary per datagram.
#[wasm_bindgen]
pub struct Engine {
    inner: abi::FlatEngine,
    in_buf: Vec<u8>,
    in_meta: Vec<u32>,
    in_status: Vec<u8>,
    out_buf: Vec<u8>,
    out_meta: Vec<u8>,
    ev_buf: Vec<u8>,
    cmd_buf: Vec<u8>,
    results: Vec<u8>,
    stats_buf: Vec<u8>,
}

fn ptr(v: &[u8]) -> u32 {
    v.as_ptr() as usize as u32
}

impl Engine {
    fn with(inner: abi::FlatEngine) -> Self {
        Self {
            inner,
            in_buf: vec![0; IN_DATAGRAMS * DATAGRAM_ROOM],
            in_meta: vec![0; IN_DATAGRAMS * abi::layout::IN_META_FIELDS as usize],
            in_status: vec![0; IN_DATAGRAMS],
            out_buf: vec![0; OUT_DATAGRAMS * DATAGRAM_ROOM],
            out_meta: vec![0; OUT_DATAGRAMS * abi::layout::TRANSMIT_META as usize],
            ev_buf: vec![0; EVENT_BYTES],
            cmd_buf: vec![0; COMMAND_BYTES],
            results: vec![0; COMMAND_BYTES / abi::layout::SEND_HEAD as usize],
            stats_buf: vec![0; 8 * 64],
        }
    }
}

#[wasm_bindgen]
impl Engine {
    /// A server engine; `rootPkcs8` empty = a fresh key; `seed` (32 bytes) fixes the RNG.
    pub fn server(config: &[f64], root_pkcs8: &[u8], seed: &[u8]) -> Result<Engine, JsValue> {
        abi::FlatEngine::server(config, root_pkcs8, seed).map(Self::with).map_err(coded)
    }

    /// A client engine.
    pub fn client(config: &[f64], seed: &[u8]) -> Result<Engine, JsValue> {
        abi::FlatEngine::client(config, seed).map(Self::with).map_err(coded)
    }

    /// Replaces the configuration.
    #[wasm_bindgen(js_name = setConfig)]
    pub fn set_config(&mut self, config: &[f64]) -> Result<(), JsValue> {
        self.inner.set_config(config).map_err(coded)
    }

    /// The root public key (SPKI DER; empty for a client).
    #[wasm_bindgen(js_name = rootPublicSpki)]
    pub fn root_public_spki(&self) -> Vec<u8> {
        self.inner.root_public_spki()
    }

    /// Address and size of the input datagram buffer.
    #[wasm_bindgen(js_name = inBufPtr)]
    pub fn in_buf_ptr(&self) -> u32 {
        ptr(&self.in_buf)
    }
    /// Input buffer size in bytes.
    #[wasm_bindgen(js_name = inBufLen)]
    pub fn in_buf_len(&self) -> u32 {
        self.in_buf.len() as u32
    }
    /// Address of the input meta array (u32 quadruples: peer, offset, len, source).
    #[wasm_bindgen(js_name = inMetaPtr)]
    pub fn in_meta_ptr(&self) -> u32 {
        self.in_meta.as_ptr() as usize as u32
    }
    /// Address of the per-datagram result codes of `handle`.
    #[wasm_bindgen(js_name = inStatusPtr)]
    pub fn in_status_ptr(&self) -> u32 {
        ptr(&self.in_status)
    }
    /// Datagrams the input buffers hold.
    #[wasm_bindgen(js_name = inCapacity)]
    pub fn in_capacity(&self) -> u32 {
        IN_DATAGRAMS as u32
    }
    /// Address of the output datagram buffer.
    #[wasm_bindgen(js_name = outBufPtr)]
    pub fn out_buf_ptr(&self) -> u32 {
        ptr(&self.out_buf)
    }
    /// Output buffer size.
    #[wasm_bindgen(js_name = outBufLen)]
    pub fn out_buf_len(&self) -> u32 {
        self.out_buf.len() as u32
    }
    /// Address of the output meta array.
    #[wasm_bindgen(js_name = outMetaPtr)]
    pub fn out_meta_ptr(&self) -> u32 {
        ptr(&self.out_meta)
    }
    /// Output meta size in bytes.
    #[wasm_bindgen(js_name = outMetaLen)]
    pub fn out_meta_len(&self) -> u32 {
        self.out_meta.len() as u32
    }
    /// Address of the event buffer (it may move when it grows: re-read after `events`).
    #[wasm_bindgen(js_name = evBufPtr)]
    pub fn ev_buf_ptr(&self) -> u32 {
        ptr(&self.ev_buf)
    }
    /// Event buffer size.
    #[wasm_bindgen(js_name = evBufLen)]
    pub fn ev_buf_len(&self) -> u32 {
        self.ev_buf.len() as u32
    }
    /// Address of the command buffer.
    #[wasm_bindgen(js_name = cmdBufPtr)]
    pub fn cmd_buf_ptr(&self) -> u32 {
        ptr(&self.cmd_buf)
    }
    /// Command buffer size.
    #[wasm_bindgen(js_name = cmdBufLen)]
    pub fn cmd_buf_len(&self) -> u32 {
        self.cmd_buf.len() as u32
    }
    /// Address of the per-command result codes (i8).
    #[wasm_bindgen(js_name = resultsPtr)]
    pub fn results_ptr(&self) -> u32 {
        ptr(&self.results)
    }
    /// Address of the statistics output (f64).
    #[wasm_bindgen(js_name = statsPtr)]
    pub fn stats_ptr(&self) -> u32 {
        ptr(&self.stats_buf)
    }

    /// Handles `count` datagrams from the input buffers.
    pub fn handle(&mut self, now: f64, count: u32) -> u32 {
        let n = (count as usize).min(IN_DATAGRAMS);
        self.inner.handle(now, &mut self.in_buf, &self.in_meta, n, &mut self.in_status)
    }

    /// Answers up to `max` queued CLIENT_HELLOs; returns how many were taken from the queue.
    #[wasm_bindgen(js_name = processHandshakes)]
    pub fn process_handshakes(&mut self, now: f64, max: u32) -> u32 {
        self.inner.process_handshakes(now, max)
    }

    /// CLIENT_HELLOs waiting for `processHandshakes`.
    #[wasm_bindgen(js_name = queuedHandshakes)]
    pub fn queued_handshakes(&self) -> u32 {
        self.inner.queued_handshakes()
    }

    /// Runs the timers.
    pub fn tick(&mut self, now: f64) {
        self.inner.tick(now);
    }

    /// Writes due datagrams into the output buffers; returns how many.
    pub fn transmit(&mut self, now: f64) -> u32 {
        self.inner.transmit(now, &mut self.out_buf, &mut self.out_meta)
    }

    /// Writes queued events into the event buffer (growing it for an event larger than it);
    /// returns the bytes written.
    pub fn events(&mut self) -> u32 {
        let need = self.inner.pending_event_size() as usize;
        if need > self.ev_buf.len() {
            self.ev_buf.resize(need.next_power_of_two(), 0);
        }
        self.inner.events(&mut self.ev_buf)
    }

    /// Room the next event needs when it did not fit (0 if none waits).
    #[wasm_bindgen(js_name = pendingEventSize)]
    pub fn pending_event_size(&self) -> u32 {
        self.inner.pending_event_size()
    }

    /// Queues a message; 0 or a negative code.
    pub fn send(&mut self, now: f64, peer: u32, data: &[u8], mode: i32, callback: u32) -> i32 {
        self.inner.send(now, peer, data, mode, callback)
    }

    /// Queues the message stored at the start of the command buffer (`len` bytes) to `peer`.
    #[wasm_bindgen(js_name = sendFromCmd)]
    pub fn send_from_cmd(&mut self, now: f64, peer: u32, len: u32, mode: i32, callback: u32) -> i32 {
        let len = (len as usize).min(self.cmd_buf.len());
        let Self { inner, cmd_buf, .. } = self;
        inner.send(now, peer, &cmd_buf[..len], mode, callback)
    }

    /// Queues one message to many peers; returns how many accepted it.
    pub fn broadcast(&mut self, now: f64, peers: &[u32], data: &[u8], mode: i32) -> u32 {
        self.inner.broadcast(now, peers, data, mode)
    }

    /// Queues `count` message records from the command buffer; results into the results buffer.
    #[wasm_bindgen(js_name = sendBatch)]
    pub fn send_batch(&mut self, now: f64, count: u32) -> u32 {
        let Self { inner, cmd_buf, results, .. } = self;
        inner.send_batch(now, cmd_buf, count as usize, results)
    }

    /// Client: connects to `peer`; 0 or a negative code.
    pub fn connect(&mut self, now: f64, peer: u32, pinned_spki: &[u8], insecure: bool) -> i32 {
        self.inner.connect(now, peer, pinned_spki, insecure)
    }

    /// Closes the connection with `peer` gracefully.
    pub fn disconnect(&mut self, now: f64, peer: u32) {
        self.inner.disconnect(now, peer);
    }

    /// Ends the connection with `peer` at once (its transport is gone).
    pub fn abort(&mut self, now: f64, peer: u32) {
        self.inner.abort(now, peer);
    }

    /// Closes every connection gracefully.
    #[wasm_bindgen(js_name = closeAll)]
    pub fn close_all(&mut self, now: f64) {
        self.inner.close_all(now);
    }

    /// Forgets every connection.
    #[wasm_bindgen(js_name = abortAll)]
    pub fn abort_all(&mut self) {
        self.inner.abort_all();
    }

    /// 0 none, 1 connecting, 2 connected, 3 disconnecting.
    pub fn status(&self, peer: u32) -> u32 {
        self.inner.status(peer)
    }

    /// The session token.
    pub fn token(&self, peer: u32) -> u32 {
        self.inner.token(peer)
    }

    /// Latency in seconds (-1 unknown).
    pub fn latency(&self, peer: u32) -> f64 {
        self.inner.latency(peer)
    }

    /// Connections, handshakes included.
    #[wasm_bindgen(js_name = connectionCount)]
    pub fn connection_count(&self) -> u32 {
        self.inner.connection_count()
    }

    /// Writes a connection's statistics into the stats buffer.
    #[wasm_bindgen(js_name = connectionStats)]
    pub fn connection_stats(&mut self, peer: u32) -> bool {
        let Self { inner, stats_buf, .. } = self;
        inner.connection_stats(peer, stats_buf)
    }

    /// Writes the endpoint's statistics into the stats buffer.
    pub fn stats(&mut self) -> bool {
        let Self { inner, stats_buf, .. } = self;
        inner.stats(stats_buf)
    }

    /// Counts a datagram the driver's block list dropped.
    #[wasm_bindgen(js_name = countBlocked)]
    pub fn count_blocked(&mut self, bytes: u32) {
        self.inner.count_blocked(bytes);
    }

    /// The next deadline in caller milliseconds, or -1.
    #[wasm_bindgen(js_name = nextTimeout)]
    pub fn next_timeout(&mut self) -> f64 {
        self.inner.next_timeout()
    }
}

// ---- tests and micro-benchmarks only (feature `testing`) ------------------------------------------
// The batch calls take and return copies (wasm-bindgen copies slices in and out of the module's
// memory), as a straightforward binding would; the engine above avoids the copies with buffers
// inside the module.

#[cfg(feature = "testing")]
#[wasm_bindgen]
impl Engine {
    /// A connection already established with a 16-byte key (no handshake).
    #[wasm_bindgen(js_name = dangerEstablish)]
    pub fn danger_establish(&mut self, now: f64, peer: u32, key: &[u8], token: u32) -> bool {
        self.inner.danger_establish(now, peer, key, token)
    }
}

#[cfg(feature = "testing")]
use abi::testing::batch;

#[cfg(feature = "testing")]
fn js_err(e: String) -> JsError {
    JsError::new(&e)
}

/// Encodes unprotected packets (`gamewire_core::abi::testing::batch::encode`).
#[cfg(feature = "testing")]
#[wasm_bindgen(js_name = codecEncode)]
#[allow(clippy::too_many_arguments)] // mirrors the flat batch layout
pub fn codec_encode(
    headers: &[u32],
    data: &[u8],
    rows: &[u32],
    first: &[u32],
    count: u32,
    out: &mut [u8],
    offsets: &[u32],
    lengths: &mut [u32],
    capacity: u32,
) -> Result<(), JsError> {
    let packets = batch::Packets { headers, data, rows, first };
    let out = batch::SlotsMut { buf: out, offsets, lengths };
    batch::encode(packets, count as usize, out, capacity as usize).map_err(js_err)
}

/// Decodes unprotected packets (`gamewire_core::abi::testing::batch::decode`).
#[cfg(feature = "testing")]
#[wasm_bindgen(js_name = codecDecode)]
#[allow(clippy::too_many_arguments)]
pub fn codec_decode(
    src: &[u8],
    offsets: &[u32],
    lengths: &[u32],
    count: u32,
    as_server: bool,
    headers: &mut [u32],
    status: &mut [u8],
    msgs: &mut [u32],
) -> u32 {
    batch::decode(
        batch::Slots { buf: src, offsets, lengths },
        count as usize,
        as_server,
        headers,
        status,
        msgs,
    )
}

/// AES-128-GCM over batches of datagrams (`gamewire_core::abi::testing::batch::AeadBatch`).
#[cfg(feature = "testing")]
#[wasm_bindgen]
pub struct AeadBatch {
    inner: batch::AeadBatch,
}

#[cfg(feature = "testing")]
#[wasm_bindgen]
impl AeadBatch {
    /// Prepares a 16-byte key.
    #[wasm_bindgen(constructor)]
    pub fn new(key: &[u8]) -> Result<AeadBatch, JsError> {
        batch::AeadBatch::new(key).map(|inner| Self { inner }).map_err(js_err)
    }

    /// Seals packets into `out` slots.
    #[allow(clippy::too_many_arguments)]
    pub fn seal(
        &self,
        src: &[u8],
        offsets: &[u32],
        lengths: &[u32],
        count: u32,
        out: &mut [u8],
        out_offsets: &[u32],
        out_lengths: &mut [u32],
    ) -> Result<(), JsError> {
        let src = batch::Slots { buf: src, offsets, lengths };
        self.inner
            .seal(
                src,
                count as usize,
                batch::SlotsMut { buf: out, offsets: out_offsets, lengths: out_lengths },
            )
            .map_err(js_err)
    }

    /// Opens datagrams into `out` slots; returns how many opened.
    #[allow(clippy::too_many_arguments)]
    pub fn open(
        &self,
        src: &[u8],
        offsets: &[u32],
        lengths: &[u32],
        count: u32,
        out: &mut [u8],
        out_offsets: &[u32],
        out_lengths: &mut [u32],
        status: &mut [u8],
    ) -> u32 {
        let src = batch::Slots { buf: src, offsets, lengths };
        self.inner.open(
            src,
            count as usize,
            batch::SlotsMut { buf: out, offsets: out_offsets, lengths: out_lengths },
            status,
        )
    }

    /// Encodes and seals packets straight into `out` slots.
    #[wasm_bindgen(js_name = encodeSeal)]
    #[allow(clippy::too_many_arguments)]
    pub fn encode_seal(
        &self,
        headers: &[u32],
        data: &[u8],
        rows: &[u32],
        first: &[u32],
        count: u32,
        out: &mut [u8],
        offsets: &[u32],
        lengths: &mut [u32],
        capacity: u32,
    ) -> Result<(), JsError> {
        let packets = batch::Packets { headers, data, rows, first };
        let out = batch::SlotsMut { buf: out, offsets, lengths };
        self.inner.encode_seal(packets, count as usize, out, capacity as usize).map_err(js_err)
    }
}
