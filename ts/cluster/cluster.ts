/**
 * `Cluster.start(config)`: every node of a deploy config in this process (the embedded mode; the
 * in-process bus unless the config names `nats`). `Cluster.startNode(config, serverId)`: one node in
 * this process, over NATS (the distributed mode: one process per node). `cluster.stop()`.
 *
 * This is where the layers meet: it makes the bus, the gateway and the master's node launcher,
 * and gives each node (the core) the part of its role (roles.ts).
 */
import { ConfigError, GamewireError } from '../errors.js';
import { createLogger, defaultLogger, type Logger, type LogLevel } from '../log.js';
import { findNode, nodeEntries, parseConfig, type ClusterConfig } from './cluster-config.js';
import type { Clock } from '../clock.js';
import type { NodeTiming } from './core/host.js';
import { ClusterNode } from './core/node.js';
import type { System } from './core/system.js';
import type { NodeLauncher } from './master/lifecycle.js';
import { MASTER_ROLE, type MasterMode } from './master/master-role.js';
import { createProcessLauncher, type ProcessLauncherOptions } from './master/node-launcher.js';
import { checkMods } from './mods.js';
import { PROXY_ROLE } from './proxy/proxy-role.js';
import { roleFor } from './roles.js';
import type { Bus } from './transport/bus/bus.js';
import { InProcessBus } from './transport/bus/inprocess-bus.js';
import { NatsBus } from './transport/bus/nats-bus.js';
import type { Gateway, GatewayAddress } from './transport/gateway/gateway.js';
import { createGateway } from './transport/gateway/udp-gateway.js';
import type { MasterHttpApi, NetgameApi, ServerManager } from './master/master-api.js';

export interface ClusterOptions {
  /** The transport players connect to proxies over. Default: the encrypted UDP gateway of the config (`createGateway`). */
  gateway?: Gateway;
  /** Use this bus instead of the one the config implies (e.g. one InProcessBus shared by several Cluster objects). */
  bus?: Bus;
  /**
   * Where every node of this cluster logs (the proxies' UDP servers and the master's HTTP server
   * included). Default: gamewire's logger (JSON lines on stderr at `GAMEWIRE_LOG_LEVEL`), or one
   * at `logLevel`.
   */
  logger?: Logger;
  /** The level of the default logger (`silent`: nothing). Default `GAMEWIRE_LOG_LEVEL`, else `debug` when the config's log_debug_level is true, else `info`. */
  logLevel?: LogLevel;
  /** Seconds between heartbeats. Default: keep_alive_period / 3, at most 5. */
  heartbeatInterval?: number;
  /** Seconds of silence after which a link counts as lost. Default: the master's keep_alive_period (30). */
  nodeTimeout?: number;
  /** Seconds an engine operation (login, transfer, registration) may take. Default 5. */
  opTimeout?: number;
  /** Proxies accept bare uids instead of connect tokens (development only). Default: the config's dev_bare_uid_login. */
  devBareUidLogin?: boolean;
  /** Seconds to wait for the started nodes to register with the master; 0: do not wait. Default 10 for start(), 0 for startNode(). */
  waitForRegistration?: number;
  /**
   * How the master starts the nodes rollingUpdateServers adds. Default: in this process for
   * `start()`; for `startNode()`, `gamewire node` child processes (see `processLauncher`).
   */
  launcher?: NodeLauncher;
  /** Options of the default child-process launcher of `startNode()` (the command, mods to load). */
  processLauncher?: ProcessLauncherOptions;
  /**
   * The time source of every cluster timing (heartbeats, deadlines, ban expiry). Default: the
   * system clock. Tests and simulations pass one they drive.
   */
  clock?: Clock;
}

/** The master's API, as a MasterSystem has it (`Cluster#master`). */
export interface MasterApi {
  readonly netgameApi: NetgameApi;
  readonly masterHttp: MasterHttpApi;
  readonly serverManager: ServerManager;
}

/** A set of nodes running in this process. */
export class Cluster {
  readonly config: ClusterConfig;
  readonly bus: Bus;
  readonly log: Logger;
  private readonly nodes = new Map<number, ClusterNode>();
  private readonly timing: NodeTiming;
  private readonly emptyWaiters: Array<() => void> = [];
  private gateway: Gateway | undefined;

