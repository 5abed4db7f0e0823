/**
 * UdpServer: the game server (mpgameserver's TwistedServer) over node:dgram, driving the Rust
 * core. One tick every `ctx.interval`: queued datagrams are handled as they arrive (batched per
 * event-loop turn), then on each tick the engine's timers run, `handler.update(dt)` is called, and
 * what is due is sent.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createWriteStream, type WriteStream } from 'node:fs';
import { isIPv6, type AddressInfo } from 'node:net';
import { loadBackend, SendBatcher, type BackendOptions, type Engine, type ThreadedServer } from '../backend/index.js';
import { bindError, ConfigError, StateError } from '../errors.js';
import { ClientHandle, type HandleHost } from './client-handle.js';
import { checkPayload, checkRetry } from './send-checks.js';
import { flatConfig } from './config.js';
import { ConnectionStatus, RetryMode, codeName, finalStatus, type CloseReason } from './constants.js';
import type { ServerContext } from './context.js';
import { EventHandler } from './handler.js';
import { EngineDriver, type DriverSink, type PeerRoute } from './driver.js';
import { monotonicClock, type Clock, type ClockTimer } from '../clock.js';
import { componentLogger, type Logger } from '../log.js';
import { PeerTable, sourceOf } from './peers.js';
import { decodeStats, type ConnectionStats } from './stats.js';
import { Dashboard, type EnableDashboardOptions } from './dashboard/dashboard.js';
import { HttpServices, listenHttp, type HttpAddress, type HttpLimits, type Router, type TlsOptions } from './http.js';
import type { TransportHandlers, TransportRemote } from './transports/types.js';
import { WebSocketEndpoint } from './transports/websocket.js';
import type { TimeProfile } from './metrics-source.js';

export interface UdpServerOptions extends BackendOptions {
  /**
   * Stop gracefully on SIGINT/SIGTERM (default true). The server only stops what it owns; once
   * it has stopped, `onSignal` runs (the application decides whether to exit). The process exits
   * by itself when nothing else keeps it alive; gamewire never calls `process.exit`.
   */
  installSignals?: boolean;
  /** Called after a SIGINT/SIGTERM stopped the server (with `installSignals`). */
  onSignal?: (signal: NodeJS.Signals) => void;
  /**
   * How datagrams are received and sent. `thread` (native backend only; its default): Rust
   * threads own the socket and run the protocol, receiving and sending in batches
   * (`recvmmsg`/`sendmmsg` on Linux), and the event loop only gets batches of events and queues
   * messages. `dgram` (the WebAssembly backend's default): node:dgram on the event loop, the
   * protocol in the backend.
   */
  io?: 'dgram' | 'thread';
  /**
   * `io: 'thread'`: socket threads sharing the port (default 1; up to 16; more than 1 needs
   * Linux's `SO_REUSEPORT`). The kernel spreads clients over the threads by address; each owns
   * its clients. Events, stats, metrics and the dashboard cover all of them.
   */
  threads?: number;
  /**
   * `io: 'thread'`: how long a socket thread may hold back the event loop's wake-up after the
   * first event of a batch, in ms (0 to 1; default 0.25; 0 wakes it at once). Under load, a small
   * delay lets one wake-up carry more events.
   */
  notifyDelay?: number;
  /**
   * Browser players over WebTransport (native backend, `io: 'thread'`): an HTTP/3 endpoint in
   * the native addon on its own UDP port, whose sessions are peers of the same engine (the
   * gamewire datagrams travel as WebTransport datagrams). Without `cert`, a self-signed ECDSA
   * certificate valid for 13 days, renewed before it expires; pages pin its SHA-256
   * (`server.webtransport.certificateHash`). With `cert`, the operator's (PEM text).
   */
  webtransport?: {
    port: number;
    host?: string;
    cert?: { certPem: string; keyPem: string };
    path?: string;
    /** A session that carries no connected client this many seconds after it opened is closed (default 15). */
    joinTimeout?: number;
  };
  /**
   * Browser players over WebSocket (both backends): the same datagrams as binary messages. With a
   * `port`, on a port of its own; without one, on every HTTP server `listenTcp` starts, at `path`
   * (default `/gamewire`).
   */
  websocket?: {
    port?: number;
    host?: string;
    path?: string;
    /** Connections one source address may hold (default 16; raise it behind a reverse proxy). */
    maxPerAddress?: number;
    /** Connections in all (default 65536). */
    maxConnections?: number;
    /** A connection that carries no connected client this many seconds after it opened is closed (default 15). */
    joinTimeout?: number;
  };
  /**
   * The protocol's time (default `monotonicClock`): ticks, and on `io: 'dgram'` the engine's
   * timeouts, keep-alives and retries, run on it, as do the browser transports' join timeouts. A
   * test or a simulation passes a clock it drives. With `io: 'thread'` the socket threads keep
   * their own time.
   */
  clock?: Clock;
  /**
   * The socket's receive buffer, bytes (default 4 MiB; Linux caps it at
   * `net.core.rmem_max`). The OS default (about 208 KiB, some 170 small datagrams) overflows
   * whenever the event loop pauses a few milliseconds under load.
   */
  recvBufferSize?: number;
  /** Logger (default: gamewire's pino logger). */
  logger?: Logger;
}

