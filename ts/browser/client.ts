/**
 * BrowserClient: a gamewire client in the browser, over WebTransport datagrams or a WebSocket,
 * running the same WebAssembly core as the `wasm` backend: the same handshake with the pinned
 * root key, retry modes, exactly-once callbacks, fragmentation and statistics as `UdpClient`.
 *
 * Work happens in short event-loop tasks: received datagrams are handed to the core in one batch
 * per task, the core's timers run from one `setTimeout` at its next deadline, and each batch of
 * sends crosses into the core once per microtask. Nothing waits on the network on the page's
 * main thread.
 */
import { ReceiveBatch } from '../backend/batch.js';
import type { Engine } from '../backend/types.js';
import { ConfigError, GamewireError, TimeoutError } from '../errors.js';
import { CLOSE_REASONS, CODE, ConnectionStatus, EV, RetryMode, finalStatus, type CloseReason } from '../net/constants.js';
import { checkPayload, checkRetry, sendRefused } from '../net/send-checks.js';
import { decodeStats, type ConnectionStats } from '../net/stats.js';
import { Emitter } from './emitter.js';
import { browserConfig, loadCore, type BrowserNetOptions } from './engine.js';
import { hashBytes, hasWebTransport, openWebSocket, openWebTransport, type Link } from './links.js';

export interface BrowserClientOptions {
  /** The server's root public key, PEM (`-----BEGIN PUBLIC KEY-----`). Required unless `insecureAcceptAnyKey`. */
  rootPublicKey?: string;
  /**
   * Connect without a pinned key, trusting whatever key the server presents: open to a man in
   * the middle. For local development only.
   */
  insecureAcceptAnyKey?: boolean;
  /** Engine options (timers, limits). */
  net?: BrowserNetOptions;
}

/** Which way to the server: WebTransport, WebSocket, or `auto` (WebTransport, else WebSocket). */
export type BrowserTransport = 'auto' | 'webtransport' | 'websocket';

export interface BrowserConnectOptions {
  /** Default `auto`. */
  transport?: BrowserTransport;
  /**
   * SHA-256 hashes (hex, or 32 bytes) of the server's WebTransport certificate, for a self-signed
   * development certificate (the browser then accepts it without a CA). The game server tells its
   * current hash (`server.webtransport.certificateHash`); fetch it from the server before
   * connecting. Not needed for a certificate a CA signed.
   */
  serverCertificateHashes?: (string | Uint8Array)[];
  /** Seconds to wait for the transport and then the handshake, each (default: `net.connectTimeout`, 5). */
  timeout?: number;
}

/**
 * Where the server is. A string: `https://host:port/path` (WebTransport; under `auto` the
 * WebSocket fallback is `wss://` on the same host, port and path, the layout of one HTTPS server
 * that serves HTTP/3 on UDP and WebSockets on TCP), or `ws://…` / `wss://…` (WebSocket only).
 * An object names each transport's URL.
 */
export type BrowserServerUrl = string | { webtransport?: string; websocket?: string };

/** Why a browser connection ended: the engine's reasons, or the transport itself closing. */
export type BrowserCloseReason = CloseReason | 'transport-closed';

export interface BrowserClientEvents {
  connected: [];
  message: [seq: number, msg: Uint8Array];
  disconnected: [status: ConnectionStatus, reason: BrowserCloseReason];
}

const SERVER = 0;
/** Ends a `disconnect()` that the server does not acknowledge. */
const DISCONNECT_WAIT_MS = 1500;

/** Runs `f` as a new task soon (no 4 ms clamp, unlike nested timers). */
const nextTask: (f: () => void) => void = (() => {
  if (typeof MessageChannel === 'undefined') return (f: () => void) => void setTimeout(f, 0);
  const queue: (() => void)[] = [];
  const ch = new MessageChannel();
  ch.port1.onmessage = () => {
    for (const f of queue.splice(0)) f();
  };
  return (f: () => void) => {
    queue.push(f);
    if (queue.length === 1) ch.port2.postMessage(0);
  };
})();

