/**
 * The master's registries: which nodes are connected (and in which lifecycle state), and which
 * players are online where. In memory only: after a master restart the nodes report them again.
 */
import type { ClusterConfig, NodeEntry } from '../cluster-config.js';

/** Server status codes (getAllServerStatus, Apollo's codes). Only CONNECTED serves players. */
export const ServerStatus = {
  DISCONNECTED: 1,
  CONNECTED: 2,
  SHUTDOWN: 3,
  GRACEFUL_SHUTDOWN: 4,
  ROLLING_UPDATE_BEGIN: 6,
  ROLLING_UPDATE_END: 7,
} as const;
export type ServerStatusCode = (typeof ServerStatus)[keyof typeof ServerStatus];

/** Statuses of a node whose link to the master is up (it serves, or is being drained or stopped). */
export function isLinkUp(status: ServerStatusCode): boolean {
  return status === ServerStatus.CONNECTED || status === ServerStatus.GRACEFUL_SHUTDOWN || status === ServerStatus.ROLLING_UPDATE_BEGIN || status === ServerStatus.ROLLING_UPDATE_END;
}

export interface NodeRecord {
  readonly entry: NodeEntry;
  status: ServerStatusCode;
  /** The node's incarnation at its last registration (null: never registered). */
  inc: string | null;
  /** Clock time (ms) of its last registration or heartbeat. */
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
  /** Clock time (ms) of the login. */
  since: number;
}

export class NodeRegistry {
  private readonly records = new Map<number, NodeRecord>();

  constructor(config: ClusterConfig, now: number) {
    this.records.set(config.master.serverid, { entry: config.master, status: ServerStatus.CONNECTED, inc: null, lastSeen: now, registrations: 0 });
    for (const e of [...config.serverlist, ...config.servicelist]) {
      this.records.set(e.serverid, { entry: e, status: ServerStatus.DISCONNECTED, inc: null, lastSeen: 0, registrations: 0 });
    }
  }

  get(id: number): NodeRecord | undefined {
    return this.records.get(id);
  }

  /** Adds a node created at run time (rollingUpdateServers, or one a restarted master hears from). */
  add(entry: NodeEntry): NodeRecord {
    const known = this.records.get(entry.serverid);
    if (known) return known;
    const rec: NodeRecord = { entry, status: ServerStatus.DISCONNECTED, inc: null, lastSeen: 0, registrations: 0 };
    this.records.set(entry.serverid, rec);
    return rec;
  }

  all(): NodeRecord[] {
    return [...this.records.values()];
  }

  /** The link is up (status 2, 4, 6 or 7). */
  isConnected(id: number): boolean {
    const r = this.records.get(id);
    return !!r && isLinkUp(r.status);
  }

  /** Lobby/game servers whose link is up (serving or going down). */
  connectedServers(): NodeRecord[] {
    return this.all().filter((r) => r.entry.role === 'server' && isLinkUp(r.status));
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