export type { TimeProfile } from './metrics-source.js';

/** Live counters for monitoring (the dashboard reads these); read at the time they are read. */
export interface ServerMetrics {
  /** Ticks run (`update` calls); stays 0 for a handler without `update`: such a server does not tick. */
  readonly ticks: number;
  /** When `run()` started, Unix ms; 0 while not running. */
  readonly startedAt: number;
  readonly profile: Readonly<TimeProfile>;
  /** Messages handed to the engine, and the batches they crossed in. */
  readonly messagesSent: number;
  readonly sendBatches: number;
  /** Queued messages the engine refused (send queue full, connection gone); their callbacks got false. */
  readonly messagesRefused: number;
}

type State = 'idle' | 'listening' | 'running' | 'stopping' | 'stopped';

/** A WebSocket connection as the server tracks it. */
interface WsConn {
  remote: TransportRemote;
  /** Its current peer id (-1: none). */
  peer: number;
  /** True once that peer became a client (the handler saw it connect). */
  announced: boolean;
  /** Closes a connection that has not carried a client by its join timeout. */
  joinTimer: ClockTimer | null;
  send(bytes: Uint8Array): boolean;
  close(): void;
}

/** Checks an optional whole-number option in [min, max]; returns it or `dflt`. */
function intOption(field: string, value: number | undefined, min: number, max: number, dflt: number): number {
  if (value === undefined) return dflt;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(field, `must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Checks an optional number of seconds (> 0); returns it or `dflt`. */
function secondsOption(field: string, value: number | undefined, dflt: number): number {
  if (value === undefined) return dflt;
  if (typeof value !== 'number' || !(value > 0 && value <= 86400)) {
    throw new ConfigError(field, `must be a number of seconds above 0 (at most 86400), got ${JSON.stringify(value)}`);
  }
  return value;
}

const JOIN_TIMEOUT = 15;

const DEFAULT_RECV_BUFFER = 4 * 1024 * 1024;
/** ms: one event-loop wake-up per batch under load at a cost of at most this much latency (docs/benchmarks.md). */
const DEFAULT_NOTIFY_DELAY = 0.25;
/** `ThreadedServer.peerTransport` codes to `ClientHandle.transport`. */
const TRANSPORTS = ['udp', 'webtransport', 'websocket'] as const;

export class UdpServer {
  readonly ctx: ServerContext;
  private readonly host: string;
  private readonly port: number;
  private readonly opts: UdpServerOptions;
  private readonly log: Logger;
  private socket: Socket | null = null;
  private engine: Engine | null = null;
  private threaded: ThreadedServer | null = null;
  private batcher: SendBatcher | null = null;
  private lastRefusalLog = -Infinity;
  private driver: EngineDriver | null = null;
  private readonly peers = new PeerTable();
  private readonly handles = new Map<number, ClientHandle>();
  /** WebSocket endpoints (one on its own port, or one per HTTP server it is mounted on). */
  private readonly wsEndpoints: WebSocketEndpoint[] = [];
  /**
   * WebSocket connections: key → its remote end, its current peer id (-1: none) and whether that
   * peer became a client (the handler saw it connect).
   */
  private readonly wsConns = new Map<number, WsConn>();
  /** Peer id → WebSocket key. */
  private readonly wsByPeer = new Map<number, number>();
  private nextWsKey = 1;
  private state: State = 'idle';
  private addressInfo: AddressInfo | null = null;
  private tickTimer: ClockTimer | null = null;
  /** `io: 'thread'`: keeps the event loop alive while the server runs. */
  private holdOpen: NodeJS.Timeout | null = null;
  /** `io: 'dgram'`: one timer, armed for the engine's next deadline. */
  private netTimer: ClockTimer | null = null;
  /** The protocol's time. */
  private readonly time: Clock;
  private netAt = Infinity;
  private nextTickAt = 0;
  private lastTick = 0;
  private access: WriteStream | null = null;
  private accessPath: string | null = null;
  private detach: (() => void) | null = null;
  private stopping: Promise<void> | null = null;
  private resolveRun: (() => void) | null = null;
  private readonly runDone: Promise<void>;
  private pumpQueued = false;
  private signalHandler: ((signal: NodeJS.Signals) => void) | null = null;
  private statsNames: readonly string[] = [];
  private readonly http = new HttpServices(() => this.state === 'stopping' || this.state === 'stopped');
  private ticks = 0;
  private startedAt = 0;
  private updateMs = 0;
  private refused = 0;
  /** Live counters, computed when read (nothing is kept up to date on a timer). */
  readonly metrics: ServerMetrics = (() => {
    const server = this;
    return {
      get ticks() { return server.ticks; },
      get startedAt() { return server.startedAt; },
      get profile() { return server.timeProfile(); },
      get messagesSent() { return server.batcher?.sent ?? 0; },
      get sendBatches() { return server.batcher?.batches ?? 0; },
      get messagesRefused() { return server.refused; },
    };
  })();

  constructor(ctx: ServerContext, addr: { host: string; port: number }, opts: UdpServerOptions = {}) {
    if (!addr || typeof addr.host !== 'string') throw new ConfigError('addr.host', 'must be a host string such as "0.0.0.0" or "::"');
    if (!Number.isInteger(addr.port) || addr.port < 0 || addr.port > 65535) {
      throw new ConfigError('addr.port', `must be a port number from 0 to 65535, got ${JSON.stringify(addr.port)}`);
    }
    this.ctx = ctx;
    this.host = addr.host;
    this.port = addr.port;
    this.opts = { installSignals: true, ...ctx.backendOptions, ...opts };
    this.log = componentLogger(opts.logger, 'server');
    intOption('threads', opts.threads, 1, 16, 1);
    this.time = opts.clock ?? monotonicClock;
    const delay = opts.notifyDelay ?? 0;
    if (typeof delay !== 'number' || !(delay >= 0 && delay <= 1)) {
      throw new ConfigError('notifyDelay', `must be a number of milliseconds from 0 to 1, got ${JSON.stringify(opts.notifyDelay)}`);
    }
    if (opts.webtransport !== undefined) {
      const wt = opts.webtransport;
      if (!wt || typeof wt !== 'object') throw new ConfigError('webtransport', 'must be an object such as { port: 4433 }');
      intOption('webtransport.port', wt.port ?? NaN, 0, 65535, 0);
      secondsOption('webtransport.joinTimeout', wt.joinTimeout, JOIN_TIMEOUT);
      if (wt.cert && (typeof wt.cert.certPem !== 'string' || typeof wt.cert.keyPem !== 'string')) {
        throw new ConfigError('webtransport.cert', 'needs certPem and keyPem, PEM text');
      }
    }
    if (opts.websocket !== undefined) {
      const ws = opts.websocket;
      if (!ws || typeof ws !== 'object') throw new ConfigError('websocket', 'must be an object such as { port: 8081 } or {}');
      intOption('websocket.port', ws.port, 0, 65535, 0);
      intOption('websocket.maxPerAddress', ws.maxPerAddress, 1, 65536, 16);
      intOption('websocket.maxConnections', ws.maxConnections, 1, 1 << 20, 65536);
      secondsOption('websocket.joinTimeout', ws.joinTimeout, JOIN_TIMEOUT);
    }
    this.runDone = new Promise((resolve) => (this.resolveRun = resolve));
  }

  /** The WebTransport endpoint (null without the `webtransport` option). */
  get webtransport(): { host: string; port: number; url: string; certificateHash: string; selfSigned: boolean } | null {
    const wt = this.threaded?.webtransport();
    if (!wt) return null;
    const host = wt.host === '0.0.0.0' || wt.host === '::' ? '127.0.0.1' : wt.host;
    const url = `https://${host.includes(':') ? `[${host}]` : host}:${wt.port}${this.opts.webtransport?.path ?? '/gamewire'}`;
    return { ...wt, url };
  }

  /** The WebSocket endpoints (empty without the `websocket` option). */
  get websocket(): { host: string; port: number; path: string; url: string }[] {
    return this.wsEndpoints.flatMap((ep) => {
      const a = ep.address;
      if (!a) return [];
      const host = a.address === '0.0.0.0' || a.address === '::' ? '127.0.0.1' : a.address;
      return [{ host: a.address, port: a.port, path: ep.path, url: `ws://${host.includes(':') ? `[${host}]` : host}:${a.port}${ep.path}` }];
    });
  }

  /** The bound address (after `listen`). */
  get address(): AddressInfo {
    if (!this.addressInfo) throw new StateError('the server is not listening yet: call listen() or run()');
    return this.addressInfo;
  }

  /** The backend the server runs on. */
  get backend(): string {
    return this.engine?.backend ?? 'none';
  }

  /** The root public key clients should pin (SPKI DER). */
  get rootPublicSpki(): Uint8Array {
    return this.ctx.rootKey.publicKey(this.ctx.backendOptions).spki;
  }

  /** Connections the engine holds, handshakes and closing ones included. */
  get connectionCount(): number {
    return this.engine?.connectionCount() ?? 0;
  }

  /** Connected clients. */
  clients(): ClientHandle[] {
    return [...this.handles.values()];
  }

  /** Endpoint-wide statistics. */
  get stats(): ConnectionStats {
    return decodeStats(this.statsNames, this.engine ? this.engine.stats() : new Float64Array(this.statsNames.length));
  }

  /** Binds the UDP socket. `host` '::' binds IPv6 (dual-stack); port 0 picks a free port. */
  listen(): Promise<AddressInfo> {
    // Idempotent, also while a first call is still binding (run() calls it too).
    this.listening ??= this.doListen().catch((err: unknown) => {
      this.listening = null;
      throw err;
    });
    return this.listening;
  }

  private listening: Promise<AddressInfo> | null = null;

  private async doListen(): Promise<AddressInfo> {
    if (this.state !== 'idle') throw new StateError(`cannot listen: the server is ${this.state}`);
    const backend = loadBackend(this.opts);
    this.statsNames = backend.layout.stats;
    const config = flatConfig(backend, this.ctx.netOptions(), Date.now() - this.time.now());
    const io = this.opts.io ?? (backend.createThreadedServer ? 'thread' : 'dgram');
    if (io === 'thread') {
      if (!backend.createThreadedServer) {
        throw new ConfigError('io', `"thread" needs the native backend (this server runs on ${backend.name})`);
      }
      const wt = this.opts.webtransport;
      const threaded = backend.createThreadedServer({
        webtransport: wt && {
          host: wt.host ?? (this.host === '::' ? '::' : this.host),
          port: wt.port,
          certPem: wt.cert?.certPem,
          keyPem: wt.cert?.keyPem,
          path: wt.path,
          joinTimeoutMs: Math.round((wt.joinTimeout ?? JOIN_TIMEOUT) * 1000),
        },
        host: this.host,
        port: this.port,
        config,
        rootPkcs8: this.ctx.rootKey.pkcs8,
        recvBufferSize: this.opts.recvBufferSize ?? DEFAULT_RECV_BUFFER,
        threads: this.opts.threads ?? 1,
        notifyDelayMs: this.opts.notifyDelay ?? DEFAULT_NOTIFY_DELAY,
        onEvents: () => this.driver?.pump(),
      });
      this.threaded = threaded;
      this.engine = this.batched(threaded);
      this.driver = new EngineDriver(this.engine, () => undefined, this.sink(), this.log, { clock: this.time });
      const a = threaded.localAddress;
      this.addressInfo = { address: a.host, port: a.port, family: a.family };
    } else {
      if ((this.opts.threads ?? 1) > 1) throw new ConfigError('threads', 'more than one socket thread needs io: "thread"');
      if (this.opts.webtransport) {
        throw new ConfigError('webtransport', `needs the native backend with io: "thread" (this server runs on ${backend.name}, io: "dgram"); browsers without it use the websocket option`);
      }
      const engine = backend.createServer(config, this.ctx.rootKey.pkcs8);
      const socket = createSocket({ type: isIPv6(this.host) || this.host === '::' ? 'udp6' : 'udp4' });
      await new Promise<void>((resolve, reject) => {
        socket.once('error', (err) => reject(bindError(err, this.host, this.port)));
        socket.bind(this.port, this.host, () => {
          socket.removeAllListeners('error');
          resolve();
        });
      });
      try {
        socket.setRecvBufferSize(this.opts.recvBufferSize ?? DEFAULT_RECV_BUFFER);
      } catch (err) {
        this.log.warn({ err }, 'could not set the socket receive buffer size');
      }
      socket.on('error', (err) => this.log.warn({ err }, 'socket error'));
      socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo.address, rinfo.port, rinfo.family));
      this.socket = socket;
      this.engine = this.batched(engine);
      const route: PeerRoute = { socket, address: '', port: 0 };
      this.driver = new EngineDriver(
        this.engine,
        (peer) => {
          const p = this.peers.get(peer);
          if (!p) return undefined;
          if (p.external !== undefined) return this.wsConns.get(p.external);
          route.address = p.host;
          route.port = p.port;
          return route;
        },
        this.sink(),
        this.log,
        { afterPump: () => this.scheduleNet(), clock: this.time },
      );
      this.addressInfo = socket.address();
    }
    if (this.opts.websocket?.port !== undefined) {
      const ws = this.opts.websocket;
      const handlers = this.wsHandlers();
      const ep = await WebSocketEndpoint.start({
        handlers,
        port: ws.port,
        host: ws.host ?? this.host,
        path: ws.path,
        maxDatagram: config[backend.layout.config.indexOf('maxDatagram')],
        maxConnectionsPerIp: ws.maxPerAddress,
        maxConnections: ws.maxConnections,
        logger: this.log,
      });
      handlers.bind(ep);
      this.wsEndpoints.push(ep);
    }
    this.detach = this.ctx.attach(() => this.applyContext(), () => this.stop());
    this.applyContext();
    this.state = 'listening';
    this.log.info({ address: this.addressInfo.address, port: this.addressInfo.port, backend: backend.name, io }, 'listening');
    return this.addressInfo;
  }

  /** Runs the server: `starting`, then ticks until `stop()`; resolves after `shutdown` ran. */
  async run(): Promise<void> {
    await this.listen();
    if (this.state !== 'listening') return this.runDone;
    this.state = 'running';
    await this.guard('starting', undefined, () => this.ctx.handler.starting());
    if (this.opts.installSignals) this.installSignals();
    this.startedAt = Date.now();
    this.runStartedAt = performance.now();
    this.lastTick = this.time.now();
    this.nextTickAt = this.lastTick;
    // A handler without `update` has nothing to run on a tick: the server does not tick at all,
    // and an idle server sleeps (the engine's timers run at its deadlines, not on ticks).
    if (this.ctx.handler.update !== EventHandler.prototype.update) this.scheduleTick();
    // The socket threads are invisible to Node's event loop: hold it open while the server runs,
    // as node:dgram's socket does on the other path. The timer never fires.
    if (this.threaded) this.holdOpen = setInterval(() => undefined, 2 ** 30);
    return this.runDone;
  }

  /** Stops gracefully: clients are told, `disconnect` then `shutdown` run, the socket closes. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    if (this.state === 'idle') {
      this.state = 'stopped';
      await this.http.closeAll();
      this.resolveRun?.();
      return;
    }
    const wasRunning = this.state === 'running';
    this.state = 'stopping';
    const engine = this.engine!;
    const driver = this.driver!;
    engine.closeAll(this.time.now());
    driver.pump();
    // Linger while clients get what was queued for them and then their DISCONNECT (each bounded
    // by the message timeout; the bound is real time, so a stopped test clock cannot hold it).
    const deadline = performance.now() + 2 * this.ctx.messageTimeout * 1000 + 100;
    while (engine.connectionCount() > 0 && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
      driver.flush();
      engine.tick(this.time.now());
      driver.pump();
    }
    this.tickTimer?.cancel();
    this.tickTimer = null;
    if (this.holdOpen) clearInterval(this.holdOpen);
    this.holdOpen = null;
    this.netTimer?.cancel();
    this.netTimer = null;
    this.netAt = Infinity;
    if (wasRunning) await this.guard('shutdown', undefined, () => this.ctx.handler.shutdown());
    await Promise.all(this.wsEndpoints.splice(0).map((ep) => ep.stop()));
    engine.abortAll();
    driver.close();
    this.removeSignals();
    this.detach?.();
    this.access?.end();
    this.access = null;
    await this.http.closeAll();
    const socket = this.socket;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
    this.state = 'stopped';
    this.log.info('stopped');
    this.resolveRun?.();
  }

  /** Sends one message to every connected client (no callbacks). */
  broadcast(payload: Uint8Array, retry: RetryMode = RetryMode.NONE): number {
    checkPayload(payload);
    checkRetry(retry);
    if (!this.engine) return 0;
    const peers = Uint32Array.from(this.handles.keys());
    const n = this.engine.broadcast(this.time.now(), peers, payload, retry);
    this.queuePump();
    return n;
  }

  /**
   * Serves `router` over HTTP, or HTTPS with `tls` (PEM text or file paths), on `addr` beside the
   * game port (mpgameserver's `listenTCP`); port 0 picks one. Call it before or after `listen()`/`run()`;
   * it closes when the server stops.
   */
  async listenTcp(router: Router, addr: HttpAddress, tls?: TlsOptions, limits?: HttpLimits): Promise<AddressInfo> {
    const listener = await this.http.add(() => listenHttp(router, addr, { tls, logger: this.log, ...limits }));
    const ws = this.opts.websocket;
    if (ws && ws.port === undefined) {
      // The WebSocket endpoint takes this server's upgrades at its path; other requests are the router's.
      const handlers = this.wsHandlers();
      const ep = await WebSocketEndpoint.start({
        handlers,
        server: listener.server,
        path: ws.path,
        maxDatagram: this.ctx.net.maxDatagram ?? 2048,
        maxConnectionsPerIp: ws.maxPerAddress,
        maxConnections: ws.maxConnections,
        logger: this.log,
      });
      handlers.bind(ep);
      this.wsEndpoints.push(ep);
    }
    return listener.address;
  }

  /** Serves the live dashboard (mpgameserver's GuiServer, in a browser) and `/metrics` on `addr`; closes when the server stops. */
  async enableDashboard(addr: HttpAddress, opts: EnableDashboardOptions = {}): Promise<AddressInfo> {
    return (await this.http.add(() => Dashboard.serve(this, addr, { logger: this.log, ...opts }))).address!;
  }

  // ---- internals --------------------------------------------------------------------------

  private applyContext(): void {
    const engine = this.engine;
    if (!engine) return;
    const backend = loadBackend(this.opts);
    engine.setConfig(flatConfig(backend, this.ctx.netOptions(), Date.now() - this.time.now()));
    this.threaded?.setBlockList([...this.ctx.blocklist]);
    if (this.ctx.accessLogPath !== this.accessPath) {
      this.access?.end();
      this.access = null;
      this.accessPath = this.ctx.accessLogPath;
      if (this.accessPath) {
        this.access = createWriteStream(this.accessPath, { flags: 'a' });
        this.access.on('error', (err) => this.log.error({ err, path: this.accessPath }, 'access log write failed'));
      }
    }
  }

  private onDatagram(msg: Buffer, address: string, port: number, family: string): void {
    const engine = this.engine;
    const driver = this.driver;
    if (!engine || !driver || this.state === 'stopped') return;
    if (this.blocked(address)) {
      engine.countBlocked(msg.length);
      return;
    }
    driver.receive(this.peers.idOf(address, port, family), msg, sourceOf(address));
  }

  /** Whether the block list names `address` (IPv4-mapped IPv6 as IPv4). */
  private blocked(address: string): boolean {
    const block = this.ctx.blocklist;
    return block.size > 0 && (block.has(address) || (address.startsWith('::ffff:') && block.has(address.slice(7))));
  }

  /** Wraps the engine so that sends cross into it in batches; refusals come back here. */
  private batched(engine: Engine): SendBatcher {
    const b = new SendBatcher(engine, (peer, code, callbackId) => {
      this.refused++;
      const cb = this.driver?.takeCallback(callbackId);
      const now = performance.now();
      if (now - this.lastRefusalLog >= 1000) {
        this.lastRefusalLog = now;
        const client = this.handles.get(peer);
        this.log.warn(
          { token: client?.token, code: codeName(code), refused: this.refused },
          'a message was refused by the engine (its callback gets false); more within a second are counted, not logged',
        );
      }
      if (cb) queueMicrotask(() => cb(false));
    });
    this.batcher = b;
    return b;
  }

  private host_(): HandleHost {
    return {
      send: (peer, payload, retry, cb) => {
        const driver = this.driver!;
        const id = driver.callbackId(cb);
        const rc = this.engine!.send(this.time.now(), peer, payload, retry, id);
        if (rc !== 0) {
          driver.takeCallback(id);
          if (cb) queueMicrotask(() => cb(false));
        } else {
          this.queuePump();
        }
        return rc;
      },
      disconnect: (peer) => {
        this.engine?.disconnect(this.time.now(), peer);
        this.queuePump();
      },
      latency: (peer) => this.engine?.latency(peer) ?? -1,
      stats: (peer) => this.engine?.connectionStats(peer) ?? null,
      statsNames: this.statsNames,
    };
  }

  /** Sends queued messages at the end of the current synchronous run (coalescing them). */
  private queuePump(): void {
    // From a handler run by the driver's pump (handleMessage, connect…): that pump sends it.
    if (this.pumpQueued || this.driver?.pumping) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      this.driver?.pump();
    });
  }

  private sink(): DriverSink {
    const host = this.host_();
    return {
      connected: (peer, token) => {
        const addr = this.peers.get(peer) ?? this.threaded?.peerAddress(peer);
        if (!addr) return;
        const wsKey = this.wsByPeer.get(peer);
        const ws = wsKey === undefined ? undefined : this.wsConns.get(wsKey);
        if (ws) {
          ws.announced = true;
          ws.joinTimer?.cancel();
          ws.joinTimer = null;
        }
        const transport = this.threaded ? (TRANSPORTS[this.threaded.peerTransport(peer)] ?? 'udp') : ws ? 'websocket' : 'udp';
        const log = this.log.child({ client: token, addr: `${addr.host}:${addr.port}`, transport });
        const handle = new ClientHandle(host, peer, { host: addr.host, port: addr.port }, token, log, transport);
        this.handles.set(peer, handle);
        this.access?.write(`${new Date().toISOString()} ${addr.host} ${addr.port} ${token}\n`);
        this.guard('connect', handle, () => this.ctx.handler.connect(handle));
      },
      message: (peer, seq, data) => {
        const handle = this.handles.get(peer);
        if (!handle) return;
        // guard() inlined: this runs once per message, and guard's closures and Promise cost more
        // than a small handler (bench/load flood).
        try {
          const r: unknown = this.ctx.handler.handleMessage(handle, seq, data);
          if (r && typeof (r as Promise<unknown>).then === 'function') {
            (r as Promise<unknown>).then(undefined, (err: unknown) => this.reportHandlerError('handleMessage', handle, err, seq));
          }
        } catch (err) {
          this.reportHandlerError('handleMessage', handle, err, seq);
        }
      },
      disconnected: (peer, reason: CloseReason) => {
        const handle = this.handles.get(peer);
        if (!handle) return;
        handle.snapshot();
        // Its transport ended underneath (a page closed, a WebSocket cut): a drop, as a timeout is.
        handle.status = reason === 'transport-closed' ? ConnectionStatus.DROPPED : finalStatus(reason);
        this.handles.delete(peer);
        handle.log.debug({ reason }, 'disconnected');
        this.guard('disconnect', handle, () => this.ctx.handler.disconnect(handle));
      },
      released: (peer) => {
        const handle = this.handles.get(peer);
        if (handle) {
          // Released without a Disconnected event cannot happen for an established connection;
          // keep the invariant anyway.
          handle.status = ConnectionStatus.DISCONNECTED;
          this.handles.delete(peer);
        }
        this.peers.release(peer);
        const key = this.wsByPeer.get(peer);
        if (key !== undefined) {
          this.wsByPeer.delete(peer);
          const conn = this.wsConns.get(key);
          if (conn && conn.peer === peer) {
            conn.peer = -1;
            // A client the engine let go: its connection goes too. A datagram that made no
            // connection (malformed, a refused handshake) leaves it open, as a UDP address stays
            // usable: its next datagram gets a new id.
            if (conn.announced) {
              conn.close();
              this.wsConns.delete(key);
            }
          }
        }
      },
      transmit: (_peer, key, data) => {
        this.wsConns.get(key)?.send(data);
      },
    };
  }

  /**
   * Handlers for one WebSocket endpoint. Its connection keys are mapped to server-wide keys (the
   * server may run several endpoints); each connection becomes an engine peer at its first
   * datagram: in the Rust threads' engine (`io: 'thread'`) or the dgram path's.
   */
  private wsHandlers(): TransportHandlers & { bind(ep: WebSocketEndpoint): void } {
    let ep: WebSocketEndpoint | null = null;
    const local = new Map<number, number>();
    return {
      bind: (e) => (ep = e),
      onOpen: (k, remote) => {
        const key = this.nextWsKey++;
        local.set(k, key);
        const conn: WsConn = {
          remote,
          peer: -1,
          announced: false,
          joinTimer: null,
          send: (bytes) => ep?.send(k, bytes) ?? false,
          close: () => ep?.close(k),
        };
        this.wsConns.set(key, conn);
        if (this.blocked(remote.host)) return ep?.close(k);
        // A connection that sends what makes no client would hold one of its address's
        // connections for as long as it likes: it has until the join timeout to become one.
        const joinTimeout = (this.opts.websocket?.joinTimeout ?? JOIN_TIMEOUT) * 1000;
        conn.joinTimer = this.time.setTimeout(() => {
          conn.joinTimer = null;
          if (conn.announced) return;
          this.log.debug({ host: remote.host, port: remote.port }, 'a WebSocket carried no client by its join timeout: closed');
          ep?.close(k);
        }, joinTimeout);
      },
      onDatagram: (k, bytes) => {
        const key = local.get(k);
        const conn = key === undefined ? undefined : this.wsConns.get(key);
        if (key === undefined || !conn || this.state === 'stopped') return;
        if (this.threaded) {
          const peer = this.threaded.receiveExternal(key, conn.remote.host, conn.remote.port, bytes);
          if (peer >= 0 && conn.peer !== peer) {
            // A new id: the engine let the previous one go without a connection (the socket
            // threads tell the host only of clients), so it is forgotten here too.
            if (conn.peer >= 0) this.wsByPeer.delete(conn.peer);
            conn.peer = peer;
            this.wsByPeer.set(peer, key);
          }
          this.queuePump();
        } else if (this.driver) {
          // The block list may have changed since the connection opened (the socket threads
          // check it per datagram too).
          if (this.blocked(conn.remote.host)) {
            this.engine?.countBlocked(bytes.length);
            return;
          }
          const peer = this.peers.idOfExternal(key, conn.remote.host, conn.remote.port);
          if (conn.peer !== peer) {
            conn.peer = peer;
            this.wsByPeer.set(peer, key);
          }
          this.driver.receive(peer, bytes, sourceOf(conn.remote.host));
        }
      },
      onClose: (k) => {
        const key = local.get(k);
        local.delete(k);
        const conn = key === undefined ? undefined : this.wsConns.get(key);
        if (key === undefined || !conn) return;
        conn.joinTimer?.cancel();
        conn.joinTimer = null;
        // The engine ends the peer at once (its transport is gone): a client's release cleans up;
        // a connection that never carried a client is forgotten now (the socket threads do not
        // tell the host of releases of peers it never saw connect).
        if (this.threaded) this.threaded.closeExternal(key);
        else if (conn.peer >= 0) this.engine?.abort(this.time.now(), conn.peer);
        if (!conn.announced) {
          this.wsConns.delete(key);
          if (conn.peer >= 0) this.wsByPeer.delete(conn.peer);
        }
        this.queuePump();
      },
    };
  }

  private reportHandlerError(method: string, client: ClientHandle, err: unknown, seq: number): void {
    client.log.error({ err, method, seq }, `exception in EventHandler.${method}`);
  }

  /** Runs user code; an exception (or rejected Promise) is logged with context, never rethrown. */
  private guard(method: string, client: ClientHandle | undefined, f: () => unknown, seq?: number): Promise<void> {
    const log = client?.log ?? this.log;
    const report = (err: unknown) => log.error({ err, method, ...(seq === undefined ? {} : { seq }) }, `exception in EventHandler.${method}`);
    try {
      const r = f();
      if (r && typeof (r as Promise<unknown>).then === 'function') {
        return (r as Promise<unknown>).then(() => undefined, report);
      }
    } catch (err) {
      report(err);
    }
    return Promise.resolve();
  }

  private scheduleTick(): void {
    if (this.state !== 'running') return;
    const interval = this.ctx.interval * 1000;
    this.nextTickAt += interval;
    const now = this.time.now();
    if (this.nextTickAt < now - interval) this.nextTickAt = now; // fell behind: do not burst
    this.tickTimer = this.time.setTimeout(() => this.tick(), Math.max(0, this.nextTickAt - now));
  }

  private tick(): void {
    const engine = this.engine;
    const driver = this.driver;
    if (!engine || !driver || this.state !== 'running') return;
    const now = this.time.now();
    const dt = (now - this.lastTick) / 1000;
    this.lastTick = now;
    const t0 = performance.now();
    driver.flush();
    engine.tick(now);
    driver.profile.handleMs += performance.now() - t0;
    driver.pump();
    const t1 = performance.now();
    this.guard('update', undefined, () => this.ctx.handler.update(dt));
    this.updateMs += performance.now() - t1;
    driver.pump();
    this.ticks++;
    this.scheduleTick();
    this.scheduleNet();
  }

  /** Where time went so far (the socket threads' time included). */
  private timeProfile(): TimeProfile {
    const driver = this.driver;
    const thread = this.threaded?.threadProfile();
    const messageHandling = (driver?.profile.handleMs ?? 0) + (thread?.handleMs ?? 0);
    const network = (driver?.profile.networkMs ?? 0) + (thread?.networkMs ?? 0);
    const running = this.runStartedAt > 0 ? performance.now() - this.runStartedAt : 0;
    return { messageHandling, update: this.updateMs, network, idle: Math.max(0, running - messageHandling - network - this.updateMs) };
  }

  /**
   * `io: 'dgram'`: arms one timer for the engine's next deadline (a retry, a keep-alive, a reply
   * held by the send gate, a timeout), re-armed only when the deadline moves earlier. An idle
   * server with no connections has no deadline and sleeps between ticks.
   */
  private scheduleNet(): void {
    const engine = this.engine;
    if (this.threaded || !engine || this.state !== 'running') return;
    const next = engine.nextTimeout();
    if (next < 0) return;
    if (this.netTimer && next >= this.netAt - 0.25) return;
    this.netTimer?.cancel();
    this.netAt = next;
    this.netTimer = this.time.setTimeout(() => this.netStep(), Math.max(0, next - this.time.now()));
  }

  /** The engine's timers and sends at its deadline (no `handler.update`). */
  private netStep(): void {
    this.netTimer = null;
    this.netAt = Infinity;
    const engine = this.engine;
    const driver = this.driver;
    if (!engine || !driver || this.state !== 'running') return;
    const t0 = performance.now();
    driver.flush();
    engine.tick(this.time.now());
    driver.profile.handleMs += performance.now() - t0;
    driver.pump();
    this.scheduleNet();
  }

  private runStartedAt = 0;

  private installSignals(): void {
    const onSignal = (signal: NodeJS.Signals) => {
      this.log.info({ signal }, 'signal received: stopping');
      void this.stop().then(() => this.opts.onSignal?.(signal));
    };
    this.signalHandler = onSignal;
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }

  private removeSignals(): void {
    if (!this.signalHandler) return;
    process.off('SIGINT', this.signalHandler);
    process.off('SIGTERM', this.signalHandler);
    this.signalHandler = null;
  }
}
