/**
 * What an implementation of the wire format must provide to be benchmarked.
 *
 * Every suite (codec, crypto, pipeline) is written once against these interfaces; the plain
 * TypeScript baseline (`bench/impls/plain.ts`) and the Rust backends (`bench/impls/backend.ts`)
 * are adapters onto them. The shapes are chosen so that a native or WASM implementation can be
 * called once per batch with nothing allocated per datagram:
 *
 * - all bytes live in caller-owned buffers ({@link Slots}); callees write into them and report
 *   lengths in caller-owned `Uint32Array`s;
 * - headers, message lists and results are flat rows of `u32` in caller-owned typed arrays
 *   ({@link HEADER_FIELDS}, {@link OUT_MSG_FIELDS}, {@link IN_MSG_FIELDS});
 * - per-datagram failures are status codes ({@link Status}) in a caller-owned `Uint8Array`,
 *   never exceptions. Exceptions are for caller errors (a batch that does not fit its buffers).
 *
 * A batch of `count` items always uses items `0 .. count-1` of every array passed with it.
 */

/** The implementations the suites compare; ratios are taken against `plain`. */
export type ImplName = 'plain' | 'native' | 'wasm';

/** All implementation names, `plain` (the reference) first. */
export const IMPL_NAMES: readonly ImplName[] = ['plain', 'native', 'wasm'];

/**
 * Byte ranges inside one caller-owned buffer: range `i` is
 * `buf[offsets[i], offsets[i] + lengths[i])`.
 *
 * As an input, `lengths[i]` is the number of bytes present. As an output, the callee may write up
 * to `capacity` bytes from `offsets[i]` and sets `lengths[i]` to the number it wrote (0 when it
 * wrote nothing, e.g. for a dropped datagram).
 */
export interface Slots {
  /** The arena every range lives in. */
  readonly buf: Uint8Array;
  /** Start of each range in `buf`. */
  readonly offsets: Uint32Array;
  /** Length of each range. */
  readonly lengths: Uint32Array;
  /** Room of each range when written to (the ranges never overlap). */
  readonly capacity: number;
}

/**
 * `u32` per header row: `[toServer (0/1), ctime, seq, ack, type, length, count, ackBits]`, the
 * layout `ts/backend` and `crates/core/src/abi.rs` already use.
 */
export const HEADER_FIELDS = 8;
/** Column of each header field in a header row. */
export const H = { TO_SERVER: 0, CTIME: 1, SEQ: 2, ACK: 3, TYPE: 4, LENGTH: 5, COUNT: 6, ACK_BITS: 7 } as const;

/** `u32` per row of an {@link OutMessages} table: `[type, offset, length, seq]`. */
export const OUT_MSG_FIELDS = 4;
/** Column of each field in an {@link OutMessages} row. */
export const OM = { TYPE: 0, OFFSET: 1, LENGTH: 2, SEQ: 3 } as const;

/**
 * Messages to put into packets, as rows over one data buffer. Packet `i` carries rows
 * `first[i] .. first[i + 1] - 1` in that order (0 rows: a KEEP_ALIVE), so `first` has one more
 * entry than there are packets. Row `r` is `rows[4r .. 4r + 3]` = `[type, offset, length, seq]`:
 * the message type, its data at `data[offset, offset + length)`, and its message seq (an input for
 * the codec; an output of {@link Endpoints.send}, which assigns seqs).
 */
export interface OutMessages {
  /** The message bytes. */
  readonly data: Uint8Array;
  /** `OUT_MSG_FIELDS` u32 per message. */
  readonly rows: Uint32Array;
  /** Index of the first row of each packet, plus one past the last. */
  readonly first: Uint32Array;
}

/**
 * `u32` per row of a received-messages table: `[item, seq, type, offset, length]`: the index of
 * the datagram (or packet) in the batch it came from, its message seq, its type, and where its
 * data are, as an absolute offset into the buffer named by the call (the packet's own buffer for
 * the codec, the `plain` arena for {@link Endpoints.receive}).
 */
