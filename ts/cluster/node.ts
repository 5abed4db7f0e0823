/**
 * A node of the cluster: the master, a proxy, a lobby/game or a service. It holds one bus
 * connection, builds the systems of the mods its config entry names, carries their events and
 * requests, and (all but the master) keeps a link to the master: it registers, heartbeats, and
 * reports the link's state with `MasterConnectStatusEvent`.
 *
 * Role parts live beside it: master/core.ts (registry, logins, transfers), proxy/proxy.ts (player
 * sessions), players.ts (the players of a lobby/game).
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { GamewireError } from '../errors.js';
import type { Bus, BusConnection, BusSubscription } from './bus/bus.js';
import { Subjects } from './bus/bus.js';
import { addServerEntry, findNode, isServerEntry, type ClusterConfig, type NodeEntry, type NodeRole, type ServerEntry } from './config.js';
import { ENGINE_NAMESPACE, ENGINE_SYSTEM_NAME, EngineEvents, EventDispatcher, type EventData } from './events.js';
import type { Gateway } from './gateway.js';
import { MasterCore, type MasterMode } from './master/core.js';
import type { NodeLauncher } from './master/lifecycle.js';
import { getMod, isClientSystem, type SystemEntry } from './mod.js';
import { ServerPlayers } from './players.js';
import { ProxyCore } from './proxy/proxy.js';
import { checkTimeout, RpcTable, type RpcCallback, type RpcResult } from './rpc.js';
import { ServiceHttp } from './service-http.js';
import { constructSystem, type System, type SystemHost } from './systems/system.js';
import { decodeWire, encodeWire, SeenIds, type OpMessage, type ReqMessage, type Unstamped, type WireMessage } from './wire.js';

/** Heartbeat and timeout settings, in seconds. */
export interface NodeTiming {
  /** Seconds between heartbeats to the master (and the master's sweeps). */
  heartbeatInterval: number;
  /** Seconds without a heartbeat answer after which a node and the master consider the link lost. */
  nodeTimeout: number;
  /** Seconds an engine operation (login, transfer, registration) may take. */
  opTimeout: number;
}

export interface NodeOptions {
  config: ClusterConfig;
  serverId: number;
  bus: Bus;
  logger: Logger;
  timing: NodeTiming;
  /** Proxies: the transport players connect over. */
  gateway?: Gateway | undefined;
  /** Proxies: accept bare uids instead of connect tokens (development only). */
  devBareUidLogin?: boolean | undefined;
  /** The master: `embedded` (every node in one process) or `distributed` (decides the default store). */
  mode?: MasterMode | undefined;
  /** The master: starts the nodes rollingUpdateServers adds. */
  launcher?: NodeLauncher | null | undefined;
  /** Called when the master asks this node to stop (serverManager); default: the node stops itself. */
  onStopRequest?: ((node: ClusterNode) => void) | undefined;
}

/** An RPC handler: `fn(serverId, callbackId, args)`; answer with `responseToServer(serverId, callbackId, data)`. */
export type RpcHandler<T = EventData> = (serverId: number, callbackId: number, args: T) => unknown;

interface HandlerEntry {
  fn: RpcHandler<never>;
  owner: string;
}

/** Counters of one node's bus traffic. */
export interface NodeStats {
  received: number;
  /** Bus messages that did not decode: dropped. */
  malformed: number;
  /** Bus messages seen before (same id): dropped. */
  duplicates: number;
  /** Requests for an event nobody registered here: dropped (the caller times out). */
  unhandledRequests: number;
  /** Events to a target that is not of the right kind, or a player not here: dropped. */
  misaddressed: number;
  /** Player events claiming a sender that is not a client system of any mod: dropped. */
  forged: number;
}

export class ClusterNode implements SystemHost {
  readonly config: ClusterConfig;
  readonly serverId: number;
  readonly entry: NodeEntry;
  readonly role: NodeRole;
  readonly serverType: string;
  readonly log: Logger;
  readonly events: EventDispatcher;
  readonly subjects: Subjects;
  readonly timing: NodeTiming;
  /** A fresh random id per start: tells a restarted node from the one before. */
  readonly incarnation = randomBytes(6).toString('hex');
  /** The user requests (requestToService / requestToServiceMod) this node made. */
  readonly rpc: RpcTable;
  /** Engine operations this node is waiting on. */
  readonly ops: RpcTable;
  readonly stats: NodeStats = { received: 0, malformed: 0, duplicates: 0, unhandledRequests: 0, misaddressed: 0, forged: 0 };

