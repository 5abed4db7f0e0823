/**
 * gamewire's admin routes on the master's HTTP server (http.ts: same shared secret, same 401).
 * JSON in (a POST body, or the query string of a GET), JSON out: `{ code: 1, message: 'ok', ... }`
 * on success, `{ code: 0, message }` with 400 for bad fields and 503 when the store failed.
 *
 * | route | method | input | does |
 * |---|---|---|---|
 * | `/admin/status` | GET | | every server: type, status, online, app_version; totals |
 * | `/admin/online` | GET | | online players: uid, serverId, proxyId, protocolVersion |
 * | `/admin/ban` | POST | `uid, banTime, reason, combineReason?` | banUser |
 * | `/admin/unban` | POST | `uid` | unBanUser |
 * | `/admin/ban-info` | GET, POST | `uid` | getBanUserInfo (`info`) |
 * | `/admin/bans` | GET | | bans in force |
 * | `/admin/silent` | POST | `uid, banTime, reason` | silentByUid |
 * | `/admin/unsilent` | POST | `uid` | unSilentByUid |
 * | `/admin/silent-info` | GET, POST | `uid` | getUserSilentInfo (`info`) |
 * | `/admin/mutes` | GET | | mutes in force |
 * | `/admin/stop-server` | POST | `serverId, actType` | stopServerByServerId (answers when done) |
 * | `/admin/reset-server` | POST | `serverId` | resetServer (answers when done) |
 * | `/admin/rolling-close` | POST | `serverIds, transfer?` | rollingCloseServers (202: runs on) |
 * | `/admin/rolling-update` | POST | `serverType, appVersion, ip, addNum` | rollingUpdateServers (202: runs on) |
 */
import type { NetgameApi, ServerManager } from './api.js';
import type { MasterCore } from './core.js';
import type { MasterHttp } from './http.js';

type Out = { status: number; body: unknown };

const ok = (extra: Record<string, unknown> = {}): Out => ({ status: 200, body: { code: 1, message: 'ok', ...extra } });
const bad = (message: string): Out => ({ status: 400, body: { code: 0, message } });
const unavailable = (message: string): Out => ({ status: 503, body: { code: 0, message } });

/** An integer from JSON or a query string ("123"). */
function int(v: unknown): number | null {
  const n = typeof v === 'string' && /^-?[0-9]+$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isSafeInteger(n) ? n : null;
}

function bool(v: unknown): boolean | null {
  if (v === undefined) return null;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === '1' || v === 1) return true;
  if (v === 'false' || v === '0' || v === 0) return false;
  return null;
}

