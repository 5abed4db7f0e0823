/**
 * The players of a lobby/game node. The proxy adds and removes them with engine operations:
 *
 * | op     | from  | body                                                          | answer     |
 * |--------|-------|---------------------------------------------------------------|------------|
 * | `padd` | proxy | `{ playerId, uid, pv, isTransfer, transferParam, fromServerId }` | `{ ok }` |
 * | `pdel` | proxy/master | `{ playerId, reason, isTransfer }`                     | none       |
 * | `pev`  | proxy | `{ playerId, ns, sys, ev, data }`: a client's notifyToServer   | none       |
 *
 * and fires `AddServerPlayerEvent` / `DelServerPlayerEvent`. Client events reach the listeners
 * with `__id__` (the player id) added to their data, as in Apollo.
 */
import { EngineEvents, type AddServerPlayerEventData, type DelServerPlayerEventData, type EventData } from './events.js';
import type { ClusterNode } from './node.js';
import type { OpMessage } from './wire.js';

/** A player on this lobby/game. */
export interface ServerPlayer {
  playerId: string;
  uid: number;
  proxyId: number;
  protocolVersion: number | null;
}

export class ServerPlayers {
  private readonly byId = new Map<string, ServerPlayer>();

  constructor(private readonly node: ClusterNode) {
    node.onOp('padd', (m) => this.onAdd(m));
    node.onOp('pdel', (m) => this.onDel(m));
    node.onOp('pev', (m) => this.onEvent(m));
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

  /** What this node tells the master when it registers. */
  snapshot(): Array<{ playerId: string; uid: number; proxyId: number; pv: number | null }> {
    return this.all().map((p) => ({ playerId: p.playerId, uid: p.uid, proxyId: p.proxyId, pv: p.protocolVersion }));
  }

  stop(): void {
    this.byId.clear();
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
