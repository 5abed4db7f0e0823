/**
 * A game client of the cluster: connects to a proxy over a gateway link, logs in with a connect
 * token, and hosts the client systems of its mods (ClientSystem: notifyToServer,
 * notifyToServiceNode, listenForEvent). For bots, tests and Node game clients.
 */
import type { BackendChoice } from '../../backend/index.js';
import { ArgumentError, ConfigError, GamewireError, StateError, TimeoutError } from '../../errors.js';
import { componentLogger, createLogger, type Logger, type LogLevel } from '../../log.js';
import type { PublicKey } from '../../index.js';
import { ENGINE_NAMESPACE, ENGINE_SYSTEM_NAME, EngineEvents, EventDispatcher, type EventData } from '../core/events.js';
import { getMod } from '../core/mod-registry.js';
import { constructSystem, type System, type SystemHost } from '../core/system.js';
import type { Gateway, ProxyLink } from '../transport/gateway/gateway.js';
import { createUdpGateway } from '../transport/gateway/udp-gateway.js';
import { decodeProxyMessage, EnvelopeWriter, InOrder, type ClientToProxy, type ProxyToClient } from './envelope.js';

/**
 * A GameClient's transport, one of: `rootPublicKey` (the encrypted UDP gateway, pinning the
 * proxies' public key), a `gateway` (a link is created from it), or a ready `link`.
 */
export type GameClientTransport =
  | { rootPublicKey: PublicKey; backend?: BackendChoice; gateway?: never; link?: never }
  | { gateway: Gateway; rootPublicKey?: never; link?: never }
  | { link: ProxyLink; rootPublicKey?: never; gateway?: never };

/** Options of a GameClient: its transport (see GameClientTransport) and the rest. */
export type GameClientOptions = GameClientTransport & GameClientSettings;

export interface GameClientSettings {
  /** Mods whose client systems this client runs (comma-separated or a list). */
  mods?: string | string[];
  /** The client's protocol version; the master sends it to a lobby/game of that version. Default null: any. */
  protocolVersion?: number | null;
  /** The logger (default: gamewire's, at GAMEWIRE_LOG_LEVEL); lines carry `component: 'game-client'`. */
  logger?: Logger;
  /** A level for a logger of its own, when no `logger` is given (`silent` for bots). */
  logLevel?: LogLevel;
}

/** What a client system needs from the GameClient it runs on. */
export interface ClientHost extends SystemHost {
  readonly kind: 'client';
  readonly playerId: string | null;
  readonly uid: number | null;
  readonly serverId: number | null;
  readonly serverType: string | null;
  /** Sends one message to the proxy; false (and a warning) when not logged in. */
  send(m: ClientToProxy): boolean;
}

/** Where the login put the player. */
export interface LoginInfo {
  uid: number;
  playerId: string;
  serverId: number;
  serverType: string;
}

/**
 * The proxy refused the login; `reason` says why (`banned`, `token-expired`, `token-bad-signature`,
 * `no-server-available`, ...) and `text`, when there is one, is what the player should read (a
 * ban: its text with the remaining time and the reason).
 */
export class LoginRefusedError extends GamewireError {
  readonly reason: string;
  readonly text: string | null;
  constructor(reason: string, text: string | null = null) {
    super('ERR_LOGIN_REFUSED', text ? `login refused: ${reason}: ${text}` : `login refused: ${reason}`);
    this.reason = reason;
    this.text = text;
  }
}

export class GameClient implements ClientHost {
  readonly kind = 'client' as const;
  readonly events: EventDispatcher;
  readonly log: Logger;
  uid: number | null = null;
  playerId: string | null = null;
  serverId: number | null = null;
  serverType: string | null = null;
  /** Why the link closed (null while open). */
  closeReason: string | null = null;
  /** The text the proxy gave with a kick or refusal, for the player to read (null: none). */
  closeText: string | null = null;
  readonly stats = { received: 0, malformed: 0 };

  private readonly link: ProxyLink;
  private readonly writer = new EnvelopeWriter();
  private readonly inorder = new InOrder<ProxyToClient & { n: number }>();
  private readonly systemList: System[] = [];
  private readonly pv: number | null;
  private state: 'idle' | 'connecting' | 'login' | 'online' | 'closed' = 'idle';
  private kickReason: string | null = null;
  private loginWaiter: { resolve: (i: LoginInfo) => void; reject: (e: Error) => void } | null = null;
  private closedWaiters: Array<() => void> = [];

  constructor(opts: GameClientOptions) {
    const link = opts.link ?? opts.gateway?.createLink() ?? (opts.rootPublicKey ? createUdpGateway({ rootPublicKey: opts.rootPublicKey, backend: opts.backend }).createLink() : undefined);
    if (!link) throw new ArgumentError('GameClient needs its transport: { rootPublicKey } (the UDP gateway), { gateway } or { link }');
    this.link = link;
    this.pv = opts.protocolVersion ?? null;
    this.log = componentLogger(opts.logger ?? (opts.logLevel ? createLogger({ level: opts.logLevel }) : undefined), 'game-client');
    this.events = new EventDispatcher(this.log);
    link.onMessage((b) => this.onBytes(b));
    link.onClose((reason) => this.onClose(reason));
    const mods = typeof opts.mods === 'string' ? opts.mods.split(',').map((s) => s.trim()).filter(Boolean) : (opts.mods ?? []);
    for (const name of mods) {
      const mod = getMod(name);
      if (!mod) throw new ConfigError('mods', `mod ${JSON.stringify(name)} is not defined by any defineMod()`);
      for (const e of mod.client ?? []) {
        this.systemList.push(constructSystem(this, e.system, e.namespace, e.systemName));
      }
    }
  }

