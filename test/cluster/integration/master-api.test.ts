/**
 * The master's netgameApi (seed 000) on a real cluster, on both buses, players over the encrypted
 * UDP gateway: config queries, bans and mutes (seconds, -1 permanent, combined reasons, the
 * login-refusal texts, the callback shapes null / {} / dict), online tracking, the login strategy.
 */
import { describe, expect, it } from 'vitest';
import { defineMod, LoginRefusedError, type MasterSystem } from '../../../ts/cluster/index.js';
import { MASTER_ROLE } from '../../../ts/cluster/master/master-role.js';
import { BUSES, startCluster, useCluster, waitFor, type RawConfig } from '../helpers/cluster.js';
import { ManualClock } from '../../helpers/manual-clock.js';
import { GATEWAYS } from '../helpers/gateways.js';
import { PROBE, type ProbeMaster } from '../helpers/probe-mod.js';

const KEY = 'api-test-key';
defineMod('extra', {});

/** Lobbies 4000, 4001 speak protocol 1 (3 players each), 4002 protocol 2; a game; a service. */
function apiConfig(): RawConfig {
  return {
    game_id: 'api',
    game_key: KEY,
    master: { serverid: 0, type: 'master', ip: '127.0.0.1', port: 0, mods: PROBE, http_secret: 'a-secret-of-sixteen-chars' },
    serverlist: [
      { serverid: 2000, type: 'proxy', ip: '127.0.0.1', port: 0 },
      { serverid: 4000, type: 'lobby', ip: '127.0.0.1', port: 1, mods: PROBE, max_players: 3, protocol_version: 1 },
      { serverid: 4001, type: 'lobby', ip: '127.0.0.1', port: 2, mods: PROBE, max_players: 3, protocol_version: 1 },
      { serverid: 4002, type: 'lobby', ip: '127.0.0.1', port: 3, mods: PROBE, max_players: 3, protocol_version: 2 },
      { serverid: 5000, type: 'survivalGame', ip: '127.0.0.1', port: 4, mods: `${PROBE},extra`, protocol_version: 1 },
    ],
    servicelist: [{ serverid: 8000, type: 'rank', module_names: 'rank_module', mods: PROBE }],
  };
}

/** What a callback got: `[uid, info]`. */
type Got = [number, unknown];