const clock = (): number => performance.now();

function resolveUrls(url: BrowserServerUrl, transport: BrowserTransport): { webtransport?: string; websocket?: string } {
  if (typeof url !== 'string') {
    if (!url || (typeof url.webtransport !== 'string' && typeof url.websocket !== 'string')) {
      throw new ConfigError('url', 'must be a URL string or { webtransport?, websocket? } with at least one URL');
    }
    return { webtransport: url.webtransport, websocket: url.websocket };
  }
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError('url', `not a URL: ${JSON.stringify(url)}`);
  }
  if (u.protocol === 'ws:' || u.protocol === 'wss:') {
    if (transport === 'webtransport') throw new ConfigError('url', `transport "webtransport" needs an https:// URL, got ${url}`);
    return { websocket: url };
  }
  if (u.protocol !== 'https:') throw new ConfigError('url', `must be https:// (WebTransport) or ws:// / wss:// (WebSocket), got ${url}`);
  const ws = new URL(url);
  ws.protocol = 'wss:';
  return { webtransport: url, websocket: ws.toString() };
}

export class BrowserClient extends Emitter<BrowserClientEvents> {
  private readonly opts: BrowserClientOptions;
  private engine: Engine | null = null;
  private link: Link | null = null;
  private statusValue: ConnectionStatus = ConnectionStatus.DISCONNECTED;
  private tokenValue = 0;
  private statsNames: readonly string[] = [];
  private lastStats: Float64Array | null = null;
  private readonly callbacks = new Map<number, (acked: boolean) => void>();
  private nextCallback = 1;
  private readonly received = new ReceiveBatch(() => this.flush());
  private flushQueued = false;
  private pumpQueued = false;
  private dispatching = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private timerAt = -1;
  private connectWaiter: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private releaseWaiter: (() => void) | null = null;
  /** Bumped by `disconnect()`: a `connect()` still setting up sees it and gives up. */
  private generation = 0;

  constructor(opts: BrowserClientOptions = {}) {
    super();
    this.opts = opts;
    if (opts.rootPublicKey === undefined && !opts.insecureAcceptAnyKey) {
      throw new ConfigError(
        'rootPublicKey',
        "is required: pin the server's root public key (or set insecureAcceptAnyKey: true, which is open to a man in the middle)",
      );
    }
    if (opts.rootPublicKey !== undefined && typeof opts.rootPublicKey !== 'string') {
      throw new ConfigError('rootPublicKey', 'must be PEM text (-----BEGIN PUBLIC KEY-----)');
    }
  }

  /** CONNECTING, CONNECTED, DISCONNECTING, DISCONNECTED or DROPPED. */
  get status(): ConnectionStatus {
    return this.statusValue;
  }

  /** The session token the server assigned (0 before the handshake). */
  get token(): number {
    return this.tokenValue;
  }

  /** The transport in use (null when not connected). */
  get transport(): 'webtransport' | 'websocket' | null {
    return this.link?.kind ?? null;
  }

  /** Latency estimate in seconds (mpgameserver's: EWMA of half the round trip). */
  get latency(): number {
    const l = this.engine?.latency(SERVER) ?? -1;
    return l < 0 ? 0 : l;
  }

  /** This connection's statistics (frozen at their last value once it is gone). */
  get stats(): ConnectionStats {
    const live = this.engine?.connectionStats(SERVER) ?? null;
    if (live) this.lastStats = live;
    return decodeStats(this.statsNames, this.lastStats ?? new Float64Array(this.statsNames.length));
  }