  /** Role parts. */
  readonly masterCore: MasterCore | null = null;
  readonly proxy: ProxyCore | null = null;
  readonly players: ServerPlayers | null = null;
  readonly masterLink: MasterLink | null = null;
  readonly serviceHttp: ServiceHttp | null = null;
  /** Lobby/game resets done (serverManager.resetServer). */
  resets = 0;

  private readonly bus: Bus;
  private connection: BusConnection | null = null;
  private seq = 0;
  private readonly seen = new SeenIds();
  private readonly systemList: System[] = [];
  private readonly moduleHandlers = new Map<string, Map<string, HandlerEntry>>();
  private readonly typeHandlers = new Map<string, HandlerEntry>();
  private readonly moduleSubs = new Map<string, BusSubscription>();
  private readonly opHandlers = new Map<string, (m: OpMessage) => void>();
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  private readonly onStopRequest: ((node: ClusterNode) => void) | undefined;

  constructor(opts: NodeOptions) {
    const entry = findNode(opts.config, opts.serverId);
    if (!entry) throw new GamewireError('ERR_CONFIG', `server id ${opts.serverId} is not in the config`);
    this.config = opts.config;
    this.serverId = opts.serverId;
    this.entry = entry;
    this.role = entry.role;
    this.serverType = entry.type;
    this.bus = opts.bus;
    this.timing = opts.timing;
    this.log = opts.logger.child({ node: this.serverId, role: this.role });
    this.events = new EventDispatcher(this.log);
    this.subjects = new Subjects(opts.config.nats?.prefix ?? 'gamewire');
    this.rpc = new RpcTable(this.log, 'request');
    this.ops = new RpcTable(this.log, 'engine op');
    this.onStopRequest = opts.onStopRequest;
    if (this.role === 'master') this.masterCore = new MasterCore(this, { mode: opts.mode, launcher: opts.launcher });
    else {
      this.masterLink = new MasterLink(this);
      this.onOp('shutdown', (m) => this.onShutdown(m));
      this.onOp('members', (m) => this.learnMembers((m.body as { entries?: unknown }).entries));
    }
    if (this.role === 'service') this.serviceHttp = new ServiceHttp(this);
    if (this.role === 'proxy') {
      if (!opts.gateway) throw new GamewireError('ERR_NO_GATEWAY', `proxy ${this.serverId} needs a gateway (the transport players connect over)`);
      this.proxy = new ProxyCore(this, opts.gateway, opts.devBareUidLogin ?? opts.config.dev_bare_uid_login);
    }
    if (this.role === 'server') {
      this.players = new ServerPlayers(this);
      this.onOp('reset', (m) => this.onReset(m));
    }
  }

  /** The systems this node built, in construction order. */
  get systems(): readonly System[] {
    return this.systemList;
  }

  /** The system `namespace.systemName` of this node, if any. */
  getSystem<T extends System = System>(namespace: string, systemName: string): T | undefined {
    return this.systemList.find((s) => s.namespace === namespace && s.systemName === systemName) as T | undefined;
  }

  /** The bus connection (for tests that simulate faults). */
  get busConnection(): BusConnection | null {
    return this.connection;
  }

  get running(): boolean {
    return this.state === 'running';
  }

