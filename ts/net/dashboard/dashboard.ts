/**
 * The dashboard: a live web page of a game server's run-time metrics (the five views of
 * mpgameserver's GuiServer), plus a Prometheus `/metrics` endpoint. See docs/dashboard.md.
 *
 * It reads the server through the narrow {@link DashboardSource} view only.
 */
import type { AddressInfo } from 'node:net';
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { ConfigError, StateError } from '../../errors.js';
import { componentLogger, type Logger } from '../../log.js';
import { VERSION } from '../../version.js';
import { listenHttp, Router, type HttpAddress, type HttpLimits, type HttpListener, type TlsOptions } from '../http.js';
import type { DashboardSource, TimeProfile } from '../metrics-source.js';
import type { ConnectionStats } from '../stats.js';
import { dashboardPage } from './page.js';
import { formatPrometheus, metricFamilyProblem, PROMETHEUS_CONTENT_TYPE, type MetricFamily } from './prometheus.js';

/** Options of a {@link Dashboard}. */
export interface DashboardOptions {
  /** Milliseconds between samples (default 1000). */
  sampleIntervalMs?: number;
  /** Seconds of samples kept for the plots (default 120). */
  windowSeconds?: number;
  /**
   * More metric families for `/metrics` (your game's own), called on every scrape. It is also
   * called once when the dashboard is created, and a family with an invalid metric or label name,
   * or a name already taken, is refused then with a `ConfigError` naming it. A family that turns
   * invalid later is left out of the scrape (and logged once); the other metrics are still served.
   */
  extraMetrics?: () => readonly MetricFamily[];
  /** Logger (default: gamewire's default logger); lines carry `component: "dashboard"`. */
  logger?: Logger;
}

/**
 * Options of `UdpServer.enableDashboard` and {@link Dashboard.serve}: the dashboard's, plus TLS to
 * serve it over HTTPS and the HTTP server's limits (as {@link listenHttp}'s).
 */
export interface EnableDashboardOptions extends DashboardOptions, HttpLimits {
  tls?: TlsOptions;
}

/** One sample: rates over the interval since the previous sample. */
export interface DashboardSample {
  /** When the sample was taken, Unix milliseconds. */
  time: number;
  /** Seconds the sample covers. */
  seconds: number;
  /** Server ticks per second. */
  ticksPerSecond: number;
  /** Datagrams received per second. */
  packetsInPerSecond: number;
  /** Datagrams sent per second. */
  packetsOutPerSecond: number;
  /** Bytes received per second (UDP payload). */
  bytesInPerSecond: number;
  /** Bytes sent per second (UDP payload). */
  bytesOutPerSecond: number;
  /** Where the wall time went, as fractions summing to 1; `idle` is the rest. */
  profile: TimeProfile;
  /** Connected clients when sampled. */
  clients: number;
}

/** Lifetime counters (the GuiServer's summary, and more). */
export interface DashboardTotals {
  /** "Packets assembled": datagrams sent (`stats.datagramsOut`). */
  packetsAssembled: number;
  /** "Acked": datagrams the peer acknowledged (`stats.packetsAcked`). */
  packetsAcked: number;
  /** "Timed out": datagrams never acknowledged in time (`stats.packetsTimedOut`). */
  packetsTimedOut: number;
  /** "Pending": datagrams sent and neither acknowledged nor timed out yet (`stats.packetsInFlight`). */
  packetsPending: number;
  datagramsIn: number;
  datagramsOut: number;
  bytesIn: number;
  bytesOut: number;
  messagesSent: number;
  messagesReceived: number;
  messagesAcked: number;
  messagesTimedOut: number;
  messagesPending: number;
  /** Datagrams dropped, every reason. */
  dropped: number;
  ticks: number;
}

