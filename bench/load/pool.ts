/**
 * A pooled bot driver: many client connections in one process, one UDP socket per bot (so the
 * server sees each bot at its own address, as with real players) and ONE engine for all of them
 * (`backend.createClient` + `engine.connect(now, peer, …)` per bot), driven by `EngineDriver`.
 * One engine per process instead of one per bot (what `UdpClient` does) keeps the generator's
 * cost per datagram close to the server's: one batched `handle` per event-loop turn for all
 * bots, one `transmit` loop, one timer.
 *
 * Each bot sends one 32-byte message (`lib/payload.ts`) every 1/rate s, with the bots' phases
 * spread evenly over the period, and reads the echoes back to measure the round trip.
 */
import type { Socket } from 'node:dgram';
import { pino } from 'pino';
import { loadBackend, type BackendChoice, type Engine } from '../../ts/backend/index.js';
import { flatConfig, type NetOptions } from '../../ts/net/config.js';
import { RetryMode } from '../../ts/net/constants.js';
import { clock, EngineDriver, type PeerRoute } from '../../ts/net/driver.js';
import { decodeStats, type ConnectionStats } from '../../ts/net/stats.js';
import { bindSockets, closeSockets, SendSchedule, WindowCounts, type WindowReport } from './lib/generator.js';
import { messageBuffer, sentAt, writeMessage } from './lib/payload.js';

export interface BotPoolOptions {
  backend?: BackendChoice;
  host: string;
  port: number;
  /** The server's root public key (SPKI DER), pinned by every bot. */
  spki: Uint8Array;
  /** Bots in this pool. */
  count: number;
  /** Global id of this pool's first bot (ids are unique across the generator's processes). */
  firstBot: number;
  /** Engine options of the bots (default: mpgameserver's, i.e. paced at 1/60 s). */
  net?: NetOptions;
  /** Retry mode of the bots' messages (default NONE: loss shows as loss). */
  retry?: RetryMode;
}

/** Counters at one instant. */
export interface PoolSnapshot {
  t: number;
  sent: number;
  received: number;
  connected: number;
}

/** What one pool measured over the window. */
export interface PoolReport extends WindowReport {
  bots: number;
  connected: number;
  /** Connections that ended during the run (timeouts, refusals). */
  dropped: number;
  /** Endpoint-wide engine counters of the pool (all bots), at report time. */
  engine: Pick<ConnectionStats, 'datagramsIn' | 'datagramsOut' | 'dropAuthFailed' | 'dropBlocked' | 'dropMalformed' | 'dropReplay' | 'dropUnknownConnection' | 'messagesReceived' | 'messagesSent'>;
}

const STEP_MS = 1;

export class BotPool {
  private engine!: Engine;
  private driver!: EngineDriver;
  private sockets: Socket[] = [];
  private readonly routes: PeerRoute[] = [];
  private readonly seqs: Uint32Array;
  private readonly state: Uint8Array; // 0 idle, 1 connecting, 2 connected, 3 gone
  private readonly msg = messageBuffer();
  private statsNames: readonly string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private connected = 0;
  private gone = 0;
  private droppedAfterConnect = 0;
  private readonly schedule: SendSchedule;
  private readonly counts = new WindowCounts();
  private readonly retry: RetryMode;

  constructor(private readonly opts: BotPoolOptions) {
    this.seqs = new Uint32Array(opts.count);
    this.state = new Uint8Array(opts.count);
    this.schedule = new SendSchedule(opts.count);
    this.retry = opts.retry ?? RetryMode.NONE;
  }