  /**
   * Connects: opens the transport (under `auto`, WebTransport first, then the WebSocket), then
   * runs the gamewire handshake. Resolves once the server confirmed.
   * @throws ConfigError for a bad URL or option; GamewireError `ERR_CONNECT` when no transport
   *   opens; TimeoutError when the handshake fails or times out (also for a server whose key does
   *   not verify against the pinned one).
   */
  async connect(url: BrowserServerUrl, opts: BrowserConnectOptions = {}): Promise<void> {
    if (this.statusValue === ConnectionStatus.CONNECTING || this.statusValue === ConnectionStatus.CONNECTED) {
      throw new GamewireError('ERR_ALREADY_CONNECTED', 'already connected: disconnect() first');
    }
    const transport = opts.transport ?? 'auto';
    if (transport !== 'auto' && transport !== 'webtransport' && transport !== 'websocket') {
      throw new ConfigError('transport', `must be "auto", "webtransport" or "websocket", got ${JSON.stringify(transport)}`);
    }
    const urls = resolveUrls(url, transport);
    const hashes = (opts.serverCertificateHashes ?? []).map(hashBytes);
    const gen = ++this.generation;
    this.teardown();
    this.statusValue = ConnectionStatus.CONNECTING;
    try {
      const core = await loadCore();
      const config = browserConfig(core, { ...this.opts.net, ...(opts.timeout === undefined ? {} : { connectTimeout: opts.timeout }) }, Date.now() - clock());
      const pinned = this.opts.rootPublicKey === undefined ? null : pinnedKey(core.publicFromPem.bind(core), this.opts.rootPublicKey);
      const timeoutMs = (opts.timeout ?? this.opts.net?.connectTimeout ?? 5) * 1000;
      const link = await this.openLink(transport, urls, hashes, timeoutMs);
      if (gen !== this.generation) {
        link.close();
        throw new GamewireError('ERR_CONNECT', 'disconnect() was called while connecting');
      }
      this.statsNames = core.layout.stats;
      this.lastStats = null;
      this.tokenValue = 0;
      const engine = core.createClient(config);
      this.engine = engine;
      this.link = link;
      link.onDatagram = (bytes) => this.receive(bytes);
      link.onClose = () => this.onLinkClosed();
      const rc = engine.connect(clock(), SERVER, pinned, this.opts.insecureAcceptAnyKey === true);
      if (rc !== CODE.OK) throw new GamewireError('ERR_CONNECT', `connect refused by the engine (code ${rc})`);
      const done = new Promise<void>((resolve, reject) => (this.connectWaiter = { resolve, reject }));
      this.pump();
      return await done;
    } catch (err) {
      if (gen === this.generation) {
        this.connectWaiter = null;
        this.teardown();
        this.statusValue = ConnectionStatus.DISCONNECTED;
      }
      throw err;
    }
  }

