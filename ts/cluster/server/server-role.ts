/**
 * The lobby/game role: the players of the node, and resets. The proxy adds and removes players
 * with engine operations; the master resets the node:
 *
 * | op      | from         | body                                                             | answer   |
 * |---------|--------------|------------------------------------------------------------------|----------|
 * | `padd`  | proxy        | `{ playerId, uid, pv, isTransfer, transferParam, fromServerId }` | `{ ok }` |
 * | `pdel`  | proxy/master | `{ playerId, reason, isTransfer }`                               | none     |
 * | `pev`   | proxy        | `{ playerId, ns, sys, ev, data }`: a client's notifyToServer      | none     |
 * | `reset` | master       | `{}`: ResetGamesBeginEvent, systems rebuilt, ResetGamesEndEvent   | `{ ok }` once rebuilt |
 *
 * It fires `AddServerPlayerEvent` / `DelServerPlayerEvent`. Client events reach the listeners
 * with `__id__` (the player id) added to their data, as in Apollo. When the master stops the
 * node with `kick`, its players are kicked first (`pkick` to their proxies).
 */
import type { OpMessage } from '../core/bus-messages.js';
import { sleep } from '../../clock.js';
import { EngineEvents, type AddServerPlayerEventData, type DelServerPlayerEventData, type EventData } from '../core/events.js';
import { RoleKey, type NodeHost, type RolePart } from '../core/host.js';

/** Milliseconds the proxies get to see the kicks before a node stopped with `kick` goes. */
const KICK_GRACE_MS = 200;

/** A player on this lobby/game. */
export interface ServerPlayer {
  playerId: string;
  uid: number;
  proxyId: number;
  protocolVersion: number | null;
}

/** The lobby/game role part. */
export const SERVER_ROLE = new RoleKey<ServerRole>('server');

export class ServerRole implements RolePart {
  private readonly byId = new Map<string, ServerPlayer>();
  /** Resets done (serverManager.resetServer). */
  resets = 0;

  constructor(private readonly node: NodeHost) {
    node.onOp('padd', (m) => this.onAdd(m));
    node.onOp('pdel', (m) => this.onDel(m));
    node.onOp('pev', (m) => this.onEvent(m));
    node.onOp('reset', (m) => this.onReset(m));
  }

  get count(): number {
    return this.byId.size;
  }

  get(playerId: string): ServerPlayer | undefined {
    return this.byId.get(playerId);
  }

  all(): ServerPlayer[] {
    return [...this.byId.values()];
  }

  /** What this node tells the master when it registers: its players. */
  registration(): { players: Array<{ playerId: string; uid: number; proxyId: number; pv: number | null }> } {
    return { players: this.all().map((p) => ({ playerId: p.playerId, uid: p.uid, proxyId: p.proxyId, pv: p.protocolVersion })) };
  }

  load(): number {
    return this.byId.size;
  }

  stop(): void {
    this.byId.clear();
  }

  async beforeShutdown(kick: boolean, reason: string): Promise<void> {
    if (!kick || this.byId.size === 0) return;
    for (const p of this.all()) this.node.sendOp(p.proxyId, 'pkick', { playerId: p.playerId, reason });
    // Let the proxies see the kicks before the node goes (its goodbye drops whatever is left).
    await sleep(this.node.clock, KICK_GRACE_MS);
  }

  /** ResetGamesBeginEvent, the systems destroyed and built again, ResetGamesEndEvent. */
  private onReset(m: OpMessage): void {
    if (m.from !== this.node.config.master.serverid || !this.node.running) return;
    this.node.log.info('reset: begin');
    this.node.fireEngineEvent(EngineEvents.ResetGamesBeginEvent, { serverId: this.node.serverId });
    try {
      this.node.rebuildSystems();
    } catch (err) {
      this.node.log.error({ err }, 'reset: building the systems again failed');
    }
    this.resets++;
    this.node.fireEngineEvent(EngineEvents.ResetGamesEndEvent, { serverId: this.node.serverId });
    this.node.log.info('reset: end');
    this.node.replyOp(m, { ok: true });
  }

  private onAdd(m: OpMessage): void {
    const b = m.body as { playerId: string; uid: number; pv: number | null; isTransfer: boolean; transferParam: unknown; fromServerId: number | null };
    const p: ServerPlayer = { playerId: b.playerId, uid: b.uid, proxyId: m.from, protocolVersion: b.pv ?? null };
    const had = this.byId.has(p.playerId);
    this.byId.set(p.playerId, p);
    // Answer first: the proxy then tells the client it is in before the events the listeners send.
    this.node.replyOp(m, { ok: true });
    if (had) return;
    const data: AddServerPlayerEventData = {
      id: p.playerId,
      playerId: p.playerId,
      uid: p.uid,
      proxyId: p.proxyId,
      protocolVersion: p.protocolVersion,
      isTransfer: !!b.isTransfer,
      transferParam: b.transferParam ?? null,
      fromServerId: b.fromServerId ?? null,
    };
    this.node.fireEngineEvent(EngineEvents.AddServerPlayerEvent, data);
  }

  private onDel(m: OpMessage): void {
    const b = m.body as { playerId: string; reason?: string; isTransfer?: boolean };
    const p = this.byId.get(b.playerId);
    if (!p) return;
    this.byId.delete(b.playerId);
    const data: DelServerPlayerEventData = {
      id: p.playerId,
      playerId: p.playerId,
      uid: p.uid,
      proxyId: p.proxyId,
      isTransfer: !!b.isTransfer,
      reason: b.reason ?? 'logout',
    };
    this.node.fireEngineEvent(EngineEvents.DelServerPlayerEvent, data);
  }

  private onEvent(m: OpMessage): void {
    const b = m.body as { playerId: string; ns: string; sys: string; ev: string; data: EventData };
    if (!this.byId.has(b.playerId)) {
      this.node.stats.misaddressed++;
      this.node.log.debug({ playerId: b.playerId, event: b.ev }, 'event from a player not on this server: dropped');
      return;
    }
    if (!this.node.acceptFromClient(b.ns, b.sys, b.ev)) return;
    this.node.events.dispatch(b.ns, b.sys, b.ev, { ...b.data, __id__: b.playerId });
  }
}
