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
