/**
 * The cluster's time source. Every timing of the cluster layer (heartbeats and the master's
 * sweeps, RPC and engine-operation deadlines, ban and mute expiry, the master's lifecycle polls,
 * HTTP handler timeouts) reads the time and sets its timers through one `Clock`, so a test or a
 * simulation can drive time instead of waiting for it (`ClusterOptions.clock`).
 *
 * Timers made through a clock never keep the process alive on their own (they are unref'd).
 */

/** A timer made by a Clock. */
export interface ClockTimer {
  /** Cancels the timer (a no-op once it ran or was cancelled). */
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `fn` once, `ms` milliseconds from now. */
  setTimeout(fn: () => void, ms: number): ClockTimer;
  /** Runs `fn` every `ms` milliseconds. */
  setInterval(fn: () => void, ms: number): ClockTimer;
}

/** The system clock: `Date.now()` and the event loop's timers (unref'd). */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
  setInterval(fn, ms) {
    const t = setInterval(fn, ms);
    t.unref();
    return { cancel: () => clearInterval(t) };
  },
};

/** Resolves after `ms` milliseconds of `clock` time. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

/** Unix seconds on `clock` (bans and mutes are stamped in whole seconds). */
export function unixSeconds(clock: Clock): number {
  return Math.floor(clock.now() / 1000);
}
