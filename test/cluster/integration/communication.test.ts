/**
 * Every communication method of the systems, on the systems that have it, with real nodes, on
 * both buses (in-process and a real nats-server). RPC deadlines are driven by a ManualClock.
 */
import { describe, expect, it } from 'vitest';
import type { EventData, RpcResult } from '../../../ts/cluster/index.js';
import { BUSES, baseConfig, drained, sleep, useCluster, waitFor } from '../helpers/cluster.js';
import { ManualClock } from '../../helpers/manual-clock.js';
import { createLoopbackGateway } from '../helpers/loopback-gateway.js';
import { PROBE, ProbeClient, ProbeMaster, ProbeServer, ProbeService, record } from '../helpers/probe-mod.js';

const KEY = 'test-game-key';
const SERVERS = [4000, 4001, 5000, 5001];
const SERVICES = [8000, 8001, 8002];

describe.each(BUSES)('communication over the %s bus', (bus) => {
  const fx = useCluster({ bus, config: baseConfig, options: () => ({ gateway: createLoopbackGateway() }), client: { mods: 'probe' } });

  const master = () => fx.cluster.getSystem<ProbeMaster>(0, PROBE, 'master')!;
  const server = (id: number) => fx.cluster.getSystem<ProbeServer>(id, PROBE, 'server')!;
  const service = (id: number) => fx.cluster.getSystem<ProbeService>(id, PROBE, 'service')!;
  const everyNodeSystem = () => [master(), ...SERVERS.map(server), ...SERVICES.map(service)];

  async function login(uid: number) {
    const client = await fx.login(uid);
    return { client, sys: client.getSystem<ProbeClient>(PROBE, 'client')! };
  }

  it('starts every node and registers it with the master', async () => {
    expect(fx.cluster.serverIds.sort((a, b) => a - b)).toEqual([0, 2000, 4000, 4001, 5000, 5001, 8000, 8001, 8002]);
    for (const id of fx.cluster.serverIds) expect(await fx.cluster.node(id).whenMasterConnected(0.01)).toBe(true);
    expect(master().serverManager.getConnectedLobbyAndGameIds().sort()).toEqual(SERVERS);
    expect(server(4000).serverId).toBe(4000);
    expect(server(4000).serverType).toBe('lobby');
    expect(service(8002).serverType).toBe('rank');
    expect(service(8002).moduleNames).toEqual(['rank_module']);
    expect(master().config.game_key).toBe(KEY);
    // A system listening from its constructor hears the first registration.
    for (const id of SERVERS) expect(server(id).masterStatus).toEqual([true]);
    for (const id of SERVICES) expect(service(id).masterStatus).toEqual([true]);
  });

  it("the master's netgameApi and serverManager read the registry", () => {
    const api = master().netgameApi;
    const common = api.getCommonConfig() as { game_key: string; serverlist: unknown[] };
    expect(common.game_key).toBe(KEY);
    expect(common.serverlist).toHaveLength(5);
    expect(api.getGameTypeByServerId(5000)).toBe('survivalGame');
    expect(api.getGameTypeByServerId(1234)).toBeNull();
    expect(api.getServerIdsByGameType('lobby')).toEqual([4000, 4001]);
    expect(api.getServerIdsByGameType('none')).toEqual([]);
    expect(api.getServerLoadedModsById(4000)).toEqual(['probe']);
    expect(api.getServerLoadedModsById(0)).toEqual(['probe']);
    expect(api.getServerLoadedModsByType('sign')).toEqual(['probe']);
    expect(api.isService(8001)).toBe(true);
    expect(api.isService(4001)).toBe(false);
    const sm = master().serverManager;
    const status = sm.getAllServerStatus();
    expect(Object.keys(status).map(Number).sort((a, b) => a - b)).toEqual([2000, 4000, 4001, 5000, 5001, 8000, 8001, 8002]);
    expect(Object.values(status).every((v) => v === 2)).toBe(true);
    expect(sm.getOneServerStatus(8002)).toBe(2);
    expect(sm.isConnectedServer(2000)).toBe(true);
    expect(sm.isValidServer(4001)).toBe(true);
    expect(sm.isValidServer(4242)).toBe(false);
    expect(sm.getOnlineNumByServerType('lobby')).toBe(sm.getOnlineNumByServerId(4000) + sm.getOnlineNumByServerId(4001));
  });

  it('a message larger than the bus takes is refused with an error, on both buses', () => {
    const big = { blob: 'x'.repeat(1024 * 1024 + 1) };
    expect(() => master().notifyToServerNode(4000, 'Big', big)).toThrow(/exceeds the bus limit/);
    expect(() => server(4000).requestToServiceMod('rank', 'Big', big, () => {
      throw new Error('must not be called');
    })).toThrow(/exceeds the bus limit/);
    expect(fx.cluster.node(4000).rpc.size).toBe(0);
  });

  // ─── client ⇄ lobby/game ───────────────────────────────────────────────────────────────────

  it('notifyToClient (ServerSystem) reaches that player, addressed by the sending system', async () => {
    const { client, sys } = await login(1001);
    const got = record([sys], PROBE, 'server', 'PlayerJoinOKEvent', () => 'client');
    const wrongSender = record([sys], PROBE, 'service', 'PlayerJoinOKEvent', () => 'client');
    const marker = record([sys], PROBE, 'server', 'Marker');
    server(client.serverId!).notifyToClient(client.playerId!, 'PlayerJoinOKEvent', { uid: 123, name: 'nickname' });
    server(client.serverId!).notifyToClient(client.playerId!, 'Marker', {});
    await waitFor(() => marker.length === 1); // the same path, in order: anything else would be here by now
    expect(got).toEqual([{ at: 'client', data: { uid: 123, name: 'nickname' } }]);
    expect(wrongSender).toEqual([]);
  });

  it('notifyToServer (ClientSystem) reaches the lobby/game the player is on, with __id__', async () => {
    const { client, sys } = await login(1002);
    const got = record(SERVERS.map(server), PROBE, 'client', 'PlayerJoinEvent');
    const marker = record(SERVERS.map(server), PROBE, 'client', 'Marker');
    sys.notifyToServer('PlayerJoinEvent', { uid: 123, name: 'nickname' });
    sys.notifyToServer('Marker', {});
    await waitFor(() => marker.length === 1);
    expect(got).toEqual([{ at: client.serverId, data: { uid: 123, name: 'nickname', __id__: client.playerId } }]);
  });

  it('a client cannot speak for another system: a forged sender is dropped and counted', async () => {
    const { client } = await login(1006);
    const lobby = fx.cluster.node(client.serverId!);
    const asMaster = record(everyNodeSystem(), PROBE, 'master', 'Forged');
    const asEngine = record(everyNodeSystem(), 'gamewire', 'Engine', 'AddServerPlayerEvent');
    const before = lobby.stats.forged;
    const svcBefore = fx.cluster.node(8000).stats.forged;
    client.send({ t: 'ev', ns: PROBE, sys: 'master', ev: 'Forged', data: {} });
    client.send({ t: 'ev', ns: 'gamewire', sys: 'Engine', ev: 'AddServerPlayerEvent', data: { uid: 1 } });
    client.send({ t: 'sev', to: 8000, ns: PROBE, sys: 'master', ev: 'Forged', data: {} });
    await waitFor(() => lobby.stats.forged === before + 2 && fx.cluster.node(8000).stats.forged === svcBefore + 1);
    expect(asMaster).toEqual([]);
    expect(asEngine).toEqual([]);
  });

  // ─── to the master ─────────────────────────────────────────────────────────────────────────

  it('notifyToMaster from a ServerSystem and from a ServiceSystem', async () => {
    const fromServer = record([master()], PROBE, 'server', 'PlayerJoinOKEvent');
    const fromService = record([master()], PROBE, 'service', 'ServiceEvent');
    server(4001).notifyToMaster('PlayerJoinOKEvent', { uid: 123 });
    service(8002).notifyToMaster('ServiceEvent', { n: 1 });
    await waitFor(() => fromServer.length === 1 && fromService.length === 1);
    expect(fromServer[0]).toEqual({ at: 0, data: { uid: 123 } });
    expect(fromService[0]).toEqual({ at: 0, data: { n: 1 } });
  });

  // ─── to one lobby/game ─────────────────────────────────────────────────────────────────────

  it('notifyToServerNode from the MasterSystem and from a ServiceSystem reaches only that lobby/game', async () => {
    const fromMaster = record(everyNodeSystem(), PROBE, 'master', 'PlayerJoinEvent');
    const fromService = record(everyNodeSystem(), PROBE, 'service', 'PlayerJoinEvent');
    master().notifyToServerNode(4001, 'PlayerJoinEvent', { uid: 1 });
    service(8000).notifyToServerNode(5000, 'PlayerJoinEvent', { uid: 2 });
    await waitFor(() => fromMaster.length === 1 && fromService.length === 1);
    await drained(fx.cluster, 0, everyNodeSystem());
    await drained(fx.cluster, 8000, everyNodeSystem());
    expect(fromMaster).toEqual([{ at: 4001, data: { uid: 1 } }]);
    expect(fromService).toEqual([{ at: 5000, data: { uid: 2 } }]);
  });

  it('notifyToServerNode to a server id that is not a lobby/game is dropped and counted', async () => {
    const got = record(everyNodeSystem(), PROBE, 'master', 'Nowhere');
    const before = fx.cluster.node(0).stats.misaddressed;
    master().notifyToServerNode(8000, 'Nowhere', {});
    master().notifyToServerNode(9999, 'Nowhere', {});
    expect(fx.cluster.node(0).stats.misaddressed).toBe(before + 2);
    await drained(fx.cluster, 0, everyNodeSystem());
    expect(got).toEqual([]);
  });

  // ─── to one service ────────────────────────────────────────────────────────────────────────

  it('notifyToServiceNode from master, lobby/game, service and client reaches only that service', async () => {
    const { client, sys } = await login(1003);
    const all = everyNodeSystem();
    const fromMaster = record(all, PROBE, 'master', 'MasterEvent');
    const fromServer = record(all, PROBE, 'server', 'ServerEvent');
    const fromService = record(all, PROBE, 'service', 'ServiceEvent');
    const fromClient = record(all, PROBE, 'client', 'ClientToServiceEvent');
    master().notifyToServiceNode(8000, 'MasterEvent', { a: 1 });
    server(4000).notifyToServiceNode(8001, 'ServerEvent', { b: 2 });
    service(8000).notifyToServiceNode(8002, 'ServiceEvent', { c: 3 });
    sys.notifyToServiceNode(8001, 'ClientToServiceEvent', { name: 'nickname' });
    await waitFor(() => fromMaster.length + fromServer.length + fromService.length + fromClient.length === 4);
    for (const from of [0, 4000, 8000]) await drained(fx.cluster, from, all);
    expect(fromMaster).toEqual([{ at: 8000, data: { a: 1 } }]);
    expect(fromServer).toEqual([{ at: 8001, data: { b: 2 } }]);
    expect(fromService).toEqual([{ at: 8002, data: { c: 3 } }]);
    expect(fromClient).toEqual([{ at: 8001, data: { name: 'nickname', __proxyId__: 2000, __uid__: client.uid } }]);
  });

  // ─── broadcasts ────────────────────────────────────────────────────────────────────────────

  it('broadcastToService from master, lobby/game and service reaches every service once and nothing else', async () => {
    const all = everyNodeSystem();
    const m = record(all, PROBE, 'master', 'MasterBroadcastEvent');
    const s = record(all, PROBE, 'server', 'ServerBroadcastEvent');
    const v = record(all, PROBE, 'service', 'ServiceBroadcastEvent');
    master().broadcastToService('MasterBroadcastEvent', { x: 1 });
    server(5001).broadcastToService('ServerBroadcastEvent', { x: 2 });
    service(8002).broadcastToService('ServiceBroadcastEvent', { x: 3 });
    await waitFor(() => m.length === 3 && s.length === 3 && v.length === 3);
    for (const from of [0, 5001, 8002]) await drained(fx.cluster, from, all);
    for (const got of [m, s, v]) {
      expect(got.map((g) => g.at).sort()).toEqual(SERVICES);
    }
  });

  it('broadcastToServerByType reaches every lobby/game of that type once and no other node', async () => {
    const all = everyNodeSystem();
    const lobby = record(all, PROBE, 'service', 'LobbyNews');
    const survival = record(all, PROBE, 'service', 'SurvivalNews');
    service(8000).broadcastToServerByType('lobby', 'LobbyNews', { n: 1 });
    service(8002).broadcastToServerByType('survivalGame', 'SurvivalNews', { n: 2 });
    service(8002).broadcastToServerByType('nosuchtype', 'SurvivalNews', { n: 3 });
    await waitFor(() => lobby.length === 2 && survival.length === 1);
    for (const from of [8000, 8002]) await drained(fx.cluster, from, all);
    expect(lobby.map((g) => g.at).sort()).toEqual([4000, 4001]);
    expect(survival).toEqual([{ at: 5000, data: { n: 2 } }]);
  });

  // ─── service → client ──────────────────────────────────────────────────────────────────────

  it('remoteNotifyToClient (ServiceSystem) reaches a client through its proxy', async () => {
    const { client, sys } = await login(1004);
    const other = await login(1005);
    const got = record([sys], PROBE, 'service', 'ServiceToClientEvent', () => 'a');
    const gotOther = record([other.sys], PROBE, 'service', 'ServiceToClientEvent', () => 'b');
    // The proxy id comes with the client's events (notifyToServiceNode adds __proxyId__ and __uid__).
    const hello = record([service(8002)], PROBE, 'client', 'Hello');
    sys.notifyToServiceNode(8002, 'Hello', {});
    await waitFor(() => hello.length === 1);
    const { __uid__, __proxyId__ } = hello[0]!.data as { __uid__: number; __proxyId__: number };
    service(8002).remoteNotifyToClient(__uid__, __proxyId__, 'ServiceToClientEvent', { uid: client.uid, name: 'nickname' });
    const marker = record([other.sys], PROBE, 'service', 'Marker');
    service(8002).remoteNotifyToClient(other.client.uid!, __proxyId__, 'Marker', {});
    await waitFor(() => got.length === 1 && marker.length === 1);
    expect(got[0]!.data).toEqual({ uid: 1004, name: 'nickname' });
    expect(gotOther).toEqual([]);
  });

  // ─── RPC ───────────────────────────────────────────────────────────────────────────────────

  it('registerRpcMethod (service) + requestToService route by module_names, from lobby/game, service and master', async () => {
    for (const id of [8000, 8001]) {
      service(id).registerRpcMethod('idv_service', 'PlayerJoinOKEvent', (serverId, callbackId, args) => {
        service(id).responseToServer(serverId, callbackId, { result: 1, by: id, echo: args });
      });
    }
    service(8002).registerRpcMethod('rank_module', 'GetRank', (serverId, callbackId, args: { uid: number }) => {
      service(8002).responseToServer(serverId, callbackId, { rank: args.uid % 10, by: 8002, asker: serverId });
    });
    const calls: Array<[boolean, unknown]> = [];
    const r1 = await server(4000).requestToService('idv_service', 'PlayerJoinOKEvent', { uid: 123 }, (ok, data) => calls.push([ok, data]), 2);
    expect(r1.ok).toBe(true);
    expect([8000, 8001]).toContain((r1.data as { by: number }).by);
    expect(r1.data).toMatchObject({ result: 1, echo: { uid: 123 } });
    expect(calls).toEqual([[true, r1.data]]);
    const r2 = await service(8000).requestToService('rank_module', 'GetRank', { uid: 42 });
    expect(r2).toEqual({ ok: true, data: { rank: 2, by: 8002, asker: 8000 } });
    const r3 = await master().requestToService('rank_module', 'GetRank', { uid: 7 });
    expect(r3).toEqual({ ok: true, data: { rank: 7, by: 8002, asker: 0 } });
  });

  it('registerRpcMethod (master) serves a module the services request with requestToService', async () => {
    master().registerRpcMethod('master_module', 'RequestMasterEvent', (serverId, callbackId, args) => {
      master().responseToServer(serverId, callbackId, { result: 'hello', args });
    });
    // The master subscribes to the module's subject now; over NATS that is one round trip away.
    await fx.cluster.node(0).busConnection!.flush();
    const got: Array<[boolean, unknown]> = [];
    const r = await service(8001).requestToService('master_module', 'RequestMasterEvent', { uid: 123 }, (ok, data) => got.push([ok, data]), 2);
    expect(r).toEqual({ ok: true, data: { result: 'hello', args: { uid: 123 } } });
    expect(got).toEqual([[true, { result: 'hello', args: { uid: 123 } }]]);
  });

  it('one handler per event: a later registerRpcMethod replaces the earlier', async () => {
    const s = service(8002);
    s.registerRpcMethod('rank_module', 'Which', (sid, cb) => s.responseToServer(sid, cb, { v: 'first' }));
    s.registerRpcMethod('rank_module', 'Which', (sid, cb) => s.responseToServer(sid, cb, { v: 'second' }));
    expect(await server(4001).requestToService('rank_module', 'Which', {})).toEqual({ ok: true, data: { v: 'second' } });
    s.registerRpcMethodForMod('WhichMod', (sid, cb) => s.responseToServer(sid, cb, { v: 'first' }));
    s.registerRpcMethodForMod('WhichMod', (sid, cb) => s.responseToServer(sid, cb, { v: 'second' }));
    expect(await server(4001).requestToServiceMod('rank', 'WhichMod', {})).toEqual({ ok: true, data: { v: 'second' } });
  });

  it('registerRpcMethodForMod + requestToServiceMod route by service type, from master, lobby/game and service', async () => {
    for (const id of SERVICES) {
      service(id).registerRpcMethodForMod('PlayerJoinOKEvent', (serverId, callbackId, args) => {
        service(id).responseToServer(serverId, callbackId, { result: 1, by: id, type: service(id).serverType, args });
      });
    }
    const fromMaster = await master().requestToServiceMod('rank', 'PlayerJoinOKEvent', { uid: 1 });
    expect(fromMaster).toEqual({ ok: true, data: { result: 1, by: 8002, type: 'rank', args: { uid: 1 } } });
    const fromServer = await server(5000).requestToServiceMod('sign', 'PlayerJoinOKEvent', { uid: 2 });
    expect(fromServer.ok).toBe(true);
    expect((fromServer.data as { type: string }).type).toBe('sign');
    const fromService = await service(8002).requestToServiceMod('sign', 'PlayerJoinOKEvent', { uid: 3 });
    expect((fromService.data as { type: string }).type).toBe('sign');
  });

  it('two instances of a service type share the requests (queue group), each request answered once', async () => {
    for (const id of [8000, 8001]) {
      service(id).registerRpcMethodForMod('Share', (serverId, callbackId) => service(id).responseToServer(serverId, callbackId, { by: id }));
    }
    const callbacks: number[] = [];
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => server(4000).requestToServiceMod<{ by: number }>('sign', 'Share', { i }, (ok, d) => ok && callbacks.push(d!.by))),
    );
    const by = results.map((r) => r.data!.by);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(callbacks).toHaveLength(40);
    const a = by.filter((x) => x === 8000).length;
    const b = by.filter((x) => x === 8001).length;
    expect(a + b).toBe(40);
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
    if (bus === 'inprocess') expect(a).toBe(20); // round-robin in process; NATS picks at random
    // By module too: idv_service is on both.
    const mods = await Promise.all(Array.from({ length: 30 }, () => server(4001).requestToService<{ by: number }>('idv_service', 'PlayerJoinOKEvent', {})));
    const byMod = new Set(mods.map((r) => r.data!.by));
    expect(byMod).toEqual(new Set([8000, 8001]));
  });

  it('an answer given twice reaches the callback once; the second is counted late', async () => {
    const s = service(8002);
    s.registerRpcMethodForMod('Twice', (serverId, callbackId) => {
      s.responseToServer(serverId, callbackId, { n: 1 });
      s.responseToServer(serverId, callbackId, { n: 2 });
    });
    const asker = fx.cluster.node(5001);
    const lateBefore = asker.rpc.stats.late;
    const calls: unknown[] = [];
    const r = await server(5001).requestToServiceMod('rank', 'Twice', {}, (ok, d) => calls.push(d), 1);
    expect(r).toEqual({ ok: true, data: { n: 1 } });
    await waitFor(() => asker.rpc.stats.late === lateBefore + 1);
    expect(calls).toEqual([{ n: 1 }]);
  });

  it('a responder may answer asynchronously, and the handler gets the caller id and a callback id', async () => {
    const s = service(8002);
    const seen: Array<[number, number]> = [];
    s.registerRpcMethodForMod('Async', async (serverId, callbackId, args: { x: number }) => {
      seen.push([serverId, callbackId]);
      await sleep(30);
      s.responseToServer(serverId, callbackId, { y: args.x * 2 });
    });
    expect(await master().requestToServiceMod('rank', 'Async', { x: 21 })).toEqual({ ok: true, data: { y: 42 } });
    expect(seen[0]![0]).toBe(0);
    expect(Number.isInteger(seen[0]![1])).toBe(true);
  });

  it('a bad timeout is refused', () => {
    expect(() => server(4000).requestToServiceMod('rank', 'X', {}, null, 0)).toThrow(/timeout/);
    expect(() => server(4000).requestToService('rank_module', 'X', {}, null, -1)).toThrow(/timeout/);
  });

  // ─── listeners ─────────────────────────────────────────────────────────────────────────────

  it('unListenForEvent stops delivery; the (instance, method) form works too', async () => {
    const s = server(4000);
    const got: EventData[] = [];
    const handler = (d: EventData) => void got.push(d);
    const holder = {
      seen: [] as EventData[],
      on(d: EventData) {
        this.seen.push(d);
      },
    };
    s.listenForEvent(PROBE, 'master', 'Toggle', handler);
    s.listenForEvent(PROBE, 'master', 'Toggle', holder, holder.on);
    master().notifyToServerNode(4000, 'Toggle', { n: 1 });
    await waitFor(() => got.length === 1 && holder.seen.length === 1);
    s.unListenForEvent(PROBE, 'master', 'Toggle', handler);
    s.unListenForEvent(PROBE, 'master', 'Toggle', holder, holder.on);
    master().notifyToServerNode(4000, 'Toggle', { n: 2 });
    await drained(fx.cluster, 0, [s]);
    expect(got).toEqual([{ n: 1 }]);
    expect(holder.seen).toEqual([{ n: 1 }]);
  });

  it('the table: each system has exactly its methods', () => {
    const has = (o: object, m: string) => typeof (o as Record<string, unknown>)[m] === 'function';
    const table: Record<string, Array<[object, boolean]>> = {
      notifyToClient: [[server(4000), true], [master(), false], [service(8000), false]],
      notifyToServer: [[ProbeClient.prototype, true], [server(4000), false]],
      notifyToMaster: [[server(4000), true], [service(8000), true], [master(), false], [ProbeClient.prototype, false]],
      notifyToServerNode: [[master(), true], [service(8000), true], [server(4000), false]],
      notifyToServiceNode: [[master(), true], [server(4000), true], [service(8000), true], [ProbeClient.prototype, true]],
      broadcastToService: [[master(), true], [server(4000), true], [service(8000), true], [ProbeClient.prototype, false]],
      broadcastToServerByType: [[service(8000), true], [master(), false], [server(4000), false]],
      remoteNotifyToClient: [[service(8000), true], [server(4000), false], [master(), false]],
      registerRpcMethod: [[service(8000), true], [master(), true], [server(4000), false]],
      registerRpcMethodForMod: [[service(8000), true], [master(), false], [server(4000), false]],
      requestToService: [[master(), true], [server(4000), true], [service(8000), true], [ProbeClient.prototype, false]],
      requestToServiceMod: [[master(), true], [server(4000), true], [service(8000), true], [ProbeClient.prototype, false]],
      responseToServer: [[service(8000), true], [master(), true], [server(4000), false]],
      listenForEvent: [[master(), true], [server(4000), true], [service(8000), true], [ProbeClient.prototype, true]],
      unListenForEvent: [[master(), true], [server(4000), true], [service(8000), true], [ProbeClient.prototype, true]],
    };
    for (const [method, rows] of Object.entries(table)) {
      for (const [obj, want] of rows) expect(has(obj, method), `${method} on ${obj.constructor.name}`).toBe(want);
    }
  });
});

