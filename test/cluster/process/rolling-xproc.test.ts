/**
 * A rolling update in the distributed mode: the master is a `gamewire node` process; asked over
 * its HTTP admin API, it starts the new lobby as a `gamewire node` child process (same program,
 * same --load modules, a config file with the new node), moves the player there and stops the
 * old lobby (which runs in this process and goes when the master tells it to). The player stays
 * online and is served by the new lobby in the other process.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, createConnectToken, ENGINE_NAMESPACE, ENGINE_SYSTEM_NAME, EngineEvents, GameClient, type ClientTransferEventData } from '../../../ts/cluster/index.js';
import { NodeProcess, ROOT } from '../helpers/child.js';
import { quietLogger, waitFor, type RawConfig } from '../helpers/cluster.js';
import { GATEWAYS } from '../helpers/gateways.js';
import { freePort, NatsServer } from '../helpers/nats-server.js';
import { PROBE, type ProbeClient } from '../helpers/probe-mod.js';

const KEY = 'xroll-key';
const SECRET = 'xroll-secret-0123456789';
const PROBE_MOD = join(ROOT, 'test', 'cluster', 'helpers', 'probe-mod.ts');

async function admin(base: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(base + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

describe('rolling update in the distributed mode: new nodes are child processes', () => {
  let nats: NatsServer;
  let dir: string;
  let base: string;
  let masterProc: NodeProcess;
  const local: Cluster[] = [];
  const gateway = GATEWAYS.udp!();
  let client: GameClient | null = null;
  let launchedPid: number | null = null;
  const timing = { heartbeatInterval: 0.2, nodeTimeout: 3, opTimeout: 3 };

  beforeAll(async () => {
    nats = await NatsServer.start();
    dir = mkdtempSync(join(tmpdir(), 'gamewire-xroll-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const config: RawConfig = {
      game_id: 'xroll',
      game_key: KEY,
      nats: { servers: nats.url, prefix: `xroll${process.pid}` },
      master: { serverid: 0, type: 'master', ip: '127.0.0.1', port, mods: PROBE, http_secret: SECRET },
      serverlist: [
        { serverid: 2000, type: 'proxy', ip: '127.0.0.1', port: 0, app_version: '1.0' },
        { serverid: 4000, type: 'lobby', ip: '127.0.0.1', port: 1, mods: PROBE, app_version: '1.0' },
      ],
      servicelist: [],
    };
    const file = join(dir, 'cluster.json');
    writeFileSync(file, JSON.stringify(config));
    masterProc = new NodeProcess(['node', '--config', file, '--server-id', '0', '--load', PROBE_MOD, '--log-level', 'info']);
    await masterProc.waitForLine((l) => l.msg === 'ready');
    for (const id of [4000, 2000]) local.push(await Cluster.startNode(config, id, { gateway, logger: quietLogger(), ...timing, waitForRegistration: 10 }));
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    for (const c of local) await c.stop();
    if (launchedPid !== null) {
      try {
        process.kill(launchedPid, 'SIGTERM');
      } catch {
        /* gone already */
      }
    }
    await masterProc?.stop();
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(join(tmpdir(), `gamewire-xroll${process.pid}`), { recursive: true, force: true });
  });

  it('starts lobby 4001 (app 2.0) as a child process, moves the player there, stops 4000; the player stays online', async () => {
    client = new GameClient({ gateway, mods: PROBE });
    const a = local[1]!.proxyAddress(2000);
    await client.login(a.host, a.port, createConnectToken(KEY, 77));
    expect(client.serverId).toBe(4000);
    const sys = client.getSystem<ProbeClient>(PROBE, 'client')!;
    const pongs: number[] = [];
    const moves: ClientTransferEventData[] = [];
    sys.listenForEvent(PROBE, 'server', 'ProbePong', (d: { by: number }) => void pongs.push(d.by));
    sys.listenForEvent(ENGINE_NAMESPACE, ENGINE_SYSTEM_NAME, EngineEvents.ClientTransferEvent, (d: ClientTransferEventData) => void moves.push(d));
    sys.notifyToServer('ProbePing', {});
    await waitFor(() => pongs.length === 1);

    expect(await admin(base, '/admin/rolling-update', { serverType: 'lobby', appVersion: '2.0', ip: '127.0.0.1', addNum: 0 })).toMatchObject({ status: 202 });
    const launched = await masterProc.waitForLine((l) => l.msg === 'node launched', 20_000);
    expect(launched).toMatchObject({ server: 4001 });
    launchedPid = launched.pid as number;
    // The old lobby, here, is stopped by the master once empty.
    await local[0]!.whenEmpty();
    await waitFor(() => moves.length === 1, 10_000, 'the player moved');
    expect(moves[0]).toMatchObject({ fromServerId: 4000, serverId: 4001, serverType: 'lobby' });
    const status = async () => (await admin(base, '/admin/status')).json.servers as Array<{ serverId: number; status: number; appVersion: string | null; online: number }>;
    const deadline = Date.now() + 10_000;
    while ((await status()).find((s) => s.serverId === 4000)!.status !== 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const servers = await status();
    expect(servers.find((s) => s.serverId === 4000)).toMatchObject({ status: 1, appVersion: '1.0', online: 0 });
    expect(servers.find((s) => s.serverId === 4001)).toMatchObject({ status: 2, appVersion: '2.0', online: 1 });
    // The player: online all along, served by the lobby in the child process.
    expect(client.online).toBe(true);
    expect(client.serverId).toBe(4001);
    sys.notifyToServer('ProbePing', {});
    await waitFor(() => pongs.length === 2);
    expect(pongs).toEqual([4000, 4001]);
    expect((await admin(base, '/admin/online')).json.players).toEqual([{ uid: 77, serverId: 4001, proxyId: 2000, protocolVersion: null }]);
  }, 60_000);
});
