/**
 * Players: a client connects to a proxy with a connect token, the master places it, events flow
 * both ways, servers see AddServerPlayerEvent / DelServerPlayerEvent, transfers and kicks work.
 * Runs per bus and per gateway (GATEWAYS: add the UDP gateway there when it lands).
 */
import { describe, expect, it } from 'vitest';
import { createConnectToken, EngineEvents, GameClient, LoginRefusedError } from '../../../ts/cluster/index.js';
import { MASTER_ROLE } from '../../../ts/cluster/master/master-role.js';
import { BUSES, baseConfig, engineEvent as E, useCluster, waitFor, type BusKind, type RawConfig } from '../helpers/cluster.js';
import { GATEWAY_NAMES, GATEWAYS } from '../helpers/gateways.js';
import { PROBE, ProbeClient, ProbeMaster, ProbeServer, record } from '../helpers/probe-mod.js';

const KEY = 'test-game-key';
const SERVERS = [4000, 4001, 5000, 5001];

const cases = BUSES.flatMap((bus) => GATEWAY_NAMES.map((gw) => [bus, gw] as [BusKind, string]));

/** Lobby 4000 speaks protocol 1, lobby 4001 protocol 2; the games any. */
function playerConfig(): RawConfig {
  const c = baseConfig();
  c.serverlist[1]!.protocol_version = 1;
  c.serverlist[2]!.protocol_version = 2;
  return c;
}