  /** Creates the engine and binds one socket per bot. */
  async open(): Promise<void> {
    const backend = loadBackend({ backend: this.opts.backend ?? 'native' });
    this.statsNames = backend.layout.stats;
    this.engine = backend.createClient(flatConfig(backend, this.opts.net ?? {}, Date.now() - clock()));
    const log = pino({ level: 'warn' }, pino.destination(2));
    this.driver = new EngineDriver(this.engine, (peer) => this.routes[peer], {
      connected: (peer) => {
        if (this.state[peer] === 1) {
          this.state[peer] = 2;
          this.connected++;
        }
      },
      message: (_peer, _seq, data) => this.onEcho(data),
      disconnected: (peer) => {
        if (this.state[peer] === 2) {
          this.connected--;
          this.droppedAfterConnect++;
        }
        if (this.state[peer] !== 3) this.gone++;
        this.state[peer] = 3;
      },
      released: () => undefined,
    }, log);
    const { host, port } = this.opts;
    this.sockets = await bindSockets(Array<string>(this.opts.count).fill('127.0.0.1'), (socket, peer) => {
      this.routes[peer] = { socket, address: host, port };
      // Only the server (as UdpClient does): a port reused from an earlier run may still get strays.
      socket.on('message', (m, rinfo) => {
        if (rinfo.port === port) this.driver.receive(peer, m);
        else this.engine.countBlocked(m.length);
      });
      socket.on('error', () => undefined);
    });
    this.timer = setInterval(() => this.step(), STEP_MS);
  }

  /** Connects every bot, at most `concurrency` handshakes at a time. */
  async connectAll(concurrency = 100, timeoutMs = 60_000): Promise<{ connected: number; failed: number; ms: number }> {
    const t0 = clock();
    let next = 0;
    const deadline = t0 + timeoutMs;
    while (clock() < deadline) {
      const inFlight = next - this.connected - this.gone;
      let started = 0;
      while (next < this.opts.count && inFlight + started < concurrency) {
        this.state[next] = 1;
        const rc = this.engine.connect(clock(), next, this.opts.spki, false);
        if (rc !== 0) {
          this.state[next] = 3;
          this.gone++;
        }
        next++;
        started++;
      }
      if (started) this.driver.pump();
      if (next >= this.opts.count && this.connected + this.gone >= this.opts.count) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    return { connected: this.connected, failed: this.opts.count - this.connected, ms: clock() - t0 };
  }

  /** Starts sending `rateHz` messages per second per bot. */
  startSending(rateHz: number): void {
    this.schedule.start(rateHz, clock());
  }

  stopSending(): void {
    this.schedule.stop();
  }

  /** Opens (`start`) or closes (`end`) the measurement window. */
  mark(phase: 'start' | 'end'): PoolSnapshot {
    const t = clock();
    this.counts.mark(phase, t);
    return { t, sent: this.counts.sentTotal, received: this.counts.receivedTotal, connected: this.connected };
  }

  report(): PoolReport {
    const s = decodeStats(this.statsNames, this.engine.stats());
    return {
      bots: this.opts.count,
      connected: this.connected,
      dropped: this.droppedAfterConnect,
      ...this.counts.report(),
      engine: {
        datagramsIn: s.datagramsIn,
        datagramsOut: s.datagramsOut,
        dropAuthFailed: s.dropAuthFailed,
        dropBlocked: s.dropBlocked,
        dropMalformed: s.dropMalformed,
        dropReplay: s.dropReplay,
        dropUnknownConnection: s.dropUnknownConnection,
        messagesReceived: s.messagesReceived,
        messagesSent: s.messagesSent,
      },
    };
  }

  /** Closes every connection gracefully (bounded wait), then the sockets. */
  async close(): Promise<void> {
    this.schedule.stop();
    if (!this.engine) return;
    this.engine.closeAll(clock());
    this.driver.pump();
    const end = clock() + 1500;
    while (this.engine.connectionCount() > 0 && clock() < end) await new Promise((r) => setTimeout(r, 10));
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.engine.abortAll();
    this.driver.close();
    await closeSockets(this.sockets);
  }

  private onEcho(data: Uint8Array): void {
    const sent = sentAt(data);
    if (!Number.isNaN(sent)) this.counts.countEcho(sent, clock());
  }

  private step(): void {
    const now = clock();
    this.schedule.run(now, (bot, late) => {
      if (this.state[bot] !== 2) return;
      if (late) {
        this.counts.countSkipped(now);
        return;
      }
      const seq = this.seqs[bot]++;
      writeMessage(this.msg, this.opts.firstBot + bot, seq, now);
      if (this.engine.send(now, bot, this.msg, this.retry, 0) === 0) this.counts.countSent(now);
      else this.counts.countRefused(now);
    });
    const due = this.engine.nextTimeout();
    if (due >= 0 && due <= now) this.engine.tick(now);
    this.driver.pump();
  }
}
