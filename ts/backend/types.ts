/**
 * The one interface both backends implement. `crates/napi` and `crates/wasm` export the same
 * names (`Binding`); `createBackend` wraps either into a `Backend`, so code above this folder never
 * knows which one it runs on.
 */

/** A backend that can be loaded. */
export type BackendName = 'native' | 'wasm';
/** What a caller may ask for: a backend by name, or `auto` (native if it loads, else WASM). */
export type BackendChoice = BackendName | 'auto';

/** A decoded 20-byte packet header (wire spec §3). */
export interface WireHeader {
  /** `FSOS` (true) or `FSOC` (false). */
  toServer: boolean;
  /** Sender's unix seconds. */
  ctime: number;
  /** Packet sequence number. */
  seq: number;
  /** Newest packet seq received from the peer. */
  ack: number;
  /** Packet type id (wire spec §2). */
  type: number;
  /** Plaintext payload length. */
  length: number;
  /** Number of messages in the payload. */
  count: number;
  /** Receipt bits for the 32 packets before `ack` (unsigned). */
  ackBits: number;
}

/**
 * The raw exports shared by the two bindings. Buffers are passed as `Uint8Array`s the caller owns;
 * outputs are written into them.
 */
export interface Binding {
  coreVersion(): string;
  seqNext(a: number): number;
  seqAdd(a: number, n: number): number;
  seqSub(a: number, n: number): number;
  seqDiff(a: number, b: number): number;
  seqNewerThan(a: number, b: number): boolean;
  crc32(data: Uint8Array): number;
  encodeHeader(fields: Uint32Array, out: Uint8Array): void;
  decodeHeader(buf: Uint8Array, asServer: boolean, out: Uint8Array): number;
}

/** Sequence-number arithmetic on the 1..65535 ring (wire spec §6). */
export interface SeqOps {
  /** The value after `a` (65535 → 1). */
  next(a: number): number;
  /** `a + n`, folded once like mpgameserver; throws when it leaves the ring. */
  add(a: number, n: number): number;
  /** `a - n`, folded once; throws when it leaves the ring. */
  sub(a: number, n: number): number;
  /** `a - b` folded into [-32767, 32767]. */
  diff(a: number, b: number): number;
  /** True when `a` comes after `b`. */
  newerThan(a: number, b: number): boolean;
}

/** The flat arrays' field names a binding was built with (checked against `abi.generated.ts` at load). */
export interface EngineLayout {
  /** Names of the flat configuration array, in order. */
  readonly config: readonly string[];
  /** Names of the flat statistics array, in order. */
  readonly stats: readonly string[];
}

/**
 * A protocol engine (`gamewire_abi::FlatEngine`): an endpoint keyed by small integer peer
 * ids, fed and drained through typed arrays. Views returned by the `*View` methods may be
 * replaced after a call into the engine (WebAssembly memory can grow): fetch them again after
 * each call rather than keeping them.
 */
