/**
 * The master role: node registration and heartbeats, the login decision (bans included),
 * transfer routing, cleaning up after lost nodes, the nodes added at run time; and, opened before
 * the master's systems are built, its durable store and its HTTP server.
 *
 * | op         | from          | body                                   | answer                          |
 * |------------|---------------|----------------------------------------|---------------------------------|
 * | `hello`    | any node      | `{ inc, type, role, entry, players, sessions }` | `{ inc, members }`     |
 * | `hb`       | any node      | `{ inc, players }`                      | `{ inc, known }`                |
 * | `bye`      | any node      | `{ inc }`                               | none                            |
 * | `login`    | a proxy       | `{ uid, playerId, pv }`                 | `{ ok, serverId, serverType, reason, text }` |
 * | `transfer` | a proxy       | `{ uid, playerId, target, pv }`         | `{ ok, serverId, serverType, reason }` |
 * | `logout`   | a proxy       | `{ uid, playerId }`                     | none                            |
 *
 * It sends: `master-up { inc }` to all (at start and after a bus reconnect, so nodes register
 * again at once), `master-down { inc }` to all when it stops, `node-down { serverId }` to all
 * (proxies drop the players of a lost lobby/game), `members { entries }` to all (nodes added at
 * run time), `kick { uid, playerId, reason, text }` to a proxy (a second login of the same uid, a
 * ban), and `pdel` to a lobby/game whose player's proxy was lost. Lifecycle operations
 * (`shutdown`, `reset`, `mtransfer`) are in lifecycle.ts.
 */
import { componentLogger } from '../../log.js';
import { addServerEntry, isServerEntry, type ServerEntry } from '../cluster-config.js';
import type { LoginAnswer, OpMessage } from '../core/bus-messages.js';
import type { ClockTimer } from '../../clock.js';
import { EngineEvents } from '../core/events.js';
import { RoleKey, type NodeHost, type RolePart } from '../core/host.js';
import { installAdminRoutes } from './admin-routes.js';
import type { LoginStrategy, MasterContext } from './master-context.js';
import { Lifecycle, type NodeLauncher } from './lifecycle.js';
import { MasterHttpApi, NetgameApi, ServerManager } from './master-api.js';
import { MasterHttp } from './master-http.js';
import { MasterState } from './master-state.js';
import { isLinkUp, ServerStatus, type NodeRecord, type OnlinePlayer } from './registry.js';
import { banLoginText, Sanctions } from './sanctions.js';
import { openStore } from './store/open-store.js';
import type { SanctionRecord } from './store/store.js';

interface HelloBody {
  inc: string;
  type: string;
  role: string;
  entry?: unknown;
  players?: Array<{ playerId: string; uid: number; proxyId: number; pv: number | null }>;
  sessions?: Array<{ playerId: string; uid: number; serverId: number; pv: number | null }>;
}

/** How the master runs: all nodes in one process, or alone (decides the default store). */
export type MasterMode = 'embedded' | 'distributed';

export interface MasterRoleOptions {
  mode?: MasterMode | undefined;
  /** Starts nodes for rollingUpdateServers (the Cluster gives one). */
  launcher?: NodeLauncher | null | undefined;
}

/** The master role part. */
export const MASTER_ROLE = new RoleKey<MasterRole>('master');

export class MasterRole implements RolePart, MasterContext {
  readonly state: MasterState;
  readonly mode: MasterMode;
  readonly lifecycle: Lifecycle;
  /** Bans and mutes (null until `open()`). */
  sanctions: Sanctions | null = null;
  /** The HTTP server (null until `open()`). */
  http: MasterHttp | null = null;
  /** The user API (`MasterSystem#netgameApi`, `#masterHttp`, `#serverManager`). */
  readonly api: { netgameApi: NetgameApi; masterHttp: MasterHttpApi; serverManager: ServerManager };
  private strategy: LoginStrategy | null = null;
  private sweepTimer: ClockTimer | null = null;

  constructor(
    readonly host: NodeHost,
    opts: MasterRoleOptions = {},
  ) {
    this.state = new MasterState(host.config, host.clock.now());
    this.mode = opts.mode ?? 'embedded';
    this.lifecycle = new Lifecycle(this.state, host, opts.launcher ?? null, (entry) => this.addMember(entry));
    this.api = { netgameApi: new NetgameApi(this), masterHttp: new MasterHttpApi(this), serverManager: new ServerManager(this) };
  }

