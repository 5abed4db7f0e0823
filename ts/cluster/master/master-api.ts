/**
 * The master's user API, as `MasterSystem#netgameApi`, `#masterHttp` and `#serverManager` (the
 * names of Apollo's master modules). A thin surface over the master's state (master-state.ts),
 * its durable store (via sanctions.ts), its HTTP server (master-http.ts) and the lifecycle driver
 * (lifecycle.ts).
 *
 * A call that writes durable state (banUser, ...) returns a `Promise<boolean>` that resolves once
 * the write is durable (false: bad arguments or the store failed: try again). A call that takes a
 * callback (getBanUserInfo, ...) also returns a Promise of the same value.
 */
import { ArgumentError, StateError } from '../../errors.js';
import { findNode, type ClusterConfig, type ServerEntry } from '../cluster-config.js';
import { checkReason } from './api-inputs.js';
import type { LoginStrategy, MasterContext } from './master-context.js';
import type { LifecycleOptions, RollingCloseOptions, RollingUpdateOptions, RollingUpdateResult } from './lifecycle.js';
import type { MasterHttp, MasterHttpHandler, MasterHttpStats } from './master-http.js';
import { isLinkUp, type ServerStatusCode } from './registry.js';
import { banLoginText, type SanctionInfoResult, type Sanctions } from './sanctions.js';

/** `callback(uid, info)` of GetBanUserInfo / GetUserSilentInfo: info is a dict, `{}` (none) or null (failed). */
export type SanctionInfoCallback = (uid: number, info: SanctionInfoResult) => void;

/** `netgameApi`: config queries, bans and mutes (durable), online players, the login strategy. */
export class NetgameApi {
  constructor(private readonly ctx: MasterContext) {}

  private get config(): ClusterConfig {
    return this.ctx.host.config;
  }

  private get sanctions(): Sanctions {
    if (!this.ctx.sanctions) throw new StateError('the master store is not open');
    return this.ctx.sanctions;
  }

  /** The deploy config as written. */
  getCommonConfig(): Record<string, unknown> {
    return structuredClone(this.config.raw) as Record<string, unknown>;
  }

  /** The type of a server, or null. */
  getGameTypeByServerId(serverId: number): string | null {
    return this.ctx.state.nodes.get(serverId)?.entry.type ?? null;
  }

  /** Ids of the servers of a type ([] if none); nodes added at run time included. */
  getServerIdsByGameType(gameType: string): number[] {
    return this.ctx.state.nodes
      .all()
      .filter((r) => r.entry.type === gameType)
      .map((r) => r.entry.serverid);
  }

  /** The mods a server loads (id 0, or the master's id: the master). */
  getServerLoadedModsById(serverId: number): string[] {
    const id = serverId === 0 ? this.config.master.serverid : serverId;
    return [...(this.ctx.state.nodes.get(id)?.entry.mods ?? [])];
  }

  /** The mods of one server of a type. */
  getServerLoadedModsByType(serverType: string): string[] {
    return [...(this.ctx.state.nodes.all().find((r) => r.entry.type === serverType)?.entry.mods ?? [])];
  }

  isService(serverId: number): boolean {
    return this.ctx.state.nodes.get(serverId)?.entry.role === 'service';
  }

  // ─── bans and mutes (durable) ────────────────────────────────────────────────────────────

  /**
   * Bans `uid` for `banTime` seconds (-1: for good). Its logins are refused with this text:
   * with `combineReason`, "Your account has been banned, the remaining ban time: x days y hours z
   * minutes, ban reason: [reason]. ..." (or "...permanently banned..."), else `reason` alone. An
   * online player is disconnected with the same text. Resolves true once stored.
   * @throws ArgumentError (rejects) for a reason over MASTER_LIMITS.reason characters; nothing is stored.
   */
  async banUser(uid: number, banTime: number, reason: string, combineReason = false): Promise<boolean> {
    checkReason(reason, 'banUser');
    const ok = await this.sanctions.set('ban', uid, banTime, reason, combineReason);
    if (ok) {
      const now = this.sanctions.now();
      this.ctx.kickUid(uid, 'banned', banLoginText({ banTime, banTimestamp: now, reason, combineReason: !!combineReason }, now));
    }
    return ok;
  }

  /** The ban of `uid`: `{ banTime, banTimestamp, reason }`, `{}` when not banned, null when the lookup failed. */
  async getBanUserInfo(uid: number, callback?: SanctionInfoCallback): Promise<SanctionInfoResult> {
    return this.withCallback(uid, await this.sanctions.info('ban', uid), callback);
  }

  /** Lifts a ban (true also when there was none). */
  unBanUser(uid: number): Promise<boolean> {
    return this.sanctions.clear('ban', uid);
  }

  /**
   * Mutes `uid` for `banTime` seconds (-1: for good). Chat systems ask getUserSilentInfo.
   * @throws ArgumentError (rejects) for a reason over MASTER_LIMITS.reason characters.
   */
  async silentByUid(uid: number, banTime: number, reason: string): Promise<boolean> {
    checkReason(reason, 'silentByUid');
    return this.sanctions.set('mute', uid, banTime, reason, false);
  }

