/**
 * The master's engine operations: node registration and heartbeats, the login decision, transfer
 * routing, and cleaning up after lost nodes.
 *
 * | op         | from          | body                                   | answer                          |
 * |------------|---------------|----------------------------------------|---------------------------------|
 * | `hello`    | any node      | `{ inc, type, role, players, sessions }` | `{ inc }` (master incarnation) |
 * | `hb`       | any node      | `{ inc, players }`                      | `{ inc, known }`                |
 * | `bye`      | any node      | `{ inc }`                               | none                            |
 * | `login`    | a proxy       | `{ uid, playerId, pv }`                 | `{ ok, serverId, serverType, reason }` |
 * | `transfer` | a proxy       | `{ uid, playerId, target, pv }`         | `{ ok, serverId, serverType, reason }` |
 * | `logout`   | a proxy       | `{ uid, playerId }`                     | none                            |
 *
 * It sends: `master-up { inc }` to all (at start and after a bus reconnect, so nodes register
 * again at once), `node-down { serverId }` to all (proxies drop the players of a lost lobby/game),
 * `kick { uid, playerId, reason }` to a proxy (a second login of the same uid), and `pdel` to a
 * lobby/game whose player's proxy was lost.
 */
import { EngineEvents } from '../events.js';
import type { ClusterNode } from '../node.js';
import type { OpMessage } from '../wire.js';
import { NodeRegistry, PlayerRegistry, ServerStatus, type NodeRecord, type OnlinePlayer } from './registry.js';

/**
 * A login strategy (seed 000 SetLoginStrategy): decide the lobby/game of `uid` and call
 * `callback(targetId)` exactly once (null or an invalid server refuses the login).
 */
export type LoginStrategy = (uid: number, callback: (targetId: number | null) => void) => void;

interface HelloBody {
  inc: string;
  type: string;
  role: string;
  players?: Array<{ playerId: string; uid: number; proxyId: number; pv: number | null }>;
  sessions?: Array<{ playerId: string; uid: number; serverId: number; pv: number | null }>;
}

export interface LoginAnswer {
  ok: boolean;
  serverId: number | null;
  serverType: string | null;
  reason: string | null;
}

export class MasterCore {
  readonly nodes: NodeRegistry;
  readonly players = new PlayerRegistry();
  readonly stats = { logins: 0, refused: 0, transfers: 0, lostNodes: 0 };
  private strategy: LoginStrategy | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;

  constructor(private readonly node: ClusterNode) {
    this.nodes = new NodeRegistry(node.config);
  }

  start(): void {
    const n = this.node;
    n.onOp('hello', (m) => this.onHello(m));
    n.onOp('hb', (m) => this.onHeartbeat(m));
    n.onOp('bye', (m) => this.onBye(m));
    n.onOp('login', (m) => this.onLogin(m));
    n.onOp('transfer', (m) => this.onTransfer(m));
    n.onOp('logout', (m) => {
      const b = m.body as { uid: number; playerId: string };
      this.players.delete(b.uid, b.playerId);
    });
    this.announce();
    this.sweepTimer = setInterval(() => this.sweep(), n.timing.heartbeatInterval * 1000);
    this.sweepTimer.unref();
  }

