/**
 * The master restarting, players over the encrypted UDP gateway:
 *
 * - embedded (every node in this process, both buses): the master node stops and starts again
 *   against the same SQLite file;
 * - distributed: the master is a `gamewire node` process keeping its state in a JetStream KV
 *   bucket on the nats-server; it is stopped (SIGTERM) and killed (SIGKILL) and started again.
 *
 * Each time: bans and mutes still in force, the online list, server of each uid and protocol
 * versions known again (the nodes report them), lobbies and services re-connected
 * (MasterConnectStatusEvent false, then true).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, EngineEvents, GameClient, type MasterSystem } from '../../../ts/cluster/index.js';
import { NodeProcess, ROOT } from '../helpers/child.js';
import { BUSES, engineEvent, loginThroughProxy, quietLogger, useCluster, waitFor, type RawConfig } from '../helpers/cluster.js';
import { GATEWAYS } from '../helpers/gateways.js';
import { freePort, NatsServer } from '../helpers/nats-server.js';
import { PROBE, record, type ProbeMaster, type ProbeServer, type ProbeService, type Received } from '../helpers/probe-mod.js';

const KEY = 'restart-key';
const SECRET = 'restart-secret-0123456789';
const PROBE_MOD = join(ROOT, 'test', 'cluster', 'helpers', 'probe-mod.ts');
const BAN_TEXT =
  'Your account has been permanently banned, ban reason: cheating. If you have any questions, please go to the customer service area to give feedback';

function restartConfig(extra: Partial<RawConfig> = {}): RawConfig {
  return {
    game_id: 'restart',
    game_key: KEY,
    master: { serverid: 0, type: 'master', ip: '127.0.0.1', port: 0, mods: PROBE, http_secret: SECRET },
    serverlist: [
      { serverid: 2000, type: 'proxy', ip: '127.0.0.1', port: 0 },
      { serverid: 4000, type: 'lobby', ip: '127.0.0.1', port: 1, mods: PROBE, protocol_version: 1 },
      { serverid: 4001, type: 'lobby', ip: '127.0.0.1', port: 2, mods: PROBE, protocol_version: 2 },
    ],
    servicelist: [{ serverid: 8000, type: 'rank', mods: PROBE }],
    ...extra,
  };
}

/** Records MasterConnectStatusEvent at lobbies 4000 and 4001 and service 8000 of `cluster`. */
function watchMasterLink(cluster: Cluster): { watched: Array<ProbeServer | ProbeService>; statuses: Received[] } {
  const watched = [cluster.getSystem<ProbeServer>(4000, PROBE, 'server')!, cluster.getSystem<ProbeServer>(4001, PROBE, 'server')!, cluster.getSystem<ProbeService>(8000, PROBE, 'service')!];
  return { watched, statuses: record(watched, ...engineEvent(EngineEvents.MasterConnectStatusEvent)) };
}

