/**
 * What the load generators share (`pool.ts`, the gamewire bots; `procs/rawbots.ts`, the bare
 * sockets of the floor reference; `procs/hello.ts`, the CLIENT_HELLO flood): their UDP sockets,
 * the bots' sending schedule, and the counts over the measurement window that make a
 * {@link WindowReport}.
 */
import { createSocket, type Socket } from 'node:dgram';
import * as hist from './hist.js';

/**
 * Binds one UDP socket per entry of `hosts` (on that address, any free port), `batch` at a time.
 * `setup(socket, i)` adds its listeners before it binds; a socket that cannot bind rejects the call.
 */
export async function bindSockets(hosts: readonly string[], setup: (socket: Socket, i: number) => void, batch = 200): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < hosts.length; i += batch) {
    const bound: Promise<void>[] = [];
    for (let k = i; k < Math.min(hosts.length, i + batch); k++) {
      const socket = createSocket('udp4');
      setup(socket, k);
      sockets.push(socket);
      bound.push(
        new Promise((resolve, reject) => {
          socket.once('error', reject);
          socket.bind(0, hosts[k], () => resolve());
        }),
      );
    }
    await Promise.all(bound);
  }
  return sockets;
}

export async function closeSockets(sockets: readonly Socket[]): Promise<void> {
  await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
}

/** When each bot sends: every bot once per period, the bots' phases spread evenly over it. */
export class SendSchedule {
  private on = false;
  private periodMs = 0;
  private t0 = 0;
  private round = 0;
  private cursor = 0;

  constructor(private readonly bots: number) {}

  /** Starts the schedule at `now` (ms), `rateHz` sends per second per bot. */
  start(rateHz: number, now: number): void {
    this.periodMs = 1000 / rateHz;
    this.t0 = now;
    this.round = 0;
    this.cursor = 0;
    this.on = true;
  }

  stop(): void {
    this.on = false;
  }

  /**
   * Calls `send(bot, late)` for every send due by `now`, in order, two rounds at most per call.
   * `late`: more than two periods behind, which the caller skips rather than burst (the generator
   * is overloaded); a send up to two periods late still goes out (a client that hitched), its
   * round trip counted from when it was actually sent.
   */
  run(now: number, send: (bot: number, late: boolean) => void): void {
    if (!this.on) return;
    const n = this.bots;
    const period = this.periodMs;
    for (let budget = 2 * n; budget > 0; budget--) {
      const due = this.t0 + (this.round + this.cursor / n) * period;
      if (due > now) break;
      send(this.cursor, now - due > 2 * period);
      if (++this.cursor === n) {
        this.cursor = 0;
        this.round++;
      }
    }
  }
}

/** What a generator measured over the window. */
export interface WindowReport {
  windowMs: number;
  /** Messages sent inside the window. */
  sent: number;
  /** Echoes of those messages received (until the report was asked). */
  echoed: number;
  /** Sends the generator skipped because it ran more than two periods behind its schedule. */
  skipped: number;
  /** Sends the engine refused (not connected, queue full). */
  refused: number;
  /** Round trips of the echoed in-window messages. */
  rtt: hist.HistogramJson;
  /** This process's CPU over the window, µs. */
  cpuUs: number;
}

/**
 * A generator's counts: messages sent and echoes received since it started, and inside the
 * measurement window the sends, skips, refusals and the round trips of the echoes of the
 * messages sent in it. Times are milliseconds on the caller's clock.
 */
export class WindowCounts {
  sentTotal = 0;
  receivedTotal = 0;
  private start = Number.POSITIVE_INFINITY;
  private end = Number.POSITIVE_INFINITY;
  private sent = 0;
  private echoed = 0;
  private skipped = 0;
  private refused = 0;
  private readonly rtt: hist.Histogram = new Map();
  private cpuStart: NodeJS.CpuUsage | null = null;
  private cpuUs = 0;

  inWindow(t: number): boolean {
    return t >= this.start && t < this.end;
  }

  countSent(now: number): void {
    this.sentTotal++;
    if (this.inWindow(now)) this.sent++;
  }

  countSkipped(now: number): void {
    if (this.inWindow(now)) this.skipped++;
  }

  countRefused(now: number): void {
    if (this.inWindow(now)) this.refused++;
  }

  /** The echo of a message sent at `sentAt`, back at `now`. */
  countEcho(sentAt: number, now: number): void {
    this.receivedTotal++;
    if (this.inWindow(sentAt)) {
      this.echoed++;
      hist.record(this.rtt, (now - sentAt) * 1000);
    }
  }

  /** Opens (`start`) or closes (`end`) the window at `t`. */
  mark(phase: 'start' | 'end', t: number): void {
    if (phase === 'start') {
      this.start = t;
      this.end = Number.POSITIVE_INFINITY;
      this.sent = this.echoed = this.skipped = this.refused = 0;
      this.rtt.clear();
      this.cpuStart = process.cpuUsage();
    } else {
      this.end = t;
      const c = process.cpuUsage(this.cpuStart ?? undefined);
      this.cpuUs = c.user + c.system;
    }
  }

  report(): WindowReport {
    return {
      windowMs: Number.isFinite(this.end) ? this.end - this.start : 0,
      sent: this.sent,
      echoed: this.echoed,
      skipped: this.skipped,
      refused: this.refused,
      rtt: hist.toJson(this.rtt),
      cpuUs: this.cpuUs,
    };
  }
}
