/**
 * Faults, on both buses: user code that throws, duplicated messages, services that die with
 * requests pending, a node that loses the bus, the master restarting or gone, a lobby lost.
 */
import { describe, expect, it } from 'vitest';
import { EngineEvents, InProcessConnection, ServerStatus } from '../../../ts/cluster/index.js';
import { encodeWire } from '../../../ts/cluster/core/bus-messages.js';
import { BUSES, baseConfig, capturingLogger, drained, engineEvent as E, sleep, useCluster, waitFor } from '../helpers/cluster.js';
import { createLoopbackGateway } from '../helpers/loopback-gateway.js';
import { PROBE, ProbeClient, ProbeMaster, ProbeServer, ProbeService, record } from '../helpers/probe-mod.js';

describe.each(BUSES)('faults over the %s bus', (bus) => {
  const { logger, lines } = capturingLogger('warn');
  const fx = useCluster({ bus, config: baseConfig, options: () => ({ gateway: createLoopbackGateway(), logger }), client: { mods: 'probe' } });

  const master = () => fx.cluster.getSystem<ProbeMaster>(0, PROBE, 'master')!;
  const server = (id: number) => fx.cluster.getSystem<ProbeServer>(id, PROBE, 'server')!;
  const service = (id: number) => fx.cluster.getSystem<ProbeService>(id, PROBE, 'service')!;
  const login = (uid: number) => fx.login(uid);

  it('an exception in a listener or an rpc method is logged with node, system and event; the node goes on', async () => {
    const s = server(4000);
    s.listenForEvent(PROBE, 'master', 'Boom', () => {
      throw new Error('listener bug');
    });
    s.listenForEvent(PROBE, 'master', 'Boom', async () => {
      throw new Error('async listener bug');
    });
    const after = record([s], PROBE, 'master', 'Boom');
    master().notifyToServerNode(4000, 'Boom', { n: 1 });
    await waitFor(() => after.length === 1);
    await waitFor(() => lines.filter((l) => l.msg === 'event listener threw').length === 2);
    const l = lines.find((x) => x.msg === 'event listener threw')!;
    expect(l).toMatchObject({ level: 50, node: 4000, role: 'server', system: 'probe.server', from: 'probe.master', event: 'Boom' });
    expect((l.err as { message: string }).message).toBe('listener bug');

    service(8002).registerRpcMethodForMod('Throw', () => {
      throw new Error('rpc bug');
    });
    expect(await server(4001).requestToServiceMod('rank', 'Throw', {}, null, 0.3)).toEqual({ ok: false, data: null });
    expect(lines.find((x) => x.msg === 'rpc method threw')).toMatchObject({ node: 8002, system: 'probe.service', event: 'Throw', from: 4001 });
    // A throwing callback is logged too, and the node still works.
    service(8002).registerRpcMethodForMod('Echo', (sid, cb, a) => service(8002).responseToServer(sid, cb, a));
    await server(4001).requestToServiceMod('rank', 'Echo', { x: 1 }, () => {
      throw new Error('callback bug');
    });
    expect(lines.find((x) => x.msg === 'request callback threw')).toMatchObject({ node: 4001 });
    expect(await server(4001).requestToServiceMod('rank', 'Echo', { x: 2 })).toEqual({ ok: true, data: { x: 2 } });
    master().notifyToServerNode(4000, 'Boom', { n: 2 });
    await waitFor(() => after.length === 2);
  });

  it('a bus message delivered twice reaches its listeners once', async () => {
    const got = record([server(4001)], PROBE, 'intruder', 'Twice');
    const conn = await fx.cluster.bus.connect('test-intruder');
    const bytes = encodeWire({ k: 'ev', id: 'intruder.1', from: 0, ns: PROBE, sys: 'intruder', ev: 'Twice', data: { n: 1 } });
    const before = fx.cluster.node(4001).stats.duplicates;
    conn.publish(fx.cluster.node(4001).subjects.node(4001), bytes);
    conn.publish(fx.cluster.node(4001).subjects.node(4001), bytes);
    conn.publish(fx.cluster.node(4001).subjects.node(4001), new TextEncoder().encode('{"not":"a message"}'));
    // A marker after them on the same connection: once it is in, so is everything before it.
    const marker = record([server(4001)], PROBE, 'intruder', 'Marker');
    conn.publish(fx.cluster.node(4001).subjects.node(4001), encodeWire({ k: 'ev', id: 'intruder.2', from: 0, ns: PROBE, sys: 'intruder', ev: 'Marker', data: {} }));
    await conn.flush();
    await waitFor(() => marker.length === 1);
    expect(fx.cluster.node(4001).stats.duplicates).toBe(before + 1);
    expect(got).toHaveLength(1);
    expect(fx.cluster.node(4001).stats.malformed).toBeGreaterThanOrEqual(1);
    await conn.close();
  });

  it('a service that dies: its pending requests time out once each, later requests go to the other instance', async () => {
    const working = { 8000: 0, 8001: 0 } as Record<number, number>;
    for (const id of [8000, 8001]) {
      service(id).registerRpcMethodForMod('Work', (sid, cb, args: { slow?: boolean }) => {
        working[id]!++;
        setTimeout(() => service(id).responseToServer(sid, cb, { by: id }), args.slow ? 300 : 0);
      });
    }
    // 20 slow requests spread over both instances; 8001 dies while working on its share.
    const asker = server(4000);
    const calls = new Map<number, Array<[boolean, unknown]>>();
    const t0 = Date.now();
    const pending = Array.from({ length: 20 }, (_, i) => {
      calls.set(i, []);
      return asker.requestToServiceMod<{ by: number }>('sign', 'Work', { slow: true }, (ok, d) => calls.get(i)!.push([ok, d]), 1);
    });
    await waitFor(() => working[8000]! > 0 && working[8001]! > 0, 5000, 'both instances at work');
    await fx.cluster.node(8001).busConnection!.close(); // as if the process died
    const results = await Promise.all(pending);
    const took = Date.now() - t0;
    const answered = results.filter((r) => r.ok);
    const timedOut = results.filter((r) => !r.ok);
    expect(answered.every((r) => r.data!.by === 8000)).toBe(true);
    expect(timedOut.length).toBeGreaterThan(0);
    expect(timedOut.every((r) => r.data === null)).toBe(true);
    expect(took).toBeLessThan(2500); // nothing hangs: the timeout (1 s) bounds it
    for (const [, c] of calls) expect(c).toHaveLength(1);
    // From now on every request goes to 8000.
    const later = await Promise.all(Array.from({ length: 20 }, () => asker.requestToServiceMod<{ by: number }>('sign', 'Work', {}, null, 1)));
    expect(later.every((x) => x.ok && x.data!.by === 8000)).toBe(true);
    // The master notices the dead service.
    await waitFor(() => master().serverManager.getOneServerStatus(8001) === ServerStatus.DISCONNECTED, 5000, 'master notices 8001 is gone');
    await fx.cluster.restartNode(8001);
    expect(master().serverManager.isConnectedServer(8001)).toBe(true);
  });

  it('a request whose only target is gone times out rather than hanging', async () => {
    await fx.cluster.node(8002).busConnection!.close();
    const calls: unknown[] = [];
    const [a, b] = await Promise.all([
      server(4000).requestToServiceMod('rank', 'Echo', {}, (ok) => calls.push(ok), 0.3),
      master().requestToService('rank_module', 'Anything', {}, (ok) => calls.push(ok), 0.3),
    ]);
    expect(a.ok || b.ok).toBe(false);
    expect(calls).toEqual([false, false]);
    await fx.cluster.restartNode(8002);
  });

  it('a lost lobby: the master notices, fires ServerDisconnectEvent, its players are told; it comes back', async () => {
    const c = await login(3001);
    const lobby = c.serverId!;
    const down = record([master()], ...E(EngineEvents.ServerDisconnectEvent), () => 'master');
    const up = record([master()], ...E(EngineEvents.ServerConnectEvent), () => 'master');
    const oldSystem = server(lobby);
    await fx.cluster.node(lobby).busConnection!.close(); // no goodbye: as if it crashed
    await waitFor(() => down.length === 1, 5000, 'ServerDisconnectEvent');
    expect(down[0]!.data).toEqual({ serverId: lobby, serverType: 'lobby' });
    expect(await c.whenClosed()).toBe('server-lost');
    expect(master().netgameApi.getServerIdByUid(3001)).toBeNull();
    expect(master().serverManager.isValidServer(lobby)).toBe(false);
    await fx.cluster.restartNode(lobby);
    expect(oldSystem.destroyed).toBe(true); // the stopped node destroyed its systems
    expect(server(lobby)).not.toBe(oldSystem);
    await waitFor(() => up.length === 1);
    expect(up[0]!.data).toEqual({ serverId: lobby, serverType: 'lobby', isReconnect: true });
    expect(master().serverManager.isValidServer(lobby)).toBe(true);
  });

  it('a lost proxy: its players leave their servers (proxy-lost); it comes back', async () => {
    const c = await login(3010);
    const where = c.serverId!;
    const removed = record([server(where)], ...E(EngineEvents.DelServerPlayerEvent));
    await fx.cluster.node(2000).busConnection!.close();
    await waitFor(() => removed.length === 1, 6000, 'DelServerPlayerEvent');
    expect(removed[0]!.data).toMatchObject({ uid: 3010, reason: 'proxy-lost' });
    expect(master().netgameApi.getServerIdByUid(3010)).toBeNull();
    await fx.cluster.restartNode(2000);
    expect(await c.whenClosed()).toBe('proxy-stopping');
    expect((await login(3011)).online).toBe(true);
  });

  it('the master restarting: nodes register again and it knows the online players again', async () => {
    const c = await login(3002);
    const where = c.serverId!;
    const registrations = fx.cluster.node(where).masterLink!.registrations;
    await fx.cluster.restartNode(0);
    await waitFor(() => fx.cluster.node(where).masterLink!.registrations > registrations, 5000, 're-registration');
    await waitFor(() => master().netgameApi.getServerIdByUid(3002) === where, 5000, 'online player known again');
    expect(master().netgameApi.getOnlineUidList()).toContain(3002);
    // Everything still works: events from the client, a new login.
    const got = record([server(where)], PROBE, 'client', 'StillHere');
    c.getSystem<ProbeClient>(PROBE, 'client')!.notifyToServer('StillHere', {});
    await waitFor(() => got.length === 1);
    const d = await login(3003);
    expect(d.online).toBe(true);
  });

  it('the master gone longer than the node timeout: MasterConnectStatusEvent false, then true when it is back', async () => {
    const statuses = record([server(4001), service(8000)], ...E(EngineEvents.MasterConnectStatusEvent));
    await fx.cluster.stopNode(0);
    await waitFor(() => statuses.filter((s) => s.data.isConnect === false).length === 2, 5000, 'isConnect false');
    // Meanwhile a login cannot be placed: refused, not left hanging.
    const t0 = Date.now();
    await expect(fx.login(3020)).rejects.toMatchObject({ reason: 'master-unavailable' });
    expect(Date.now() - t0).toBeLessThan(5000);
    await fx.cluster.restartNode(0);
    await waitFor(() => statuses.filter((s) => s.data.isConnect === true).length === 2, 5000, 'isConnect true');
    expect(statuses.filter((s) => s.at === 4001).map((s) => s.data.isConnect)).toEqual([false, true]);
  });

  it('a node that loses the bus reports it, reconnects, registers again; nothing is delivered twice', async () => {
    // Start from a settled cluster: every node registered.
    await waitFor(() => fx.cluster.serverIds.every((id) => fx.cluster.node(id).masterLink?.connected ?? true), 8000, 'all registered');
    const watched = bus === 'inprocess' ? [server(4000)] : [server(4000), service(8000)];
    const statuses = record(watched, ...E(EngineEvents.MasterConnectStatusEvent));
    const regs = fx.cluster.node(4000).masterLink!.registrations;
    const serviceRegs = fx.cluster.node(8002).masterLink!.registrations;
    if (bus === 'inprocess') {
      const conn = fx.cluster.node(4000).busConnection as InProcessConnection;
      conn.simulateDisconnect();
      await waitFor(() => statuses.some((x) => x.data.isConnect === false));
      await sleep(200);
      conn.simulateReconnect();
    } else {
      await fx.nats!.restart(300);
    }
    await waitFor(() => statuses.filter((s) => s.data.isConnect === true).length === watched.length, 10_000, 'reconnected');
    for (const s of watched) {
      expect(statuses.filter((x) => x.at === s.serverId).map((x) => x.data.isConnect)).toEqual([false, true]);
    }
    expect(fx.cluster.node(4000).masterLink!.registrations).toBeGreaterThan(regs);
    // Every event once, requests answered.
    const got = record([server(4000)], PROBE, 'master', 'AfterReconnect');
    for (let n = 0; n < 10; n++) master().notifyToServerNode(4000, 'AfterReconnect', { n });
    await waitFor(() => got.length === 10);
    await drained(fx.cluster, 0, [server(4000)]); // a second copy of any of them would be in by now
    expect(got.map((g) => g.data.n)).toEqual([...Array(10).keys()]);
    // A request needs the service back on the bus too: core NATS keeps nothing for a subscriber
    // that is reconnecting, so wait until it has registered again (proof it is back).
    if (bus !== 'inprocess') {
      await waitFor(() => fx.cluster.node(8002).masterLink!.registrations > serviceRegs, 10_000, 'service re-registered');
    }
    service(8002).registerRpcMethodForMod('Echo', (sid, cb, a) => service(8002).responseToServer(sid, cb, a));
    expect(await server(4000).requestToServiceMod('rank', 'Echo', { ok: 1 })).toEqual({ ok: true, data: { ok: 1 } });
  });
});