  private get node(): NodeHost {
    return this.host;
  }

  /** Opens the durable store and the HTTP server; runs before the master's systems are built. */
  async open(): Promise<void> {
    const n = this.node;
    const store = await openStore(n.config, this.mode, componentLogger(n.log, 'store'));
    this.sanctions = new Sanctions(store, componentLogger(n.log, 'sanctions'), n.clock);
    const m = n.config.master;
    this.http = new MasterHttp({
      host: m.ip ?? '127.0.0.1',
      port: m.port,
      secret: m.http_secret ?? process.env.GAMEWIRE_MASTER_HTTP_SECRET ?? null,
      timeout: m.http_timeout,
      log: n.log,
      clock: n.clock,
    });
    installAdminRoutes(this.http, this, this.api);
    try {
      await this.http.start();
    } catch (err) {
      await store.close();
      throw err;
    }
  }

  start(): void {
    const n = this.node;
    n.onOp('hello', (m) => this.onHello(m));
    n.onOp('hb', (m) => this.onHeartbeat(m));
    n.onOp('bye', (m) => this.onBye(m));
    n.onOp('login', (m) => void this.onLogin(m).catch((err: unknown) => n.log.error({ err, from: m.from }, 'login: answering the proxy failed')));
    n.onOp('transfer', (m) => this.onTransfer(m));
    n.onOp('logout', (m) => {
      const b = m.body as { uid: number; playerId: string };
      this.state.players.delete(b.uid, b.playerId);
    });
    this.announce();
    this.sweepTimer = n.clock.setInterval(() => this.sweep(), n.timing.heartbeatInterval * 1000);
  }

  busReconnected(): void {
    this.announce();
  }

  /** Tells the nodes the master goes (they report the link down at once), closes HTTP and the store. */
  async stop(): Promise<void> {
    this.sweepTimer?.cancel();
    this.sweepTimer = null;
    this.lifecycle.stop();
    try {
      this.node.broadcastOp('master-down', { inc: this.node.incarnation });
    } catch {
      /* the bus is gone already */
    }
    await this.http?.stop().catch((err: unknown) => this.node.log.warn({ err }, 'master HTTP close failed'));
    await this.sanctions?.store.close().catch((err: unknown) => this.node.log.warn({ err }, 'master store close failed'));
  }

  /** Tells every node the master is (back) up. */
  announce(): void {
    this.node.broadcastOp('master-up', { inc: this.node.incarnation });
  }

  /** Replaces the login strategy (null: the default). */
  setLoginStrategy(fn: LoginStrategy | null): boolean {
    if (fn !== null && typeof fn !== 'function') return false;
    this.strategy = fn;
    return true;
  }

  /** Entries the master added at run time (rollingUpdateServers), for nodes that do not know them. */
  dynamicEntries(): ServerEntry[] {
    return this.node.config.serverlist.filter((e) => e.dynamic);
  }

  /** Adds a run-time entry to the config and the registry, and tells every node. */
  addMember(entry: ServerEntry): boolean {
    if (!addServerEntry(this.node.config, entry)) return false;
    const e = this.node.config.serverlist.find((s) => s.serverid === entry.serverid)!;
    this.state.nodes.add(e);
    this.node.broadcastOp('members', { entries: this.dynamicEntries() });
    return true;
  }

  /**
   * Disconnects an online player (its proxy tells the client `reason` and `text`). The player
   * leaves the online list only once the kick is on its way; a kick that cannot be sent is logged
   * and changes nothing.
   */
  kickUid(uid: number, reason: string, text: string | null = null): boolean {
    const p = this.state.players.get(uid);
    if (!p) return false;
    try {
      this.node.sendOp(p.proxyId, 'kick', { uid, playerId: p.playerId, reason, text });
    } catch (err) {
      this.node.log.error({ err, uid, reason }, 'the kick could not be sent: the player stays online');
      return false;
    }
    this.state.players.delete(uid, p.playerId);
    return true;
  }

  // ─── operations ──────────────────────────────────────────────────────────────────────────

