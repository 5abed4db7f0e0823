/**
 * UdpClient: a real client of the protocol (for bots, tests and Node game clients), compatible
 * with mpgameserver's server. One instance holds one connection at a time; `connect` again after a
 * drop opens a new one (new socket, new token).
 */
import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { loadBackend, type BackendOptions, type Engine } from '../backend/index.js';
import { ArgumentError, ConfigError, GamewireError, TimeoutError } from '../errors.js';
import { componentLogger, type Logger } from '../log.js';
import { checkPayload, checkRetry, sendRefused } from './send-checks.js';
import { flatConfig, type NetOptions } from './config.js';
import { CODE, ConnectionStatus, RetryMode, finalStatus, type CloseReason } from './constants.js';
import { EngineDriver } from './driver.js';
import { monotonicClock, type Clock, type ClockTimer } from '../clock.js';
import { PublicKey } from './keys.js';
import { decodeStats, type ConnectionStats } from './stats.js';

export interface UdpClientOptions extends BackendOptions {
  /** The server's root public key (a PublicKey, or its PEM). Required unless `insecureAcceptAnyServerKey`. */
  rootPublicKey?: PublicKey | string;
  /**
   * Connect without a pinned key, trusting whatever key the server presents: open to a man in
   * the middle. For local development only.
   */
  insecureAcceptAnyServerKey?: boolean;
  /** Engine options (timers, limits). */
  net?: NetOptions;
  logger?: Logger;
  /**
   * The protocol's time (default `monotonicClock`): the connect, connection and message timeouts,
   * keep-alives and retries run on it. A test or a simulation passes a clock it drives.
   */
  clock?: Clock;
}

export interface ConnectOptions {
  /** Seconds to wait for the handshake (default: the `connectTimeout` option, 5). */
  timeout?: number;
}

export interface UdpClientEvents {
  connected: [];
  message: [seqnum: number, msg: Uint8Array];
  disconnected: [status: ConnectionStatus, reason: CloseReason];
}

const SERVER = 0;

export class UdpClient extends EventEmitter<UdpClientEvents> {
  private readonly opts: UdpClientOptions;
  /** The protocol's time. */
  private readonly time: Clock;
  private readonly pinned: PublicKey | null;
  private readonly log: Logger;
  private socket: Socket | null = null;
  private engine: Engine | null = null;
  private driver: EngineDriver | null = null;
  private server: { address: string; port: number } | null = null;
  private timer: ClockTimer | null = null;
  private timerAt = -1;
  private statusValue: ConnectionStatus = ConnectionStatus.DISCONNECTED;
  private tokenValue = 0;
  private lastStats: Float64Array | null = null;
  private statsNames: readonly string[] = [];
  private connectWaiter: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private releaseWaiter: (() => void) | null = null;
  private pumpQueued = false;
  /** Bumped by `disconnect()`: a `connect()` still setting up sees it and gives up. */
  private generation = 0;
  private rescheduleQueued = false;

  constructor(opts: UdpClientOptions = {}) {
    super();
    this.opts = opts;
    this.time = opts.clock ?? monotonicClock;
    const key = opts.rootPublicKey;
    this.pinned = key === undefined ? null : typeof key === 'string' ? PublicKey.fromPem(key, opts) : key;
    if (!this.pinned && !opts.insecureAcceptAnyServerKey) {
      throw new ConfigError(
        'rootPublicKey',
        'is required: pin the server\'s root public key (or set insecureAcceptAnyServerKey: true, which is open to a man in the middle)',
      );
    }
    this.log = componentLogger(opts.logger, 'client');
  }

  /** CONNECTING, CONNECTED, DISCONNECTING, DISCONNECTED or DROPPED. */
  get status(): ConnectionStatus {
    return this.statusValue;
  }

  /** The session token the server assigned (0 before the handshake). */
  get token(): number {
    return this.tokenValue;
  }

  /** Latency estimate in seconds (mpgameserver's: EWMA of half the round trip). */
  get latency(): number {
    const l = this.engine?.latency(SERVER) ?? -1;
    return l < 0 ? 0 : l;
  }

  /** This connection's statistics. */
  get stats(): ConnectionStats {
    const live = this.engine?.connectionStats(SERVER) ?? null;
    if (live) this.lastStats = live;
    return decodeStats(this.statsNames, this.lastStats ?? new Float64Array(this.statsNames.length));
  }

