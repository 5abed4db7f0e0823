import { seqDiff } from './seq.js';

/**
 * A sliding receive window over 16-bit sequence numbers (mpgameserver's BitField, wire spec §7):
 * `current` is the newest seq seen (0 = empty); bit k (k = 1..nbits) says whether `current - k`
 * was seen. Used with 32 bits as the packet window (its state is the header's ack/ack_bits) and
 * with 256 bits for message de-duplication.
 *
 * The bits are kept in 32-bit words, most significant first: word 0's MSB is k = 1, so for the
 * 32-bit window `words[0]` is exactly the header's `ack_bits`.
 */
export class SeqWindow {
  readonly nbits: number;
  current = 0;
  private readonly words: Uint32Array;

  constructor(nbits: number) {
    if (nbits <= 0 || nbits % 32 !== 0) throw new RangeError('nbits must be a positive multiple of 32');
    this.nbits = nbits;
    this.words = new Uint32Array(nbits / 32);
  }

  /** The first 32 bits (all of them for the packet window): the header's `ack_bits`. */
  get bits32(): number {
    return this.words[0];
  }

  /**
   * Records `seq`. Returns false when it is a duplicate. Like mpgameserver, a seq older than the
   * window is accepted and changes nothing.
   */
  insert(seq: number): boolean {
    if (this.current === 0) {
      this.current = seq;
      return true;
    }
    const d = seqDiff(this.current, seq);
    if (d < 0) {
      const n = -d;
      this.current = seq;
      if (n <= this.nbits) {
        this.shift(n);
        this.setBit(n);
      } else {
        this.words.fill(0);
      }
      return true;
    }
    if (d === 0) return false;
    if (d > this.nbits) return true;
    if (this.getBit(d)) return false;
    this.setBit(d);
    return true;
  }

  /** True when `seq` is the current seq or marked within the window. */
  contains(seq: number): boolean {
    const d = seqDiff(this.current, seq);
    if (d === 0) return true;
    return d >= 1 && d <= this.nbits && this.getBit(d);
  }

  /** Sets the state directly (tests). `bitsHex` is the big-endian hex of the nbits-bit integer. */
  set(current: number, bitsHex: string): void {
    this.current = current;
    const bytes = Buffer.from(bitsHex.padStart(this.nbits / 4, '0'), 'hex');
    for (let i = 0; i < this.words.length; i++) this.words[i] = bytes.readUInt32BE(i * 4);
  }

  /** The bits as big-endian hex of the nbits-bit integer (what the vectors show). */
  toHex(): string {
    let s = '';
    for (const w of this.words) s += w.toString(16).padStart(8, '0');
    return s;
  }

  private getBit(k: number): boolean {
    return (this.words[(k - 1) >> 5] & (0x80000000 >>> ((k - 1) & 31))) !== 0;
  }

  private setBit(k: number): void {
    this.words[(k - 1) >> 5] |= 0x80000000 >>> ((k - 1) & 31);
  }

  /** Moves every mark n places back (bit k becomes bit k + n). */
  private shift(n: number): void {
    const words = this.words;
    const wordShift = n >> 5;
    const bitShift = n & 31;
    for (let w = words.length - 1; w >= 0; w--) {
      const src = w - wordShift;
      const hi = src >= 0 ? words[src] : 0;
      if (bitShift === 0) {
        words[w] = hi;
      } else {
        const lo = src >= 1 ? words[src - 1] : 0;
        words[w] = (hi >>> bitShift) | (lo << (32 - bitShift));
      }
    }
  }
}