/** Who is being watched. */
export interface DashboardInfo {
  /** The game server's UDP address, or null before it listens. */
  address: string | null;
  port: number | null;
  /** `native` or `wasm` (`none` before it listens). */
  backend: string;
  /** gamewire's version. */
  version: string;
  /** When `run()` started, Unix ms; 0 while not running. */
  startedAt: number;
  /** Seconds since `startedAt` (0 while not running). */
  uptime: number;
  /** Connected clients. */
  clients: number;
  /** Configured seconds per tick (`ServerContext.interval`). */
  tickInterval: number;
  /** Seconds of samples kept. */
  windowSeconds: number;
  /** Milliseconds between samples. */
  sampleIntervalMs: number;
}

/** The whole state: what `GET samples` returns and the first event of `GET events`. */
export interface DashboardSnapshot {
  info: DashboardInfo;
  totals: DashboardTotals;
  samples: DashboardSample[];
}

/** One live update: the default event of `GET events`, once per sample. */
export interface DashboardUpdate {
  info: DashboardInfo;
  totals: DashboardTotals;
  sample: DashboardSample;
}

interface Cumulative {
  at: number;
  ticks: number;
  datagramsIn: number;
  datagramsOut: number;
  bytesIn: number;
  bytesOut: number;
  messageHandling: number;
  update: number;
  network: number;
}

type Stats = Readonly<Record<string, number | undefined>>;

const DROP_REASONS: readonly [keyof ConnectionStats, string][] = [
  ['dropMalformed', 'malformed'],
  ['dropAuthFailed', 'auth_failed'],
  ['dropReplay', 'replay'],
  ['dropBlocked', 'blocked'],
  ['dropUnknownConnection', 'unknown_connection'],
  ['dropTooLarge', 'too_large'],
  ['dropRateLimited', 'rate_limited'],
  ['dropUnexpected', 'unexpected'],
];

/** Counters of `server.stats` as `/metrics` names them. */
const COUNTERS: readonly [string, string, string][] = [
  ['datagramsIn', 'gamewire_datagrams_received_total', 'UDP datagrams received (every datagram, dropped ones included).'],
  ['datagramsOut', 'gamewire_datagrams_sent_total', 'UDP datagrams sent (the GuiServer\'s "packets assembled").'],
  ['bytesIn', 'gamewire_received_bytes_total', 'UDP payload bytes received.'],
  ['bytesOut', 'gamewire_sent_bytes_total', 'UDP payload bytes sent.'],
  ['packetsAcked', 'gamewire_packets_acked_total', 'Datagrams sent and acknowledged by the peer.'],
  ['packetsTimedOut', 'gamewire_packets_timed_out_total', 'Datagrams sent and not acknowledged within the message timeout.'],
  ['keepAlivesSent', 'gamewire_keepalives_sent_total', 'Keep-alive datagrams sent.'],
  ['messagesSent', 'gamewire_messages_sent_total', 'Messages queued for sending to clients.'],
  ['messagesReceived', 'gamewire_messages_received_total', 'Messages received from clients (duplicates excluded).'],
  ['messagesAcked', 'gamewire_messages_acked_total', 'Messages sent and acknowledged.'],
  ['messagesTimedOut', 'gamewire_messages_timed_out_total', 'Messages sent and never acknowledged.'],
  ['messagesRetransmitted', 'gamewire_messages_retransmitted_total', 'Message retransmissions (RETRY_ON_TIMEOUT).'],
  ['duplicateMessages', 'gamewire_messages_duplicate_total', 'Duplicate messages received and dropped.'],
  ['messagesReassembled', 'gamewire_messages_reassembled_total', 'Fragmented messages reassembled.'],
  ['lateAcks', 'gamewire_late_acks_total', 'Acknowledgements that arrived after the datagram had timed out.'],
  ['handshakesStarted', 'gamewire_handshakes_started_total', 'Handshakes started.'],
  ['handshakesCompleted', 'gamewire_handshakes_completed_total', 'Handshakes completed (connections established).'],
  ['handshakesFailed', 'gamewire_handshakes_failed_total', 'Handshakes that failed or expired.'],
  ['connectionsClosed', 'gamewire_connections_closed_total', 'Connections closed, every reason.'],
  ['connectionsTimedOut', 'gamewire_connections_timed_out_total', 'Connections dropped for silence (connection timeout).'],
];

/** A number from the stats object, 0 when absent (before `listen`, the object is empty). */
const num = (s: Stats, name: string): number => {
  const v = s[name];
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
};