describe.each(BUSES)('RPC deadlines over the %s bus, on a clock the test drives', (bus) => {
  const clock = new ManualClock();
  // Heartbeats far apart: only the deadlines under test fall due while the test moves the clock.
  const fx = useCluster({ bus, config: baseConfig, options: () => ({ gateway: createLoopbackGateway(), clock, heartbeatInterval: 60, nodeTimeout: 600 }) });
  const server = (id: number) => fx.cluster.getSystem<ProbeServer>(id, PROBE, 'server')!;
  const service = (id: number) => fx.cluster.getSystem<ProbeService>(id, PROBE, 'service')!;
  const master = () => fx.cluster.getSystem<ProbeMaster>(0, PROBE, 'master')!;

  it('a request nobody answers calls back (false, null) once, at its timeout and not before; the Promise gives { ok: false, data: null }', async () => {
    service(8002).registerRpcMethodForMod('Silent', () => {
      /* never answers */
    });
    const calls: Array<[boolean, unknown]> = [];
    const r = server(4000).requestToServiceMod('rank', 'Silent', {}, (ok, data) => calls.push([ok, data]), 0.3);
    await clock.advance(299);
    expect(calls).toEqual([]);
    await clock.advance(1);
    expect(calls).toEqual([[false, null]]);
    expect(await r).toEqual({ ok: false, data: null } satisfies RpcResult);
    await clock.advance(10_000);
    expect(calls).toHaveLength(1);
    // No node of the type at all, no module at all: the same.
    const none = master().requestToServiceMod('nosuchtype', 'X', {}, null, 0.2);
    const noModule = master().requestToService('no_module', 'X', {}, undefined, 0.2);
    await clock.advance(200);
    expect(await none).toEqual({ ok: false, data: null });
    expect(await noModule).toEqual({ ok: false, data: null });
  });

  it('the default timeout is 2 seconds', async () => {
    let done: boolean | null = null;
    void server(4000).requestToServiceMod('rank', 'Silent', {}, (ok) => void (done = ok));
    await clock.advance(1999);
    expect(done).toBeNull();
    await clock.advance(1);
    expect(done).toBe(false);
  });

  it('responseToServer after the timeout: the answer is dropped and counted, the callback ran once', async () => {
    const s = service(8002);
    const held: Array<[number, number]> = [];
    s.registerRpcMethodForMod('Slow', (serverId, callbackId) => void held.push([serverId, callbackId]));
    const asker = fx.cluster.node(4001);
    const lateBefore = asker.rpc.stats.late;
    const calls: Array<[boolean, unknown]> = [];
    const r = server(4001).requestToServiceMod('rank', 'Slow', {}, (ok, d) => calls.push([ok, d]), 0.15);
    await waitFor(() => held.length === 1, 5000, 'the request at the service');
    await clock.advance(150);
    expect(await r).toEqual({ ok: false, data: null });
    s.responseToServer(held[0]![0], held[0]![1], { late: true });
    await waitFor(() => asker.rpc.stats.late === lateBefore + 1, 5000, 'late answer counted');
    expect(calls).toEqual([[false, null]]);
  });
});