export function installAdminRoutes(http: MasterHttp, core: MasterCore, api: { netgameApi: NetgameApi; serverManager: ServerManager }): void {
  const { netgameApi, serverManager } = api;
  const GET = ['GET'] as const;
  const POST = ['POST'] as const;
  const BOTH = ['GET', 'POST'] as const;

  http.addBuiltin('/admin/status', GET, () => {
    const servers = core.nodes
      .all()
      .filter((r) => r.entry.role !== 'master')
      .map((r) => ({
        serverId: r.entry.serverid,
        type: r.entry.type,
        role: r.entry.role,
        status: r.status,
        valid: core.isValid(r.entry.serverid),
        online: r.entry.role === 'service' ? null : core.onlineNum(r.entry.serverid),
        appVersion: r.entry.role === 'service' ? null : serverManager.getServerAppVersion(r.entry.serverid),
      }));
    return ok({ servers, totalOnline: serverManager.getTotalOnlineNum(), resetting: serverManager.getAllResettingServers(), stats: { ...core.stats } });
  });

  http.addBuiltin('/admin/online', GET, () =>
    ok({ players: core.players.all().map((p) => ({ uid: p.uid, serverId: p.serverId, proxyId: p.proxyId, protocolVersion: p.protocolVersion })) }),
  );

  const sanction = (kind: 'ban' | 'mute') => async (input: Record<string, unknown>): Promise<Out> => {
    const uid = int(input.uid);
    const banTime = int(input.banTime);
    if (uid === null) return bad('uid: an integer is required');
    if (banTime === null || !(banTime > 0 || banTime === -1)) return bad('banTime: seconds > 0, or -1 for good');
    if (typeof input.reason !== 'string') return bad('reason: a string is required');
    const combine = bool(input.combineReason);
    if (input.combineReason !== undefined && combine === null) return bad('combineReason: true or false');
    const done = kind === 'ban' ? await netgameApi.banUser(uid, banTime, input.reason, combine ?? false) : await netgameApi.silentByUid(uid, banTime, input.reason);
    return done ? ok({ uid }) : unavailable('the master store failed; try again');
  };
  const lift = (kind: 'ban' | 'mute') => async (input: Record<string, unknown>): Promise<Out> => {
    const uid = int(input.uid);
    if (uid === null) return bad('uid: an integer is required');
    const done = kind === 'ban' ? await netgameApi.unBanUser(uid) : await netgameApi.unSilentByUid(uid);
    return done ? ok({ uid }) : unavailable('the master store failed; try again');
  };
  const info = (kind: 'ban' | 'mute') => async (input: Record<string, unknown>): Promise<Out> => {
    const uid = int(input.uid);
    if (uid === null) return bad('uid: an integer is required');
    const i = kind === 'ban' ? await netgameApi.getBanUserInfo(uid) : await netgameApi.getUserSilentInfo(uid);
    return i === null ? unavailable('the master store failed; try again') : ok({ uid, info: i });
  };
  const list = (kind: 'ban' | 'mute') => async (): Promise<Out> => {
    try {
      return ok({ [kind === 'ban' ? 'bans' : 'mutes']: await core.sanctions!.listActive(kind) });
    } catch {
      return unavailable('the master store failed; try again');
    }
  };

  http.addBuiltin('/admin/ban', POST, sanction('ban'));
  http.addBuiltin('/admin/unban', POST, lift('ban'));
  http.addBuiltin('/admin/ban-info', BOTH, info('ban'));
  http.addBuiltin('/admin/bans', GET, list('ban'));
  http.addBuiltin('/admin/silent', POST, sanction('mute'));
  http.addBuiltin('/admin/unsilent', POST, lift('mute'));
  http.addBuiltin('/admin/silent-info', BOTH, info('mute'));
  http.addBuiltin('/admin/mutes', GET, list('mute'));

  http.addBuiltin('/admin/stop-server', POST, async (input) => {
    const id = int(input.serverId);
    const act = int(input.actType);
    if (id === null) return bad('serverId: an integer is required');
    if (act !== 1 && act !== 2) return bad('actType: 1 (kick all, then stop) or 2 (wait until empty, then stop)');
    return (await serverManager.stopServerByServerId(id, act)) ? ok({ serverId: id, status: serverManager.getOneServerStatus(id) }) : { status: 409, body: { code: 0, message: 'the server is not running, is busy, or did not stop' } };
  });

  http.addBuiltin('/admin/reset-server', POST, async (input) => {
    const id = int(input.serverId);
    if (id === null) return bad('serverId: an integer is required');
    return (await serverManager.resetServer(id)) ? ok({ serverId: id }) : { status: 409, body: { code: 0, message: 'not a connected lobby/game, or already resetting' } };
  });

  http.addBuiltin('/admin/rolling-close', POST, (input) => {
    const ids = input.serverIds;
    if (!Array.isArray(ids) || ids.length === 0 || ids.some((x) => int(x) === null)) return bad('serverIds: a list of integers is required');
    const transfer = bool(input.transfer) ?? false;
    void serverManager.rollingCloseServers(ids.map((x) => int(x)!), { transfer });
    return { status: 202, body: { code: 1, message: 'started', serverIds: ids } };
  });

  http.addBuiltin('/admin/rolling-update', POST, (input) => {
    const addNum = int(input.addNum ?? 0);
    if (typeof input.serverType !== 'string' || input.serverType === '') return bad('serverType: a string is required');
    if (typeof input.appVersion !== 'string' || input.appVersion === '') return bad('appVersion: a string is required');
    if (input.ip !== undefined && typeof input.ip !== 'string') return bad('ip: a string');
    if (addNum === null) return bad('addNum: an integer');
    void serverManager.rollingUpdateServers(input.serverType, input.appVersion, (input.ip as string | undefined) ?? '', addNum);
    return { status: 202, body: { code: 1, message: 'started' } };
  });
}
