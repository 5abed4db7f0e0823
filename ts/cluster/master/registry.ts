/**
 * The master's state: which nodes are connected, and which players are online where. Kept apart
 * from the operations (core.ts) and from the user API (api.ts) so later storage (bans, mutes and
 * the online list in SQLite, api.md §2) and the HTTP admin can sit on the same records.
 */
import type { ClusterConfig, NodeEntry } from '../config.js';

/** Server status codes of seed 000 (GetAllServerStatus). Only CONNECTED serves players. */
export const ServerStatus = {
  DISCONNECTED: 1,
  CONNECTED: 2,
  SHUTDOWN: 3,
  GRACEFUL_SHUTDOWN: 4,
  ROLLING_UPDATE_BEGIN: 6,
  ROLLING_UPDATE_END: 7,
} as const;
export type ServerStatusCode = (typeof ServerStatus)[keyof typeof ServerStatus];

export interface NodeRecord {
  readonly entry: NodeEntry;
  status: ServerStatusCode;
  /** The node's incarnation at its last registration (null: never registered). */
  inc: string | null;
  /** Date.now() of its last registration or heartbeat. */
  lastSeen: number;
  /** Registrations so far. */
  registrations: number;
}

/** One online player, as the master knows it. */
export interface OnlinePlayer {
  uid: number;
  playerId: string;
  proxyId: number;
  /** The lobby/game the player is on. */
  serverId: number;
  protocolVersion: number | null;
  /** Date.now() of the login. */
  since: number;
}

export class NodeRegistry {
  private readonly records = new Map<number, NodeRecord>();

  constructor(config: ClusterConfig) {
    const now = Date.now();
    this.records.set(config.master.serverid, { entry: config.master, status: ServerStatus.CONNECTED, inc: null, lastSeen: now, registrations: 0 });
    for (const e of [...config.serverlist, ...config.servicelist]) {
      this.records.set(e.serverid, { entry: e, status: ServerStatus.DISCONNECTED, inc: null, lastSeen: 0, registrations: 0 });
    }
  }

  get(id: number): NodeRecord | undefined {
    return this.records.get(id);
  }

  all(): NodeRecord[] {
    return [...this.records.values()];
  }

  isConnected(id: number): boolean {
    return this.records.get(id)?.status === ServerStatus.CONNECTED;
  }

  /** Connected lobby/game servers. */
  connectedServers(): NodeRecord[] {
    return this.all().filter((r) => r.entry.role === 'server' && r.status === ServerStatus.CONNECTED);
  }
}

export class PlayerRegistry {
  private readonly byUid = new Map<number, OnlinePlayer>();

  get(uid: number): OnlinePlayer | undefined {
    return this.byUid.get(uid);
  }

  set(p: OnlinePlayer): void {
    this.byUid.set(p.uid, p);
  }

  /** Removes `uid`, only if it is still the session `playerId` when given. */
  delete(uid: number, playerId?: string): OnlinePlayer | undefined {
    const p = this.byUid.get(uid);
    if (!p || (playerId !== undefined && p.playerId !== playerId)) return undefined;
    this.byUid.delete(uid);
    return p;
  }

  all(): OnlinePlayer[] {
    return [...this.byUid.values()];
  }

  onServer(serverId: number): OnlinePlayer[] {
    return this.all().filter((p) => p.serverId === serverId);
  }

  viaProxy(proxyId: number): OnlinePlayer[] {
    return this.all().filter((p) => p.proxyId === proxyId);
  }

  countOn(serverId: number): number {
    let n = 0;
    for (const p of this.byUid.values()) if (p.serverId === serverId || p.proxyId === serverId) n++;
    return n;
  }

  get size(): number {
    return this.byUid.size;
  }
}