  /** The mute of `uid`: `{ banTime, banTimestamp, reason }`, `{}` when not muted, null when the lookup failed. */
  async getUserSilentInfo(uid: number, callback?: SanctionInfoCallback): Promise<SanctionInfoResult> {
    return this.withCallback(uid, await this.sanctions.info('mute', uid), callback);
  }

  /** Lifts a mute (true also when there was none). */
  unSilentByUid(uid: number): Promise<boolean> {
    return this.sanctions.clear('mute', uid);
  }

  private withCallback(uid: number, info: SanctionInfoResult, callback: SanctionInfoCallback | undefined): SanctionInfoResult {
    if (typeof callback === 'function') {
      try {
        callback(uid, info === null ? null : { ...info });
      } catch (err) {
        this.ctx.host.log.error({ err, uid }, 'ban/mute info callback threw');
      }
    }
    return info;
  }

  // ─── online players ──────────────────────────────────────────────────────────────────────

  /** Uids of the online players (known again after a master restart: the nodes report them). */
  getOnlineUidList(): number[] {
    return this.ctx.state.players.all().map((p) => p.uid);
  }

  getProtocolVersionByUid(uid: number): number | null {
    return this.ctx.state.players.get(uid)?.protocolVersion ?? null;
  }

  getServerIdByUid(uid: number): number | null {
    return this.ctx.state.players.get(uid)?.serverId ?? null;
  }

  /**
   * Sets the login strategy: `fn(uid, callback(targetId))`, callback exactly once. While a custom
   * strategy is set, max_players no longer caps logins (the strategy decides). `null` restores the
   * default (a valid lobby of the player's protocol version with room, least loaded first).
   */
  setLoginStrategy(fn: LoginStrategy | null): boolean {
    return this.ctx.setLoginStrategy(fn);
  }
}

/** What sendHttpRequestToService resolves to. */
export interface ServiceHttpResult {
  /** The service answered (its handler called sendHttpResponse). */
  ok: boolean;
  /** 200 when answered, 404 when the service has no handler for the url, null on timeout. */
  status: number | null;
  /** The service's answer (text), or null. */
  body: string | null;
}

/** `masterHttp`: the HTTP server on the master's configured address. */
export class MasterHttpApi {
  constructor(private readonly ctx: MasterContext) {}

  private get http(): MasterHttp {
    if (!this.ctx.http) throw new StateError('the master HTTP server is not open');
    return this.ctx.http;
  }

  /** The server's base URL (`http://127.0.0.1:8000`), or null when the config gives no master.port. */
  get url(): string | null {
    return this.ctx.http?.url ?? null;
  }

  get stats(): Readonly<MasterHttpStats> {
    return this.http.stats;
  }

  /**
   * Serves `url` (GET and POST): `handler(clientId, requestBody, request)`; answer with
   * `sendHttpResponse(clientId, message)`, now or later. Apollo's form `(url, instance, method)`
   * works too. Requests need the shared secret (`master.http_secret`) as a bearer token.
   */
  registerMasterHttp(url: string, handler: MasterHttpHandler): void;
  registerMasterHttp(url: string, instance: object, method: MasterHttpHandler): void;
  registerMasterHttp(url: string, a: object, b?: MasterHttpHandler): void {
    const fn = typeof b === 'function' ? b.bind(a) : (a as MasterHttpHandler);
    this.http.register(url, fn);
  }

  /**
   * Answers request `clientId` with `message` (text; JSON text is sent as application/json).
   * Returns false when the request is unknown or was already answered (504 after
   * master.http_timeout): the message is dropped.
   */
  sendHttpResponse(clientId: number, message: string | object, status = 200): boolean {
    return this.http.respond(clientId, message, status);
  }

  /**
   * Sends an HTTP request to a service's handler (`ServiceSystem#registerServiceHttp`), over the
   * bus. `body` is the POST body (a JSON string; an object is serialized). Resolves (and calls
   * `callback`) with the service's answer, or `{ ok: false }` after `timeout` seconds (default
   * master.http_timeout).
   */
  async sendHttpRequestToService(serverId: number, requestUrl: string, body: string | object, callback?: (result: ServiceHttpResult) => void, timeout?: number): Promise<ServiceHttpResult> {
    if (typeof requestUrl !== 'string' || !requestUrl.startsWith('/')) throw new ArgumentError('sendHttpRequestToService: the url is a path such as "/test-request"');
    const text = typeof body === 'string' ? body : JSON.stringify(body ?? null);
    let result: ServiceHttpResult;
    if (findNode(this.ctx.host.config, serverId)?.role !== 'service') {
      this.ctx.host.log.warn({ serverId, url: requestUrl }, 'sendHttpRequestToService: not a service id');
      result = { ok: false, status: 404, body: null };
    } else {
      const r = await this.ctx.host.requestOp<{ status: number; body: string | null }>(serverId, 'http', { url: requestUrl, body: text }, { timeout: timeout ?? this.ctx.host.config.master.http_timeout });
      result = r.ok && r.data ? { ok: r.data.status === 200, status: r.data.status, body: r.data.body ?? null } : { ok: false, status: null, body: null };
    }
    if (typeof callback === 'function') {
      try {
        callback(result);
      } catch (err) {
        this.ctx.host.log.error({ err }, 'sendHttpRequestToService callback threw');
      }
    }
    return result;
  }
}

