/**
 * What the master knows and decides with: the nodes (registry.ts) and the online players, the
 * servers being reset, the counters, and the placement rules (which lobby/game may take a player).
 * Kept apart from the operations that change it (master-role.ts, lifecycle.ts).
 */
import type { ClusterConfig } from '../cluster-config.js';
import { NodeRegistry, PlayerRegistry, ServerStatus, type NodeRecord } from './registry.js';

export class MasterState {
  readonly nodes: NodeRegistry;
  readonly players = new PlayerRegistry();
  /** Lobbies/games being reset (they take no player meanwhile). */
  readonly resetting = new Set<number>();
  readonly stats = { logins: 0, refused: 0, transfers: 0, lostNodes: 0, bannedLogins: 0 };

  constructor(config: ClusterConfig, now: number) {
    this.nodes = new NodeRegistry(config, now);
    for (const e of config.serverlist) if (e.dynamic) this.nodes.add(e);
  }

  /** Players on (or, for a proxy, through) a node. */
  onlineNum(serverId: number): number {
    return this.players.countOn(serverId);
  }

  /** Serving players: connected (status 2) and not being reset. */
  isValid(serverId: number): boolean {
    const r = this.nodes.get(serverId);
    return !!r && r.status === ServerStatus.CONNECTED && !this.resetting.has(serverId);
  }

  /** Can `rec` take one more player speaking protocol `pv`? `ignoreMax`: max_players does not count. */
  hasRoom(rec: NodeRecord, pv: number | null, ignoreMax = false): boolean {
    if (rec.entry.role !== 'server' || !this.isValid(rec.entry.serverid)) return false;
    const e = rec.entry;
    if (pv !== null && e.protocol_version !== null && e.protocol_version !== pv) return false;
    return ignoreMax || e.max_players === 0 || this.players.countOn(e.serverid) < e.max_players;
  }

  /** The least loaded valid server among `candidates` with room for protocol `pv` (the lowest id on a tie). */
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
   * The default login decision: a valid lobby of the player's protocol version with room under
   * max_players, the least loaded first (players spread); when the config has no lobby, a game.
   */
  defaultLoginTarget(pv: number | null): number | null {
    const servers = this.nodes.all().filter((r) => r.entry.role === 'server');
    const lobbies = servers.filter((r) => r.entry.role === 'server' && r.entry.app_type === 'lobby');
    return this.pick(lobbies.length > 0 ? lobbies : servers, pv);
  }
}
