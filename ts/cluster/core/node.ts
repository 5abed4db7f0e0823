/**
 * The node core: one node of the cluster (the master, a proxy, a lobby/game or a service). It
 * holds one bus connection, builds the systems of the mods its config entry names, carries their
 * events, requests and the engine operations, and (all but the master) keeps a link to the master
 * (master-link.ts).
 *
 * What a node does beyond that comes from its role part (`RolePart`, given by its owner): the
 * master's registry and API, a proxy's player sessions, the players of a lobby/game, a service's
 * HTTP handlers. Role parts and systems see the node only through `NodeHost` (host.ts).
 *
 * Engine operations the core itself handles: `shutdown { kick, reason }` from the master (answer
 * `{ ok }`, then the node stops, its role sending its players away first when `kick`) and
 * `members { entries }` (nodes the master added at run time).
 */
import { randomBytes } from 'node:crypto';
import { ArgumentError, ConfigError, GamewireError, StateError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { addServerEntry, findNode, isServerEntry, type ClusterConfig, type NodeEntry, type NodeRole, type ServerEntry } from '../cluster-config.js';
import { Subjects, type Bus, type BusConnection, type BusSubscription } from '../transport/bus/bus.js';
import { decodeWire, encodeWire, SeenIds, type OpMessage, type ReqMessage, type Unstamped, type WireMessage } from './bus-messages.js';
import { systemClock, type Clock } from '../../clock.js';
import { ENGINE_NAMESPACE, ENGINE_SYSTEM_NAME, EventDispatcher, type EventData } from './events.js';
import type { NodeHost, NodeStats, NodeTiming, RoleKey, RolePart, RpcHandler } from './host.js';
import { MasterLink } from './master-link.js';
import { getMod, isClientSystem, type ModRole } from './mod-registry.js';
import { checkTimeout, RpcTable, type RpcCallback, type RpcResult } from './rpc.js';
import { constructSystem, type System } from './system.js';

export type { NodeStats, NodeTiming, RpcHandler };

/** What a node's owner gives it. */
export interface NodeOptions {
  config: ClusterConfig;
  serverId: number;
  bus: Bus;
  logger: Logger;
  timing: NodeTiming;
  /** The time source (default: the system clock). */
  clock?: Clock | undefined;
  /** Makes this node's role part (null: none); it registers itself under its RoleKey with `attach`. */
  role?: ((host: NodeHost, attach: <T extends RolePart>(key: RoleKey<T>, part: T) => T) => void) | undefined;
  /** Called when the master asks this node to stop (serverManager); default: the node stops itself. */
  onStopRequest?: ((node: ClusterNode) => void) | undefined;
}

interface HandlerEntry {
  fn: RpcHandler<never>;
  owner: string;
}

/** The mod systems each role runs (proxies run none). */
const SYSTEMS_OF: Record<NodeRole, ModRole | null> = { master: 'master', server: 'server', service: 'service', proxy: null };

export class ClusterNode implements NodeHost {
  readonly kind = 'node' as const;
  readonly config: ClusterConfig;
  readonly serverId: number;
  readonly entry: NodeEntry;
  readonly role: NodeRole;
  readonly serverType: string;
  readonly log: Logger;
  readonly events: EventDispatcher;
  readonly subjects: Subjects;
  readonly timing: NodeTiming;
  readonly clock: Clock;
  /** A fresh random id per start: tells a restarted node from the one before. */
  readonly incarnation = randomBytes(6).toString('hex');
  /** The user requests (requestToService / requestToServiceMod) this node made. */
  readonly rpc: RpcTable;
  /** Engine operations this node is waiting on. */
  readonly ops: RpcTable;
  readonly stats: NodeStats = { received: 0, malformed: 0, duplicates: 0, unhandledRequests: 0, misaddressed: 0, forged: 0 };
  /** The link to the master (null on the master itself). */
  readonly masterLink: MasterLink | null = null;

  private readonly bus: Bus;
  private connection: BusConnection | null = null;
  private seq = 0;
  private readonly seen = new SeenIds();
  private readonly systemList: System[] = [];
  private readonly moduleHandlers = new Map<string, Map<string, HandlerEntry>>();
  private readonly typeHandlers = new Map<string, HandlerEntry>();
  private readonly moduleSubs = new Map<string, BusSubscription>();
  private readonly opHandlers = new Map<string, (m: OpMessage) => void>();
  private readonly parts = new Map<RoleKey<unknown>, RolePart>();
  private rolePart: RolePart | null = null;
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  private readonly onStopRequest: ((node: ClusterNode) => void) | undefined;

  constructor(opts: NodeOptions) {
    const entry = findNode(opts.config, opts.serverId);
    if (!entry) throw new ConfigError('server-id', `server id ${opts.serverId} is not in the config`);
    this.config = opts.config;
    this.serverId = opts.serverId;
    this.entry = entry;
    this.role = entry.role;
    this.serverType = entry.type;
    this.bus = opts.bus;
    this.timing = opts.timing;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger.child({ node: this.serverId, role: this.role });
    this.events = new EventDispatcher(this.log);
    this.subjects = new Subjects(opts.config.nats?.prefix ?? 'gamewire');
    this.rpc = new RpcTable(this.log, 'request', this.clock);
    this.ops = new RpcTable(this.log, 'engine op', this.clock);
    this.onStopRequest = opts.onStopRequest;
    this.onOp('shutdown', (m) => this.onShutdown(m));
    if (this.role !== 'master') {
      this.onOp('members', (m) => this.learnMembers((m.body as { entries?: unknown }).entries));
      this.masterLink = new MasterLink(this, {
        registration: () => this.rolePart?.registration?.() ?? {},
        load: () => this.rolePart?.load?.() ?? 0,
        learnMembers: (entries) => this.learnMembers(entries),
      });
    }
    opts.role?.(this, (key, part) => {
      if (this.rolePart) throw new StateError(`node ${this.serverId} already has its role part`);
      this.parts.set(key as RoleKey<unknown>, part);
      this.rolePart = part;
      return part;
    });
  }

  /** The role part registered under `key`, if this node has it. */
  part<T>(key: RoleKey<T>): T | undefined {
    return this.parts.get(key as RoleKey<unknown>) as T | undefined;
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
    if (this.state !== 'new') throw new StateError(`node ${this.serverId} was already started`);
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
        this.rolePart?.busReconnected?.();
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

    // What the role opens before the systems are built (the master's store and HTTP server: they use them).
    try {
      await this.rolePart?.open?.();
    } catch (err) {
      this.state = 'stopped';
      await conn.close().catch(() => undefined);
      throw err;
    }
    this.buildSystems();
    // Subscriptions (and those the systems made) are live at the bus before anyone hears of us.
    await conn.flush();
    this.state = 'running';
    await this.rolePart?.start?.();
    this.masterLink?.start();
    this.log.info({ type: this.serverType, bus: this.bus.kind }, 'node started');
  }

  /** Destroys the systems, stops the role, leaves the master, closes the bus connection. Open requests end with (false, null). */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    const wasRunning = this.state === 'running';
    this.state = 'stopping';
    this.destroySystems();
    try {
      await this.rolePart?.stop?.();
    } catch (err) {
      this.log.error({ err }, 'stopping the role failed');
    }
    if (wasRunning && this.masterLink) this.masterLink.stop(true);
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
    if (m.from !== this.config.master.serverid || this.role === 'master') return;
    const b = (m.body ?? {}) as { kick?: boolean; reason?: string };
    this.replyOp(m, { ok: true });
    this.log.info({ kick: !!b.kick }, 'the master asks this node to stop');
    Promise.resolve(this.rolePart?.beforeShutdown?.(!!b.kick, b.reason || 'server-stopping'))
      .catch((err: unknown) => this.log.error({ err }, 'sending the players away failed'))
      .then(() => setImmediate(() => this.requestStop()));
  }

  /** Learns the nodes the master added at run time (rollingUpdateServers). */
  learnMembers(entries: unknown): void {
    if (!Array.isArray(entries)) return;
    for (const e of entries) {
      if (!isServerEntry(e)) continue;
      if (!addServerEntry(this.config, e)) this.log.warn({ server: e.serverid }, 'a node the master added clashes with the config: ignored');
    }
  }

  /** Destroys this node's systems and builds them again (a lobby/game reset). */
  rebuildSystems(): void {
    this.destroySystems();
    this.buildSystems();
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
    const key = SYSTEMS_OF[this.role];
    if (key === null) return;
    for (const name of this.entry.mods) {
      const mod = getMod(name);
      if (!mod) throw new ConfigError(`mods`, `node ${this.serverId}: mod ${JSON.stringify(name)} is not defined by any defineMod()`);
      for (const e of mod[key] ?? []) {
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
      throw new ArgumentError(`event data must be JSON-serializable: ${(err as Error).message}`, { cause: err });
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
    if (callback !== undefined && callback !== null && typeof callback !== 'function') throw new ArgumentError('callback must be a function');
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
    if (!Number.isInteger(serverId) || !Number.isInteger(callbackId)) throw new ArgumentError('responseToServer(serverId, callbackId, data): ids are integers');
    this.publish(this.subjects.node(serverId), { k: 'res', cb: callbackId, data: data ?? null });
  }

  /**
   * Registers the handler of `event` of `module` (one per event: a later one replaces). The first
   * handler of a module subscribes this node to the module's subject; over NATS that takes effect
   * a moment later (a round trip to the server; `busConnection.flush()` waits for it).
   */
  registerModuleHandler(module: string, event: string, fn: RpcHandler<never>, owner: string): void {
    if (typeof module !== 'string' || !/^[A-Za-z0-9_-]+$/.test(module)) throw new ArgumentError(`module ${JSON.stringify(module)} may hold only letters, digits, '_' and '-'`);
    if (typeof fn !== 'function') throw new ArgumentError('registerRpcMethod needs a function');
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
    if (typeof fn !== 'function') throw new ArgumentError('registerRpcMethodForMod needs a function');
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
  if (typeof data !== 'object' || Array.isArray(data)) throw new ArgumentError('event data is an object (a dict)');
  return data;
}