  private constructor(
    config: ClusterConfig,
    bus: Bus,
    private readonly opts: ClusterOptions,
    /** `embedded`: every node in this process; `distributed`: one node per process. */
    readonly mode: MasterMode,
  ) {
    this.config = config;
    this.bus = bus;
    const level = opts.logLevel ?? (config.log_debug_level && !process.env.GAMEWIRE_LOG_LEVEL ? 'debug' : undefined);
    this.log = opts.logger ?? (level ? createLogger({ level }) : defaultLogger());
    const nodeTimeout = opts.nodeTimeout ?? config.master.keep_alive_period;
    this.timing = {
      nodeTimeout,
      heartbeatInterval: opts.heartbeatInterval ?? Math.min(5, nodeTimeout / 3),
      opTimeout: opts.opTimeout ?? 5,
    };
    if (!(this.timing.heartbeatInterval > 0 && this.timing.nodeTimeout > this.timing.heartbeatInterval && this.timing.opTimeout > 0)) {
      throw new ConfigError('keep_alive_period', 'heartbeatInterval must be positive and shorter than nodeTimeout');
    }
  }

  /**
   * Starts every node of the config in this process: master, services, lobbies/games, proxies.
   * Resolves when they have registered with the master (see `waitForRegistration`).
   * @throws ConfigError for a bad config or a mod no defineMod defined.
   */
  static async start(config: unknown, opts: ClusterOptions = {}): Promise<Cluster> {
    const c = isParsed(config) ? config : parseConfig(config);
    checkMods(c);
    const bus = opts.bus ?? (c.nats ? new NatsBus({ servers: c.nats.servers }) : new InProcessBus());
    const cluster = new Cluster(c, bus, opts, 'embedded');
    const order = { master: 0, service: 1, server: 2, proxy: 3 } as const;
    const ids = nodeEntries(c)
      .map((e) => e.entry)
      .sort((a, b) => order[a.role] - order[b.role])
      .map((e) => e.serverid);
    await cluster.startIds(ids, opts.waitForRegistration ?? 10);
    return cluster;
  }

  /**
   * Starts one node of the config in this process, over the distributed bus the config's `nats`
   * names. Does not wait for the master unless `waitForRegistration` says so.
   */
  static async startNode(config: unknown, serverId: number, opts: ClusterOptions = {}): Promise<Cluster> {
    const c = isParsed(config) ? config : parseConfig(config);
    if (!findNode(c, serverId)) throw new ConfigError('server-id', `server id ${serverId} is not in the config`);
    checkMods(c, new Set([serverId]));
    if (!opts.bus && !c.nats) throw new ConfigError('nats', 'startNode runs one node per process over NATS: the config needs "nats": { "servers": "nats://host:port" }');
    const bus = opts.bus ?? new NatsBus({ servers: c.nats!.servers });
    const cluster = new Cluster(c, bus, opts, 'distributed');
    await cluster.startIds([serverId], opts.waitForRegistration ?? 0);
    return cluster;
  }

  private async startIds(ids: number[], wait: number): Promise<void> {
    const needsGateway = ids.some((id) => findNode(this.config, id)?.role === 'proxy');
    const gateway = needsGateway ? await this.gatewayFor() : undefined;
    try {
      for (const id of ids) await this.startOne(id, gateway);
    } catch (err) {
      await this.stop();
      throw err;
    }
    if (wait > 0) {
      const results = await Promise.all([...this.nodes.values()].map(async (n) => [n.serverId, await n.whenMasterConnected(wait)] as const));
      const missing = results.filter(([, ok]) => !ok).map(([id]) => id);
      if (missing.length > 0) this.log.warn({ missing }, 'some nodes did not register with the master in time');
    }
  }

  /** One gateway for every proxy started here (so clients made from it reach all of them). */
  private async gatewayFor(): Promise<Gateway> {
    this.gateway ??= this.opts.gateway ?? createGateway(this.config);
    return this.gateway;
  }

  private launcher(): NodeLauncher {
    if (this.opts.launcher) return this.opts.launcher;
    if (this.mode === 'distributed') return createProcessLauncher({ logger: this.log, ...this.opts.processLauncher });
    return {
      kind: 'inprocess',
      launch: async (entry) => {
        const gateway = entry.role === 'proxy' ? await this.gatewayFor() : undefined;
        await this.startOne(entry.serverid, gateway);
      },
    };
  }