async function admin(base: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const r = await fetch(base + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(r.status).toBe(200);
  return (await r.json()) as Record<string, unknown>;
}

describe.each(BUSES)('embedded master restart over the %s bus (SQLite file)', (bus) => {
  let dir = '';
  // Hooks before the cluster's: the folder is made before it starts and removed after it stops.
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gamewire-restart-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const fx = useCluster({ bus, config: () => restartConfig({ store: { sqlite: join(dir, 'state', 'master.sqlite') } }), options: () => ({ gateway: GATEWAYS.udp!() }), client: { mods: PROBE } });
  const master = () => fx.cluster.getSystem<ProbeMaster>(0, PROBE, 'master')! as MasterSystem;
  const login = (uid: number, pv: number) => fx.login(uid, fx.client({ protocolVersion: pv }));

  it('bans, mutes, the online list, servers and protocol versions survive; every node re-connects', async () => {
    const a = await login(10, 1);
    const b = await login(11, 2);
    expect([a.serverId, b.serverId]).toEqual([4000, 4001]);
    expect(await master().netgameApi.banUser(20, -1, 'cheating', true)).toBe(true);
    expect(await master().netgameApi.silentByUid(10, 3600, 'spam')).toBe(true);
    // Really in the file.
    const db = new Database(join(dir, 'state', 'master.sqlite'), { readonly: true });
    expect(db.prepare('SELECT kind, uid FROM sanctions ORDER BY kind').all()).toEqual([
      { kind: 'ban', uid: 20 },
      { kind: 'mute', uid: 10 },
    ]);
    db.close();

    const { watched, statuses } = watchMasterLink(fx.cluster);
    await fx.cluster.stopNode(0);
    await waitFor(() => statuses.filter((s) => s.data.isConnect === false).length === 3, 3000, 'isConnect false');
    await fx.cluster.restartNode(0);
    await waitFor(() => statuses.filter((s) => s.data.isConnect === true).length === 3, 5000, 'isConnect true');
    for (const s of watched) expect(statuses.filter((x) => x.at === s.serverId).map((x) => x.data.isConnect)).toEqual([false, true]);

    // The new master knows who is online, where, and with which protocol version.
    const api = master().netgameApi;
    await waitFor(() => api.getOnlineUidList().length === 2, 5000, 'online list back');
    expect(api.getOnlineUidList().sort()).toEqual([10, 11]);
    expect([api.getServerIdByUid(10), api.getServerIdByUid(11)]).toEqual([4000, 4001]);
    expect([api.getProtocolVersionByUid(10), api.getProtocolVersionByUid(11)]).toEqual([1, 2]);
    expect(master().serverManager.getOnlineNumByServerId(2000)).toBe(2);
    // Bans and mutes are still in force.
    expect(await api.getBanUserInfo(20)).toMatchObject({ banTime: -1, reason: 'cheating' });
    expect(await api.getUserSilentInfo(10)).toMatchObject({ banTime: 3600, reason: 'spam' });
    await expect(login(20, 1)).rejects.toMatchObject({ reason: 'banned', text: BAN_TEXT });
    // The players never noticed; a new login works; the HTTP server is back.
    expect(a.online && b.online).toBe(true);
    expect((await login(12, 1)).serverId).toBe(4000);
    expect(((await admin(master().masterHttp.url!, '/admin/online')).players as unknown[]).length).toBe(3);
  });
});

describe.each(BUSES)('a master killed and back within the heartbeat window, over the %s bus', (bus) => {
  // Heartbeats go unanswered for at most 30 s before a node reports the master lost: the new
  // master is back long before that, so only the registration tells the nodes.
  const fx = useCluster({ bus, config: restartConfig, options: () => ({ gateway: GATEWAYS.loopback!(), heartbeatInterval: 0.2, nodeTimeout: 30 }) });

  it('every node re-registers and fires MasterConnectStatusEvent false, then true', async () => {
    const { watched, statuses } = watchMasterLink(fx.cluster);
    const registrations = watched.map((s) => fx.cluster.node(s.serverId).masterLink!.registrations);
    // Killed: its bus connection is gone before it can say so (no master-down reaches anyone).
    await fx.cluster.node(0).busConnection!.close();
    await fx.cluster.stopNode(0);
    await fx.cluster.restartNode(0);
    await waitFor(() => statuses.filter((s) => s.data.isConnect === true).length === 3, 5000, 'isConnect true');
    for (const s of watched) expect(statuses.filter((x) => x.at === s.serverId).map((x) => x.data.isConnect)).toEqual([false, true]);
    watched.forEach((s, i) => expect(fx.cluster.node(s.serverId).masterLink!.registrations).toBe(registrations[i]! + 1));
  });
});

describe('distributed master restart: a `gamewire node` process, state in JetStream KV', () => {
  let nats: NatsServer;
  let dir: string;
  let configFile: string;
  let config: RawConfig;
  let base: string;
  let masterProc: NodeProcess | null = null;
  const nodes: Cluster[] = [];
  const gateway = GATEWAYS.udp!();
  const clients: GameClient[] = [];
  const timing = { heartbeatInterval: 0.2, nodeTimeout: 3, opTimeout: 3 };

  function startMaster(): NodeProcess {
    masterProc = new NodeProcess(['node', '--config', configFile, '--server-id', '0', '--load', PROBE_MOD, '--log-level', 'info']);
    return masterProc;
  }
  async function login(uid: number, pv: number): Promise<GameClient> {
    const c = new GameClient({ gateway, mods: PROBE, protocolVersion: pv });
    clients.push(c);
    return loginThroughProxy(nodes[0]!, c, uid);
  }

  beforeAll(async () => {
    nats = await NatsServer.start();
    dir = mkdtempSync(join(tmpdir(), 'gamewire-kv-'));
    configFile = join(dir, 'cluster.json');
    const port = await freePort();
    config = restartConfig({ game_id: 'kv', nats: { servers: nats.url, prefix: `kv${process.pid}` } });
    config.master.port = port;
    base = `http://127.0.0.1:${port}`;
    writeFileSync(configFile, JSON.stringify(config));
    await startMaster().waitForLine((l) => l.msg === 'ready');
    // The other nodes run here, one Cluster each (as separate processes would).
    for (const id of [8000, 4000, 4001, 2000]) nodes.push(await Cluster.startNode(config, id, { gateway, logger: quietLogger(), ...timing, waitForRegistration: 10 }));
    nodes.reverse(); // the proxy first
  }, 60_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    for (const n of nodes) await n.stop();
    await masterProc?.stop();
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stopped (SIGTERM) and killed (SIGKILL): bans and mutes from the KV bucket, players reported back, nodes re-connected', async () => {
    expect(masterProc!.lines.find((l) => l.msg === 'master store open')).toMatchObject({ store: 'nats-kv', bucket: `gamewire_kv${process.pid}` });
    const a = await login(10, 1);
    const b = await login(11, 2);
    expect([a.serverId, b.serverId]).toEqual([4000, 4001]);
    await admin(base, '/admin/ban', { uid: 20, banTime: -1, reason: 'cheating', combineReason: true });
    await admin(base, '/admin/silent', { uid: 10, banTime: 3600, reason: 'spam' });
    // In the nats-server, not on the master's disk.
    const nc = await connect({ servers: nats.url });
    const kv = await new Kvm(nc).open(`gamewire_kv${process.pid}`);
    expect(JSON.parse((await kv.get('ban.20'))!.string())).toMatchObject({ banTime: -1, reason: 'cheating', combineReason: true });
    expect(JSON.parse((await kv.get('mute.10'))!.string())).toMatchObject({ banTime: 3600, reason: 'spam' });
    await nc.close();

    const watched = [nodes.find((n) => n.serverIds[0] === 4000)!.getSystem<ProbeServer>(4000, PROBE, 'server')!, nodes.find((n) => n.serverIds[0] === 8000)!.getSystem<ProbeService>(8000, PROBE, 'service')!];
    const statuses = record(watched, ...engineEvent(EngineEvents.MasterConnectStatusEvent));
    for (const how of ['SIGTERM', 'SIGKILL'] as const) {
      const before = statuses.length;
      if (how === 'SIGTERM') expect(await masterProc!.stop()).toBe(0);
      else {
        masterProc!.kill('SIGKILL');
        await masterProc!.wait();
      }
      // SIGTERM: the master says it goes; SIGKILL: the heartbeats stop being answered.
      await waitFor(() => statuses.slice(before).filter((s) => s.data.isConnect === false).length === 2, 8000, `isConnect false after ${how}`);
      await startMaster().waitForLine((l) => l.msg === 'ready');
      await waitFor(() => statuses.slice(before).filter((s) => s.data.isConnect === true).length === 2, 8000, `isConnect true after ${how}`);
      for (const s of watched) expect(statuses.slice(before).filter((x) => x.at === s.serverId).map((x) => x.data.isConnect)).toEqual([false, true]);

      const online = async () => ((await admin(base, '/admin/online')).players as Array<{ uid: number; serverId: number; protocolVersion: number }>).sort((x, y) => x.uid - y.uid);
      const deadline = Date.now() + 5000;
      while ((await online()).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await online()).toEqual([
        { uid: 10, serverId: 4000, proxyId: 2000, protocolVersion: 1 },
        { uid: 11, serverId: 4001, proxyId: 2000, protocolVersion: 2 },
      ]);
      expect(await admin(base, '/admin/ban-info?uid=20')).toMatchObject({ info: { banTime: -1, reason: 'cheating' } });
      expect(await admin(base, '/admin/silent-info?uid=10')).toMatchObject({ info: { banTime: 3600, reason: 'spam' } });
      await expect(login(20, 1)).rejects.toMatchObject({ reason: 'banned', text: BAN_TEXT });
      expect(a.online && b.online).toBe(true);
    }
    await admin(base, '/admin/unban', { uid: 20 });
    expect((await login(20, 1)).online).toBe(true);
  }, 90_000);
});
