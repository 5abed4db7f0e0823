/**
 * gamewire's time source, one interface for both layers, so a test or a simulation can drive
 * time instead of waiting for it.
 *
 * - The network layer (`UdpServer`, `UdpClient`: their `clock` option) reads the protocol's time
 *   and sets its ticks and timers through a clock: the connection, keep-alive, handshake and
 *   message timeouts run on it (on the node:dgram path; with `io: 'thread'` the socket threads keep
 *   their own time and only the ticks follow the clock). Its default is `monotonicClock`.
 * - The cluster (`ClusterOptions.clock`): heartbeats and the master's sweeps, RPC and
 *   engine-operation deadlines, ban and mute expiry, lifecycle polls, HTTP handler timeouts. Its
 *   default is `systemClock`, wall time, since bans and mutes are stamped in Unix time.
 *
 * Timers made through the shipped clocks never keep the process alive on their own (unref'd).
 */

/** A timer made by a Clock. */
export interface ClockTimer {
  /** Cancels the timer (a no-op once it ran or was cancelled). */
  cancel(): void;
}

export interface Clock {
  /** Milliseconds: since the Unix epoch (`systemClock`), or from any origin but never backwards (`monotonicClock`). */
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

/** `performance.now()` and the event loop's timers (unref'd): the network layer's default. */
export const monotonicClock: Clock = {
  now: () => performance.now(),
  setTimeout: systemClock.setTimeout,
  setInterval: systemClock.setInterval,
};

/** Resolves after `ms` milliseconds of `clock` time. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

/** Unix seconds on `clock` (bans and mutes are stamped in whole seconds). */
export function unixSeconds(clock: Clock): number {
  return Math.floor(clock.now() / 1000);
}
