/**
 * The master's API bounds its text fields: a ban or mute reason longer than
 * MASTER_LIMITS.reason is refused (HTTP 400 naming the field; ArgumentError from netgameApi) and
 * changes nothing: no ban stored, the player stays online and listed, later logins work. A reason
 * at the limit reaches the player whole, in the kick and in the refused login.
 */
import { describe, expect, it } from 'vitest';
import { ArgumentError, MASTER_LIMITS, type MasterSystem } from '../../../ts/cluster/index.js';
import { useCluster, waitFor, type RawConfig } from '../helpers/cluster.js';
import { GATEWAYS } from '../helpers/gateways.js';
import { PROBE, type ProbeMaster } from '../helpers/probe-mod.js';

const SECRET = 'limits-secret-0123456789';

function config(): RawConfig {
  return {
    game_id: 'limits',
    game_key: 'limits-key',
    master: { serverid: 0, type: 'master', ip: '127.0.0.1', port: 0, mods: PROBE, http_secret: SECRET },
    serverlist: [
      { serverid: 2000, type: 'proxy', ip: '127.0.0.1', port: 0 },
      { serverid: 4000, type: 'lobby', ip: '127.0.0.1', port: 1, mods: PROBE },
      { serverid: 4001, type: 'lobby', ip: '127.0.0.1', port: 2, mods: PROBE },
    ],
    servicelist: [],
  };
}

