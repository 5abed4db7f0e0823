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

/** A loaded backend: the same API whichever binding is underneath. */
export interface Backend {
  /** Which binding this is. */
  readonly name: BackendName;
  /** The file it was loaded from. */
  readonly path: string;
  /** Version of gamewire-core inside the binding. */
  readonly coreVersion: string;
  /** The raw exports, for code that batches across the boundary itself. */
  readonly binding: Binding;
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
}