describe.each(BUSES)('netgameApi over the %s bus', (bus) => {
  const clock = new ManualClock();
  // Time is the test's: bans and mutes end when it moves the clock (heartbeats far apart).
  const fx = useCluster({ bus, config: apiConfig, options: () => ({ gateway: GATEWAYS.udp!(), clock, heartbeatInterval: 60, nodeTimeout: 600 }), client: { mods: PROBE } });
  const clients = fx.clients;
  const master = () => fx.cluster.getSystem<ProbeMaster>(0, PROBE, 'master')! as MasterSystem;
  const api = () => master().netgameApi;

  const login = (uid: number, pv: number | null = 1) => fx.login(uid, fx.client({ protocolVersion: pv }));
  async function refused(uid: number): Promise<LoginRefusedError> {
    const err = await login(uid).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LoginRefusedError);
    return err as LoginRefusedError;
  }
  async function logoutAll(): Promise<void> {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await waitFor(() => api().getOnlineUidList().length === 0, 5000, 'everyone logged out');
  }

  it('config queries: getCommonConfig, getGameTypeByServerId, getServerIdsByGameType, mods by id and type, isService', () => {
    const conf = api().getCommonConfig();
    expect((conf.serverlist as unknown[]).length).toBe(5);
    expect((conf.master as { http_secret: string }).http_secret).toBe('a-secret-of-sixteen-chars');
    (conf.serverlist as unknown[]).length = 0; // a copy: the master's config is untouched
    expect((api().getCommonConfig().serverlist as unknown[]).length).toBe(5);
    expect(api().getGameTypeByServerId(5000)).toBe('survivalGame');
    expect(api().getGameTypeByServerId(2000)).toBe('proxy');
    expect(api().getGameTypeByServerId(9999)).toBeNull();
    expect(api().getServerIdsByGameType('lobby')).toEqual([4000, 4001, 4002]);
    expect(api().getServerIdsByGameType('nope')).toEqual([]);
    expect(api().getServerLoadedModsById(5000)).toEqual([PROBE, 'extra']);
    expect(api().getServerLoadedModsById(0)).toEqual([PROBE]);
    expect(api().getServerLoadedModsByType('lobby')).toEqual([PROBE]);
    expect(api().getServerLoadedModsByType('nope')).toEqual([]);
    expect(api().isService(8000)).toBe(true);
    expect(api().isService(4000)).toBe(false);
  });

  it('the default login strategy spreads players over valid lobbies of their protocol version within max_players', async () => {
    const placed: number[] = [];
    for (let uid = 100; uid < 106; uid++) placed.push((await login(uid, 1)).serverId!);
    expect(placed.filter((s) => s === 4000)).toHaveLength(3);
    expect(placed.filter((s) => s === 4001)).toHaveLength(3);
    // Both protocol-1 lobbies are full: the 7th is refused (4002 speaks protocol 2, the game is not a lobby).
    expect((await refused(106)).reason).toBe('no-server-available');
    expect((await login(107, 2)).serverId).toBe(4002);
    // Online tracking: uids, servers, protocol versions.
    expect(api().getOnlineUidList().sort()).toEqual([100, 101, 102, 103, 104, 105, 107]);
    expect(api().getServerIdByUid(107)).toBe(4002);
    expect(api().getProtocolVersionByUid(107)).toBe(2);
    expect(api().getProtocolVersionByUid(100)).toBe(1);
    expect(master().serverManager.getServerProtocolVersion(4002)).toBe(2);
    expect(master().serverManager.getServerProtocolVersion(2000)).toBeNull();
    expect(api().getServerIdByUid(106)).toBeNull();
    expect(api().getProtocolVersionByUid(106)).toBeNull();
    // A lobby that is not valid (being stopped, reset...) gets nobody.
    await clients[0]!.close();
    await waitFor(() => api().getServerIdByUid(100) === null);
    expect(api().getOnlineUidList()).not.toContain(100);
    await logoutAll();
  });

  it('setLoginStrategy: a custom target (max_players no longer caps it), an invalid target refused, null restores the default', async () => {
    const asked: number[] = [];
    expect(
      api().setLoginStrategy((uid, cb) => {
        asked.push(uid);
        setTimeout(() => cb(uid === 666 ? 9999 : 4000), 5);
      }),
    ).toBe(true);
    for (let uid = 200; uid < 205; uid++) expect((await login(uid)).serverId).toBe(4000); // 5 > max_players 3
    expect((await refused(666)).reason).toBe('invalid-target');
    expect(asked).toEqual([200, 201, 202, 203, 204, 666]);
    expect(api().setLoginStrategy(null)).toBe(true);
    expect((await login(205)).serverId).toBe(4001);
    expect(api().setLoginStrategy('nope' as never)).toBe(false);
    await logoutAll();
  });

  it('banUser with combineReason: the login is refused with the seed text and the remaining time; getBanUserInfo gives the dict; unBanUser lets it in', async () => {
    const t0 = Math.floor(Date.now() / 1000);
    expect(await api().banUser(300, 86400, 'cheating', true)).toBe(true);
    const err = await refused(300);
    expect(err.reason).toBe('banned');
    expect(err.text).toBe(
      'Your account has been banned, the remaining ban time: 1 days 0 hours 0 minutes, ban reason: cheating. If you have any questions, please go to the customer service area for feedback',
    );
    const got: Got[] = [];
    const info = await api().getBanUserInfo(300, (uid, i) => got.push([uid, i]));
    expect(info).toEqual({ banTime: 86400, banTimestamp: expect.any(Number), reason: 'cheating' });
    expect((info as { banTimestamp: number }).banTimestamp - t0).toBeLessThanOrEqual(1);
    expect(got).toEqual([[300, info]]);
    expect(await api().unBanUser(300)).toBe(true);
    const after: Got[] = [];
    expect(await api().getBanUserInfo(300, (uid, i) => after.push([uid, i]))).toEqual({});
    expect(after).toEqual([[300, {}]]);
    expect((await login(300)).online).toBe(true);
    // Unbanning someone not banned is a successful setting too.
    expect(await api().unBanUser(301)).toBe(true);
    await logoutAll();
  });

  it('banUser -1 is permanent; without combineReason the player reads the reason alone', async () => {
    expect(await api().banUser(310, -1, 'bot farming', true)).toBe(true);
    expect((await refused(310)).text).toBe(
      'Your account has been permanently banned, ban reason: bot farming. If you have any questions, please go to the customer service area to give feedback',
    );
    expect(await api().getBanUserInfo(310)).toEqual({ banTime: -1, banTimestamp: expect.any(Number), reason: 'bot farming' });
    expect(await api().banUser(311, 86400, 'Banned for one day for cheating', false)).toBe(true);
    expect((await refused(311)).text).toBe('Banned for one day for cheating');
    expect(await api().banUser(312, -1, 'gone', false)).toBe(true);
    expect((await refused(312)).text).toBe('gone');
    // Bad arguments: false, nothing stored.
    expect(await api().banUser(313, 0, 'zero', true)).toBe(false);
    expect(await api().banUser(313, -2, 'negative', true)).toBe(false);
    expect(await api().banUser(1.5, 10, 'not an int', true)).toBe(false);
    expect(await api().getBanUserInfo(313)).toEqual({});
    for (const uid of [310, 311, 312]) expect(await api().unBanUser(uid)).toBe(true);
  });

  it('a ban ends by itself after banTime seconds', async () => {
    expect(await api().banUser(320, 1, 'short', true)).toBe(true);
    const text = (await refused(320)).text!;
    expect(text).toContain('the remaining ban time: 0 days 0 hours 1 minutes, ban reason: short.');
    // Whole seconds: it lasts at least 1 s and at most 2 s.
    await clock.advance(1000 - (clock.now() % 1000)); // to the next whole second: the ban's last one
    expect(await api().getBanUserInfo(320)).toMatchObject({ banTime: 1 });
    expect((await refused(320)).reason).toBe('banned');
    await clock.advance(1000);
    expect(await api().getBanUserInfo(320)).toEqual({});
    expect((await login(320)).online).toBe(true);
    await logoutAll();
  });

  it('banning an online player disconnects it with the same text', async () => {
    const c = await login(330);
    expect(await api().banUser(330, 3600, 'toxic', true)).toBe(true);
    await waitFor(() => c.closeText !== null, 5000, 'the kick');
    await clock.advance(300); // the proxy closes the connection a moment after the kick
    expect(await c.whenClosed()).toBe('banned');
    expect(c.closeText).toBe('Your account has been banned, the remaining ban time: 0 days 1 hours 0 minutes, ban reason: toxic. If you have any questions, please go to the customer service area for feedback');
    await waitFor(() => api().getServerIdByUid(330) === null);
    expect(await api().unBanUser(330)).toBe(true);
  });

  it('silentByUid / getUserSilentInfo / unSilentByUid: seconds, -1, {} when not muted; a mute does not stop a login', async () => {
    const got: Got[] = [];
    expect(await api().getUserSilentInfo(340, (uid, i) => got.push([uid, i]))).toEqual({});
    expect(await api().silentByUid(340, 600, 'said sensitive content')).toBe(true);
    expect(await api().silentByUid(341, -1, 'spam')).toBe(true);
    expect(await api().getUserSilentInfo(340, (uid, i) => got.push([uid, i]))).toEqual({ banTime: 600, banTimestamp: expect.any(Number), reason: 'said sensitive content' });
    expect(await api().getUserSilentInfo(341)).toEqual({ banTime: -1, banTimestamp: expect.any(Number), reason: 'spam' });
    expect(got.map(([uid]) => uid)).toEqual([340, 340]);
    expect(got[0]![1]).toEqual({});
    expect((got[1]![1] as { reason: string }).reason).toBe('said sensitive content');
    expect((await login(340)).online).toBe(true);
    expect(await api().getBanUserInfo(340)).toEqual({}); // a mute is not a ban
    expect(await api().unSilentByUid(340)).toBe(true);
    expect(await api().getUserSilentInfo(340)).toEqual({});
    expect(await api().silentByUid(342, 1, 'brief')).toBe(true);
    expect(await api().getUserSilentInfo(342)).toMatchObject({ banTime: 1 });
    await clock.advance(2000);
    expect(await api().getUserSilentInfo(342)).toEqual({});
    expect(await api().silentByUid(343, 0, 'bad')).toBe(false);
    expect(await api().unSilentByUid(341)).toBe(true);
    await logoutAll();
  });
});

