/**
 * The master's user API (seed 000), as `MasterSystem#netgameApi` and `MasterSystem#serverManager`.
 *
 * This issue ships the parts that read the registry and the login strategy. Bans and mutes
 * (durable, SQLite under `store.sqlite`), `masterHttp`, and server lifecycle (reset, rolling
 * updates, stop) are a later issue; they will be added here over the same registry.
 */
import type { ClusterConfig } from '../config.js';
import type { MasterCore, LoginStrategy } from './core.js';
import { ServerStatus, type ServerStatusCode } from './registry.js';

/** `master.netgameApi` of seed 000 (the read-only part and the login strategy). */
export class NetgameApi {
  constructor(
    private readonly core: MasterCore,
    private readonly config: ClusterConfig,
  ) {}

  /** The deploy config as written. */
  getCommonConfig(): Record<string, unknown> {
    return structuredClone(this.config.raw) as Record<string, unknown>;
  }

  /** The type of a server, or null. */
  getGameTypeByServerId(serverId: number): string | null {
    return this.core.nodes.get(serverId)?.entry.type ?? null;
  }

  /** Ids of the servers of a type ([] if none). */
  getServerIdsByGameType(gameType: string): number[] {
    return this.core.nodes
      .all()
      .filter((r) => r.entry.type === gameType)
      .map((r) => r.entry.serverid);
  }

  /** The mods a server loads (id 0, or the master's id: the master). */
  getServerLoadedModsById(serverId: number): string[] {
    return [...(this.core.nodes.get(serverId)?.entry.mods ?? [])];
  }

  /** The mods of one server of a type. */
  getServerLoadedModsByType(serverType: string): string[] {
    return [...(this.core.nodes.all().find((r) => r.entry.type === serverType)?.entry.mods ?? [])];
  }

  isService(serverId: number): boolean {
    return this.core.nodes.get(serverId)?.entry.role === 'service';
  }

  getOnlineUidList(): number[] {
    return this.core.players.all().map((p) => p.uid);
  }

  getProtocolVersionByUid(uid: number): number | null {
    return this.core.players.get(uid)?.protocolVersion ?? null;
  }

  getServerIdByUid(uid: number): number | null {
    return this.core.players.get(uid)?.serverId ?? null;
  }

  /**
   * Sets the login strategy: `fn(uid, callback(targetId))`, callback exactly once. While a custom
   * strategy is set, max_players no longer caps logins (as in the seed).
   */
  setLoginStrategy(fn: LoginStrategy): boolean {
    return this.core.setLoginStrategy(fn);
  }
}

/** `master.serverManager` of seed 000 (the read-only part). */
export class ServerManager {
  constructor(private readonly core: MasterCore) {}

  /** Status of every server: 1 disconnected, 2 connected, 3 shut down, 4 graceful shutdown, 6/7 rolling update. */
  getAllServerStatus(): Record<number, ServerStatusCode> {
    const out: Record<number, ServerStatusCode> = {};
    for (const r of this.core.nodes.all()) if (r.entry.role !== 'master') out[r.entry.serverid] = r.status;
    return out;
  }

  getOneServerStatus(serverId: number): ServerStatusCode | null {
    return this.core.nodes.get(serverId)?.status ?? null;
  }

  getAllServersOnlineNum(): Record<number, number> {
    const out: Record<number, number> = {};
    for (const r of this.core.nodes.all()) if (r.entry.role === 'server' || r.entry.role === 'proxy') out[r.entry.serverid] = this.core.onlineNum(r.entry.serverid);
    return out;
  }

  getConnectedLobbyAndGameIds(): number[] {
    return this.core.nodes.connectedServers().map((r) => r.entry.serverid);
  }

  getOnlineNumByServerId(serverId: number): number {
    return this.core.onlineNum(serverId);
  }

  getOnlineNumByServerType(serverType: string): number {
    return this.core.nodes
      .all()
      .filter((r) => r.entry.type === serverType)
      .reduce((n, r) => n + this.core.onlineNum(r.entry.serverid), 0);
  }

  getServerProtocolVersion(serverId: number): number | null {
    const e = this.core.nodes.get(serverId)?.entry;
    return e && e.role === 'server' ? e.protocol_version : null;
  }

  getTotalOnlineNum(): number {
    return this.core.players.size;
  }

  isConnectedServer(serverId: number): boolean {
    return this.core.nodes.isConnected(serverId);
  }

  /** Connected and serving (status 2), so players may be sent there. */
  isValidServer(serverId: number): boolean {
    return this.core.nodes.get(serverId)?.status === ServerStatus.CONNECTED;
  }
}