export interface Engine {
  /** The backend this engine runs on. */
  readonly backend: BackendName;
  /** Datagrams one `handle` call takes at most. */
  readonly inCapacity: number;
  /** Where received datagrams are written before `handle` (up to 2048 bytes each). */
  inView(): Uint8Array;
  /**
   * (peer, offset, length, source) quadruples describing the datagrams in `inView()`; `source`
   * names the sender's IP address (any stable number per address) so queued handshakes are
   * shared out between senders.
   */
  inMetaView(): Uint32Array;
  /**
   * Handles `count` datagrams described by `inMetaView()`; returns how many were accepted.
   * CLIENT_HELLOs are only queued: `processHandshakes` answers them.
   */
  handle(now: number, count: number): number;
  /** After `handle`: one result per datagram, a `DROP_REASONS` code (0 accepted). */
  inStatusView(): Uint8Array;
  /**
   * Answers up to `max` queued CLIENT_HELLOs (each costs an ECDH and an ECDSA signature), senders
   * in turn; returns how many were taken from the queue.
   */
  processHandshakes(now: number, max: number): number;
  /** CLIENT_HELLOs waiting for `processHandshakes`. */
  queuedHandshakes(): number;
  /** Runs the timers (retries, keep-alives, timeouts). */
  tick(now: number): void;
  /** Writes due datagrams to `outView()`, (peer, offset, length) to `outMetaView()`; returns how many. */
  transmit(now: number): number;
  outView(): Uint8Array;
  outMetaView(): Uint32Array;
  /** Writes queued events to `eventView()`; returns the bytes written (0 = none). */
  events(): number;
  eventView(): Uint8Array;
  /** Queues a message (0, or a negative code). */
  send(now: number, peer: number, data: Uint8Array, mode: number, callback: number): number;
  /**
   * The command buffer for `sendBatch`: records of (peer u32, mode i32, callback u32, length u32,
   * then the message padded to 4 bytes), little-endian, back to back. Fetch it again after any
   * other call (the WebAssembly memory may have moved); `ts/backend/batch.ts` does this.
   */
  cmdView(): Uint8Array;
  /** After `sendBatch`: one result per record, 0 queued or a negative code (as `send`). */
  cmdResultView(): Int8Array;
  /** Queues the first `count` records of `cmdView()` in one call; returns how many it read. */
  sendBatch(now: number, count: number): number;
  /** Queues one message to many peers, without callbacks; returns how many accepted it. */
  broadcast(now: number, peers: Uint32Array, data: Uint8Array, mode: number): number;
  /** Client: starts connecting to `peer` (0, or a negative code). */
  connect(now: number, peer: number, pinnedSpki: Uint8Array | null, insecure: boolean): number;
  /** Closes one connection gracefully. */
  disconnect(now: number, peer: number): void;
  /** Ends the connection with `peer` at once, without telling it: its transport is gone. */
  abort(now: number, peer: number): void;
  /** Closes every connection gracefully. */
  closeAll(now: number): void;
  /** Forgets every connection without telling peers. */
  abortAll(): void;
  /** 0 none, 1 connecting, 2 connected, 3 disconnecting. */
  status(peer: number): number;
  token(peer: number): number;
  /** Seconds; -1 if unknown. */
  latency(peer: number): number;
  connectionCount(): number;
  /** Statistics of one connection in `layout.stats` order, or null if unknown. */
  connectionStats(peer: number): Float64Array | null;
  /** Endpoint-wide statistics in `layout.stats` order. */
  stats(): Float64Array;
  countBlocked(bytes: number): void;
  /** The next deadline (same clock as `now`), or -1. */
  nextTimeout(): number;
  setConfig(config: Float64Array): void;
  /** The server's root public key as SPKI DER (empty for a client). */
  rootPublicSpki(): Uint8Array;
}

/** What the socket threads of an `io: 'thread'` server did so far. */
export interface ThreadProfile {
  /** Time handling datagrams and timers, sending, and waiting, ms. */
  handleMs: number;
  networkMs: number;
  idleMs: number;
  /** Wake-ups of the threads, and notifications of the event loop. */
  wakeups: number;
  notifications: number;
  /** Datagrams handed to the kernel, and the send messages that carried them (fewer where UDP GSO grouped several to one peer). */
  datagramsSent: number;
  sendMessages: number;
}

/**
 * Native backend only: a server engine whose socket I/O, decryption, acks, timers and handshakes
 * run on Rust threads (`crates/udp`), one per shard of the port. It is an `Engine` whose
 * `handle`/`tick` do nothing (the threads receive and run the timers), whose `transmit` sends what
 * was queued and is due (from the caller's thread, in batches; returns 0), and whose `events`
 * drains what the threads produced.
 */
export interface ThreadedServer extends Engine {
  /** The bound address. */
  readonly localAddress: { host: string; port: number; family: 'IPv4' | 'IPv6' };
  /** Socket threads sharing the port. */
  readonly threads: number;
  /** The address of a peer id (null once released). */
  peerAddress(peer: number): { host: string; port: number } | null;
  /** Replaces the block list (the threads drop these IPs' datagrams before parsing). */
  setBlockList(ips: readonly string[]): void;
  /** The threads' time and activity. */
  threadProfile(): ThreadProfile;
  /** Stops the threads and closes the sockets: the port is free when it returns. */
  stop(): void;
  /**
   * A datagram from connection `key` of a transport JavaScript runs (WebSocket), from
   * `host:port`: handled like one from the socket. Returns its peer id, or -1 when refused
   * (blocked address, no room). Datagrams for that peer come back as `EV.TRANSMIT` records.
   */
  receiveExternal(key: number, host: string, port: number, datagram: Uint8Array): number;
  /** Connection `key` of a JavaScript transport closed: its peer ends at once. */
  closeExternal(key: number): void;
  /** How a peer is reached: 0 UDP, 1 WebTransport, 2 a JavaScript transport, -1 unknown. */
  peerTransport(peer: number): number;
  /** The WebTransport endpoint, when one was asked for. */
  webtransport(): { host: string; port: number; certificateHash: string; selfSigned: boolean } | null;
}