describe.each(cases)('players over the %s bus, %s gateway', (bus, gatewayName) => {
  const fx = useCluster({ bus, config: playerConfig, options: () => ({ gateway: GATEWAYS[gatewayName]!() }), client: { mods: ['probe'] } });

  const master = () => fx.cluster.getSystem<ProbeMaster>(0, PROBE, 'master')!;
  const server = (id: number) => fx.cluster.getSystem<ProbeServer>(id, PROBE, 'server')!;

  const newClient = (pv: number | null = null) => fx.client({ protocolVersion: pv });
  const login = (uid: number, pv: number | null = null, c = newClient(pv)) => fx.login(uid, c);
  const sysOf = (c: GameClient) => c.getSystem<ProbeClient>(PROBE, 'client')!;

  it('logs in with a signed token: the master places the player, AddServerPlayerEvent fires, the client hears LoginResultEvent', async () => {
    const added = record(SERVERS.map(server), ...E(EngineEvents.AddServerPlayerEvent));
    const c = newClient();
    const results = record([sysOf(c)], ...E(EngineEvents.LoginResultEvent), () => 'client');
    const info = await login(2001, null, c);
    expect(info.online).toBe(true);
    expect(SERVERS).toContain(c.serverId);
    expect(c.uid).toBe(2001);
    await waitFor(() => added.length === 1);
    expect(added[0]).toEqual({
      at: c.serverId,
      data: { id: c.playerId, playerId: c.playerId, uid: 2001, proxyId: 2000, protocolVersion: null, isTransfer: false, transferParam: null, fromServerId: null },
    });
    expect(results[0]!.data).toMatchObject({ ok: true, uid: 2001, playerId: c.playerId, serverId: c.serverId });
    expect(master().netgameApi.getServerIdByUid(2001)).toBe(c.serverId);
    expect(master().netgameApi.getOnlineUidList()).toContain(2001);
    expect(server(c.serverId!).getPlayer(c.playerId!)).toEqual({ playerId: c.playerId, uid: 2001, proxyId: 2000, protocolVersion: null });
  });

  it('refuses forged, expired and bare-uid tokens', async () => {
    const a = fx.cluster.proxyAddress(2000);
    const forged = createConnectToken('not-the-game-key', 2002);
    await expect(newClient().login(a.host, a.port, forged)).rejects.toMatchObject({ reason: 'token-bad-signature' });
    const expired = createConnectToken(KEY, 2002, 60, Date.now() - 120_000);
    await expect(newClient().login(a.host, a.port, expired)).rejects.toMatchObject({ reason: 'token-expired' });
    const bare = newClient().login(a.host, a.port, 2002);
    await expect(bare).rejects.toBeInstanceOf(LoginRefusedError);
    await expect(bare).rejects.toMatchObject({ reason: 'token-malformed' });
    expect(master().netgameApi.getServerIdByUid(2002)).toBeNull();
  });

  it('routes events both ways: notifyToServer reaches the player\'s server, notifyToClient the player', async () => {
    const c = await login(2003);
    const atServer = record(SERVERS.map(server), PROBE, 'client', 'Ping');
    const atClient = record([sysOf(c)], PROBE, 'server', 'Pong', () => 'client');
    server(c.serverId!).listenForEvent(PROBE, 'client', 'Ping', (d: { __id__: string; n: number }) => server(c.serverId!).notifyToClient(d.__id__, 'Pong', { n: d.n + 1 }));
    for (let n = 0; n < 20; n++) sysOf(c).notifyToServer('Ping', { n });
    await waitFor(() => atClient.length === 20);
    // In order, each once, even over a transport that reorders and repeats.
    expect(atServer.map((g) => (g.data as { n: number }).n)).toEqual([...Array(20).keys()]);
    expect(atServer.every((g) => g.at === c.serverId)).toBe(true);
    expect(atClient.map((g) => (g.data as { n: number }).n)).toEqual([...Array(20).keys()].map((n) => n + 1));
  });

  it('an AddServerPlayerEvent listener may talk to the client at once: the client is online when it hears it', async () => {
    const welcomes: Array<{ online: boolean }> = [];
    for (const id of SERVERS) {
      server(id).listenForEvent(...E(EngineEvents.AddServerPlayerEvent), (d: { playerId: string; uid: number }) => {
        if (d.uid === 2004) server(id).notifyToClient(d.playerId, 'Welcome', { uid: d.uid });
      });
    }
    const c = newClient();
    sysOf(c).listenForEvent(PROBE, 'server', 'Welcome', () => void welcomes.push({ online: c.online }));
    await login(2004, null, c);
    await waitFor(() => welcomes.length === 1);
    expect(welcomes).toEqual([{ online: true }]);
  });

  it('a client that leaves fires DelServerPlayerEvent and goes off the master\'s list', async () => {
    const c = await login(2005);
    const removed = record(SERVERS.map(server), ...E(EngineEvents.DelServerPlayerEvent));
    await c.close();
    await waitFor(() => removed.length === 1);
    expect(removed[0]).toEqual({ at: c.serverId, data: { id: c.playerId, playerId: c.playerId, uid: 2005, proxyId: 2000, isTransfer: false, reason: 'logout' } });
    await waitFor(() => master().netgameApi.getServerIdByUid(2005) === null);
    expect(server(c.serverId!).getPlayerIds()).not.toContain(c.playerId);
  });

  it('places players by protocol version and spreads them over the lobbies', async () => {
    const v1 = await login(2010, 1);
    const v2 = await login(2011, 2);
    expect(v1.serverId).toBe(4000);
    expect(v2.serverId).toBe(4001);
    expect(master().netgameApi.getProtocolVersionByUid(2011)).toBe(2);
    expect(master().serverManager.getServerProtocolVersion(4001)).toBe(2);
    const before = master().serverManager.getAllServersOnlineNum();
    const any = await Promise.all([2012, 2013, 2014, 2015].map((uid) => login(uid)));
    const after = master().serverManager.getAllServersOnlineNum();
    const added4000 = after[4000]! - before[4000]!;
    const added4001 = after[4001]! - before[4001]!;
    expect(added4000 + added4001).toBe(4);
    expect(Math.abs(added4000 + before[4000]! - (added4001 + before[4001]!))).toBeLessThanOrEqual(1);
    expect(any.every((c) => c.serverType === 'lobby')).toBe(true);
    expect(master().serverManager.getOnlineNumByServerId(2000)).toBe(master().serverManager.getTotalOnlineNum());
  });

  it('transferToServer by server id moves the player: Del/Add with isTransfer, the client follows', async () => {
    const c = await login(2020);
    const from = c.serverId!;
    const added = record(SERVERS.map(server), ...E(EngineEvents.AddServerPlayerEvent));
    const removed = record(SERVERS.map(server), ...E(EngineEvents.DelServerPlayerEvent));
    const moved = record([sysOf(c)], ...E(EngineEvents.ClientTransferEvent), () => 'client');
    const r = await server(from).transferToServer(c.playerId!, 5000, { reason: 'match found' });
    expect(r).toEqual({ ok: true, serverId: 5000, reason: null });
    await waitFor(() => added.length === 1 && removed.length === 1 && moved.length === 1);
    expect(removed[0]).toMatchObject({ at: from, data: { playerId: c.playerId, isTransfer: true, reason: 'transfer' } });
    expect(added[0]).toMatchObject({ at: 5000, data: { playerId: c.playerId, uid: 2020, isTransfer: true, transferParam: { reason: 'match found' }, fromServerId: from } });
    expect(moved[0]!.data).toEqual({ fromServerId: from, serverId: 5000, serverType: 'survivalGame' });
    expect(c.serverId).toBe(5000);
    expect(master().netgameApi.getServerIdByUid(2020)).toBe(5000);
    // Events now go to and come from the new server.
    const atServer = record(SERVERS.map(server), PROBE, 'client', 'AfterTransfer');
    sysOf(c).notifyToServer('AfterTransfer', {});
    await waitFor(() => atServer.length === 1);
    expect(atServer[0]!.at).toBe(5000);
    const atClient = record([sysOf(c)], PROBE, 'server', 'FromGame', () => 'client');
    server(5000).notifyToClient(c.playerId!, 'FromGame', { hi: 1 });
    await waitFor(() => atClient.length === 1);
  });

  it('transferToServer by type picks a server of that type; bad targets are refused', async () => {
    const c = await login(2021);
    const from = c.serverId!;
    expect(await server(from).transferToServer(c.playerId!, 'battle')).toEqual({ ok: true, serverId: 5001, reason: null });
    await waitFor(() => c.serverId === 5001);
    expect(await server(5001).transferToServer(c.playerId!, 8000)).toMatchObject({ ok: false, reason: 'invalid-target' });
    expect(await server(5001).transferToServer(c.playerId!, 'nosuchtype')).toMatchObject({ ok: false, reason: 'no-server-of-type' });
    expect(await server(5001).transferToServer(c.playerId!, 5001)).toMatchObject({ ok: false, reason: 'already-there' });
    expect(await server(4000).transferToServer(c.playerId!, 5000)).toMatchObject({ ok: false, reason: 'not-on-server' });
    // A failed transfer leaves the player where it was, still reachable.
    const atServer = record([server(5001)], PROBE, 'client', 'Still');
    sysOf(c).notifyToServer('Still', {});
    await waitFor(() => atServer.length === 1);
  });

  it('kickPlayer disconnects the client with the reason', async () => {
    const c = await login(2030);
    const removed = record(SERVERS.map(server), ...E(EngineEvents.DelServerPlayerEvent));
    const gone = record([sysOf(c)], ...E(EngineEvents.ClientDisconnectEvent), () => 'client');
    server(c.serverId!).kickPlayer(c.playerId!, 'cheating');
    expect(await c.whenClosed()).toBe('cheating');
    await waitFor(() => removed.length === 1 && gone.length === 1);
    expect(removed[0]!.data).toMatchObject({ uid: 2030, reason: 'cheating', isTransfer: false });
    expect(gone[0]!.data).toEqual({ reason: 'cheating' });
    await waitFor(() => master().netgameApi.getServerIdByUid(2030) === null);
  });

  it('a second login of the same uid takes over; the first client is kicked', async () => {
    const first = await login(2040);
    const second = await login(2040);
    expect(await first.whenClosed()).toBe('login-elsewhere');
    expect(second.online).toBe(true);
    await waitFor(() => master().netgameApi.getServerIdByUid(2040) === second.serverId, 5000, 'the master places the second login');
    const atServer = record(SERVERS.map(server), PROBE, 'client', 'Me');
    sysOf(second).notifyToServer('Me', {});
    await waitFor(() => atServer.length === 1);
    expect((atServer[0]!.data as { __id__: string }).__id__).toBe(second.playerId);
  });

  it('setLoginStrategy decides where players go', async () => {
    master().netgameApi.setLoginStrategy((uid, callback) => callback(uid % 2 === 0 ? 5001 : 5000));
    try {
      expect((await login(2050)).serverId).toBe(5001);
      expect((await login(2051)).serverId).toBe(5000);
      master().netgameApi.setLoginStrategy((_uid, callback) => setTimeout(() => callback(8000), 10));
      await expect(login(2052)).rejects.toMatchObject({ reason: 'invalid-target' });
    } finally {
      fx.cluster.node(0).part(MASTER_ROLE)!.setLoginStrategy(null);
    }
  });
});

