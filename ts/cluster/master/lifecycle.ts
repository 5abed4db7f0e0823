/**
 * Server lifecycle, driven by the master (serverManager): stopping a server, rolling close,
 * reset, rolling update. Statuses (registry.ts):
 *
 * | operation | the server goes |
 * |---|---|
 * | `stopServer(id, 1)` | 2 → 4 (no new players) → its players kicked (`server-stopping`) → stopped → 3 |
 * | `stopServer(id, 2)` | 2 → 4 → waits until its last player left → stopped → 3 |
 * | `rollingClose(ids)` | every one 2 → 4 at once; then one by one: (players moved away with `transfer`, else) wait until empty → stopped → 3 |
 * | `reset(id)` | stays 2 but is listed by `resetting` and takes no player meanwhile; the node fires ResetGamesBeginEvent, rebuilds its systems, fires ResetGamesEndEvent |
 * | `rollingUpdate(type, v, ip, n)` | new nodes of `type` with app_version `v` start (new ids) and register (2); then each old one: 6 (no new players; its players are moved to the new ones, none disconnected) → 7 (empty) → stopped → 1 |
 *
 * Engine operations it sends: `shutdown { kick, reason }` (a node stops itself; answer `{ ok }`),
 * `reset {}` (answer `{ ok }` once rebuilt), `mtransfer { playerId, target }` to a proxy (move a
 * player like transferToServer; answer `{ ok, serverId, reason }`).
 */
import { ArgumentError } from '../../errors.js';
import type { ClusterConfig, ServerEntry } from '../cluster-config.js';
import { sleep } from '../../clock.js';
import type { NodeHost } from '../core/host.js';
import { checkInput, rollingCloseInput, rollingUpdateInput } from './api-inputs.js';
import type { MasterState } from './master-state.js';
import { isLinkUp, ServerStatus, type NodeRecord } from './registry.js';

/** Starts nodes the master adds at run time (the Cluster gives one: in-process or child processes). */
export interface NodeLauncher {
  readonly kind: 'inprocess' | 'process';
  /** Starts the node of `entry` (already in `config`); resolves once it runs (it registers on its own). */
  launch(entry: ServerEntry, config: ClusterConfig): Promise<void>;
}

export interface LifecycleOptions {
  /** Seconds to wait for the players of a server to leave (or be moved); default: no limit for stopServer/rollingClose, 120 for rollingUpdate. */
  drainTimeout?: number;
}

export interface RollingCloseOptions extends LifecycleOptions {
  /** Move the players to other servers of the same type instead of waiting for them to leave (default false: wait for them to leave). */
  transfer?: boolean;
}

export interface RollingUpdateOptions extends LifecycleOptions {
  /** Seconds to wait for each new node to register (default 30). */
  startTimeout?: number;
}

/** What rollingUpdateServers resolves to. */
export interface RollingUpdateResult {
  ok: boolean;
  /** Why it failed (`bad-type`, `no-launcher`, `launch-failed`, `busy`, ...), or null. */
  reason: string | null;
  /** Server ids of the new nodes. */
  started: number[];
  /** Server ids of the old nodes now stopped. */
  retired: number[];
}

/** Milliseconds between two looks at the state while waiting (players leaving, a node registering). */
const POLL_MS = 50;

export class Lifecycle {
  /** Servers some operation is working on. */
  private readonly busy = new Set<number>();
  /** Ids this master handed out (never reused while it runs). */
  private readonly issued = new Set<number>();
  private stopped = false;
  readonly stats = { stopped: 0, resets: 0, rollingUpdates: 0, moved: 0, launched: 0 };

  constructor(
    private readonly state: MasterState,
    private readonly node: NodeHost,
    readonly launcher: NodeLauncher | null,
    /** Adds a run-time entry to the config and the registry, and tells every node (false: the id is taken). */
    private readonly addMember: (entry: ServerEntry) => boolean,
  ) {}

  private get resetting(): Set<number> {
    return this.state.resetting;
  }

  private sleep(): Promise<void> {
    return sleep(this.node.clock, POLL_MS);
  }

  private now(): number {
    return this.node.clock.now();
  }

  stop(): void {
    this.stopped = true;
  }

  private rec(id: number): NodeRecord | undefined {
    return this.state.nodes.get(id);
  }

  /** Stops a proxy, lobby/game or service: 1 kicks its players first, 2 waits until they left. */
  async stopServer(serverId: number, actType: 1 | 2, opts: LifecycleOptions = {}): Promise<boolean> {
    if (actType !== 1 && actType !== 2) throw new ArgumentError('stopServerByServerId: actType is 1 (kick all, then stop) or 2 (wait until empty, then stop)');
    const rec = this.rec(serverId);
    if (!rec || rec.entry.role === 'master' || !isLinkUp(rec.status) || this.busy.has(serverId)) return false;
    this.busy.add(serverId);
    try {
      rec.status = ServerStatus.GRACEFUL_SHUTDOWN;
      if (actType === 2 && !(await this.waitEmpty(serverId, opts.drainTimeout ?? Infinity))) {
        this.node.log.warn({ server: serverId }, 'stopServerByServerId: players did not leave in time; the server stays up (status 4)');
        return false;
      }
      return await this.shutdown(rec, actType === 1);
    } finally {
      this.busy.delete(serverId);
    }
  }