/**
 * The live dashboard of a game server. Attach it to a `UdpServer` (or anything that is a
 * {@link DashboardSource}), then either serve it on a port of its own (`listen`, or
 * `server.enableDashboard(addr)`, which also closes it when the server stops) or add its routes to
 * your `listenTcp` router (`register`).
 *
 * Routes (relative to where it is mounted): `/` the page, `/samples` the JSON snapshot,
 * `/events` the live feed (Server-Sent Events), `/metrics` Prometheus text.
 */
export class Dashboard {
  /** The watched server. */
  readonly server: DashboardSource;
  private readonly intervalMs: number;
  private readonly windowSeconds: number;
  private readonly extraMetrics: (() => readonly MetricFamily[]) | undefined;
  private readonly log: Logger;
  private readonly samples: DashboardSample[] = [];
  private readonly streams = new Set<ServerResponse>();
  private last: Cumulative | null = null;
  private timer: NodeJS.Timeout | null = null;
  private listener: HttpListener | null = null;
  private routerValue: Router | null = null;
  private closed = false;
  /** Names of the built-in families (an extra family may not take one). */
  private readonly builtinNames: ReadonlySet<string>;
  /** Extra families already reported as left out of scrapes (each is logged once). */
  private readonly reportedExtras = new Set<string>();

  constructor(server: DashboardSource, opts: DashboardOptions = {}) {
    const interval = opts.sampleIntervalMs ?? 1000;
    const windowSeconds = opts.windowSeconds ?? 120;
    if (!Number.isFinite(interval) || interval < 50) throw new ConfigError('sampleIntervalMs', `must be at least 50, got ${interval}`);
    if (!Number.isFinite(windowSeconds) || windowSeconds * 1000 < interval) {
      throw new ConfigError('windowSeconds', `must cover at least one sample interval, got ${windowSeconds}`);
    }
    this.server = server;
    this.intervalMs = interval;
    this.windowSeconds = windowSeconds;
    this.log = componentLogger(opts.logger, 'dashboard');
    this.builtinNames = new Set(this.metricFamilies().map((f) => f.name));
    this.extraMetrics = opts.extraMetrics === undefined ? undefined : this.checkExtraMetrics(opts.extraMetrics);
  }

  /** Creates a dashboard for `server` and serves it on `addr` (what `server.enableDashboard` does). */
  static async serve(server: DashboardSource, addr: HttpAddress, opts: EnableDashboardOptions = {}): Promise<Dashboard> {
    const d = new Dashboard(server, opts);
    await d.listen(addr, opts.tls, opts);
    return d;
  }

  /** A router with the dashboard's routes at `/` (created on first use). */
  get router(): Router {
    if (!this.routerValue) {
      this.routerValue = new Router({ logger: this.log });
      this.register(this.routerValue);
    }
    return this.routerValue;
  }

  /** The address `listen` bound, or null. */
  get address(): AddressInfo | null {
    return this.listener?.address ?? null;
  }

  /** The page's URL after `listen` (`http://127.0.0.1:port/`), or null. */
  get url(): string | null {
    return this.listener ? `${this.listener.url}/` : null;
  }

  /**
   * Adds the dashboard's routes to `router` under `prefix` (e.g. `/admin`: the page is then
   * `/admin/`, the metrics `/admin/metrics`), and starts sampling.
   */
  register(router: Router, prefix = ''): this {
    const p = prefix.replace(/\/+$/, '');
    if (p !== '' && !p.startsWith('/')) throw new ConfigError('prefix', `must start with "/", got ${JSON.stringify(prefix)}`);
    const page = dashboardPage();
    router.get(`${p}/`, (req, res) => {
      // The page's requests are relative (`events`, `samples`): they need the trailing slash. The
      // redirect is relative too, so that it also works behind a proxy that rewrites the prefix.
      if (!req.path.endsWith('/')) {
        res.header('location', `${req.path.slice(req.path.lastIndexOf('/') + 1)}/`).end(308);
        return;
      }
      res.header('cache-control', 'no-store').header('content-security-policy', page.csp).header('x-content-type-options', 'nosniff');
      res.html(page.html);
    });
    router.get(`${p}/samples`, (_req, res) => {
      res.header('cache-control', 'no-store');
      res.json(this.snapshot());
    });
    router.get(`${p}/events`, (req, res) => this.stream(req.method, res.raw));
    router.get(`${p}/metrics`, (_req, res) => {
      res.header('cache-control', 'no-store');
      res.send(this.metricsText(), PROMETHEUS_CONTENT_TYPE);
    });
    this.start();
    return this;
  }