describe('the master API bounds its text fields', () => {
  const fx = useCluster({ bus: 'inprocess', config, options: () => ({ gateway: GATEWAYS.udp!() }), client: { mods: PROBE } });
  const master = () => fx.cluster.getSystem<ProbeMaster>(0, PROBE, 'master')! as MasterSystem;
  const api = () => master().netgameApi;

  type Answer = { status: number; headers: Headers; json: { code?: number; error?: { status: number; code: string; message: string; issues?: Array<{ path: string; message: string }> } } };
  async function call(method: string, path: string, body?: unknown, secret: string | null = SECRET): Promise<Answer> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (secret) headers.authorization = `Bearer ${secret}`;
    const r = await fetch(master().masterHttp.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.status, headers: r.headers, json: (await r.json()) as never };
  }
  const post = (path: string, body: unknown) => call('POST', path, body);
  const paths = (a: Answer) => a.json.error?.issues?.map((i) => i.path).sort();
  const login = (uid: number) => fx.login(uid);
  const online = async () => ((await (await fetch(`${master().masterHttp.url}/admin/online`, { headers: { authorization: `Bearer ${SECRET}` } })).json()) as { players: Array<{ uid: number }> }).players.map((p) => p.uid);

  it('a reason over the limit: 400 naming "reason"; no ban, the player stays online and listed, and logs in again', async () => {
    const c = await login(500);
    for (const [path, body] of [
      ['/admin/ban', { uid: 500, banTime: 3600, reason: 'x'.repeat(70_000) }],
      ['/admin/ban', { uid: 500, banTime: 3600, reason: 'y'.repeat(900_000), combineReason: true }],
      ['/admin/silent', { uid: 500, banTime: 3600, reason: 'z'.repeat(MASTER_LIMITS.reason + 1) }],
    ] as const) {
      const r = await post(path, body);
      expect(r.status).toBe(400);
      expect(r.json.error).toMatchObject({ status: 400, code: 'ERR_INVALID_ARG' });
      expect(r.json.error!.issues!.map((i) => i.path)).toEqual(['reason']);
    }
    expect(await api().getBanUserInfo(500)).toEqual({});
    expect(await api().getUserSilentInfo(500)).toEqual({});
    expect(c.online).toBe(true);
    expect(await online()).toEqual([500]);
    await c.close();
    await waitFor(() => api().getOnlineUidList().length === 0);
    expect((await login(500)).online).toBe(true);
  });

  it('netgameApi: a reason over the limit rejects with ArgumentError and stores nothing', async () => {
    const long = 'r'.repeat(MASTER_LIMITS.reason + 1);
    await expect(api().banUser(510, 60, long, true)).rejects.toBeInstanceOf(ArgumentError);
    await expect(api().silentByUid(510, 60, long)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG' });
    expect(await api().getBanUserInfo(510)).toEqual({});
    expect(await api().getUserSilentInfo(510)).toEqual({});
  });

  it('rolling update: addNum outside 0..MASTER_LIMITS.addNum is refused (400, ArgumentError) and starts nothing', async () => {
    const before = api().getServerIdsByGameType('lobby');
    for (const addNum of [-1, MASTER_LIMITS.addNum + 1, 1.5, '2']) {
      const r = await post('/admin/rolling-update', { serverType: 'lobby', appVersion: '2.0', addNum });
      expect(r.status).toBe(400);
      expect(paths(r)).toEqual(['addNum']);
    }
    await expect(master().serverManager.rollingUpdateServers('lobby', '2.0', '', -1)).rejects.toBeInstanceOf(ArgumentError);
    expect(api().getServerIdsByGameType('lobby')).toEqual(before);
    expect(master().serverManager.getAllServerStatus()).toMatchObject({ 4000: 2, 4001: 2 });
  });

  it('every refused field is reported: wrong types, text beyond its bound, unknown fields', async () => {
    const r = await post('/admin/rolling-update', { serverType: 'l'.repeat(MASTER_LIMITS.serverType + 1), appVersion: '', ip: 7, addNum: 'x', extra: true });
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ status: 400, code: 'ERR_INVALID_ARG' });
    expect(paths(r)).toEqual(['addNum', 'appVersion', 'extra', 'ip', 'serverType']);
    expect(r.json.error!.issues!.find((i) => i.path === 'serverType')!.message).toMatch(String(MASTER_LIMITS.serverType));
  });

  it('rolling close: transfer is a boolean ("maybe" is refused, nothing closes)', async () => {
    const r = await post('/admin/rolling-close', { serverIds: [4001], transfer: 'maybe' });
    expect(r.status).toBe(400);
    expect(paths(r)).toEqual(['transfer']);
    expect(paths(await post('/admin/rolling-close', { serverIds: [] }))).toEqual(['serverIds']);
    expect(paths(await post('/admin/rolling-close', { serverIds: [4001, 'x'] }))).toEqual(['serverIds.1']);
    expect(master().serverManager.getOneServerStatus(4001)).toBe(2);
  });

  it('a GET route coerces its query string; a value that is not a number is refused', async () => {
    expect(await call('GET', '/admin/ban-info?uid=12')).toMatchObject({ status: 200, json: { code: 1, uid: 12, info: {} } });
    const r = await call('GET', '/admin/ban-info?uid=twelve');
    expect(r.status).toBe(400);
    expect(paths(r)).toEqual(['uid']);
  });

  it('one router, one error shape: 401 without the secret, 404, 405 with Allow, 400 for malformed JSON', async () => {
    const unauthorized = await call('GET', '/admin/status', undefined, null);
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.json.error).toMatchObject({ status: 401, code: 'ERR_HTTP' });
    expect((await call('GET', '/no-such-path')).json.error).toMatchObject({ status: 404, code: 'ERR_HTTP' });
    const wrongMethod = await call('DELETE', '/admin/ban');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    const r = await fetch(`${master().masterHttp.url}/admin/ban`, { method: 'POST', headers: { authorization: `Bearer ${SECRET}` }, body: '{"uid": 1,' });
    expect(r.status).toBe(400);
    expect(((await r.json()) as Answer['json']).error).toMatchObject({ status: 400, code: 'ERR_INVALID_ARG', message: expect.stringMatching(/malformed JSON/) });
    const huge = await post('/admin/ban', { uid: 1, banTime: 60, reason: 'h'.repeat(1024 * 1024 + 1) });
    expect(huge.status).toBe(413);
    expect(huge.json.error).toMatchObject({ status: 413, code: 'ERR_MESSAGE_TOO_LARGE' });
    expect(await api().getBanUserInfo(1)).toEqual({});
  });

  it('a reason at the limit reaches the player whole: in the kick and in the refused login', async () => {
    const c = await login(520);
    const reason = 'q'.repeat(MASTER_LIMITS.reason);
    expect((await post('/admin/ban', { uid: 520, banTime: 3600, reason, combineReason: true })).status).toBe(200);
    expect(await c.whenClosed()).toBe('banned');
    expect(c.closeText).toContain(`ban reason: ${reason}.`);
    await expect(login(520)).rejects.toMatchObject({ reason: 'banned', text: c.closeText });
  });
});