  /** Rolling close: no new players on any of them, then each one stops once empty. */
  async rollingClose(serverIds: readonly number[], opts: RollingCloseOptions = {}): Promise<boolean> {
    checkInput(rollingCloseInput, { serverIds, transfer: opts.transfer }, 'rollingCloseServers');
    const recs = serverIds.map((id) => this.rec(id)).filter((r): r is NodeRecord => !!r && r.entry.role !== 'master' && isLinkUp(r.status) && !this.busy.has(r.entry.serverid));
    for (const r of recs) {
      this.busy.add(r.entry.serverid);
      r.status = ServerStatus.GRACEFUL_SHUTDOWN;
    }
    let all = recs.length === serverIds.length;
    try {
      for (const r of recs) {
        const id = r.entry.serverid;
        const empty = opts.transfer && r.entry.role === 'server' ? await this.moveAway(id, opts.drainTimeout ?? 120) : await this.waitEmpty(id, opts.drainTimeout ?? Infinity);
        if (!empty) {
          this.node.log.warn({ server: id }, 'rollingCloseServers: players did not leave in time; the server stays up (status 4)');
          all = false;
          continue;
        }
        if (!(await this.shutdown(r, false))) all = false;
      }
    } finally {
      for (const r of recs) this.busy.delete(r.entry.serverid);
    }
    return all;
  }

  /** Resets a lobby/game: ResetGamesBeginEvent, its systems rebuilt, ResetGamesEndEvent. */
  async reset(serverId: number, opts: { timeout?: number } = {}): Promise<boolean> {
    const rec = this.rec(serverId);
    if (!rec || rec.entry.role !== 'server' || rec.status !== ServerStatus.CONNECTED || this.resetting.has(serverId)) return false;
    this.resetting.add(serverId);
    try {
      const r = await this.node.requestOp<{ ok: boolean }>(serverId, 'reset', {}, { timeout: opts.timeout ?? 30 });
      const ok = r.ok && !!r.data?.ok;
      if (ok) this.stats.resets++;
      else this.node.log.warn({ server: serverId }, 'resetServer: the server did not confirm the reset');
      return ok;
    } finally {
      this.resetting.delete(serverId);
    }
  }

  /**
   * Rolling update of the proxies or lobbies/games of `serverType`: starts `old + addNum` nodes
   * (at least one) of app_version `appVersion` on `ip`, then retires every old one (a node of that
   * type with another app_version), moving its players to the new ones.
   * @throws ArgumentError for `addNum` outside 0..MASTER_LIMITS.addNum or text beyond MASTER_LIMITS.
   */
  async rollingUpdate(serverType: string, appVersion: string, ip: string, addNum: number, opts: RollingUpdateOptions = {}): Promise<RollingUpdateResult> {
    const fail = (reason: string, started: number[] = [], retired: number[] = []): RollingUpdateResult => {
      this.node.log.warn({ serverType, appVersion, reason }, 'rollingUpdateServers failed');
      return { ok: false, reason, started, retired };
    };
    checkInput(rollingUpdateInput, { serverType, appVersion, ip, addNum }, 'rollingUpdateServers');
    const ofType = this.state.nodes.all().filter((r) => r.entry.type === serverType && (r.entry.role === 'server' || r.entry.role === 'proxy'));
    if (ofType.length === 0) return fail('bad-type');
    if (!this.launcher) return fail('no-launcher');
    const old = ofType.filter((r) => isLinkUp(r.status) && (r.entry as ServerEntry).app_version !== appVersion);
    if (old.some((r) => this.busy.has(r.entry.serverid))) return fail('busy');
    const count = Math.max(old.length === 0 ? 0 : 1, old.length + addNum);
    const template = (old[old.length - 1] ?? ofType[ofType.length - 1]!).entry as ServerEntry;
    this.stats.rollingUpdates++;
    this.node.log.info({ serverType, appVersion, old: old.map((r) => r.entry.serverid), count }, 'rolling update: starting new nodes');

    // 1. New nodes, new ids, the new version.
    const started: number[] = [];
    const launches: Array<Promise<boolean>> = [];
    for (let i = 0; i < count; i++) {
      const entry: ServerEntry = { ...template, mods: [...template.mods], serverid: this.allocateId(serverType), ip: ip || template.ip, port: 0, app_version: appVersion, dynamic: true };
      if (!this.addMember(entry)) return fail('id-conflict', started);
      started.push(entry.serverid);
      launches.push(this.launchAndWait(entry, opts.startTimeout ?? 30));
    }
    const up = await Promise.all(launches);
    if (up.some((ok) => !ok)) return fail('launch-failed', started);

    // 2. Retire the old ones one by one: 6, players moved, 7, stopped, 1.
    const retired: number[] = [];
    for (const r of old) {
      if (this.stopped) return fail('master-stopped', started, retired);
      const id = r.entry.serverid;
      this.busy.add(id);
      try {
        if (!isLinkUp(r.status)) continue;
        r.status = ServerStatus.ROLLING_UPDATE_BEGIN;
        const empty = r.entry.role === 'server' ? await this.moveAway(id, opts.drainTimeout ?? 120) : await this.waitEmpty(id, opts.drainTimeout ?? 120);
        if (!empty) {
          this.node.log.warn({ server: id }, 'rolling update: players still on an old server after the drain timeout; it stops anyway');
        }
        r.status = ServerStatus.ROLLING_UPDATE_END;
        if (await this.shutdown(r, !empty)) retired.push(id);
      } finally {
        this.busy.delete(id);
      }
    }
    this.node.log.info({ serverType, appVersion, started, retired }, 'rolling update done');
    return { ok: retired.length === old.length, reason: retired.length === old.length ? null : 'stop-failed', started, retired };
  }

