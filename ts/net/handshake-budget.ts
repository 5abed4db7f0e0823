/**
 * How much time a driver gives to handshakes. Each queued CLIENT_HELLO costs an ephemeral key, an
 * ECDH and an ECDSA signature (well under a millisecond natively, several in WebAssembly), all on
 * the thread that also serves established connections. The budget earns `share` of the elapsed
 * time as credit, spends it on handshakes in slices of at most `sliceMs` (measuring what they
 * really cost), and never lets them run while the credit is spent: however many hellos arrive,
 * established traffic keeps at least `1 - share` of the thread, and waits at most one slice.
 * Which hellos get answered is the engine's business (senders in turn, bounded queues).
 */
import { performance } from 'node:perf_hooks';

/** What the budget drives: the engine's handshake queue. */
export interface HandshakeQueue {
  processHandshakes(now: number, max: number): number;
  queuedHandshakes(): number;
}

export interface HandshakeBudgetOptions {
  /** Fraction of the thread's time handshakes may take under load (default 0.5). */
  share?: number;
  /** Longest run of handshakes before established traffic is served again, ms (default 2). */
  sliceMs?: number;
  /** The clock, ms (default `performance.now`): a seam for tests. */
  clock?: () => number;
}

export class HandshakeBudget {
  private readonly share: number;
  private readonly sliceMs: number;
  private readonly clock: () => number;
  private credit: number;
  private last: number;
  /** Measured cost of one handshake, ms (moving average). */
  costMs = 0.5;
  /** Handshakes run so far. */
  done = 0;

  constructor(opts: HandshakeBudgetOptions = {}) {
    this.share = opts.share ?? 0.5;
    this.sliceMs = opts.sliceMs ?? 2;
    this.clock = opts.clock ?? (() => performance.now());
    this.last = this.clock();
    this.credit = this.sliceMs;
  }

  /**
   * Answers queued hellos for as long as the credit earned since the last call allows (the
   * engine is given `protocolNow`; the budget itself runs on real time). Returns the delay in ms
   * after which to call again (hellos remain), or -1 when the queue is empty.
   */
  run(q: HandshakeQueue, protocolNow: () => number = this.clock): number {
    const start = this.clock();
    this.credit = Math.min(this.credit + (start - this.last) * this.share, Math.max(this.sliceMs, this.costMs));
    this.last = start;
    while (this.credit > 0 && q.queuedHandshakes() > 0) {
      const n = Math.max(1, Math.min(64, Math.floor(this.credit / this.costMs)));
      const t0 = this.clock();
      const taken = q.processHandshakes(protocolNow(), n);
      const t1 = this.clock();
      if (taken === 0) break;
      this.done += taken;
      this.costMs = 0.8 * this.costMs + 0.2 * ((t1 - t0) / taken);
      this.credit -= t1 - t0;
      if (t1 - start >= this.sliceMs) break;
    }
    this.last = this.clock();
    if (q.queuedHandshakes() === 0) return -1;
    return this.credit > 0 ? 0 : Math.min(50, -this.credit / this.share);
  }
}