  private onHello(m: OpMessage): void {
    const b = m.body as HelloBody;
    let rec = this.state.nodes.get(m.from);
    // A node added at run time that a restarted master has not heard of: its entry comes along.
    if (!rec && isServerEntry(b.entry) && b.entry.serverid === m.from && addServerEntry(this.node.config, b.entry)) {
      rec = this.state.nodes.add(this.node.config.serverlist.find((s) => s.serverid === m.from)!);
      this.node.log.info({ server: m.from, type: rec.entry.type }, 'a node added at run time registered');
    }
    if (!rec || rec.entry.role === 'master') {
      this.node.log.warn({ from: m.from }, 'registration from a node that is not in the config: ignored');
      return;
    }
    const restarted = rec.inc !== null && rec.inc !== b.inc;
    const wasUp = isLinkUp(rec.status);
    if (restarted) this.dropPlayersOf(rec, 'node-restarted');
    // A node being drained or stopped keeps its state when it registers again (same incarnation).
    if (!wasUp || restarted) rec.status = ServerStatus.CONNECTED;
    rec.inc = b.inc;
    rec.lastSeen = this.node.clock.now();
    rec.registrations++;
    // What the node holds: a restarted master learns its online players again from these.
    const now = this.node.clock.now();
    for (const p of b.players ?? []) this.learn({ uid: p.uid, playerId: p.playerId, proxyId: p.proxyId, serverId: m.from, protocolVersion: p.pv, since: now });
    for (const s of b.sessions ?? []) this.learn({ uid: s.uid, playerId: s.playerId, proxyId: m.from, serverId: s.serverId, protocolVersion: s.pv, since: now });
    this.node.replyOp(m, { inc: this.node.incarnation, members: this.dynamicEntries() });
    if (!wasUp || restarted) {
      this.node.log.info({ server: m.from, type: rec.entry.type, registrations: rec.registrations }, 'node registered');
      this.node.fireEngineEvent(EngineEvents.ServerConnectEvent, { serverId: m.from, serverType: rec.entry.type, isReconnect: rec.registrations > 1 });
    }
  }

  private learn(p: OnlinePlayer): void {
    const known = this.state.players.get(p.uid);
    if (known && known.playerId === p.playerId) {
      known.serverId = p.serverId;
      known.proxyId = p.proxyId;
      if (known.protocolVersion === null) known.protocolVersion = p.protocolVersion;
      return;
    }
    if (!known) this.state.players.set(p);
  }

  private onHeartbeat(m: OpMessage): void {
    const b = m.body as { inc: string };
    const rec = this.state.nodes.get(m.from);
    const known = !!rec && rec.inc === b.inc && isLinkUp(rec.status);
    if (known) rec.lastSeen = this.node.clock.now();
    this.node.replyOp(m, { inc: this.node.incarnation, known });
  }

  private onBye(m: OpMessage): void {
    const rec = this.state.nodes.get(m.from);
    const b = m.body as { inc: string };
    if (!rec || rec.inc !== b.inc || !isLinkUp(rec.status)) return;
    // A node retired by a rolling update (6 or 7) goes on to 1; a stopped server is 3.
    rec.status = rec.status === ServerStatus.ROLLING_UPDATE_END || rec.status === ServerStatus.ROLLING_UPDATE_BEGIN ? ServerStatus.DISCONNECTED : ServerStatus.SHUTDOWN;
    this.lost(rec, 'node-stopped');
  }

  private sweep(): void {
    const limit = this.node.clock.now() - this.node.timing.nodeTimeout * 1000;
    for (const rec of this.state.nodes.all()) {
      if (rec.entry.role === 'master' || !isLinkUp(rec.status) || rec.lastSeen >= limit) continue;
      rec.status = ServerStatus.DISCONNECTED;
      this.state.stats.lostNodes++;
      this.node.log.warn({ server: rec.entry.serverid }, 'node lost: no heartbeat');
      this.lost(rec, 'node-lost');
    }
  }

  private lost(rec: NodeRecord, reason: string): void {
    this.state.resetting.delete(rec.entry.serverid);
    this.dropPlayersOf(rec, reason);
    this.node.fireEngineEvent(EngineEvents.ServerDisconnectEvent, { serverId: rec.entry.serverid, serverType: rec.entry.type });
  }

  private dropPlayersOf(rec: NodeRecord, reason: string): void {
    const id = rec.entry.serverid;
    if (rec.entry.role === 'proxy') {
      for (const p of this.state.players.viaProxy(id)) {
        this.state.players.delete(p.uid, p.playerId);
        this.node.sendOp(p.serverId, 'pdel', { playerId: p.playerId, reason: 'proxy-lost', isTransfer: false });
      }
    } else if (rec.entry.role === 'server') {
      for (const p of this.state.players.onServer(id)) this.state.players.delete(p.uid, p.playerId);
      this.node.broadcastOp('node-down', { serverId: id, reason });
    }
  }