  /**
   * Serves the dashboard on its own HTTP(S) port (port 0 picks one); starts sampling. `limits`
   * are the HTTP server's timeouts and connection cap (as {@link listenHttp}'s).
   */
  async listen(addr: HttpAddress, tls?: TlsOptions, limits: HttpLimits = {}): Promise<AddressInfo> {
    if (this.closed) throw new StateError('the dashboard is closed');
    if (this.listener) throw new StateError(`the dashboard is already listening on ${this.listener.url}`);
    const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs, maxConnections, closeGraceMs } = limits;
    this.listener = await listenHttp(this.router, addr, {
      tls,
      logger: this.log,
      headersTimeoutMs,
      requestTimeoutMs,
      keepAliveTimeoutMs,
      maxConnections,
      closeGraceMs,
    });
    this.log.info({ url: this.url }, 'dashboard listening');
    return this.listener.address;
  }

  /** Starts sampling (idempotent; `register` and `listen` call it). */
  start(): this {
    if (this.timer || this.closed) return this;
    this.last = this.cumulative();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  /** Stops sampling, ends the live feeds and closes the port `listen` opened. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const s of this.streams) s.end();
    this.streams.clear();
    const l = this.listener;
    this.listener = null;
    await l?.close();
  }

  /** The samples kept (oldest first), with the current info and totals. */
  snapshot(): DashboardSnapshot {
    const stats = this.stats();
    return { info: this.info(), totals: this.totals(stats), samples: [...this.samples] };
  }

  /** The `/metrics` text (Prometheus exposition format 0.0.4). */
  metricsText(): string {
    return formatPrometheus([...this.metricFamilies(), ...this.extraFamilies()]);
  }

  /** Takes a sample now (the timer calls this every `sampleIntervalMs`). */
  sample(): DashboardSample | null {
    const prev = this.last;
    const now = this.cumulative();
    this.last = now;
    if (!prev) return null;
    const seconds = (now.at - prev.at) / 1000;
    if (seconds <= 0) return null;
    const rate = (a: number, b: number) => Math.max(0, b - a) / seconds;
    const wall = now.at - prev.at;
    let mh = Math.max(0, now.messageHandling - prev.messageHandling);
    let up = Math.max(0, now.update - prev.update);
    let nw = Math.max(0, now.network - prev.network);
    const busy = mh + up + nw;
    if (busy > wall) {
      // Sampling jitter: the counters move at ticks, not at our sample times.
      mh = (mh / busy) * wall;
      up = (up / busy) * wall;
      nw = (nw / busy) * wall;
    }
    const stats = this.stats();
    const s: DashboardSample = {
      time: Date.now(),
      seconds,
      ticksPerSecond: rate(prev.ticks, now.ticks),
      packetsInPerSecond: rate(prev.datagramsIn, now.datagramsIn),
      packetsOutPerSecond: rate(prev.datagramsOut, now.datagramsOut),
      bytesInPerSecond: rate(prev.bytesIn, now.bytesIn),
      bytesOutPerSecond: rate(prev.bytesOut, now.bytesOut),
      profile: {
        messageHandling: mh / wall,
        update: up / wall,
        network: nw / wall,
        idle: Math.max(0, wall - mh - up - nw) / wall,
      },
      clients: this.server.clients().length,
    };
    this.samples.push(s);
    const keep = Math.max(1, Math.ceil((this.windowSeconds * 1000) / this.intervalMs));
    if (this.samples.length > keep) this.samples.splice(0, this.samples.length - keep);
    if (this.streams.size > 0) {
      const update: DashboardUpdate = { info: this.info(), totals: this.totals(stats), sample: s };
      const frame = `data: ${JSON.stringify(update)}\n\n`;
      for (const res of this.streams) res.write(frame);
    }
    return s;
  }

  // ---- internals --------------------------------------------------------------------------

  /** Calls `extraMetrics` once and refuses it, naming the metric, unless every family it gives can be served. */
  private checkExtraMetrics(extra: () => readonly MetricFamily[]): () => readonly MetricFamily[] {
    if (typeof extra !== 'function') throw new ConfigError('extraMetrics', 'must be a function returning metric families');
    let families: readonly MetricFamily[];
    try {
      families = extra();
    } catch (err) {
      throw new ConfigError('extraMetrics', `threw when called: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    }
    if (!Array.isArray(families)) throw new ConfigError('extraMetrics', 'must return an array of metric families');
    const seen = new Set<string>();
    for (const f of families) {
      const problem = this.extraProblem(f, seen);
      if (problem) throw new ConfigError('extraMetrics', `metric ${JSON.stringify(f?.name)}: ${problem}`);
    }
    return extra;
  }

  /** Why an extra family cannot be served (`seen`: the extra names so far, updated), or null. */
  private extraProblem(f: MetricFamily, seen: Set<string>): string | null {
    const problem = metricFamilyProblem(f);
    if (problem) return problem;
    if (this.builtinNames.has(f.name)) return 'the name is taken by a built-in gamewire metric';
    if (seen.has(f.name)) return 'two families have this name';
    seen.add(f.name);
    return null;
  }

  /** The extra families that can be served now; the others are logged (once each) and left out. */
  private extraFamilies(): MetricFamily[] {
    if (!this.extraMetrics) return [];
    let families: readonly MetricFamily[];
    try {
      families = this.extraMetrics();
      if (!Array.isArray(families)) throw new TypeError('extraMetrics did not return an array');
    } catch (err) {
      this.log.error({ err }, 'extraMetrics threw: the scrape has the built-in metrics only');
      return [];
    }
    const seen = new Set<string>();
    const ok: MetricFamily[] = [];
    for (const f of families) {
      const problem = this.extraProblem(f, seen);
      if (!problem) {
        ok.push(f);
        continue;
      }
      const name = String(f?.name);
      if (!this.reportedExtras.has(name)) {
        this.reportedExtras.add(name);
        this.log.warn({ metric: name, problem }, 'an extraMetrics family is invalid and left out of /metrics');
      }
    }
    return ok;
  }

  private stream(method: string, res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    if (method === 'HEAD' || this.closed) {
      res.end();
      return;
    }
    res.write(`retry: 2000\nevent: snapshot\ndata: ${JSON.stringify(this.snapshot())}\n\n`);
    this.streams.add(res);
    res.on('close', () => this.streams.delete(res));
  }

  private stats(): Stats {
    return this.server.stats as Stats;
  }

  private cumulative(): Cumulative {
    const s = this.stats();
    const m = this.server.metrics;
    return {
      at: performance.now(),
      ticks: m.ticks,
      datagramsIn: num(s, 'datagramsIn'),
      datagramsOut: num(s, 'datagramsOut'),
      bytesIn: num(s, 'bytesIn'),
      bytesOut: num(s, 'bytesOut'),
      messageHandling: m.profile.messageHandling,
      update: m.profile.update,
      network: m.profile.network,
    };
  }

  private info(): DashboardInfo {
    let address: string | null = null;
    let port: number | null = null;
    try {
      ({ address, port } = this.server.address);
    } catch {
      // not listening yet
    }
    const startedAt = this.server.metrics.startedAt;
    return {
      address,
      port,
      backend: this.server.backend,
      version: VERSION,
      startedAt,
      uptime: startedAt > 0 ? Math.max(0, (Date.now() - startedAt) / 1000) : 0,
      clients: this.server.clients().length,
      tickInterval: this.server.ctx.interval,
      windowSeconds: this.windowSeconds,
      sampleIntervalMs: this.intervalMs,
    };
  }

  private totals(s: Stats): DashboardTotals {
    let dropped = 0;
    for (const [k] of DROP_REASONS) dropped += num(s, k);
    return {
      packetsAssembled: num(s, 'datagramsOut'),
      packetsAcked: num(s, 'packetsAcked'),
      packetsTimedOut: num(s, 'packetsTimedOut'),
      packetsPending: num(s, 'packetsInFlight'),
      datagramsIn: num(s, 'datagramsIn'),
      datagramsOut: num(s, 'datagramsOut'),
      bytesIn: num(s, 'bytesIn'),
      bytesOut: num(s, 'bytesOut'),
      messagesSent: num(s, 'messagesSent'),
      messagesReceived: num(s, 'messagesReceived'),
      messagesAcked: num(s, 'messagesAcked'),
      messagesTimedOut: num(s, 'messagesTimedOut'),
      messagesPending: num(s, 'messagesPending'),
      dropped,
      ticks: this.server.metrics.ticks,
    };
  }

  private metricFamilies(): MetricFamily[] {
    const s = this.stats();
    const m = this.server.metrics;
    const info = this.info();
    const last = this.samples[this.samples.length - 1];
    const counter = (name: string, help: string, value: number): MetricFamily => ({ name, help, type: 'counter', samples: [{ value }] });
    const gauge = (name: string, help: string, value: number): MetricFamily => ({ name, help, type: 'gauge', samples: [{ value }] });
    return [
      {
        name: 'gamewire_info',
        help: 'Always 1; the labels name the backend and gamewire\'s version.',
        type: 'gauge',
        samples: [{ labels: { backend: info.backend, version: VERSION }, value: 1 }],
      },
      gauge('gamewire_start_time_seconds', 'When the server started running, Unix seconds (0 while not running).', m.startedAt / 1000),
      gauge('gamewire_uptime_seconds', 'Seconds since the server started running.', info.uptime),
      gauge('gamewire_tick_interval_seconds', 'Configured seconds per tick (ServerContext.interval).', info.tickInterval),
      counter('gamewire_ticks_total', 'Server ticks run.', m.ticks),
      counter(
        'gamewire_messages_refused_total',
        'Messages the engine refused after a batched send (queue full, connection gone); each callback got false.',
        m.messagesRefused,
      ),
      {
        name: 'gamewire_time_spent_seconds_total',
        help: 'Where the server spent its time since it started running (the time profile).',
        type: 'counter',
        samples: [
          { labels: { category: 'message_handling' }, value: m.profile.messageHandling / 1000 },
          { labels: { category: 'update' }, value: m.profile.update / 1000 },
          { labels: { category: 'network' }, value: m.profile.network / 1000 },
          { labels: { category: 'idle' }, value: m.profile.idle / 1000 },
        ],
      },
      ...COUNTERS.map(([key, name, help]) => counter(name, help, num(s, key))),
      {
        name: 'gamewire_datagrams_dropped_total',
        help: 'Datagrams dropped before reaching a connection, by reason.',
        type: 'counter',
        samples: DROP_REASONS.map(([key, reason]) => ({ labels: { reason }, value: num(s, key) })),
      },
      gauge('gamewire_connected_clients', 'Clients connected now.', info.clients),
      gauge('gamewire_packets_in_flight', 'Datagrams sent and neither acknowledged nor timed out yet.', num(s, 'packetsInFlight')),
      gauge('gamewire_messages_pending', 'Messages queued or in flight, not yet settled.', num(s, 'messagesPending')),
      gauge('gamewire_reassembly_bytes', 'Bytes held by unfinished fragmented messages.', num(s, 'reassemblyBytes')),
      gauge('gamewire_latency_seconds', 'mpgameserver\'s latency (half the round trip, smoothed), mean over connected clients.', num(s, 'latency')),
      gauge('gamewire_srtt_seconds', 'Smoothed round-trip time, mean over connected clients.', num(s, 'srtt')),
      gauge('gamewire_ticks_per_second', 'Ticks in the last dashboard sample interval, per second.', last?.ticksPerSecond ?? 0),
    ];
  }
}
