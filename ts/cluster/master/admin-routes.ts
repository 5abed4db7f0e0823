/**
 * gamewire's admin routes on the master's HTTP server (master-http.ts: same shared secret, same 401).
 * JSON in (a POST body, or the query string of a GET), JSON out: `{ code: 1, message: 'ok', ... }`
 * on success. Each route validates its input with a zod schema (inputs.ts): unknown fields, wrong
 * types and values beyond MASTER_LIMITS are refused with 400 and every refused field in `issues`.
 * 503 when the store failed, 409 when the server is not in a state that allows the operation.
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
 * | `/admin/rolling-update` | POST | `serverType, appVersion, ip?, addNum?` | rollingUpdateServers (202: runs on) |
 */
import { queryInput, resetServerInput, rollingCloseInput, rollingUpdateInput, sanctionInput, stopServerInput, uidInput } from './api-inputs.js';
import type { MasterContext } from './master-context.js';
import type { NetgameApi, ServerManager } from './master-api.js';
import { adminError, type AdminAnswer, type MasterHttp } from './master-http.js';

const ok = (extra: Record<string, unknown> = {}): AdminAnswer => ({ status: 200, body: { code: 1, message: 'ok', ...extra } });
const storeFailed = (): AdminAnswer => adminError(503, 'ERR_STATE', 'the master store failed; try again');

export function installAdminRoutes(http: MasterHttp, ctx: MasterContext, api: { netgameApi: NetgameApi; serverManager: ServerManager }): void {
  const { netgameApi, serverManager } = api;
  const { state } = ctx;
  const log = ctx.host.log;

  http.admin('GET', '/admin/status', null, () => {
    const servers = state.nodes
      .all()
      .filter((r) => r.entry.role !== 'master')
      .map((r) => ({
        serverId: r.entry.serverid,
        type: r.entry.type,
        role: r.entry.role,
        status: r.status,
        valid: state.isValid(r.entry.serverid),
        online: r.entry.role === 'service' ? null : state.onlineNum(r.entry.serverid),
        appVersion: r.entry.role === 'service' ? null : serverManager.getServerAppVersion(r.entry.serverid),
      }));
    return ok({ servers, totalOnline: serverManager.getTotalOnlineNum(), resetting: serverManager.getAllResettingServers(), stats: { ...state.stats } });
  });

  http.admin('GET', '/admin/online', null, () =>
    ok({ players: state.players.all().map((p) => ({ uid: p.uid, serverId: p.serverId, proxyId: p.proxyId, protocolVersion: p.protocolVersion })) }),
  );

  for (const kind of ['ban', 'mute'] as const) {
    const [set, clear, info, list] = kind === 'ban' ? ['/admin/ban', '/admin/unban', '/admin/ban-info', '/admin/bans'] : ['/admin/silent', '/admin/unsilent', '/admin/silent-info', '/admin/mutes'];
    http.admin('POST', set, sanctionInput, async ({ uid, banTime, reason, combineReason }) => {
      const done = kind === 'ban' ? await netgameApi.banUser(uid, banTime, reason, combineReason ?? false) : await netgameApi.silentByUid(uid, banTime, reason);
      return done ? ok({ uid }) : storeFailed();
    });
    http.admin('POST', clear, uidInput, async ({ uid }) => ((kind === 'ban' ? await netgameApi.unBanUser(uid) : await netgameApi.unSilentByUid(uid)) ? ok({ uid }) : storeFailed()));
    const read = async ({ uid }: { uid: number }) => {
      const i = kind === 'ban' ? await netgameApi.getBanUserInfo(uid) : await netgameApi.getUserSilentInfo(uid);
      return i === null ? storeFailed() : ok({ uid, info: i });
    };
    http.admin('GET', info, queryInput(uidInput), read);
    http.admin('POST', info, uidInput, read);
    http.admin('GET', list, null, async () => {
      try {
        return ok({ [kind === 'ban' ? 'bans' : 'mutes']: await ctx.sanctions!.listActive(kind) });
      } catch {
        return storeFailed();
      }
    });
  }

  http.admin('POST', '/admin/stop-server', stopServerInput, async ({ serverId, actType }) =>
    (await serverManager.stopServerByServerId(serverId, actType)) ? ok({ serverId, status: serverManager.getOneServerStatus(serverId) }) : adminError(409, 'ERR_STATE', 'the server is not running, is busy, or did not stop'),
  );

  http.admin('POST', '/admin/reset-server', resetServerInput, async ({ serverId }) =>
    (await serverManager.resetServer(serverId)) ? ok({ serverId }) : adminError(409, 'ERR_STATE', 'not a connected lobby/game, or already resetting'),
  );

  http.admin('POST', '/admin/rolling-close', rollingCloseInput, ({ serverIds, transfer }) => {
    serverManager.rollingCloseServers(serverIds, { transfer: transfer ?? false }).catch((err: unknown) => log.error({ err }, 'rolling close failed'));
    return { status: 202, body: { code: 1, message: 'started', serverIds } };
  });

  http.admin('POST', '/admin/rolling-update', rollingUpdateInput, ({ serverType, appVersion, ip, addNum }) => {
    serverManager.rollingUpdateServers(serverType, appVersion, ip ?? '', addNum ?? 0).catch((err: unknown) => log.error({ err }, 'rolling update failed'));
    return { status: 202, body: { code: 1, message: 'started' } };
  });
}
