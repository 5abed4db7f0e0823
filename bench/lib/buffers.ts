/** Caller-owned buffers for the suites: slots, message tables, deterministic test bytes. */
import { HEADER_FIELDS, IN_MSG_FIELDS, OUT_MSG_FIELDS, type OutMessages, type Slots } from './impl.js';

/** Slots whose arena is a Buffer (every implementation takes it as a Uint8Array). */
export interface BufferSlots extends Slots {
  readonly buf: Buffer;
}

/**
 * `count` non-overlapping slots of `capacity` bytes each, 64-byte aligned, zero-filled, lengths 0.
 */
export function makeSlots(count: number, capacity: number): BufferSlots {
  const stride = Math.ceil(capacity / 64) * 64;
  const offsets = new Uint32Array(count);
  for (let i = 0; i < count; i++) offsets[i] = i * stride;
  return { buf: Buffer.alloc(Math.max(1, count * stride)), offsets, lengths: new Uint32Array(count), capacity };
}

/** The bytes of slot `i` (a view). */
export function slotView(s: Slots, i: number): Uint8Array {
  return s.buf.subarray(s.offsets[i], s.offsets[i] + s.lengths[i]);
}

/** Copies of the first `count` slots (for comparing outputs). */
export function slotCopies(s: Slots, count: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) out.push(slotView(s, i).slice());
  return out;
}

/** Fills slot `i` of `s` with `bytes`. */
export function setSlot(s: Slots, i: number, bytes: Uint8Array): void {
  if (bytes.length > s.capacity) throw new RangeError(`slot capacity ${s.capacity} < ${bytes.length}`);
  s.buf.set(bytes, s.offsets[i]);
  s.lengths[i] = bytes.length;
}

/** A message as the suites describe it. */
export interface MessageSpec {
  type: number;
  data: Uint8Array;
  /** Message seq (codec input; ignored by the pipeline, which assigns seqs). */
  seq?: number;
}

/** Packs per-packet message lists into one {@link OutMessages} table over one data buffer. */
export function buildMessages(packets: readonly (readonly MessageSpec[])[]): OutMessages {
  let rowCount = 0;
  let bytes = 0;
  for (const p of packets) {
    rowCount += p.length;
    for (const m of p) bytes += m.data.length;
  }
  const data = Buffer.alloc(Math.max(1, bytes));
  const rows = new Uint32Array(Math.max(1, rowCount) * OUT_MSG_FIELDS);
  const first = new Uint32Array(packets.length + 1);
  let r = 0;
  let pos = 0;
  packets.forEach((p, i) => {
    first[i] = r;
    for (const m of p) {
      data.set(m.data, pos);
      rows.set([m.type, pos, m.data.length, m.seq ?? 0], r * OUT_MSG_FIELDS);
      pos += m.data.length;
      r++;
    }
  });
  first[packets.length] = r;
  return { data, rows, first };
}

/** Header rows (`HEADER_FIELDS` u32 each) from objects. */
export function buildHeaders(
  rows: readonly { toServer: boolean; ctime: number; seq: number; ack: number; type: number; ackBits: number }[],
): Uint32Array {
  const out = new Uint32Array(Math.max(1, rows.length) * HEADER_FIELDS);
  rows.forEach((h, i) => {
    out.set([h.toServer ? 1 : 0, h.ctime, h.seq, h.ack, h.type, 0, 0, h.ackBits >>> 0], i * HEADER_FIELDS);
  });
  return out;
}

/** A received-messages table with room for `rows` rows. */
export function makeInMessages(rows: number): Uint32Array {
  return new Uint32Array(rows * IN_MSG_FIELDS);
}

/** A decoded message row with its bytes copied out (for comparing outputs). */
export type InMessage = {
  item: number;
  seq: number;
  type: number;
  data: Uint8Array;
};

/** Reads `n` rows of a received-messages table whose offsets point into `buf`. */
export function readInMessages(rows: Uint32Array, n: number, buf: Uint8Array): InMessage[] {
  const out: InMessage[] = [];
  for (let r = 0; r < n; r++) {
    const b = r * IN_MSG_FIELDS;
    const offset = rows[b + 3];
    out.push({ item: rows[b], seq: rows[b + 1], type: rows[b + 2], data: buf.slice(offset, offset + rows[b + 4]) });
  }
  return out;
}

/** Deterministic pseudo-random bytes (xorshift32), so every run and implementation sees the same input. */
export function testBytes(length: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = (seed * 0x9e3779b1) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Consecutive integers `0 .. n-1` (connection indices). */
export function range(n: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}