  stop(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
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

  /** Players on (or, for a proxy, through) a node. */
  onlineNum(serverId: number): number {
    return this.players.countOn(serverId);
  }

  /** Can `rec` take one more player speaking protocol `pv`? */
  hasRoom(rec: NodeRecord, pv: number | null, ignoreMax = false): boolean {
    if (rec.entry.role !== 'server' || rec.status !== ServerStatus.CONNECTED) return false;
    const e = rec.entry;
    if (pv !== null && e.protocol_version !== null && e.protocol_version !== pv) return false;
    return ignoreMax || e.max_players === 0 || this.players.countOn(e.serverid) < e.max_players;
  }

  /** The least loaded connected server among `candidates` with room for protocol `pv`. */
  pick(candidates: NodeRecord[], pv: number | null): number | null {
    let best: NodeRecord | null = null;
    let bestLoad = Infinity;
    for (const r of candidates) {
      if (!this.hasRoom(r, pv)) continue;
      const load = this.players.countOn(r.entry.serverid);
      if (load < bestLoad || (load === bestLoad && best !== null && r.entry.serverid < best.entry.serverid)) {
        best = r;
        bestLoad = load;
      }
    }
    return best ? best.entry.serverid : null;
  }

  /**
   * The default login decision: a connected lobby of the player's protocol version with room under
   * max_players, the least loaded first (players spread); when the config has no lobby, a game.
   */
  defaultLoginTarget(pv: number | null): number | null {
    const servers = this.nodes.all().filter((r) => r.entry.role === 'server');
    const lobbies = servers.filter((r) => r.entry.role === 'server' && r.entry.app_type === 'lobby');
    return this.pick(lobbies.length > 0 ? lobbies : servers, pv);
  }

  // ─── operations ──────────────────────────────────────────────────────────────────────────

  private onHello(m: OpMessage): void {
    const b = m.body as HelloBody;
    const rec = this.nodes.get(m.from);
    if (!rec || rec.entry.role === 'master') {
      this.node.log.warn({ from: m.from }, 'registration from a node that is not in the config: ignored');
      return;
    }
    const restarted = rec.inc !== null && rec.inc !== b.inc;
    const wasConnected = rec.status === ServerStatus.CONNECTED;
    if (restarted) this.dropPlayersOf(rec, 'node-restarted');
    rec.status = ServerStatus.CONNECTED;
    rec.inc = b.inc;
    rec.lastSeen = Date.now();
    rec.registrations++;
    // What the node holds: a restarted master learns its online players again from these.
    const now = Date.now();
    for (const p of b.players ?? []) this.learn({ uid: p.uid, playerId: p.playerId, proxyId: p.proxyId, serverId: m.from, protocolVersion: p.pv, since: now });
    for (const s of b.sessions ?? []) this.learn({ uid: s.uid, playerId: s.playerId, proxyId: m.from, serverId: s.serverId, protocolVersion: s.pv, since: now });
    this.node.replyOp(m, { inc: this.node.incarnation });
    if (!wasConnected || restarted) {
      this.node.log.info({ server: m.from, type: rec.entry.type, registrations: rec.registrations }, 'node registered');
      this.node.fireEngineEvent(EngineEvents.ServerConnectEvent, { serverId: m.from, serverType: rec.entry.type, isReconnect: rec.registrations > 1 });
    }
  }

  private learn(p: OnlinePlayer): void {
    const known = this.players.get(p.uid);
    if (known && known.playerId === p.playerId) {
      known.serverId = p.serverId;
      known.proxyId = p.proxyId;
      return;
    }
    if (!known) this.players.set(p);
  }

  private onHeartbeat(m: OpMessage): void {
    const b = m.body as { inc: string };
    const rec = this.nodes.get(m.from);
    const known = !!rec && rec.inc === b.inc && rec.status === ServerStatus.CONNECTED;
    if (known) rec.lastSeen = Date.now();
    this.node.replyOp(m, { inc: this.node.incarnation, known });
  }

  private onBye(m: OpMessage): void {
    const rec = this.nodes.get(m.from);
    const b = m.body as { inc: string };
    if (!rec || rec.inc !== b.inc || rec.status !== ServerStatus.CONNECTED) return;
    rec.status = ServerStatus.SHUTDOWN;
    this.lost(rec, 'node-stopped');
  }

  private sweep(): void {
    const limit = Date.now() - this.node.timing.nodeTimeout * 1000;
    for (const rec of this.nodes.all()) {
      if (rec.entry.role === 'master' || rec.status !== ServerStatus.CONNECTED || rec.lastSeen >= limit) continue;
      rec.status = ServerStatus.DISCONNECTED;
      this.stats.lostNodes++;
      this.node.log.warn({ server: rec.entry.serverid }, 'node lost: no heartbeat');
      this.lost(rec, 'node-lost');
    }
  }

  private lost(rec: NodeRecord, reason: string): void {
    this.dropPlayersOf(rec, reason);
    this.node.fireEngineEvent(EngineEvents.ServerDisconnectEvent, { serverId: rec.entry.serverid, serverType: rec.entry.type });
  }

  private dropPlayersOf(rec: NodeRecord, reason: string): void {
    const id = rec.entry.serverid;
    if (rec.entry.role === 'proxy') {
      for (const p of this.players.viaProxy(id)) {
        this.players.delete(p.uid, p.playerId);
        this.node.sendOp(p.serverId, 'pdel', { playerId: p.playerId, reason: 'proxy-lost', isTransfer: false });
      }
    } else if (rec.entry.role === 'server') {
      for (const p of this.players.onServer(id)) this.players.delete(p.uid, p.playerId);
      this.node.broadcastOp('node-down', { serverId: id, reason });
    }
  }

  private onLogin(m: OpMessage): void {
    const b = m.body as { uid: number; playerId: string; pv: number | null };
    const refuse = (reason: string) => {
      this.stats.refused++;
      this.node.replyOp(m, { ok: false, serverId: null, serverType: null, reason } satisfies LoginAnswer);
    };
    if (this.nodes.get(m.from)?.entry.role !== 'proxy') return refuse('not-a-proxy');
    // One session per uid: a second login takes over and the first is kicked.
    const prev = this.players.get(b.uid);
    if (prev && prev.playerId !== b.playerId) {
      this.players.delete(prev.uid, prev.playerId);
      this.node.sendOp(prev.proxyId, 'kick', { uid: prev.uid, playerId: prev.playerId, reason: 'login-elsewhere' });
    }
    const decide = (target: number | null) => {
      const rec = target === null ? undefined : this.nodes.get(target);
      if (!rec || !this.hasRoom(rec, b.pv, this.strategy !== null)) return refuse(target === null ? 'no-server-available' : 'invalid-target');
      this.players.set({ uid: b.uid, playerId: b.playerId, proxyId: m.from, serverId: rec.entry.serverid, protocolVersion: b.pv, since: Date.now() });
      this.stats.logins++;
      this.node.replyOp(m, { ok: true, serverId: rec.entry.serverid, serverType: rec.entry.type, reason: null } satisfies LoginAnswer);
    };
    if (!this.strategy) return decide(this.defaultLoginTarget(b.pv));
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
    const p = this.players.get(b.uid);
    if (!p || p.playerId !== b.playerId) return refuse('not-online');
    let target: number | null;
    if (typeof b.target === 'number') {
      const rec = this.nodes.get(b.target);
      if (!rec || rec.entry.role !== 'server') return refuse('invalid-target');
      if (rec.entry.serverid === p.serverId) return refuse('already-there');
      if (!this.hasRoom(rec, b.pv)) return refuse(rec.status === ServerStatus.CONNECTED ? 'full' : 'target-unavailable');
      target = rec.entry.serverid;
    } else {
      const candidates = this.nodes.all().filter((r) => r.entry.role === 'server' && r.entry.type === b.target && r.entry.serverid !== p.serverId);
      if (candidates.length === 0) return refuse('no-server-of-type');
      target = this.pick(candidates, b.pv);
      if (target === null) return refuse('no-server-available');
    }
    p.serverId = target;
    this.stats.transfers++;
    this.node.replyOp(m, { ok: true, serverId: target, serverType: this.nodes.get(target)!.entry.type, reason: null } satisfies LoginAnswer);
  }
}