  private async startOne(id: number, gateway: Gateway | undefined): Promise<ClusterNode> {
    const isMaster = id === this.config.master.serverid;
    const node = new ClusterNode({
      config: this.config,
      serverId: id,
      bus: this.bus,
      logger: this.log,
      timing: this.timing,
      clock: this.opts.clock,
      role: roleFor({ gateway, devBareUidLogin: this.opts.devBareUidLogin, mode: isMaster ? this.mode : undefined, launcher: isMaster ? this.launcher() : undefined }),
      onStopRequest: (n) => {
        if (this.nodes.get(n.serverId) === n) void this.stopNode(n.serverId);
      },
    });
    this.nodes.set(id, node);
    try {
      await node.start();
    } catch (err) {
      if (this.nodes.get(id) === node) this.nodes.delete(id);
      throw err;
    }
    return node;
  }

  /** Resolves once no node runs here any more (they were stopped, e.g. by the master's serverManager). */
  whenEmpty(): Promise<void> {
    if (this.nodes.size === 0) return Promise.resolve();
    return new Promise((r) => this.emptyWaiters.push(r));
  }

  private checkEmpty(): void {
    if (this.nodes.size === 0) for (const w of this.emptyWaiters.splice(0)) w();
  }

  /** Server ids of the nodes running here. */
  get serverIds(): number[] {
    return [...this.nodes.keys()];
  }

  /** The node `serverId` running here. @throws GamewireError if it is not. */
  node(serverId: number): ClusterNode {
    const n = this.nodes.get(serverId);
    if (!n) throw new GamewireError('ERR_NO_NODE', `node ${serverId} is not running in this process`);
    return n;
  }

  /** A system of a node running here. */
  getSystem<T extends System = System>(serverId: number, namespace: string, systemName: string): T | undefined {
    return this.nodes.get(serverId)?.getSystem<T>(namespace, systemName);
  }

  /** The master's API (netgameApi, masterHttp, serverManager), when the master runs here; else null. */
  get master(): MasterApi | null {
    return this.nodes.get(this.config.master.serverid)?.part(MASTER_ROLE)?.api ?? null;
  }

  /** Where players reach proxy `serverId` (the bound address). */
  proxyAddress(serverId: number): GatewayAddress {
    const a = this.node(serverId).part(PROXY_ROLE)?.address;
    if (!a) throw new GamewireError('ERR_NO_NODE', `node ${serverId} is not a listening proxy`);
    return a;
  }

  /**
   * Where browser players reach proxy `serverId`: its WebSocket and WebTransport URLs and the
   * certificate hash pages pin (null: the config gave this proxy no browser ports).
   */
  proxyBrowserAddress(serverId: number): { websocket?: string; webtransport?: string; certificateHash?: string } | null {
    const p = this.node(serverId).part(PROXY_ROLE);
    if (!p) throw new GamewireError('ERR_NO_NODE', `node ${serverId} is not a proxy`);
    return p.browser ?? null;
  }

  /** Stops one node (it says goodbye to the master). */
  async stopNode(serverId: number): Promise<void> {
    const n = this.nodes.get(serverId);
    if (!n) return;
    this.nodes.delete(serverId);
    try {
      await n.stop();
    } finally {
      this.checkEmpty();
    }
  }

  /** Starts a node of the config here again (or for the first time), on the same bus. */
  async restartNode(serverId: number, opts: { waitForRegistration?: number } = {}): Promise<ClusterNode> {
    await this.stopNode(serverId);
    const entry = findNode(this.config, serverId);
    if (!entry) throw new ConfigError('server-id', `server id ${serverId} is not in the config`);
    const gateway = entry.role === 'proxy' ? await this.gatewayFor() : undefined;
    const n = await this.startOne(serverId, gateway);
    const wait = opts.waitForRegistration ?? 10;
    if (wait > 0) await n.whenMasterConnected(wait);
    return n;
  }

  /** Stops every node here: proxies first, the master last. */
  async stop(): Promise<void> {
    const order = { proxy: 0, server: 1, service: 2, master: 3 } as const;
    const nodes = [...this.nodes.values()].sort((a, b) => order[a.role] - order[b.role]);
    this.nodes.clear();
    for (const n of nodes) {
      try {
        await n.stop();
      } catch (err) {
        this.log.error({ err, node: n.serverId }, 'node stop failed');
      }
    }
    this.checkEmpty();
  }
}

function isParsed(c: unknown): c is ClusterConfig {
  return typeof c === 'object' && c !== null && 'raw' in c && 'master' in c && typeof (c as ClusterConfig).master.role === 'string';
}