  /** The local UDP address (after `connect`). */
  get localAddress(): { address: string; port: number } | null {
    return this.socket ? this.socket.address() : null;
  }

  /** The backend in use (after `connect`). */
  get backend(): string {
    return this.engine?.backend ?? 'none';
  }

  /** Connects (a new socket and a new session every time). Resolves once the server confirmed. */
  async connect(host: string, port: number, opts: ConnectOptions = {}): Promise<void> {
    if (this.statusValue === ConnectionStatus.CONNECTING || this.statusValue === ConnectionStatus.CONNECTED) {
      throw new GamewireError('ERR_ALREADY_CONNECTED', 'already connected: disconnect() first');
    }
    if (typeof host !== 'string' || host === '') throw new ArgumentError(`connect: host must be a host name or IP address, got ${JSON.stringify(host)}`);
    if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new ArgumentError(`connect: port must be 1..65535, got ${port}`);
    const gen = ++this.generation;
    const aborted = () => {
      if (gen === this.generation) return false;
      return true;
    };
    await this.teardown();
    let address = host;
    if (!isIP(host)) {
      try {
        address = (await lookup(host)).address;
      } catch (err) {
        throw new GamewireError('ERR_CONNECT', `cannot resolve ${JSON.stringify(host)}: ${(err as Error).message}`, { cause: err });
      }
    }
    if (aborted()) throw new GamewireError('ERR_CONNECT', 'disconnect() was called while connecting');
    const backend = loadBackend(this.opts);
    this.statsNames = backend.layout.stats;
    const net: NetOptions = { ...this.opts.net };
    if (opts.timeout !== undefined) net.connectTimeout = opts.timeout;
    const engine = backend.createClient(flatConfig(backend, net, Date.now() - this.time.now()));
    const socket = createSocket({ type: isIP(address) === 6 ? 'udp6' : 'udp4' });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    if (aborted()) {
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      throw new GamewireError('ERR_CONNECT', 'disconnect() was called while connecting');
    }
    socket.on('error', (err) => this.log.warn({ err }, 'socket error'));
    socket.on('message', (msg, rinfo) => {
      // Only the server we connected to.
      if (rinfo.port === port && (rinfo.address === address || rinfo.address === `::ffff:${address}`)) {
        this.driver?.receive(SERVER, msg);
        this.scheduleAfterFlush();
      } else if (this.engine) {
        this.engine.countBlocked(msg.length);
      }
    });
    this.socket = socket;
    this.engine = engine;
    this.server = { address, port };
    this.tokenValue = 0;
    this.lastStats = null;
    const route = { socket, address, port };
    this.driver = new EngineDriver(engine, (peer) => (peer === SERVER ? route : undefined), {
      connected: (_peer, token) => {
        this.tokenValue = token;
        this.statusValue = ConnectionStatus.CONNECTED;
        this.connectWaiter?.resolve();
        this.connectWaiter = null;
        this.emit('connected');
      },
      message: (_peer, seq, data) => this.emit('message', seq, data),
      disconnected: (_peer, reason) => this.onClosed(reason),
      released: () => {
        this.releaseWaiter?.();
        this.releaseWaiter = null;
        // The connection is over (closed by either side, or dropped): free the socket.
        const myGen = this.generation;
        if (this.statusValue !== ConnectionStatus.CONNECTED && this.statusValue !== ConnectionStatus.CONNECTING) {
          setImmediate(() => {
            if (myGen === this.generation) void this.teardown();
          });
        }
      },
    }, this.log, { clock: this.time });
    const rc = engine.connect(this.time.now(), SERVER, this.pinned?.spki ?? null, this.opts.insecureAcceptAnyServerKey === true);
    if (rc !== CODE.OK) throw new GamewireError('ERR_CONNECT', `connect refused by the engine (code ${rc})`);
    this.statusValue = ConnectionStatus.CONNECTING;
    const done = new Promise<void>((resolve, reject) => (this.connectWaiter = { resolve, reject }));
    this.driver.pump();
    this.schedule();
    return done;
  }