  /** Connects, subscribes, builds the systems, starts the role. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new GamewireError('ERR_STATE', `node ${this.serverId} was already started`);
    this.state = 'starting';
    if (this.bus.kind === 'nats') this.log.debug({ servers: this.config.nats?.servers }, 'connecting to NATS (waits until a server answers)');
    const conn = await this.bus.connect(`gamewire-${this.subjects.prefix}-${this.serverId}`);
    this.connection = conn;
    conn.onStatus((s) => {
      if (this.state !== 'running') return;
      this.log.info({ bus: s }, `bus ${s}`);
      if (s === 'disconnected') this.masterLink?.busLost();
      else if (s === 'reconnected') {
        this.masterLink?.busBack();
        this.masterCore?.announce();
      }
    });
    const on = (subject: string, queue?: string) => conn.subscribe(subject, (b) => this.onBusMessage(b), queue ? { queue } : undefined);
    on(this.subjects.node(this.serverId));
    on(this.subjects.all());
    if (this.role === 'server') on(this.subjects.serverType(this.serverType));
    if (this.role === 'service') {
      on(this.subjects.services());
      on(this.subjects.serviceType(this.serverType), this.subjects.serviceTypeQueue(this.serverType));
    }
    const modules = this.entry.role === 'service' || this.entry.role === 'master' ? this.entry.module_names : [];
    for (const m of modules) this.subscribeModule(m);

    // The master's store and HTTP server are open before its systems are built (they use them).
    if (this.masterCore) {
      try {
        await this.masterCore.open();
      } catch (err) {
        this.state = 'stopped';
        await conn.close().catch(() => undefined);
        throw err;
      }
    }
    this.buildSystems();
    // Subscriptions (and those the systems made) are live at the bus before anyone hears of us.
    await conn.flush();
    this.state = 'running';
    if (this.masterCore) this.masterCore.start();
    if (this.proxy) await this.proxy.start();
    this.masterLink?.start();
    this.log.info({ type: this.serverType, bus: this.bus.kind }, 'node started');
  }

  /** Destroys the systems, leaves the master, closes the bus connection. Open requests end with (false, null). */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    const wasRunning = this.state === 'running';
    this.state = 'stopping';
    this.destroySystems();
    if (this.proxy) await this.proxy.stop();
    this.players?.stop();
    if (wasRunning && this.masterLink) this.masterLink.stop(true);
    this.serviceHttp?.stop();
    if (this.masterCore) await this.masterCore.stop();
    this.rpc.cancelAll();
    this.ops.cancelAll();
    if (this.connection) {
      if (this.connection.isConnected()) {
        await Promise.race([this.connection.flush().catch(() => undefined), new Promise((r) => setTimeout(r, 500).unref())]);
      }
      await this.connection.close();
    }
    this.state = 'stopped';
    this.log.info('node stopped');
  }

  /** Asks this node's owner to stop it (the master's serverManager): the Cluster, else the node itself. */
  requestStop(): void {
    if (this.state !== 'running') return;
    if (this.onStopRequest) this.onStopRequest(this);
    else void this.stop();
  }

  private onShutdown(m: OpMessage): void {
    if (m.from !== this.config.master.serverid) return;
    const b = (m.body ?? {}) as { kick?: boolean; reason?: string };
    this.replyOp(m, { ok: true });
    this.log.info({ kick: !!b.kick }, 'the master asks this node to stop');
    const go = () => this.requestStop();
    if (b.kick && this.players && this.players.count > 0) {
      for (const p of this.players.all()) this.sendOp(p.proxyId, 'pkick', { playerId: p.playerId, reason: b.reason || 'server-stopping' });
      // Let the proxies see the kicks before the node goes (its goodbye drops whatever is left).
      setTimeout(go, 200).unref();
    } else setImmediate(go);
  }

  /** Lobby/game: ResetGamesBeginEvent, systems destroyed and built again, ResetGamesEndEvent. */
  private onReset(m: OpMessage): void {
    if (m.from !== this.config.master.serverid || this.state !== 'running') return;
    this.log.info('reset: begin');
    this.fireEngineEvent(EngineEvents.ResetGamesBeginEvent, { serverId: this.serverId });
    this.destroySystems();
    try {
      this.buildSystems();
    } catch (err) {
      this.log.error({ err }, 'reset: building the systems again failed');
    }
    this.resets++;
    this.fireEngineEvent(EngineEvents.ResetGamesEndEvent, { serverId: this.serverId });
    this.log.info('reset: end');
    this.replyOp(m, { ok: true });
  }

  /** Learns the nodes the master added at run time (rollingUpdateServers). */
  learnMembers(entries: unknown): void {
    if (!Array.isArray(entries)) return;
    for (const e of entries) {
      if (!isServerEntry(e)) continue;
      if (!addServerEntry(this.config, e)) this.log.warn({ server: e.serverid }, 'a node the master added clashes with the config: ignored');
    }
  }

  private destroySystems(): void {
    for (const s of [...this.systemList].reverse()) {
      try {
        s.destroy();
      } catch (err) {
        this.log.error({ err, system: `${s.namespace}.${s.systemName}` }, 'destroy() threw');
      }
      this.events.removeOwner(s);
    }
    this.systemList.length = 0;
  }

  private buildSystems(): void {
    const key = this.role === 'master' ? 'master' : this.role === 'server' ? 'server' : this.role === 'service' ? 'service' : null;
    if (key === null) return; // proxies run no mod systems
    for (const name of this.entry.mods) {
      const mod = getMod(name);
      if (!mod) throw new GamewireError('ERR_CONFIG', `mod ${JSON.stringify(name)} is not defined by any defineMod()`);
      for (const e of (mod[key] ?? []) as ReadonlyArray<SystemEntry<System>>) {
        try {
          this.systemList.push(constructSystem(this, e.system, e.namespace, e.systemName));
        } catch (err) {
          this.log.error({ err, mod: name, system: `${e.namespace}.${e.systemName}` }, 'system constructor threw; the system is skipped');
        }
      }
    }
  }

  // ─── sending ──────────────────────────────────────────────────────────────────────────────

  /** Stamps and publishes a message. */
  publish(subject: string, m: Unstamped<WireMessage>): void {
    if (!this.connection || this.state === 'stopped') return;
    const full = { ...m, id: `${this.incarnation}.${++this.seq}`, from: this.serverId } as WireMessage;
    let bytes: Uint8Array;
    try {
      bytes = encodeWire(full);
    } catch (err) {
      throw new GamewireError('ERR_INVALID_ARG', `event data must be JSON-serializable: ${(err as Error).message}`, { cause: err });
    }
    if (bytes.length > this.connection.maxPayload) {
      throw new GamewireError('ERR_MESSAGE_TOO_LARGE', `a message of ${bytes.length} bytes exceeds the bus limit of ${this.connection.maxPayload} bytes`);
    }
    this.connection.publish(subject, bytes);
  }

  /** Publishes an event from the system `(ns, sys)`. */
  sendEvent(subject: string, ns: string, sys: string, ev: string, data: EventData | undefined): void {
    this.publish(subject, { k: 'ev', ns, sys, ev, data: checkData(data) });
  }

  /** An event to one node, if it has the expected role; otherwise logged and dropped. */
  sendEventToNode(targetId: number, want: 'master' | 'server' | 'service', ns: string, sys: string, ev: string, data: EventData | undefined): void {
    const target = findNode(this.config, targetId);
    if (!target || target.role !== want) {
      this.stats.misaddressed++;
      this.log.warn({ target: targetId, event: ev, from: `${ns}.${sys}` }, `no ${want === 'server' ? 'lobby/game' : want} with server id ${targetId}: event dropped`);
      return;
    }
    this.sendEvent(this.subjects.node(targetId), ns, sys, ev, data);
  }

  /** Sends an engine operation that wants no answer. */
  sendOp(targetId: number, op: string, body: unknown): void {
    this.publish(this.subjects.node(targetId), { k: 'op', op, cb: null, body });
  }

  /** Sends an engine operation to every node. */
  broadcastOp(op: string, body: unknown): void {
    this.publish(this.subjects.all(), { k: 'op', op, cb: null, body });
  }

  /** Sends an engine operation and waits for its answer (`ok: false` on timeout). */
  requestOp<T>(targetId: number, op: string, body: unknown, opts: { timeout?: number; callback?: RpcCallback<T> } = {}): Promise<RpcResult<T>> {
    const { callbackId, promise } = this.ops.open<T>(opts.timeout ?? this.timing.opTimeout, opts.callback, { op, target: targetId });
    this.publish(this.subjects.node(targetId), { k: 'op', op, cb: callbackId, body });
    return promise;
  }

  /** Answers an engine operation. */
  replyOp(m: OpMessage, body: unknown): void {
    if (m.cb === null) return;
    this.publish(this.subjects.node(m.from), { k: 'opres', cb: m.cb, body });
  }

  /** Registers the handler of an engine operation. */
  onOp(op: string, fn: (m: OpMessage) => void): void {
    this.opHandlers.set(op, fn);
  }

  /** Fires an engine event on this node. */
  fireEngineEvent(ev: string, data: object): void {
    this.events.dispatch(ENGINE_NAMESPACE, ENGINE_SYSTEM_NAME, ev, data);
  }

  // ─── RPC ──────────────────────────────────────────────────────────────────────────────────

  /**
   * Sends a request to one node of a module (`{ module }`, requestToService) or of a service type
   * (`{ serviceType }`, requestToServiceMod). See rpc.ts for the callback and Promise semantics.
   */
  request<T>(route: { module: string } | { serviceType: string }, ev: string, data: unknown, callback: RpcCallback<T> | undefined, timeout: number | undefined): Promise<RpcResult<T>> {
    const ttl = checkTimeout(timeout);
    if (callback !== undefined && callback !== null && typeof callback !== 'function') throw new GamewireError('ERR_INVALID_ARG', 'callback must be a function');
    const subject = 'module' in route ? this.subjects.module(route.module) : this.subjects.serviceType(route.serviceType);
    const { callbackId, promise } = this.rpc.open<T>(ttl, callback ?? undefined, { ...route, event: ev });
    const m: Unstamped<ReqMessage> = { k: 'req', cb: callbackId, ev, data: data ?? null, mod: 'module' in route ? route.module : null, ttl };
    try {
      this.publish(subject, m);
    } catch (err) {
      this.rpc.discard(callbackId);
      throw err;
    }
    return promise;
  }

  /** Answers request `callbackId` of node `serverId` (responseToServer). */
  respond(serverId: number, callbackId: number, data: unknown): void {
    if (!Number.isInteger(serverId) || !Number.isInteger(callbackId)) throw new GamewireError('ERR_INVALID_ARG', 'responseToServer(serverId, callbackId, data): ids are integers');
    this.publish(this.subjects.node(serverId), { k: 'res', cb: callbackId, data: data ?? null });
  }

  /**
   * Registers the handler of `event` of `module` (one per event: a later one replaces). The first
   * handler of a module subscribes this node to the module's subject; over NATS that takes effect
   * a moment later (a round trip to the server; `busConnection.flush()` waits for it).
   */
  registerModuleHandler(module: string, event: string, fn: RpcHandler<never>, owner: string): void {
    if (typeof module !== 'string' || !/^[A-Za-z0-9_-]+$/.test(module)) throw new GamewireError('ERR_INVALID_ARG', `module ${JSON.stringify(module)} may hold only letters, digits, '_' and '-'`);
    if (typeof fn !== 'function') throw new GamewireError('ERR_INVALID_ARG', 'registerRpcMethod needs a function');
    let events = this.moduleHandlers.get(module);
    if (!events) this.moduleHandlers.set(module, (events = new Map()));
    if (events.has(event)) this.log.debug({ module, event }, 'rpc method replaced');
    events.set(event, { fn, owner });
    if (!this.moduleSubs.has(module)) {
      const declared = this.entry.role === 'service' || this.entry.role === 'master' ? this.entry.module_names : [];
      if (this.role === 'service' && !declared.includes(module)) {
        this.log.warn({ module }, `module ${module} is not in this service's module_names; serving it anyway`);
      }
      this.subscribeModule(module);
    }
  }

  /** Registers the handler of `event` for requests by this service's type (one per event). */
  registerTypeHandler(event: string, fn: RpcHandler<never>, owner: string): void {
    if (typeof fn !== 'function') throw new GamewireError('ERR_INVALID_ARG', 'registerRpcMethodForMod needs a function');
    if (this.typeHandlers.has(event)) this.log.debug({ event }, 'rpc method replaced');
    this.typeHandlers.set(event, { fn, owner });
  }

  private subscribeModule(module: string): void {
    if (this.moduleSubs.has(module) || !this.connection) return;
    const sub = this.connection.subscribe(this.subjects.module(module), (b) => this.onBusMessage(b), { queue: this.subjects.moduleQueue(module) });
    this.moduleSubs.set(module, sub);
  }

  // ─── receiving ────────────────────────────────────────────────────────────────────────────

  private onBusMessage(bytes: Uint8Array): void {
    if (this.state !== 'running') return;
    this.stats.received++;
    const m = decodeWire(bytes);
    if (!m) {
      this.stats.malformed++;
      return;
    }
    if (!this.seen.firstTime(m.id)) {
      this.stats.duplicates++;
      return;
    }
    switch (m.k) {
      case 'ev':
        // From a proxy, an event is a player's (notifyToServiceNode): it must name a client system.
        if (findNode(this.config, m.from)?.role === 'proxy' && !this.acceptFromClient(m.ns, m.sys, m.ev)) break;
        this.events.dispatch(m.ns, m.sys, m.ev, m.data);
        break;
      case 'req':
        this.onRequest(m);
        break;
      case 'res':
        if (this.rpc.answer(m.cb, m.data) !== 'answered') this.log.debug({ callbackId: m.cb, from: m.from }, 'late or unknown response dropped');
        break;
      case 'op': {
        const fn = this.opHandlers.get(m.op);
        if (!fn) {
          this.log.debug({ op: m.op, from: m.from }, 'engine op not handled here');
          break;
        }
        try {
          fn(m);
        } catch (err) {
          this.log.error({ err, op: m.op, from: m.from }, 'engine op failed');
        }
        break;
      }
      case 'opres':
        this.ops.answer(m.cb, m.body);
        break;
    }
  }

  private onRequest(m: ReqMessage): void {
    const h = m.mod !== null ? this.moduleHandlers.get(m.mod)?.get(m.ev) : this.typeHandlers.get(m.ev);
    if (!h) {
      this.stats.unhandledRequests++;
      this.log.warn({ event: m.ev, module: m.mod, from: m.from }, 'no rpc method registered for this request: dropped (the caller times out)');
      return;
    }
    const ctx = { system: h.owner, event: m.ev, module: m.mod, from: m.from };
    try {
      const r = (h.fn as RpcHandler<unknown>)(m.from, m.cb, m.data);
      if (r && typeof (r as Promise<void>).then === 'function') (r as Promise<void>).then(undefined, (err: unknown) => this.log.error({ err, ...ctx }, 'rpc method threw'));
    } catch (err) {
      this.log.error({ err, ...ctx }, 'rpc method threw');
    }
  }

  /** Checks the sender a player's event claims; counts and logs a forged one. */
  acceptFromClient(ns: string, sys: string, ev: string): boolean {
    if (ns !== ENGINE_NAMESPACE && isClientSystem(ns, sys)) return true;
    this.stats.forged++;
    this.log.warn({ from: `${ns}.${sys}`, event: ev }, 'player event from a sender that is not a client system: dropped');
    return false;
  }

  // ─── helpers for systems ──────────────────────────────────────────────────────────────────

  /** Lobby/game entries of a type. */
  serversOfType(type: string): ServerEntry[] {
    return this.config.serverlist.filter((s) => s.role === 'server' && s.type === type);
  }

  /** Resolves once this node is registered with the master (at once for the master itself). */
  whenMasterConnected(timeoutSeconds = 10): Promise<boolean> {
    if (!this.masterLink) return Promise.resolve(true);
    return this.masterLink.whenConnected(timeoutSeconds);
  }
}