describe('netgameApi: when the store fails', () => {
  const fx = useCluster({ bus: 'inprocess', config: apiConfig, options: () => ({ gateway: GATEWAYS.udp!() }), client: { mods: PROBE, protocolVersion: 1 } });

  it('info is null (callback too), bans and mutes resolve false, and logins are refused rather than let through', async () => {
    const api = fx.cluster.getSystem<ProbeMaster>(0, PROBE, 'master')!.netgameApi;
    expect(await api.banUser(400, 60, 'x', true)).toBe(true);
    await fx.cluster.node(0).part(MASTER_ROLE)!.sanctions!.store.close(); // the database goes away
    const got: Got[] = [];
    expect(await api.getBanUserInfo(400, (uid, i) => got.push([uid, i]))).toBeNull();
    expect(await api.getUserSilentInfo(400, (uid, i) => got.push([uid, i]))).toBeNull();
    expect(got).toEqual([
      [400, null],
      [400, null],
    ]);
    expect(await api.banUser(401, 60, 'x', true)).toBe(false);
    expect(await api.unBanUser(400)).toBe(false);
    expect(await api.silentByUid(401, 60, 'x')).toBe(false);
    expect(await api.unSilentByUid(401)).toBe(false);
    await expect(fx.login(402)).rejects.toMatchObject({ reason: 'master-unavailable' });
  });
});

describe('netgameApi on a master whose server id is not 0', () => {
  it('getServerLoadedModsById(0) is the master, as the seed has it', async () => {
    const cluster = await startCluster({ game_key: KEY, master: { serverid: 9, mods: `${PROBE},extra` }, serverlist: [{ serverid: 4000, type: 'lobby', ip: '127.0.0.1', port: 1, mods: PROBE }], servicelist: [] });
    try {
      const api = cluster.getSystem<ProbeMaster>(9, PROBE, 'master')!.netgameApi;
      expect(api.getServerLoadedModsById(0)).toEqual([PROBE, 'extra']);
      expect(api.getServerLoadedModsById(9)).toEqual([PROBE, 'extra']);
      expect(api.getServerLoadedModsById(4000)).toEqual([PROBE]);
    } finally {
      await cluster.stop();
    }
  });
});
