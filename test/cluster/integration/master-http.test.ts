/**
 * masterHttp (seed 000) on a real cluster, on both buses: a real HTTP server on the master's
 * configured address; registerMasterHttp / asynchronous sendHttpResponse / sendHttpRequestToService
 * reaching a service's handler; the admin API (closed by default: 401 without the shared secret,
 * and no handler runs); 400 on malformed bodies; 504 when nobody answers (the late answer
 * dropped); a hundred concurrent requests.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ServiceSystem, type MasterSystem } from '../../../ts/cluster/index.js';
import { BUSES, useCluster, waitFor, type RawConfig } from '../helpers/cluster.js';
import { GATEWAYS } from '../helpers/gateways.js';
import { PROBE, type ProbeMaster, type ProbeService } from '../helpers/probe-mod.js';

const KEY = 'http-test-key';
const SECRET = 'the-shared-secret-0123456789';

function httpConfig(secret: string | null = SECRET): RawConfig {
  return {
    game_id: 'http',
    game_key: KEY,
    master: { serverid: 0, type: 'master', ip: '127.0.0.1', port: 0, mods: PROBE, ...(secret ? { http_secret: secret } : {}), http_timeout: 0.5 },
    serverlist: [
      { serverid: 2000, type: 'proxy', ip: '127.0.0.1', port: 0 },
      { serverid: 4000, type: 'lobby', ip: '127.0.0.1', port: 1, mods: PROBE },
    ],
    servicelist: [{ serverid: 8000, type: 'web', module_names: 'web_module', mods: PROBE }],
  };
}

async function call(base: string, path: string, opts: { method?: string; body?: string; secret?: string | null } = {}): Promise<{ status: number; json: unknown; text: string }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const secret = opts.secret === undefined ? SECRET : opts.secret;
  if (secret !== null) headers.authorization = `Bearer ${secret}`;
  const r = await fetch(base + path, { method: opts.method ?? (opts.body !== undefined ? 'POST' : 'GET'), headers, body: opts.body });
  const text = await r.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* text */
  }
  return { status: r.status, json, text };
}

