/**
 * A Clock the test drives: time stands still until `advance(ms)`, which runs the timers that fall
 * due, in order, each at its own time, letting the event loop run after each one (so what a timer
 * sets off, a bus delivery or a Promise, happens before the next). It starts at the real time.
 */
import type { Clock, ClockTimer } from '../../ts/clock.js';

interface Timer {
  at: number;
  every: number | null;
  fn: () => void;
  cancelled: boolean;
  seq: number;
}

export class ManualClock implements Clock {
  private t = Date.now();
  private seq = 0;
  private readonly timers = new Set<Timer>();

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): ClockTimer {
    return this.add(fn, ms, null);
  }

  setInterval(fn: () => void, ms: number): ClockTimer {
    return this.add(fn, ms, Math.max(1, ms));
  }

  /** Timers waiting. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, running every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await settle();
    for (;;) {
      const next = [...this.timers].filter((x) => x.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.t = Math.max(this.t, next.at);
      if (next.every !== null) next.at += next.every;
      else this.timers.delete(next);
      next.fn();
      await settle();
    }
    this.t = end;
    await settle();
  }

  private add(fn: () => void, ms: number, every: number | null): ClockTimer {
    const timer: Timer = { at: this.t + Math.max(0, ms), every, fn, cancelled: false, seq: ++this.seq };
    this.timers.add(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
        this.timers.delete(timer);
      },
    };
  }
}

/** Lets pending Promise callbacks, bus deliveries and I/O callbacks run. */
function settle(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** A turn of the event loop with room for I/O: datagrams sent on loopback arrive and are handled. */
async function ioTurn(): Promise<void> {
  await new Promise((r) => setTimeout(r, 1));
  await settle();
}

/**
 * Moves `clock` forward by `ms` in steps of `stepMs`, letting real socket I/O happen between
 * steps: peers on the same clock exchange their datagrams at (nearly) the clock time they were sent.
 */
export async function drive(clock: ManualClock, ms: number, stepMs = 10): Promise<void> {
  for (let done = 0; done < ms; done += stepMs) {
    await clock.advance(Math.min(stepMs, ms - done));
    await ioTurn();
  }
}

/**
 * Moves `clock` forward in steps of `stepMs` until `pred` holds; fails once `maxMs` of clock time
 * passed without it. Returns the clock time it took.
 */
export async function driveUntil(clock: ManualClock, pred: () => boolean, maxMs: number, what = 'condition', stepMs = 10): Promise<number> {
  const start = clock.now();
  await ioTurn();
  while (!pred()) {
    if (clock.now() - start >= maxMs) throw new Error(`${what}: not within ${maxMs} ms of clock time`);
    await clock.advance(stepMs);
    await ioTurn();
  }
  return clock.now() - start;
}

/** Drives `clock` (as {@link driveUntil}) until `p` settles; returns its value. */
export async function driveThrough<T>(clock: ManualClock, p: Promise<T>, maxMs: number, what = 'promise'): Promise<T> {
  let done = false;
  const watched = p.finally(() => (done = true));
  watched.catch(() => undefined);
  await driveUntil(clock, () => done, maxMs, what);
  return watched;
}