  private async openLink(transport: BrowserTransport, urls: { webtransport?: string; websocket?: string }, hashes: Uint8Array[], timeoutMs: number): Promise<Link> {
    const errors: string[] = [];
    if (transport !== 'websocket' && urls.webtransport) {
      if (transport === 'webtransport' || hasWebTransport()) {
        try {
          return await openWebTransport(urls.webtransport, hashes, timeoutMs);
        } catch (err) {
          if (transport === 'webtransport') throw err;
          errors.push((err as Error).message);
        }
      } else {
        errors.push('this browser has no WebTransport');
      }
    }
    if (transport !== 'webtransport' && urls.websocket) {
      try {
        return await openWebSocket(urls.websocket, timeoutMs);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    if (errors.length === 0) throw new ConfigError('url', `no URL for transport "${transport}"`);
    throw new GamewireError('ERR_CONNECT', `no transport opened: ${errors.join('; ')}`);
  }

  /** Sends a message (default RETRY_ON_TIMEOUT, as UdpClient). `callback(acked)` runs exactly once. */
  send(payload: Uint8Array, retry: RetryMode = RetryMode.RETRY_ON_TIMEOUT, callback?: (acked: boolean) => void): void {
    checkPayload(payload);
    checkRetry(retry);
    const engine = this.engine;
    if (!engine || (this.statusValue !== ConnectionStatus.CONNECTED && this.statusValue !== ConnectionStatus.CONNECTING)) {
      throw new GamewireError('ERR_NOT_CONNECTED', 'not connected');
    }
    let id = 0;
    if (callback) {
      id = this.nextCallback;
      this.nextCallback = this.nextCallback >= 0xffff_fffe ? 1 : this.nextCallback + 1;
      this.callbacks.set(id, callback);
    }
    const rc = engine.send(clock(), SERVER, payload, retry, id);
    if (rc !== CODE.OK) {
      this.callbacks.delete(id);
      throw sendRefused(rc);
    }
    this.queuePump();
  }

  /** Sends with RETRY_ON_TIMEOUT. */
  sendGuaranteed(payload: Uint8Array, callback?: (acked: boolean) => void): void {
    this.send(payload, RetryMode.RETRY_ON_TIMEOUT, callback);
  }

  /** Closes gracefully: DISCONNECT, wait for its ack (at most about a second and a half), close the transport. */
  async disconnect(): Promise<void> {
    this.generation++;
    const engine = this.engine;
    if (!engine) {
      this.teardown();
      return;
    }
    if (engine.connectionCount() > 0) {
      const released = new Promise<void>((resolve) => (this.releaseWaiter = resolve));
      engine.disconnect(clock(), SERVER);
      this.pump();
      await Promise.race([released, new Promise((r) => setTimeout(r, DISCONNECT_WAIT_MS))]);
    }
    this.teardown();
  }

  // ---- the engine ----------------------------------------------------------------------------

  /** Queues a received datagram; the batch goes to the engine in the next task. */
  private receive(bytes: Uint8Array): void {
    const e = this.engine;
    if (!e) return;
    this.received.add(e, SERVER, bytes, 0);
    if (this.received.pending > 0 && !this.flushQueued) {
      this.flushQueued = true;
      nextTask(() => {
        this.flushQueued = false;
        this.flush();
      });
    }
  }

  private flush(): void {
    const e = this.engine;
    if (!e || this.received.pending === 0) return;
    e.handle(clock(), this.received.take());
    this.pump();
  }

  private queuePump(): void {
    if (this.pumpQueued || this.dispatching) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  /** Sends what is due, dispatches events, until quiet; then re-arms the timer. */
  private pump(): void {
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      for (let round = 0; round < 64; round++) {
        this.transmit();
        if (!this.dispatchEvents()) break;
      }
    } finally {
      this.dispatching = false;
    }
    this.schedule();
  }

  private transmit(): void {
    const e = this.engine;
    const link = this.link;
    if (!e) return;
    for (;;) {
      const n = e.transmit(clock());
      if (n === 0) return;
      const meta = e.outMetaView();
      const out = e.outView();
      for (let i = 0; i < n; i++) {
        const off = meta[i * 3 + 1];
        const len = meta[i * 3 + 2];
        link?.send(out.subarray(off, off + len));
      }
      if (n < meta.length / 3) return;
    }
  }

  /** Dispatches queued events (records of kind, peer, a, length, then the data padded to 4). */
  private dispatchEvents(): boolean {
    const e = this.engine;
    if (!e) return false;
    let any = false;
    for (;;) {
      const bytes = e.events();
      if (bytes === 0) return any;
      any = true;
      let view = e.eventView();
      let at = 0;
      while (at < bytes) {
        const kind = u32le(view, at);
        const a = u32le(view, at + 8);
        const len = u32le(view, at + 12);
        const dataAt = at + 16;
        at = dataAt + ((len + 3) & ~3);
        switch (kind) {
          case EV.CONNECTED:
            this.tokenValue = a;
            this.statusValue = ConnectionStatus.CONNECTED;
            this.connectWaiter?.resolve();
            this.connectWaiter = null;
            this.emit('connected');
            break;
          case EV.MESSAGE:
            this.emit('message', a, view.slice(dataAt, dataAt + len));
            break;
          case EV.ACKED:
          case EV.FAILED: {
            const cb = this.callbacks.get(a);
            if (cb) {
              this.callbacks.delete(a);
              try {
                cb(kind === EV.ACKED);
              } catch (err) {
                globalThis.reportError?.(err);
              }
            }
            break;
          }
          case EV.DISCONNECTED:
            this.onClosed(CLOSE_REASONS[a] ?? 'local');
            break;
          case EV.RELEASED:
            this.releaseWaiter?.();
            this.releaseWaiter = null;
            if (this.statusValue !== ConnectionStatus.CONNECTED && this.statusValue !== ConnectionStatus.CONNECTING) {
              const gen = this.generation;
              nextTask(() => {
                if (gen === this.generation) this.teardown();
              });
            }
            break;
        }
        // Listeners may have called into the engine: WebAssembly memory may have moved.
        view = e.eventView();
      }
    }
  }

  private onClosed(reason: BrowserCloseReason): void {
    const live = this.engine?.connectionStats(SERVER);
    if (live) this.lastStats = live;
    const was = this.statusValue;
    this.statusValue =
      reason === 'peer' ? ConnectionStatus.DISCONNECTING : reason === 'transport-closed' ? ConnectionStatus.DROPPED : finalStatus(reason);
    if (this.connectWaiter) {
      const msg =
        reason === 'bad-server-key'
          ? "connect failed: the server's key did not verify against the pinned root public key"
          : `connect failed: no valid answer from the server (${reason})`;
      this.connectWaiter.reject(reason === 'transport-closed' ? new GamewireError('ERR_CONNECT', msg) : new TimeoutError(msg));
      this.connectWaiter = null;
    }
    if (was === ConnectionStatus.CONNECTED || was === ConnectionStatus.CONNECTING) this.emit('disconnected', this.statusValue, reason);
  }

  /** The transport ended by itself: the connection is gone with it. */
  private onLinkClosed(): void {
    const status = this.statusValue;
    if (status === ConnectionStatus.CONNECTED || status === ConnectionStatus.CONNECTING) this.onClosed('transport-closed');
    this.releaseWaiter?.();
    this.releaseWaiter = null;
    this.teardown();
  }

  /** Arms the timer for the engine's next deadline. */
  private schedule(): void {
    const engine = this.engine;
    if (!engine) return;
    const at = engine.nextTimeout();
    if (at < 0) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.timerAt = -1;
      return;
    }
    if (this.timer && Math.abs(at - this.timerAt) < 0.5) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = -1;
      this.engine?.tick(clock());
      this.pump();
    }, Math.max(1, Math.ceil(at - clock())));
  }

  /** Drops the engine and the transport; pending callbacks are dropped with them. */
  private teardown(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = -1;
    this.engine?.abortAll();
    this.engine = null;
    this.link?.close();
    this.link = null;
    this.callbacks.clear();
    this.received.take();
    if (this.statusValue === ConnectionStatus.CONNECTING || this.statusValue === ConnectionStatus.CONNECTED || this.statusValue === ConnectionStatus.DISCONNECTING) {
      this.statusValue = ConnectionStatus.DISCONNECTED;
    }
  }
}

function pinnedKey(fromPem: (pem: string) => Uint8Array, pem: string): Uint8Array {
  try {
    return fromPem(pem);
  } catch (err) {
    throw new GamewireError('ERR_BAD_KEY', `rootPublicKey: not a valid P-256 public key: ${(err as Error).message}`, { cause: err });
  }
}

/** The little-endian u32 at `i`. */
function u32le(v: Uint8Array, i: number): number {
  return (v[i] | (v[i + 1] << 8) | (v[i + 2] << 16)) + v[i + 3] * 0x1000000;
}