  private onClosed(reason: CloseReason): void {
    const live = this.engine?.connectionStats(SERVER);
    if (live) this.lastStats = live;
    const was = this.statusValue;
    this.statusValue = reason === 'peer' ? ConnectionStatus.DISCONNECTING : finalStatus(reason);
    if (this.connectWaiter) {
      const msg =
        reason === 'bad-server-key'
          ? 'connect failed: the server\'s key did not verify against the pinned root public key'
          : `connect timed out after no valid answer from ${this.server?.address}:${this.server?.port}`;
      this.connectWaiter.reject(reason === 'connect-timeout' || reason === 'bad-server-key' ? new TimeoutError(msg) : new GamewireError('ERR_CONNECT', `connect failed (${reason})`));
      this.connectWaiter = null;
    }
    if (was === ConnectionStatus.CONNECTED || was === ConnectionStatus.CONNECTING) this.emit('disconnected', this.statusValue, reason);
  }

  /** Sends a message (default RETRY_ON_TIMEOUT, as mpgameserver's client). */
  send(payload: Uint8Array, retry: RetryMode = RetryMode.RETRY_ON_TIMEOUT, callback?: (acked: boolean) => void): void {
    checkPayload(payload);
    checkRetry(retry);
    const engine = this.engine;
    const driver = this.driver;
    if (!engine || !driver || (this.statusValue !== ConnectionStatus.CONNECTED && this.statusValue !== ConnectionStatus.CONNECTING)) {
      throw new GamewireError('ERR_NOT_CONNECTED', 'not connected');
    }
    const id = driver.callbackId(callback);
    const rc = engine.send(this.time.now(), SERVER, payload, retry, id);
    if (rc !== CODE.OK) {
      driver.takeCallback(id);
      throw sendRefused(rc);
    }
    this.queuePump();
  }

  /** Sends with RETRY_ON_TIMEOUT. */
  sendGuaranteed(payload: Uint8Array, callback?: (acked: boolean) => void): void {
    this.send(payload, RetryMode.RETRY_ON_TIMEOUT, callback);
  }

  /** Closes gracefully: DISCONNECT, wait for its ack (at most about a second), close the socket. */
  async disconnect(): Promise<void> {
    this.generation++;
    const engine = this.engine;
    if (!engine) return;
    if (engine.connectionCount() > 0) {
      const released = new Promise<void>((resolve) => (this.releaseWaiter = resolve));
      engine.disconnect(this.time.now(), SERVER);
      this.driver?.pump();
      this.schedule();
      await Promise.race([released, new Promise((r) => setTimeout(r, 1500))]);
    }
    await this.teardown();
  }

  private queuePump(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      this.driver?.pump();
      this.schedule();
    });
  }

  /**
   * Re-arms the timer once the datagrams just received have been handled: the driver handles
   * them in a setImmediate queued before this one, and handling them moves the next deadline
   * (e.g. the CHALLENGE_RESP that the send gate holds back after a SERVER_HELLO).
   */
  private scheduleAfterFlush(): void {
    if (this.rescheduleQueued) return;
    this.rescheduleQueued = true;
    setImmediate(() => {
      this.rescheduleQueued = false;
      this.schedule();
    });
  }

  /** Arms the timer for the engine's next deadline. */
  private schedule(): void {
    const engine = this.engine;
    if (!engine || this.driver?.closed) return;
    const at = engine.nextTimeout();
    if (at < 0) {
      this.timer?.cancel();
      this.timer = null;
      this.timerAt = -1;
      return;
    }
    if (this.timer && Math.abs(at - this.timerAt) < 0.5) return;
    this.timer?.cancel();
    this.timerAt = at;
    this.timer = this.time.setTimeout(() => {
      this.timer = null;
      this.timerAt = -1;
      this.engine?.tick(this.time.now());
      this.driver?.pump();
      this.schedule();
    }, Math.max(1, Math.ceil(at - this.time.now())));
  }

  private async teardown(): Promise<void> {
    this.timer?.cancel();
    this.timer = null;
    this.timerAt = -1;
    if (this.engine && this.engine.connectionCount() > 0 && this.statusValue === ConnectionStatus.CONNECTED) {
      this.statusValue = ConnectionStatus.DISCONNECTED;
    }
    this.driver?.close();
    this.engine?.abortAll();
    const socket = this.socket;
    this.socket = null;
    this.driver = null;
    if (socket) await closeQuietly(socket);
    if (this.statusValue === ConnectionStatus.CONNECTING || this.statusValue === ConnectionStatus.CONNECTED) {
      this.statusValue = ConnectionStatus.DISCONNECTED;
    }
  }
}

/** Closes a socket; one already closed (by an error, or by its owner) counts as closed. */
function closeQuietly(socket: Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve();
    }
  });
}