/** `serverManager`: statuses, online counts, stop, reset, rolling close and rolling update. */
export class ServerManager {
  constructor(private readonly ctx: MasterContext) {}

  /** Status of every server: 1 disconnected, 2 connected, 3 shut down, 4 graceful shutdown, 6/7 rolling update. */
  getAllServerStatus(): Record<number, ServerStatusCode> {
    const out: Record<number, ServerStatusCode> = {};
    for (const r of this.ctx.state.nodes.all()) if (r.entry.role !== 'master') out[r.entry.serverid] = r.status;
    return out;
  }

  getOneServerStatus(serverId: number): ServerStatusCode | null {
    return this.ctx.state.nodes.get(serverId)?.status ?? null;
  }

  getAllServersOnlineNum(): Record<number, number> {
    const out: Record<number, number> = {};
    for (const r of this.ctx.state.nodes.all()) if (r.entry.role === 'server' || r.entry.role === 'proxy') out[r.entry.serverid] = this.ctx.state.onlineNum(r.entry.serverid);
    return out;
  }

  /** Lobbies/games whose link to the master is up (serving, or being drained). */
  getConnectedLobbyAndGameIds(): number[] {
    return this.ctx.state.nodes.connectedServers().map((r) => r.entry.serverid);
  }

  getOnlineNumByServerId(serverId: number): number {
    return this.ctx.state.onlineNum(serverId);
  }

  getOnlineNumByServerType(serverType: string): number {
    return this.ctx.state.nodes
      .all()
      .filter((r) => r.entry.type === serverType)
      .reduce((n, r) => n + this.ctx.state.onlineNum(r.entry.serverid), 0);
  }

  getServerProtocolVersion(serverId: number): number | null {
    const e = this.ctx.state.nodes.get(serverId)?.entry;
    return e && e.role === 'server' ? e.protocol_version : null;
  }

  /** The app_version of a proxy/lobby/game (null when the config gives none). */
  getServerAppVersion(serverId: number): string | null {
    const e = this.ctx.state.nodes.get(serverId)?.entry;
    return e && (e.role === 'server' || e.role === 'proxy') ? (e as ServerEntry).app_version : null;
  }

  getTotalOnlineNum(): number {
    return this.ctx.state.players.size;
  }

  /** The link to the server is up (status 2, 4, 6 or 7). */
  isConnectedServer(serverId: number): boolean {
    const r = this.ctx.state.nodes.get(serverId);
    return !!r && isLinkUp(r.status);
  }

  /** Connected, serving, not being reset or shut down (status 2): players may be sent there. */
  isValidServer(serverId: number): boolean {
    return this.ctx.state.isValid(serverId);
  }

  /** Lobbies/games being reset right now. */
  getAllResettingServers(): number[] {
    return [...this.ctx.state.resetting];
  }

  /**
   * Resets a lobby/game: it takes no player meanwhile (listed by getAllResettingServers); the
   * node fires ResetGamesBeginEvent, destroys and rebuilds its systems, fires ResetGamesEndEvent.
   * Players on it stay (make them leave first if the reset needs it). Resolves true once done.
   */
  resetServer(serverId: number, opts?: { timeout?: number }): Promise<boolean> {
    return this.ctx.lifecycle.reset(serverId, opts);
  }

  /**
   * Rolling close: the servers take no new players (status 4) at once; each one stops once its
   * players left (or, with `{ transfer: true }`, were moved to other servers of its type).
   */
  rollingCloseServers(serverIds: number[], opts?: RollingCloseOptions): Promise<boolean> {
    return this.ctx.lifecycle.rollingClose(serverIds, opts);
  }

  /**
   * Rolling update of the proxies or lobbies/games of `serverType`: starts new nodes of that type
   * running `appVersion` on `ip` (as many as the old ones plus `addNum`, at least one; in this
   * process in the embedded mode, as `gamewire node` child processes in the distributed mode),
   * then retires the old ones one by one (6 → players moved to the new ones → 7 → stopped → 1).
   */
  rollingUpdateServers(serverType: string, appVersion: string, ip: string, addNum: number, opts?: RollingUpdateOptions): Promise<RollingUpdateResult> {
    return this.ctx.lifecycle.rollingUpdate(serverType, appVersion, ip, addNum, opts);
  }

  /** Stops a server: actType 1 kicks its players first, 2 waits until they left (status 4 meanwhile, then 3). */
  stopServerByServerId(serverId: number, actType: 1 | 2, opts?: LifecycleOptions): Promise<boolean> {
    return this.ctx.lifecycle.stopServer(serverId, actType, opts);
  }
}
