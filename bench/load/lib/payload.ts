/**
 * The bots' message: 32 bytes, the same layout in TypeScript and Python (`python/bench_common.py`):
 *
 *   0..4   bot id (u32 LE, unique across the generator's processes)
 *   4..8   message number of that bot (u32 LE)
 *   8..16  send time, milliseconds on the sending process's monotonic clock (f64 LE)
 *   16..32 filler
 *
 * The echo server sends it back unchanged, so the sender reads its own clock back.
 */
export const MESSAGE_BYTES = 32;

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

/** Fills `out` (at least 32 bytes) with a message. */
export function writeMessage(out: Uint8Array, bot: number, n: number, sentMs: number): void {
  out[0] = bot & 0xff;
  out[1] = (bot >>> 8) & 0xff;
  out[2] = (bot >>> 16) & 0xff;
  out[3] = bot >>> 24;
  out[4] = n & 0xff;
  out[5] = (n >>> 8) & 0xff;
  out[6] = (n >>> 16) & 0xff;
  out[7] = n >>> 24;
  f64[0] = sentMs;
  for (let i = 0; i < 8; i++) out[8 + i] = f64Bytes[i];
}

/** The send time of a message, or NaN if it is not one of ours. */
export function sentAt(msg: Uint8Array): number {
  if (msg.length !== MESSAGE_BYTES) return Number.NaN;
  for (let i = 0; i < 8; i++) f64Bytes[i] = msg[8 + i];
  return f64[0];
}

/** A fresh message buffer with its filler set. */
export function messageBuffer(): Uint8Array {
  const b = new Uint8Array(MESSAGE_BYTES);
  b.fill(0x2e, 16);
  return b;
}