  /** The client systems, in construction order. */
  get systems(): readonly System[] {
    return this.systemList;
  }

  /** A client system of this client (`getSystem<MyUi>(namespace, systemName)`). */
  getSystem<T extends System = System>(namespace: string, systemName: string): T | undefined {
    return this.systemList.find((s) => s.namespace === namespace && s.systemName === systemName) as T | undefined;
  }

  /** Logged in and connected. */
  get online(): boolean {
    return this.state === 'online';
  }

  /**
   * Connects to the proxy at `host:port` and logs in with a connect token (or, when the cluster
   * allows it for development, a bare uid). Resolves with where the player landed.
   * @throws LoginRefusedError, TimeoutError
   */
  async login(host: string, port: number, token: string | number, opts: { timeout?: number } = {}): Promise<LoginInfo> {
    if (this.state !== 'idle') throw new StateError('this client already connected; make a new GameClient to log in again');
    const timeout = opts.timeout ?? 10;
    this.state = 'connecting';
    try {
      await this.link.connect(host, port, { timeout });
    } catch (err) {
      this.onClose(`connect failed: ${(err as Error).message}`);
      throw err;
    }
    if (this.isClosed()) {
      // close() came while connecting: the link may have finished connecting since; close it again.
      await this.link.close().catch(() => undefined);
      throw new LoginRefusedError(this.closeReason ?? 'closed');
    }
    this.state = 'login';
    const info = new Promise<LoginInfo>((resolve, reject) => {
      this.loginWaiter = { resolve, reject };
    });
    this.send({ t: 'login', token: String(token), pv: this.pv });
    const timer = setTimeout(() => this.failLogin(new TimeoutError(`no login answer from ${host}:${port} in ${timeout}s`)), timeout * 1000);
    try {
      return await info;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the link. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const closed = new Promise<void>((r) => this.closedWaiters.push(r));
    await this.link.close();
    // The link reports the close through onClose; do not wait for it forever.
    await Promise.race([closed, new Promise((r) => setTimeout(r, 1000).unref())]);
    if (!this.isClosed()) this.onClose('closed');
  }

  private isClosed(): boolean {
    return this.state === 'closed';
  }

  /** Resolves when the link has closed (kick, proxy gone, close()). Gives the reason. */
  whenClosed(): Promise<string> {
    if (this.state === 'closed') return Promise.resolve(this.closeReason ?? 'closed');
    return new Promise((r) => this.closedWaiters.push(() => r(this.closeReason ?? 'closed')));
  }

  /** Sends one player-protocol message (what client systems use). */
  send(m: ClientToProxy): boolean {
    if (this.state !== 'online' && !(this.state === 'login' && m.t === 'login')) {
      this.log.warn({ type: m.t }, 'not logged in: message dropped');
      return false;
    }
    this.link.send(this.writer.encode(m));
    return true;
  }

  private onBytes(bytes: Uint8Array): void {
    this.stats.received++;
    const m = decodeProxyMessage(bytes);
    if (!m) {
      this.stats.malformed++;
      return;
    }
    const ready = this.inorder.push(m);
    if (ready === 'overflow') {
      void this.link.close();
      return;
    }
    for (const msg of ready) this.onMessage(msg);
  }

  private onMessage(m: ProxyToClient): void {
    switch (m.t) {
      case 'login_ok': {
        if (this.state !== 'login') return;
        this.state = 'online';
        this.uid = m.uid;
        this.playerId = m.playerId;
        this.serverId = m.serverId;
        this.serverType = m.serverType;
        const info: LoginInfo = { uid: m.uid, playerId: m.playerId, serverId: m.serverId, serverType: m.serverType };
        this.loginWaiter?.resolve(info);
        this.loginWaiter = null;
        this.fire(EngineEvents.LoginResultEvent, { ok: true, ...info, reason: null });
        return;
      }
      case 'login_fail':
        this.closeText = m.text ?? null;
        this.fire(EngineEvents.LoginResultEvent, { ok: false, uid: null, playerId: null, serverId: null, serverType: null, reason: m.reason, ...(m.text ? { text: m.text } : {}) });
        this.failLogin(new LoginRefusedError(m.reason, m.text ?? null));
        return;
      case 'ev':
        this.events.dispatch(m.ns, m.sys, m.ev, m.data);
        return;
      case 'transfer': {
        const from = this.serverId;
        this.serverId = m.serverId;
        this.serverType = m.serverType;
        this.fire(EngineEvents.ClientTransferEvent, { fromServerId: from, serverId: m.serverId, serverType: m.serverType });
        return;
      }
      case 'kick':
        this.kickReason = m.reason;
        this.closeText = m.text ?? null;
        return;
    }
  }

  private failLogin(err: Error): void {
    const w = this.loginWaiter;
    this.loginWaiter = null;
    if (w) {
      w.reject(err);
      void this.link.close();
    }
  }

  private onClose(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    // Closed by the other side (a kick, the proxy gone): release the link's resources (its socket) too.
    void this.link.close().catch(() => undefined);
    this.closeReason = this.kickReason ?? reason;
    this.failLogin(new LoginRefusedError(this.closeReason, this.closeText));
    this.fire(EngineEvents.ClientDisconnectEvent, this.closeText ? { reason: this.closeReason, text: this.closeText } : { reason: this.closeReason });
    for (const w of this.closedWaiters.splice(0)) w();
  }

  private fire(ev: string, data: EventData): void {
    this.events.dispatch(ENGINE_NAMESPACE, ENGINE_SYSTEM_NAME, ev, data);
  }
}
