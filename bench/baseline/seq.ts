/**
 * 16-bit sequence numbers on the ring 1..65535 (wire spec §6). 0 means "unset" and is never
 * produced by `seqNext`.
 */

export const SEQ_MAX = 65535;
const HALF = 32767;

/** The value after `a` (65535 wraps to 1; 0, "unset", is followed by 1). */
export function seqNext(a: number): number {
  return a >= SEQ_MAX ? 1 : a + 1;
}

/** `a + n` folded once onto 1..65535, like mpgameserver's `SeqNum.__add__`. */
export function seqAdd(a: number, n: number): number {
  let r = a + n;
  if (r > SEQ_MAX) r -= SEQ_MAX;
  else if (r < 1) r += SEQ_MAX;
  if (r < 1 || r > SEQ_MAX) throw new RangeError(`sequence number out of range: ${a} + ${n}`);
  return r;
}

/** `a - n` folded once onto 1..65535. */
export function seqSub(a: number, n: number): number {
  return seqAdd(a, -n);
}

/** `a - b` folded into [-32767, 32767]. */
export function seqDiff(a: number, b: number): number {
  const d = a - b;
  if (d > HALF) return d - SEQ_MAX;
  if (d < -HALF) return d + SEQ_MAX;
  return d;
}

/** True when `a` comes after `b` on the ring. */
export function seqNewerThan(a: number, b: number): boolean {
  return seqDiff(a, b) > 0;
}