function checkData(data: EventData | undefined): EventData {
  if (data === undefined || data === null) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new GamewireError('ERR_INVALID_ARG', 'event data is an object (a dict)');
  return data;
}

/**
 * A node's link to the master: registration ("hello", with what the node holds, so a restarted
 * master learns it again), heartbeats, and `MasterConnectStatusEvent` on every change.
 */
export class MasterLink {
  connected = false;
  private masterInc: string | null = null;
  private lastOk = 0;
  private helloInFlight = false;
  private helloGeneration = 0;
  private hbInFlight = false;
  /** The master answered a heartbeat without knowing this node (it dropped it): the next registration is a new one. */
  private forgotten = false;
  private timer: NodeJS.Timeout | null = null;
  private waiters: Array<(ok: boolean) => void> = [];
  /** Registrations that succeeded (the first one and every re-registration). */
  registrations = 0;

  constructor(private readonly node: ClusterNode) {}

  private get masterId(): number {
    return this.node.config.master.serverid;
  }

  start(): void {
    this.node.onOp('master-up', (m) => {
      const inc = (m.body as { inc?: string } | null)?.inc;
      // A new master: register now, even if a registration with the old one is still pending.
      if (inc !== this.masterInc || !this.connected) this.hello(true);
    });
    this.node.onOp('master-down', (m) => {
      // The master stops: the link is down now (not after the heartbeat timeout).
      const inc = (m.body as { inc?: string } | null)?.inc;
      if (inc === this.masterInc) this.setConnected(false);
    });
    this.hello();
    this.timer = setInterval(() => this.tick(), this.node.timing.heartbeatInterval * 1000);
    this.timer.unref();
  }