export const IN_MSG_FIELDS = 5;
/** Column of each field in a received-messages row. */
export const IM = { ITEM: 0, SEQ: 1, TYPE: 2, OFFSET: 3, LENGTH: 4 } as const;

/**
 * Per-datagram outcome. 1..4 are the header errors, with the codes of
 * `gamewire_core::abi::header_error_code`.
 */
export const Status = {
  OK: 0,
  /** Shorter than the 20-byte header. */
  HEADER_TOO_SHORT: 1,
  /** Header type ≥ 8. */
  UNKNOWN_TYPE: 2,
  /** Not `FSOS`/`FSOC`. */
  BAD_MAGIC: 3,
  /** `FSOC` at a server or `FSOS` at a client. */
  WRONG_DIRECTION: 4,
  /** The header's length field runs past the datagram. */
  LENGTH: 5,
  /** The GCM tag (or CRC) does not verify, or the datagram is too short for it. */
  AUTH: 6,
  /** The message framing does not fit the payload, or more messages than the output has room for. */
  FRAMING: 7,
  /** The packet seq was already received (packet window). */
  DUPLICATE: 8,
} as const;
export type StatusCode = (typeof Status)[keyof typeof Status];

/** Header + message framing of unprotected packets (header ‖ payload, no tag, no CRC). */
export interface CodecImpl {
  /**
   * Encodes `count` packets. Packet `i` gets its header from row `i` of `headers` (`toServer`,
   * `ctime`, `seq`, `ack`, `type`, `ackBits` are used; `length` and `count` are computed from its
   * messages and written into the packet, not into `headers`) and its messages from `msgs`
   * (seqs included). Writes header ‖ framed payload to `out` slot `i` and sets `out.lengths[i]`.
   * @throws when a packet's messages exceed the 1434-byte budget or 255 messages, or a slot's capacity
   */
  encode(headers: Uint32Array, msgs: OutMessages, count: number, out: Slots): void;

  /**
   * Decodes the `count` packets in `src` as the server (`asServer`) or the client would: the
   * header checks (size, type, magic, direction), the length field against the slot, the framing.
   * Writes the outcome into `status[i]`; for a good packet, header row `i` into `headers` (all 8
   * fields; the row is left as is for a bad one) and one row per message into `msgs`
   * ({@link IN_MSG_FIELDS} per row, offsets into `src.buf`, in packet then message order).
   * @returns the number of message rows written
   */
  decode(src: Slots, count: number, asServer: boolean, headers: Uint32Array, status: Uint8Array, msgs: Uint32Array): number;
}

/** AES-128-GCM protection under one session key (wire spec §4). */
export interface AeadSession {
  /**
   * Seals `count` packets: `src` slot `i` holds header(20) ‖ payload; `out` slot `i` receives
   * header ‖ ciphertext ‖ tag(16) with nonce = header[0:12] and AAD = header, and
   * `out.lengths[i] = src.lengths[i] + 16`. The header's length field is not consulted.
   */
  seal(src: Slots, count: number, out: Slots): void;

  /**
   * Opens `count` datagrams: checks the header's length field against the datagram
   * ({@link Status.LENGTH}) and the tag ({@link Status.AUTH}); bytes after the tag are ignored.
   * `out` slot `i` (room for `src.lengths[i]` bytes) receives header ‖ plaintext payload
   * (`out.lengths[i]` = 20 + length, 0 on failure) and `status[i]` the outcome. Does not check
   * the header's other fields.
   * @returns the number of datagrams that opened
   */
  open(src: Slots, count: number, out: Slots, status: Uint8Array): number;

  /**
   * A datagram's send work without connection state: {@link CodecImpl.encode} then
   * {@link AeadSession.seal}, straight into `out` slot `i` (header ‖ ciphertext ‖ tag).
   */
  encodeSeal(headers: Uint32Array, msgs: OutMessages, count: number, out: Slots): void;
}

/** Per-datagram encryption. */
export interface CryptoImpl {
  /** Prepares `key` (16 bytes) once, for any number of seal/open calls. */
  createSession(key: Uint8Array): AeadSession;
}