/** Options of `Backend.createThreadedServer`. */
export interface ThreadedServerOptions {
  host: string;
  port: number;
  config: Float64Array;
  rootPkcs8: Uint8Array | null;
  /** The socket's receive buffer, bytes (0 or absent: the OS default). */
  recvBufferSize?: number;
  /** Socket threads sharing the port (default 1). */
  threads?: number;
  /** How long a thread may hold back `onEvents` after the first event of a batch, ms (default 0). */
  notifyDelayMs?: number;
  /** The share of a thread's time handshakes may take under load (default 0.5). */
  handshakeShare?: number;
  /** A WebTransport endpoint whose sessions are peers of the same engine. */
  webtransport?: WebTransportEndpointOptions;
  /** Called on the event loop when events wait (drain them with `events()`). */
  onEvents: () => void;
}

/** The WebTransport endpoint of a threaded server. */
export interface WebTransportEndpointOptions {
  host: string;
  port: number;
  certPem?: string;
  keyPem?: string;
  path?: string;
  /** Close a session that carries no connected client this long after it opened, ms (default 15 000). */
  joinTimeoutMs?: number;
}

/** P-256 key helpers (PEM interchangeable with mpgameserver's). */
export interface KeyOps {
  /** A fresh root key, PKCS#8 DER. */
  generate(): Uint8Array;
  /** PKCS#8 DER from PEM (PKCS#8 or SEC1). */
  fromPem(pem: string): Uint8Array;
  /** PKCS#8 PEM from PKCS#8 DER. */
  toPem(pkcs8: Uint8Array): string;
  /** The SPKI DER public key of a PKCS#8 DER private key. */
  publicOf(pkcs8: Uint8Array): Uint8Array;
  /** SPKI DER from a PEM public key. */
  publicFromPem(pem: string): Uint8Array;
  /** SPKI PEM from SPKI DER. */
  publicToPem(spki: Uint8Array): string;
}

/** A loaded backend: the same API whichever binding is underneath. */
export interface Backend {
  /** Which binding this is. */
  readonly name: BackendName;
  /** The file it was loaded from. */
  readonly path: string;
  /** Version of gamewire-core inside the binding. */
  readonly coreVersion: string;
  /** The binding's raw exports (internal: their shape is not part of the API). */
  readonly binding: unknown;
  /** Sequence-number arithmetic. */
  readonly seq: SeqOps;
  /** CRC-32 (zlib). */
  crc32(data: Uint8Array): number;
  /** Encodes a header to 20 bytes. */
  encodeHeader(header: WireHeader): Uint8Array;
  /**
   * Decodes the header at the start of `datagram` as the given side would.
   * @throws DecodeError with code `ERR_HEADER_TOO_SHORT`, `ERR_HEADER_UNKNOWN_TYPE`,
   *   `ERR_HEADER_BAD_MAGIC` or `ERR_HEADER_WRONG_DIRECTION`.
   */
  decodeHeader(datagram: Uint8Array, side: 'server' | 'client'): WireHeader;
  /** The flat layouts of this build. */
  readonly layout: EngineLayout;
  /** The default configuration, flat (`layout.config` order). */
  defaultConfig(): Float64Array;
  /** A server engine. `rootPkcs8` null = a fresh root key; `seed` (32 bytes) fixes the RNG. */
  createServer(config: Float64Array, rootPkcs8: Uint8Array | null, seed?: Uint8Array): Engine;
  /** A client engine (one or many outgoing connections). */
  createClient(config: Float64Array, seed?: Uint8Array): Engine;
  /** Key helpers. */
  readonly keys: KeyOps;
  /** Native backend only (undefined on WASM): a server with its socket I/O on a Rust thread. */
  readonly createThreadedServer?: (opts: ThreadedServerOptions) => ThreadedServer;
}