  private async onLogin(m: OpMessage): Promise<void> {
    const b = m.body as { uid: number; playerId: string; pv: number | null };
    const refuse = (reason: string, text: string | null = null) => {
      this.state.stats.refused++;
      this.node.replyOp(m, { ok: false, serverId: null, serverType: null, reason, text } satisfies LoginAnswer);
    };
    const proxy = this.state.nodes.get(m.from);
    if (proxy?.entry.role !== 'proxy') return refuse('not-a-proxy');
    // A proxy being stopped or updated takes no new player (its clients should try another one).
    if (proxy.status === ServerStatus.GRACEFUL_SHUTDOWN || proxy.status === ServerStatus.ROLLING_UPDATE_BEGIN || proxy.status === ServerStatus.ROLLING_UPDATE_END) {
      return refuse('proxy-closing');
    }
    // A banned player is refused with the ban text (store trouble: refused, never let through).
    if (this.sanctions) {
      let ban: SanctionRecord | null;
      try {
        ban = await this.sanctions.active('ban', b.uid);
      } catch (err) {
        this.node.log.error({ err, uid: b.uid }, 'login: the ban lookup failed; refused');
        return refuse('master-unavailable');
      }
      if (ban) {
        this.state.stats.bannedLogins++;
        this.sanctions.stats.refusedLogins++;
        return refuse('banned', banLoginText(ban, this.sanctions.now()));
      }
    }
    // One session per uid: a second login takes over and the first is kicked.
    const prev = this.state.players.get(b.uid);
    if (prev && prev.playerId !== b.playerId) this.kickUid(prev.uid, 'login-elsewhere');
    const decide = (target: number | null) => {
      const rec = target === null ? undefined : this.state.nodes.get(target);
      if (!rec || !this.state.hasRoom(rec, b.pv, this.strategy !== null)) return refuse(target === null ? 'no-server-available' : 'invalid-target');
      this.state.players.set({ uid: b.uid, playerId: b.playerId, proxyId: m.from, serverId: rec.entry.serverid, protocolVersion: b.pv, since: this.node.clock.now() });
      this.state.stats.logins++;
      this.node.replyOp(m, { ok: true, serverId: rec.entry.serverid, serverType: rec.entry.type, reason: null } satisfies LoginAnswer);
    };
    if (!this.strategy) return decide(this.state.defaultLoginTarget(b.pv));
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      this.node.log.warn({ uid: b.uid }, 'login strategy did not call back in time');
      refuse('login-strategy-timeout');
    }, this.node.timing.opTimeout * 800);
    timer.unref();
    const once = (target: number | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      decide(target);
    };
    try {
      this.strategy(b.uid, once);
    } catch (err) {
      this.node.log.error({ err, uid: b.uid }, 'login strategy threw');
      once(null);
    }
  }

  private onTransfer(m: OpMessage): void {
    const b = m.body as { uid: number; playerId: string; target: number | string; pv: number | null };
    const refuse = (reason: string) => this.node.replyOp(m, { ok: false, serverId: null, serverType: null, reason } satisfies LoginAnswer);
    const p = this.state.players.get(b.uid);
    if (!p || p.playerId !== b.playerId) return refuse('not-online');
    let target: number | null;
    if (typeof b.target === 'number') {
      const rec = this.state.nodes.get(b.target);
      if (!rec || rec.entry.role !== 'server') return refuse('invalid-target');
      if (rec.entry.serverid === p.serverId) return refuse('already-there');
      if (!this.state.hasRoom(rec, b.pv)) return refuse(rec.status === ServerStatus.CONNECTED ? 'full' : 'target-unavailable');
      target = rec.entry.serverid;
    } else {
      const candidates = this.state.nodes.all().filter((r) => r.entry.role === 'server' && r.entry.type === b.target && r.entry.serverid !== p.serverId);
      if (candidates.length === 0) return refuse('no-server-of-type');
      target = this.state.pick(candidates, b.pv);
      if (target === null) return refuse('no-server-available');
    }
    p.serverId = target;
    this.state.stats.transfers++;
    this.node.replyOp(m, { ok: true, serverId: target, serverType: this.state.nodes.get(target)!.entry.type, reason: null } satisfies LoginAnswer);
  }
}
