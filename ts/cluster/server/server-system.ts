/** The systems of lobby/game servers: `ServerSystem`. */
import { ArgumentError } from '../../errors.js';
import type { EventData } from '../core/events.js';
import type { NodeHost } from '../core/host.js';
import { comm, NodeSystem, nodeOf, roleOf } from '../core/node-system.js';
import type { RpcCallback, RpcResult } from '../core/rpc.js';
import { SERVER_ROLE, type ServerPlayer, type ServerRole } from './server-role.js';

/** The node of a ServerSystem and its lobby/game role. */
function serverOf(s: ServerSystem): { node: NodeHost; players: ServerRole } {
  return { node: nodeOf(s), players: roleOf(s, SERVER_ROLE, 'a ServerSystem runs on a lobby/game node') };
}

/** What `transferToServer` resolves to. */
export interface TransferResult {
  ok: boolean;
  /** The server the player is on now (null when the transfer failed). */
  serverId: number | null;
  /** Why it failed: `invalid-target`, `full`, `no-server-of-type`, `busy`, `not-on-server`, `timeout`, ... */
  reason: string | null;
}

export class ServerSystem extends NodeSystem {
  /** Sends an event to one player's client. */
  notifyToClient(playerId: string, event: string, data?: EventData): void {
    const { node: n, players } = serverOf(this);
    const p = players.get(playerId);
    if (!p) {
      n.stats.misaddressed++;
      n.log.warn({ playerId, event }, 'notifyToClient: no such player on this server: dropped');
      return;
    }
    n.sendOp(p.proxyId, 'cev', { playerId, ns: this.namespace, sys: this.systemName, ev: event, data: data ?? {} });
  }

  /** Sends an event to the master. */
  notifyToMaster(event: string, data?: EventData): void {
    comm.notifyToMaster(this, event, data);
  }

  /** Sends an event to one service. */
  notifyToServiceNode(serviceId: number, event: string, data?: EventData): void {
    comm.notifyToServiceNode(this, serviceId, event, data);
  }

  /** Sends an event to every service. */
  broadcastToService(event: string, data?: EventData): void {
    comm.broadcastToService(this, event, data);
  }

  /** Sends a request to one node serving `module`. `callback(false, null)` on timeout (s). */
  requestToService<T = EventData>(module: string, event: string, data?: EventData, callback?: RpcCallback<T> | null, timeout?: number): Promise<RpcResult<T>> {
    return comm.requestToService(this, module, event, data, callback, timeout);
  }

  /** Sends a request to one service of type `serviceType`. `callback(false, null)` on timeout (s). */
  requestToServiceMod<T = EventData>(serviceType: string, method: string, args?: EventData, callback?: RpcCallback<T> | null, timeout?: number): Promise<RpcResult<T>> {
    return comm.requestToServiceMod(this, serviceType, method, args, callback, timeout);
  }

  /** A player on this server. */
  getPlayer(playerId: string): ServerPlayer | undefined {
    const p = serverOf(this).players.get(playerId);
    return p ? { ...p } : undefined;
  }

  /** The ids of the players on this server. */
  getPlayerIds(): string[] {
    return serverOf(this).players.all().map((p) => p.playerId);
  }

  /**
   * Moves a player to another lobby/game: a server id, or a server type (the master picks the least
   * loaded server of that type with room). `transferParam` reaches the target's AddServerPlayerEvent.
   * The player leaves here with DelServerPlayerEvent (`isTransfer: true`).
   */
  async transferToServer(playerId: string, serverIdOrType: number | string, transferParam?: unknown): Promise<TransferResult> {
    const { node: n, players } = serverOf(this);
    const p = players.get(playerId);
    if (!p) return { ok: false, serverId: null, reason: 'not-on-server' };
    if (typeof serverIdOrType !== 'number' && typeof serverIdOrType !== 'string') throw new ArgumentError('transferToServer: the target is a server id or a server type');
    const r = await n.requestOp<TransferResult>(p.proxyId, 'ptransfer', { playerId, target: serverIdOrType, param: transferParam ?? null }, { timeout: n.timing.opTimeout * 2 });
    if (!r.ok || !r.data) return { ok: false, serverId: null, reason: 'timeout' };
    return { ok: !!r.data.ok, serverId: r.data.serverId ?? null, reason: r.data.reason ?? null };
  }

  /** Disconnects a player; its client gets `reason`. */
  kickPlayer(playerId: string, reason = 'kicked'): void {
    const { node: n, players } = serverOf(this);
    const p = players.get(playerId);
    if (!p) return;
    n.sendOp(p.proxyId, 'pkick', { playerId, reason });
  }
}