/** Counters of one connection, read once per check, not per datagram. */
export interface EndpointStats {
  /** Datagrams sent (KEEP_ALIVEs included). */
  packetsSent: number;
  /** Datagrams accepted (authenticated, not duplicate). */
  packetsReceived: number;
  /** Datagrams dropped for a bad header, length, tag or framing. */
  dropped: number;
  /** Datagrams dropped by the packet window. */
  duplicatePackets: number;
  /** Messages dropped by the message window. */
  duplicateMessages: number;
  /** Messages delivered. */
  messagesDelivered: number;
  /** Sent packets acked by the peer. */
  acked: number;
  /** Sent packets that timed out (> 1 s without an ack at ack-processing time). */
  timedOut: number;
  /** Sent packets neither acked nor timed out. */
  pending: number;
  /** Packet window: newest packet seq received (the `ack` we send). */
  ack: number;
  /** Packet window: the `ack_bits` we send. */
  ackBits: number;
  /** Latency EWMA (rtt/2, α = 0.1) in milliseconds. */
  latencyMs: number;
}

/**
 * `count` established connections of one side (all with the same session key, seqs unset), as a
 * server or client holds them. Connections are addressed by index.
 */
export interface Endpoints {
  /** Number of connections. */
  readonly count: number;

  /**
   * The send path of `n` datagrams: datagram `i` goes out on connection `conns[i]` and carries
   * packet `i` of `msgs`. For each: next packet seq, next message seq per message (written into
   * the rows' `seq` column), header (direction of this side, `ctime = floor(nowMs / 1000)`, `ack`
   * and `ackBits` from the connection's packet window, type = first message's type or KEEP_ALIVE),
   * framing, AES-GCM seal into `out` slot `i` (sets `out.lengths[i]`), and the packet recorded as
   * pending for ack processing.
   * @throws when a packet does not fit (caller error)
   */
  send(conns: Uint32Array, n: number, msgs: OutMessages, nowMs: number, out: Slots): void;

  /**
   * The receive path of `n` datagrams: datagram `i` (`src` slot `i`) arrived on connection
   * `conns[i]`. For each: header decode (as this side), length check, AES-GCM open into `plain`
   * slot `i` (room for `src.lengths[i]` bytes; what it holds is up to the implementation, the
   * delivered rows say where the messages are), packet-window insert ({@link Status.DUPLICATE}), ack processing over the pending
   * packets (acks, timeouts, latency), message parsing, message de-duplication (256-seq window).
   * Writes `status[i]` and one row per delivered (non-duplicate) message into `delivered`
   * ({@link IN_MSG_FIELDS} per row, offsets into `plain.buf`). A dropped datagram changes no state
   * but the counters.
   * @returns the number of rows written to `delivered`
   */
  receive(
    conns: Uint32Array,
    n: number,
    src: Slots,
    nowMs: number,
    plain: Slots,
    status: Uint8Array,
    delivered: Uint32Array,
  ): number;

  /** Counters and window state of connection `conn`. */
  stats(conn: number): EndpointStats;
}

/** Per-connection send/receive paths. */
export interface PipelineImpl {
  /** Creates `count` connections of one side, sharing `key`. */
  createEndpoints(options: { key: Uint8Array; isServer: boolean; count: number }): Endpoints;
}

/**
 * One implementation under test. A suite runs on every implementation that provides its part;
 * the others are listed as not measured.
 */
export interface Implementation {
  readonly name: ImplName;
  /** One line for the results: what it is, version, where it was loaded from. */
  readonly description: string;
  readonly codec?: CodecImpl;
  readonly crypto?: CryptoImpl;
  readonly pipeline?: PipelineImpl;
  /** Why parts are missing (e.g. the binding has no batch entry points yet). */
  readonly missing?: string;
}

/** An implementation that could not be loaded at all. */
export interface UnavailableImplementation {
  readonly name: ImplName;
  readonly reason: string;
}