  /** One more than the highest id of the type, skipping ids in use or handed out before. */
  private allocateId(serverType: string): number {
    const used = (id: number) => this.issued.has(id) || !!this.state.nodes.get(id) || !!this.node.config.servicelist.find((s) => s.serverid === id);
    let id = Math.max(...this.state.nodes.all().filter((r) => r.entry.type === serverType).map((r) => r.entry.serverid)) + 1;
    while (used(id)) id++;
    this.issued.add(id);
    return id;
  }

  private async launchAndWait(entry: ServerEntry, timeout: number): Promise<boolean> {
    try {
      await this.launcher!.launch(entry, this.node.config);
      this.stats.launched++;
    } catch (err) {
      this.node.log.error({ err, server: entry.serverid }, 'rolling update: launching a node failed');
      return false;
    }
    const deadline = this.now() + timeout * 1000;
    while (this.rec(entry.serverid)?.status !== ServerStatus.CONNECTED) {
      if (this.now() > deadline || this.stopped) {
        this.node.log.error({ server: entry.serverid }, 'rolling update: a new node did not register in time');
        return false;
      }
      await this.sleep();
    }
    return true;
  }

  /** Waits until no player is on (or through) `serverId`. */
  private async waitEmpty(serverId: number, timeout: number): Promise<boolean> {
    const deadline = this.now() + timeout * 1000;
    while (this.state.onlineNum(serverId) > 0) {
      if (this.now() > deadline || this.stopped || !isLinkUp(this.rec(serverId)?.status ?? ServerStatus.DISCONNECTED)) return this.state.onlineNum(serverId) === 0;
      await this.sleep();
    }
    return true;
  }

  /** Moves every player of a lobby/game to another valid server of its type (as transferToServer does), until it is empty. */
  private async moveAway(serverId: number, timeout: number): Promise<boolean> {
    const type = this.rec(serverId)!.entry.type;
    const deadline = this.now() + timeout * 1000;
    const inFlight = new Set<string>();
    while (this.state.onlineNum(serverId) > 0) {
      if (this.now() > deadline || this.stopped) return false;
      for (const p of this.state.players.onServer(serverId)) {
        if (inFlight.has(p.playerId) || inFlight.size >= 32) continue;
        inFlight.add(p.playerId);
        void this.node
          .requestOp<{ ok: boolean; serverId: number | null; reason: string | null }>(p.proxyId, 'mtransfer', { playerId: p.playerId, target: type }, { timeout: this.node.timing.opTimeout * 2 })
          .then((r) => {
            inFlight.delete(p.playerId);
            if (r.ok && r.data?.ok) this.stats.moved++;
            else this.node.log.debug({ uid: p.uid, reason: r.data?.reason ?? 'timeout' }, 'moving a player failed; trying again');
          });
      }
      await this.sleep();
    }
    return true;
  }

  /** Asks a node to stop (kicking its players first when `kick`), then waits until it said goodbye. */
  private async shutdown(rec: NodeRecord, kick: boolean): Promise<boolean> {
    const id = rec.entry.serverid;
    const inc = rec.inc;
    const r = await this.node.requestOp<{ ok: boolean }>(id, 'shutdown', { kick, reason: 'server-stopping' }, { timeout: this.node.timing.opTimeout });
    if (!r.ok) {
      this.node.log.warn({ server: id }, 'a node did not answer the shutdown request');
      return false;
    }
    const deadline = this.now() + (this.node.timing.nodeTimeout + this.node.timing.opTimeout) * 1000;
    while (isLinkUp(rec.status) && rec.inc === inc) {
      if (this.now() > deadline || this.stopped) return false;
      await this.sleep();
    }
    this.stats.stopped++;
    this.node.log.info({ server: id, status: rec.status }, 'server stopped');
    return true;
  }
}
