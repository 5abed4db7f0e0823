/**
 * Outstanding requests of one node: callback ids, per-request timeouts, exactly-once callbacks.
 *
 * The caller passes `callback(ok, data)` and a timeout in seconds (default 2); the responder
 * answers with `responseToServer(serverId, callbackId, data)`:
 * - the callback runs exactly once: `(true, data)` on the first answer, `(false, null)` on timeout
 *   (or when the node stops first);
 * - an answer after the timeout (or a second answer) is dropped and counted in `stats.late`;
 * - every request also returns a Promise of `{ ok, data }` that never rejects.
 */
import { ArgumentError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { Clock, ClockTimer } from '../../clock.js';

/** What a request resolves to. `data` is null when `ok` is false. */
export interface RpcResult<T = unknown> {
  ok: boolean;
  data: T | null;
}

/** A request's callback: `(true, data)` on an answer, `(false, null)` on timeout. */
export type RpcCallback<T = unknown> = (ok: boolean, data: T | null) => void;

/** Counters of one node's requests. */
export interface RpcStats {
  /** Requests sent. */
  sent: number;
  /** Requests answered in time. */
  answered: number;
  /** Requests that timed out (callback(false, null)). */
  timedOut: number;
  /** Answers that came after their request had timed out or was already answered: dropped. */
  late: number;
  /** Answers for a callback id this node never issued (or forgot long ago): dropped. */
  unknown: number;
  /** Requests still open when the node stopped (callback(false, null)). */
  cancelled: number;
}

export const DEFAULT_RPC_TIMEOUT = 2;

interface Pending {
  settle: (ok: boolean, data: unknown) => void;
  timer: ClockTimer;
}

/** Validates a timeout in seconds. */
export function checkTimeout(timeout: number | undefined): number {
  const t = timeout ?? DEFAULT_RPC_TIMEOUT;
  if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0) {
    throw new ArgumentError(`timeout is a positive number of seconds (got ${String(timeout)})`);
  }
  return t;
}

export class RpcTable {
  private readonly pending = new Map<number, Pending>();
  /** Ids that timed out or were answered, kept a while so a late answer is told from an unknown one. */
  private readonly finished = new Map<number, number>();
  private next: number;
  readonly stats: RpcStats = { sent: 0, answered: 0, timedOut: 0, late: 0, unknown: 0, cancelled: 0 };

  constructor(
    private readonly log: Logger,
    private readonly what: string,
    private readonly clock: Clock,
  ) {
    // A random start: a node that restarts under the same server id does not reuse the ids its
    // previous incarnation handed out, so answers meant for that one are not taken for ours.
    this.next = 1 + Math.floor(Math.random() * 0x3fffffff);
  }

  /**
   * Opens a request: returns its callback id and a Promise; `callback` (if any) runs exactly once.
   * @param timeout seconds
   */
  open<T>(timeout: number, callback?: RpcCallback<T>, context?: Record<string, unknown>): { callbackId: number; promise: Promise<RpcResult<T>> } {
    const callbackId = this.allocate();
    this.stats.sent++;
    let resolve!: (r: RpcResult<T>) => void;
    const promise = new Promise<RpcResult<T>>((r) => (resolve = r));
    const settle = (ok: boolean, data: unknown) => {
      const p = this.pending.get(callbackId);
      if (!p) return;
      p.timer.cancel();
      this.pending.delete(callbackId);
      this.remember(callbackId);
      const result: RpcResult<T> = { ok, data: ok ? (data as T) : null };
      resolve(result);
      if (callback) {
        try {
          callback(result.ok, result.data);
        } catch (err) {
          this.log.error({ err, ...context, callbackId }, `${this.what} callback threw`);
        }
      }
    };
    const timer = this.clock.setTimeout(() => {
      if (!this.pending.has(callbackId)) return;
      this.stats.timedOut++;
      this.log.debug({ ...context, callbackId, timeout }, `${this.what} timed out`);
      settle(false, null);
    }, Math.max(1, Math.round(timeout * 1000)));
    this.pending.set(callbackId, { settle, timer });
    return { callbackId, promise };
  }

  /** Delivers an answer. Returns what became of it. */
  answer(callbackId: number, data: unknown): 'answered' | 'late' | 'unknown' {
    const p = this.pending.get(callbackId);
    if (p) {
      this.stats.answered++;
      p.settle(true, data);
      return 'answered';
    }
    if (this.finished.has(callbackId)) {
      this.stats.late++;
      return 'late';
    }
    this.stats.unknown++;
    return 'unknown';
  }

  /** Fails a request now (as a timeout would), e.g. when it could not be sent. */
  fail(callbackId: number): void {
    const p = this.pending.get(callbackId);
    if (!p) return;
    this.stats.timedOut++;
    p.settle(false, null);
  }

  /** Forgets a request that could not be sent (the caller got an exception instead): no callback. */
  discard(callbackId: number): void {
    const p = this.pending.get(callbackId);
    if (!p) return;
    p.timer.cancel();
    this.pending.delete(callbackId);
    this.stats.sent--;
  }

  /** Number of requests waiting for an answer. */
  get size(): number {
    return this.pending.size;
  }

  /** Ends every open request with `(false, null)` (the node is stopping). */
  cancelAll(): void {
    for (const [, p] of [...this.pending]) {
      this.stats.cancelled++;
      p.settle(false, null);
    }
  }

  private allocate(): number {
    for (;;) {
      const id = this.next;
      this.next = this.next >= 0x7fffffff ? 1 : this.next + 1;
      if (!this.pending.has(id)) return id;
    }
  }

  private remember(id: number): void {
    this.finished.set(id, this.clock.now());
    if (this.finished.size > 65536) {
      // Forget the oldest half.
      let n = 0;
      for (const k of this.finished.keys()) {
        this.finished.delete(k);
        if (++n >= 32768) break;
      }
    }
  }
}