describe('players: limits and the dev flag', () => {
  const fx = useCluster({
    bus: 'inprocess',
    config: () => ({
      game_key: KEY,
      dev_bare_uid_login: true,
      master: { serverid: 0, mods: 'probe' },
      serverlist: [
        { serverid: 2000, type: 'proxy', ip: '127.0.0.1', port: 0 },
        { serverid: 4000, type: 'lobby', ip: '127.0.0.1', port: 1, mods: 'probe', max_players: 1 },
        { serverid: 5000, type: 'game', ip: '127.0.0.1', port: 2, mods: 'probe' },
      ],
      servicelist: [],
    }),
    options: () => ({ gateway: GATEWAYS.loopback!() }),
    client: { mods: 'probe' },
  });

  it('with dev_bare_uid_login a bare uid logs in; max_players caps a lobby', async () => {
    const a = fx.cluster.proxyAddress(2000);
    const [c1, c2] = [fx.client(), fx.client()];
    expect((await c1.login(a.host, a.port, 77)).serverId).toBe(4000);
    await expect(c2.login(a.host, a.port, '78')).rejects.toMatchObject({ reason: 'no-server-available' });
    await c1.close();
    await waitFor(() => fx.cluster.getSystem<ProbeMaster>(0, PROBE, 'master')!.serverManager.getOnlineNumByServerId(4000) === 0);
    expect((await fx.client().login(a.host, a.port, 79)).serverId).toBe(4000);
  });
});
