/**
 * Across processes: master, proxy, lobby and two services, each its own `gamewire node` process
 * (ts/cluster/cli.ts nodeCommand), over one real nats-server. A client in this process plays
 * through the proxy. One service is killed (SIGKILL) mid-run: requests go to the other, the dead
 * one's pending requests time out, nothing hangs, and the rest stop cleanly.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnectToken, GameClient } from '../../../ts/cluster/index.js';
import { NodeProcess, ROOT } from '../helpers/child.js';
import { sleep, waitFor } from '../helpers/cluster.js';
import { NatsServer } from '../helpers/nats-server.js';
import { createTcpGateway } from '../helpers/tcp-gateway.js';
import { NS, XClient } from '../helpers/xproc-mod.js';

const KEY = 'xproc-key';
const MOD = join(ROOT, 'test', 'cluster', 'helpers', 'xproc-mod.ts');

describe('nodes in separate processes over one nats-server', () => {
  let nats: NatsServer;
  let dir: string;
  let configFile: string;
  const nodes = new Map<number, NodeProcess>();
  const gateway = createTcpGateway();
  let client: GameClient | null = null;

  beforeAll(async () => {
    nats = await NatsServer.start();
    dir = mkdtempSync(join(tmpdir(), 'gamewire-xproc-'));
    configFile = join(dir, 'cluster.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        game_id: 'xproc',
        game_key: KEY,
        nats: { servers: nats.url, prefix: `xproc${process.pid}` },
        master: { serverid: 0, type: 'master', mods: '' },
        serverlist: [
          { serverid: 2000, type: 'proxy', ip: '127.0.0.1', port: 0 },
          { serverid: 4000, type: 'lobby', ip: '127.0.0.1', port: 14000, mods: 'xproc' },
        ],
        servicelist: [
          { serverid: 8000, type: 'work', module_names: ['work_module'], mods: 'xproc' },
          { serverid: 8001, type: 'work', module_names: ['work_module'], mods: 'xproc' },
        ],
      }),
    );
    const start = (id: number) => nodes.set(id, new NodeProcess(['node', '--config', configFile, '--server-id', String(id), '--load', MOD, '--log-level', 'info']));
    for (const id of [0, 8000, 8001, 4000, 2000]) start(id);
    await Promise.all([...nodes.values()].map((n) => n.waitForLine((l) => l.msg === 'ready')));
    await Promise.all([8000, 8001, 4000, 2000].map((id) => nodes.get(id)!.waitForLine((l) => l.msg === 'registered with the master')));
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    for (const n of nodes.values()) await n.stop();
    await nats?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('plays through the proxy; a killed service: requests go to the other, its pending ones time out, nothing hangs', async () => {
    const ready = nodes.get(2000)!.lines.find((l) => l.msg === 'ready') as { proxies: Record<string, { host: string; port: number }> };
    const addr = ready.proxies['2000']!;
    client = new GameClient({ gateway, mods: 'xproc' });
    const info = await client.login(addr.host, addr.port, createConnectToken(KEY, 99));
    expect(info.serverId).toBe(4000);
    const sys = client.getSystem<XClient>(NS, 'client')!;
    const answers = new Map<number, Array<{ ok: boolean; by: number | null; at: number }>>();
    sys.listenForEvent(NS, 'lobby', 'Answer', (d: { i: number; ok: boolean; by: number | null }) => {
      const list = answers.get(d.i) ?? [];
      list.push({ ok: d.ok, by: d.by, at: Date.now() });
      answers.set(d.i, list);
    });

    // By module too, before the kill: both instances serve work_module.
    const N = 90;
    const sentAt: number[] = [];
    let killedAt = 0;
    for (let i = 0; i < N; i++) {
      sentAt.push(Date.now());
      sys.notifyToServer('Ask', { i, module: i % 5 === 0 });
      if (i === 30) {
        nodes.get(8001)!.kill('SIGKILL');
        killedAt = Date.now();
      }
      await sleep(25);
    }
    // Every request gets exactly one answer, within the request timeout (1.5 s) + slack: nothing hangs.
    // (Work takes 400 ms, so about 16 requests are in flight at any time: 8001 holds some when it dies.)
    await waitFor(() => answers.size === N, 8000, 'every request answered or timed out');
    // One more round trip through the same lobby and proxy: a second answer to any of them would be in by now.
    sys.notifyToServer('Ask', { i: N, module: false });
    await waitFor(() => answers.has(N), 8000, 'the last answer');
    answers.delete(N);
    for (const [, list] of answers) expect(list).toHaveLength(1);
    const got = [...answers.entries()].map(([i, [a]]) => ({ i, ...a!, sent: sentAt[i]! }));

    const before = got.filter((g) => g.sent < killedAt - 200);
    const after = got.filter((g) => g.sent > killedAt + 500);
    // Before the kill both instances shared the load (by type and by module).
    expect(new Set(before.filter((g) => g.ok).map((g) => g.by))).toEqual(new Set([8000, 8001]));
    // After it, everything goes to the survivor, and succeeds.
    expect(after.length).toBeGreaterThan(30);
    expect(after.every((g) => g.ok && g.by === 8000)).toBe(true);
    // The requests 8001 held when it died timed out: (false, null).
    const lost = got.filter((g) => !g.ok);
    expect(lost.length).toBeGreaterThan(0);
    expect(lost.every((g) => g.by === null && g.sent <= killedAt + 500)).toBe(true);
    expect(await nodes.get(8001)!.wait()).toBeNull(); // killed by a signal
  }, 60_000);

  it('the other nodes stop cleanly on SIGTERM', async () => {
    await client?.close();
    client = null;
    for (const id of [2000, 4000, 8000, 0]) expect(await nodes.get(id)!.stop()).toBe(0);
  }, 60_000);
});

describe('gamewire cluster --config (every node in one process) as a child process', () => {
  it('starts, serves a player, stops on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gamewire-cli-'));
    const configFile = join(dir, 'cluster.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        game_key: KEY,
        dev_bare_uid_login: true,
        store: { sqlite: join(dir, 'master.sqlite') },
        master: { serverid: 0 },
        serverlist: [
          { serverid: 2000, type: 'proxy', ip: '127.0.0.1', port: 0 },
          { serverid: 4000, type: 'lobby', ip: '127.0.0.1', port: 1, mods: 'xproc' },
        ],
        servicelist: [{ serverid: 8000, type: 'work', module_names: 'work_module', mods: 'xproc' }],
      }),
    );
    const proc = new NodeProcess(['cluster', '--config', configFile, '--load', MOD, '--log-level', 'info']);
    try {
      const ready = (await proc.waitForLine((l) => l.msg === 'ready')) as { nodes: number[]; proxies: Record<string, { host: string; port: number }>; bus: string };
      expect(ready.bus).toBe('inprocess');
      expect(ready.nodes.sort((a, b) => a - b)).toEqual([0, 2000, 4000, 8000]);
      const c = new GameClient({ gateway: createTcpGateway(), mods: 'xproc' });
      await c.login(ready.proxies['2000']!.host, ready.proxies['2000']!.port, 5); // a bare uid: the config's dev flag
      const got: Array<{ ok: boolean; by: number | null }> = [];
      c.getSystem<XClient>(NS, 'client')!.listenForEvent(NS, 'lobby', 'Answer', (d: { ok: boolean; by: number | null }) => void got.push(d));
      c.getSystem<XClient>(NS, 'client')!.notifyToServer('Ask', { i: 0 });
      await waitFor(() => got.length === 1);
      expect(got[0]).toEqual({ i: 0, ok: true, by: 8000 });
      await c.close();
      expect(await proc.stop()).toBe(0);
    } finally {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('refuses bad usage and bad configs with an exit code', async () => {
    const bad = new NodeProcess(['node', '--config', '/nonexistent.json']);
    expect(await bad.wait()).toBe(2);
    expect(bad.stderr).toMatch(/--server-id ID is required/);
    const missing = new NodeProcess(['node', '--config', '/nonexistent.json', '--server-id', '4000']);
    expect(await missing.wait()).toBe(1);
    expect(missing.stderr).toMatch(/cannot read/);
  }, 60_000);
});
