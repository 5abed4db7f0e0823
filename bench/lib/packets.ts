/**
 * The packets the suites feed every implementation: deterministic message shapes, header rows,
 * and the reference bytes (made with the plain baseline, which the vector tests pin to
 * mpgameserver's own output).
 */
import { createDecipheriv } from 'node:crypto';
import { HEADER_SIZE, PacketType, TAG_SIZE, writePacket, type Message } from '../baseline/index.js';
import { buildHeaders, buildMessages, makeSlots, testBytes, type BufferSlots, type MessageSpec } from './buffers.js';
import type { OutMessages } from './impl.js';

/** The session key every suite uses (the framing.json key). */
export const BENCH_KEY = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
/** The ctime of the codec and crypto packets (1700000000 = 2023-11-14). */
export const BENCH_CTIME = 1_700_000_000;
/** Slot size for any datagram (the largest possible is 1472). */
export const SLOT = 1536;

/** A message layout per packet. */
export interface Shape {
  /** For ids: `64B`, `16x32B`. */
  key: string;
  /** For titles: `1 × 64 B`. */
  label: string;
  /** Data sizes of the messages of one packet. */
  sizes: readonly number[];
}

export const SINGLE_64: Shape = { key: '64B', label: '1 × 64 B', sizes: [64] };
export const SINGLE_512: Shape = { key: '512B', label: '1 × 512 B', sizes: [512] };
export const SINGLE_1200: Shape = { key: '1200B', label: '1 × 1200 B', sizes: [1200] };
export const MULTI_16x32: Shape = { key: '16x32B', label: '16 × 32 B', sizes: new Array<number>(16).fill(32) };

/** `x1` / `x64` for ids, `1 per call` / `64 per call` for titles. */
export const batchKey = (n: number): string => `x${n}`;
export const batchLabel = (n: number): string => `${n} per call`;

/** The messages of packet `i` of a batch: APP messages with distinct bytes and consecutive seqs. */
export function shapeMessages(shape: Shape, i: number): MessageSpec[] {
  return shape.sizes.map((size, j) => ({
    type: PacketType.APP,
    data: testBytes(size, 1 + i * 31 + j),
    seq: 1 + ((i * shape.sizes.length + j) % 65535),
  }));
}

/** Header fields of packet `i` of a batch (client → server). */
export function headerFields(i: number): { toServer: boolean; ctime: number; seq: number; ack: number; type: number; ackBits: number } {
  return { toServer: true, ctime: BENCH_CTIME, seq: 1 + i, ack: 17, type: PacketType.APP, ackBits: 0xc0000000 };
}

/** Everything a codec or crypto case of one shape and batch size needs, plus the reference bytes. */
export interface PacketBatch {
  count: number;
  /** Per packet, its messages. */
  specs: MessageSpec[][];
  headers: Uint32Array;
  msgs: OutMessages;
  /** The unprotected packets (header ‖ framed payload), made by the baseline. */
  packets: Buffer[];
}

export function packetBatch(shape: Shape, count: number): PacketBatch {
  const specs: MessageSpec[][] = [];
  const fields = [];
  const packets: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const spec = shapeMessages(shape, i);
    specs.push(spec);
    fields.push(headerFields(i));
    const messages: Message[] = spec.map((m) => ({ type: m.type, seq: m.seq ?? 0, data: Buffer.from(m.data) }));
    const buf = Buffer.alloc(SLOT);
    const h = writePacket(buf, 0, headerFields(i), messages);
    packets.push(buf.subarray(0, HEADER_SIZE + h.length));
  }
  return { count, specs, headers: buildHeaders(fields), msgs: buildMessages(specs), packets };
}

/** Slots holding `bytes` (one per slot). */
export function filledSlots(bytes: readonly Uint8Array[]): BufferSlots {
  const s = makeSlots(bytes.length, SLOT);
  bytes.forEach((b, i) => {
    s.buf.set(b, s.offsets[i]);
    s.lengths[i] = b.length;
  });
  return s;
}

/**
 * Opens a datagram with node:crypto directly (for `verify`, independent of any adapter):
 * returns header ‖ plaintext, or throws.
 */
export function referenceOpen(datagram: Uint8Array, key: Uint8Array = BENCH_KEY): Buffer {
  const d = Buffer.from(datagram);
  const length = d.readUInt16BE(13);
  const header = d.subarray(0, HEADER_SIZE);
  const decipher = createDecipheriv('aes-128-gcm', key, header.subarray(0, 12), { authTagLength: TAG_SIZE });
  decipher.setAAD(header);
  decipher.setAuthTag(d.subarray(HEADER_SIZE + length, HEADER_SIZE + length + TAG_SIZE));
  return Buffer.concat([header, decipher.update(d.subarray(HEADER_SIZE, HEADER_SIZE + length)), decipher.final()]);
}

/** True when the two byte strings are equal. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}