  stop(sayBye: boolean): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (sayBye && this.connected) this.node.sendOp(this.masterId, 'bye', { inc: this.node.incarnation });
    this.connected = false;
    for (const w of this.waiters.splice(0)) w(false);
  }

  busLost(): void {
    this.setConnected(false);
  }

  busBack(): void {
    this.hello(true);
  }

  whenConnected(timeoutSeconds: number): Promise<boolean> {
    if (this.connected) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutSeconds * 1000);
      const done = (ok: boolean) => {
        clearTimeout(t);
        resolve(ok);
      };
      this.waiters.push(done);
    });
  }

  private tick(): void {
    if (!this.node.running) return;
    const now = Date.now();
    if (this.connected && now - this.lastOk > this.node.timing.nodeTimeout * 1000) {
      this.node.log.warn('master link lost: no heartbeat answer');
      this.setConnected(false);
    }
    if (!this.connected) {
      this.hello();
      return;
    }
    if (this.hbInFlight) return;
    this.hbInFlight = true;
    const body = { inc: this.node.incarnation, players: this.node.players?.count ?? this.node.proxy?.count ?? 0 };
    void this.node.requestOp<{ inc: string; known: boolean }>(this.masterId, 'hb', body, { timeout: this.node.timing.nodeTimeout }).then((r) => {
      this.hbInFlight = false;
      if (!r.ok || !r.data) return;
      this.lastOk = Date.now();
      if (!r.data.known || r.data.inc !== this.masterInc) {
        if (r.data.inc === this.masterInc) this.forgotten = true;
        this.node.log.info('master does not know this node (it restarted or dropped us): registering again');
        this.hello();
      }
    });
  }

  private hello(force = false): void {
    if ((this.helloInFlight && !force) || !this.node.running) return;
    this.helloInFlight = true;
    const generation = ++this.helloGeneration;
    const body = {
      inc: this.node.incarnation,
      type: this.node.serverType,
      role: this.node.role,
      // A node added at run time: a master that restarted since learns it from this.
      entry: (this.node.entry as ServerEntry).dynamic ? this.node.entry : undefined,
      players: this.node.players?.snapshot() ?? [],
      sessions: this.node.proxy?.snapshot() ?? [],
    };
    const timeout = Math.min(this.node.timing.opTimeout, Math.max(this.node.timing.nodeTimeout, 0.5));
    void this.node.requestOp<{ inc: string; members?: unknown }>(this.masterId, 'hello', body, { timeout }).then((r) => {
      if (generation === this.helloGeneration) this.helloInFlight = false;
      if (!this.node.running) return;
      if (!r.ok || !r.data) return; // tried again on the next tick
      this.node.learnMembers(r.data.members);
      // Registered while the link looked up, with a new master (the old one was killed and this
      // one came up before the heartbeats noticed) or with one that had forgotten this node: what
      // it knew of this node was lost. Report the link down, then up again.
      const again = this.connected && (r.data.inc !== this.masterInc || this.forgotten);
      this.forgotten = false;
      this.masterInc = r.data.inc;
      this.lastOk = Date.now();
      this.registrations++;
      if (again) this.setConnected(false);
      this.setConnected(true);
    });
  }

  private setConnected(v: boolean): void {
    if (this.connected === v) return;
    this.connected = v;
    this.node.log.info({ isConnect: v }, v ? 'registered with the master' : 'master link down');
    if (v) for (const w of this.waiters.splice(0)) w(true);
    this.node.fireEngineEvent(EngineEvents.MasterConnectStatusEvent, { isConnect: v });
  }
}