describe.each(BUSES)('masterHttp over the %s bus', (bus) => {
  const fx = useCluster({ bus, config: httpConfig, options: () => ({ gateway: GATEWAYS.udp!() }), client: { mods: PROBE } });
  const master = () => fx.cluster.getSystem<ProbeMaster>(0, PROBE, 'master')! as MasterSystem;
  const http = () => master().masterHttp;
  let base: string;
  beforeAll(() => {
    base = http().url!;
  });

  it('serves on the configured address; a registered handler answers later with sendHttpResponse', async () => {
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const seen: Array<[number, string]> = [];
    http().registerMasterHttp('/kick-user', (clientId, body) => {
      seen.push([clientId, body]);
      setTimeout(() => http().sendHttpResponse(clientId, '{"code":1,"message":"ok"}'), 50);
    });
    const r = await call(base, '/kick-user', { body: '{"uid":123}' });
    expect(r).toMatchObject({ status: 200, json: { code: 1, message: 'ok' } });
    expect(seen).toEqual([[expect.any(Number), '{"uid":123}']]);
    // Plain text answers, GET without a body, trailing slash.
    http().registerMasterHttp('/text', (clientId, body, req) => http().sendHttpResponse(clientId, `${req.method} [${body}] ${req.query.x ?? ''}`));
    expect((await call(base, '/text/?x=7')).text).toBe('GET [] 7');
    // Apollo's (url, instance, method) form.
    const binder = {
      prefix: 'bound',
      handle(this: { prefix: string }, clientId: number, body: string) {
        http().sendHttpResponse(clientId, { got: `${this.prefix}:${body}` });
      },
    };
    http().registerMasterHttp('/bound', binder, binder.handle);
    expect((await call(base, '/bound', { body: '1' })).json).toEqual({ got: 'bound:1' });
    expect((await call(base, '/nothing-here')).status).toBe(404);
    expect(() => http().registerMasterHttp('/admin/ban', () => undefined)).toThrow(/admin/);
    expect(() => http().registerMasterHttp('no-slash', () => undefined)).toThrow(/path/);
  });

  it('is closed without the shared secret: 401, and no handler runs', async () => {
    let ran = 0;
    http().registerMasterHttp('/guarded', (clientId) => {
      ran++;
      http().sendHttpResponse(clientId, 'ok');
    });
    const before = http().stats.unauthorized;
    expect((await call(base, '/guarded', { body: '{}', secret: null })).status).toBe(401);
    expect((await call(base, '/guarded', { body: '{}', secret: 'wrong-secret-wrong-secret' })).status).toBe(401);
    expect((await call(base, '/admin/ban', { body: '{"uid":1,"banTime":-1,"reason":"x"}', secret: null })).status).toBe(401);
    expect((await call(base, '/nothing-here', { secret: null })).status).toBe(401); // no route probing either
    const r = await fetch(`${base}/guarded`, { method: 'POST', headers: { authorization: `Basic ${SECRET}` }, body: '{}' });
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/Bearer/);
    expect(ran).toBe(0);
    expect(await master().netgameApi.getBanUserInfo(1)).toEqual({});
    expect(http().stats.unauthorized - before).toBe(5);
    expect((await call(base, '/guarded', { body: '{}' })).status).toBe(200);
    expect(ran).toBe(1);
  });

  it('a malformed body is a 400 and the handler does not run', async () => {
    let ran = 0;
    http().registerMasterHttp('/strict', (clientId) => {
      ran++;
      http().sendHttpResponse(clientId, '{}');
    });
    const r = await call(base, '/strict', { body: '{"uid": 12,' });
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ error: { status: 400, code: 'ERR_INVALID_ARG', message: expect.stringMatching(/malformed JSON/) } });
    expect((await call(base, '/admin/ban', { body: 'not json' })).status).toBe(400);
    expect((await call(base, '/admin/ban', { body: '[1,2]' })).status).toBe(400);
    expect((await call(base, '/admin/ban', { body: '{"uid":"x","banTime":10,"reason":"r"}' })).status).toBe(400);
    expect((await call(base, '/admin/ban', { body: '{"uid":5,"banTime":0,"reason":"r"}' })).status).toBe(400);
    expect((await call(base, '/admin/ban', { body: '{"uid":5,"banTime":10}' })).status).toBe(400);
    expect(ran).toBe(0);
    expect(await master().netgameApi.getBanUserInfo(5)).toEqual({});
  });

  it('a handler that never answers: 504 after master.http_timeout; its late answer is dropped and counted', async () => {
    let id = -1;
    http().registerMasterHttp('/slow', (clientId) => {
      id = clientId;
    });
    const t0 = Date.now();
    const r = await call(base, '/slow', { body: '{}' });
    expect(r.status).toBe(504);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(450);
    const late = http().stats.late;
    expect(http().sendHttpResponse(id, 'too late')).toBe(false);
    expect(http().stats.late).toBe(late + 1);
    expect(http().sendHttpResponse(987654, 'never issued')).toBe(false);
    // A handler that throws: 500.
    http().registerMasterHttp('/throws', () => {
      throw new Error('handler bug');
    });
    expect((await call(base, '/throws', { body: '{}' })).status).toBe(500);
  });

  it('a hundred concurrent requests are all answered, each with its own clientId', async () => {
    const ids = new Set<number>();
    http().registerMasterHttp('/echo', (clientId, body) => {
      ids.add(clientId);
      setTimeout(() => http().sendHttpResponse(clientId, body), Math.random() * 50);
    });
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => call(base, '/echo', { body: JSON.stringify({ i }) })));
    expect(results.every((r, i) => r.status === 200 && (r.json as { i: number }).i === i)).toBe(true);
    expect(ids.size).toBe(100);
  });

  it('sendHttpRequestToService reaches the handler the service registered', async () => {
    const svc = fx.cluster.getSystem<ProbeService>(8000, PROBE, 'service')! as ServiceSystem;
    const got: string[] = [];
    svc.registerServiceHttp('/test-request', (clientId, body) => {
      got.push(body);
      setTimeout(() => svc.sendHttpResponse(clientId, JSON.stringify({ code: 1, echoed: JSON.parse(body) })), 20);
    });
    const cbs: unknown[] = [];
    const r = await http().sendHttpRequestToService(8000, '/test-request', JSON.stringify({ message: 'content', code: 1 }), (res) => cbs.push(res));
    expect(r).toEqual({ ok: true, status: 200, body: '{"code":1,"echoed":{"message":"content","code":1}}' });
    expect(cbs).toEqual([r]);
    expect(got).toEqual(['{"message":"content","code":1}']);
    expect(await http().sendHttpRequestToService(8000, '/no-such', '{}')).toEqual({ ok: false, status: 404, body: null });
    expect(await http().sendHttpRequestToService(4000, '/test-request', '{}')).toEqual({ ok: false, status: 404, body: null });
    svc.registerServiceHttp('/never', () => undefined);
    expect(await http().sendHttpRequestToService(8000, '/never', {}, undefined, 0.3)).toEqual({ ok: false, status: null, body: null });
    // The seed's use: an admin tool asks the master, which asks the service and relays the answer.
    http().registerMasterHttp('/relay', (clientId, body) => {
      void http().sendHttpRequestToService(8000, '/test-request', body, (res) => http().sendHttpResponse(clientId, res.body ?? '{"code":0}'));
    });
    expect((await call(base, '/relay', { body: '{"x":1}' })).json).toEqual({ code: 1, echoed: { x: 1 } });
  });

  it('admin API: ban and unban over HTTP (a banned login refused with the seed text), mutes, info, status, online', async () => {
    const ban = await call(base, '/admin/ban', { body: JSON.stringify({ uid: 900, banTime: 7200, reason: 'cheating', combineReason: true }) });
    expect(ban).toMatchObject({ status: 200, json: { code: 1, uid: 900 } });
    expect((await call(base, '/admin/ban-info?uid=900')).json).toMatchObject({ code: 1, info: { banTime: 7200, reason: 'cheating' } });
    expect((await call(base, '/admin/bans')).json).toMatchObject({ bans: [{ uid: 900, banTime: 7200 }] });
    await expect(fx.login(900)).rejects.toMatchObject({
      reason: 'banned',
      text: 'Your account has been banned, the remaining ban time: 0 days 2 hours 0 minutes, ban reason: cheating. If you have any questions, please go to the customer service area for feedback',
    });
    expect((await call(base, '/admin/unban', { body: '{"uid":900}' })).json).toMatchObject({ code: 1 });
    expect((await call(base, '/admin/ban-info', { body: '{"uid":900}' })).json).toMatchObject({ code: 1, info: {} });
    const d = await fx.login(900);
    await waitFor(() => master().netgameApi.getServerIdByUid(900) === 4000);

    expect((await call(base, '/admin/silent', { body: '{"uid":901,"banTime":-1,"reason":"spam"}' })).status).toBe(200);
    expect((await call(base, '/admin/silent-info?uid=901')).json).toMatchObject({ info: { banTime: -1, reason: 'spam' } });
    expect((await call(base, '/admin/mutes')).json).toMatchObject({ mutes: [{ uid: 901 }] });
    expect((await call(base, '/admin/unsilent', { body: '{"uid":901}' })).status).toBe(200);
    expect(await master().netgameApi.getUserSilentInfo(901)).toEqual({});

    const status = (await call(base, '/admin/status')).json as { servers: Array<{ serverId: number; status: number; online: number | null }>; totalOnline: number };
    expect(status.totalOnline).toBe(1);
    expect(status.servers.find((s) => s.serverId === 4000)).toMatchObject({ status: 2, online: 1 });
    expect((await call(base, '/admin/online')).json).toMatchObject({ players: [{ uid: 900, serverId: 4000, proxyId: 2000 }] });
    expect((await call(base, '/admin/ban', { method: 'GET' })).status).toBe(405);
    await d.close();
  });
});

describe('masterHttp without a configured secret', () => {
  const fx = useCluster({ bus: 'inprocess', config: () => httpConfig(null), options: () => ({ gateway: GATEWAYS.loopback!() }) });

  it('refuses everything with 401', async () => {
    const m = fx.cluster.getSystem<ProbeMaster>(0, PROBE, 'master')!;
    let ran = 0;
    m.masterHttp.registerMasterHttp('/x', (id) => {
      ran++;
      m.masterHttp.sendHttpResponse(id, 'x');
    });
    for (const secret of [null, '', 'anything-anything-anything']) expect((await call(m.masterHttp.url!, '/x', { body: '{}', secret })).status).toBe(401);
    expect((await call(m.masterHttp.url!, '/admin/status', { secret: null })).status).toBe(401);
    expect(ran).toBe(0);
  });
});
