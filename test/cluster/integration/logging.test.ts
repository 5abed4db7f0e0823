/**
 * One logger: every line of a cluster (its nodes, the master's store and HTTP server, the
 * proxies' UDP servers) goes to the logger the cluster was given, or to gamewire's at
 * `logLevel` / GAMEWIRE_LOG_LEVEL; `logLevel: 'silent'` silences all of it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { Cluster, createConnectToken, createUdpGateway, GameClient } from '../../../ts/cluster/index.js';
import { PrivateKey } from '../../../ts/index.js';
import { ROOT } from '../helpers/child.js';
import { capturingLogger, FAST } from '../helpers/cluster.js';

const CONFIG = {
  game_key: 'log-key',
  master: { serverid: 0, ip: '127.0.0.1', port: 0, http_secret: 'log-secret-0123456789' },
  serverlist: [
    { serverid: 2000, type: 'proxy', ip: '127.0.0.1', port: 0 },
    { serverid: 4000, type: 'lobby', ip: '127.0.0.1', port: 1 },
  ],
  store: { memory: true },
};

it("the cluster's logger gets the proxy's UDP server lines and the master's HTTP lines, tagged with the node", async () => {
  const { logger, lines } = capturingLogger('info');
  const rootKey = PrivateKey.generate();
  const cluster = await Cluster.start(CONFIG, { logger, gateway: createUdpGateway({ rootKey }), ...FAST });
  try {
    const c = new GameClient({ rootPublicKey: rootKey.publicKey(), logLevel: 'silent' });
    const a = cluster.proxyAddress(2000);
    await c.login(a.host, a.port, createConnectToken('log-key', 7));
    await c.close();
  } finally {
    await cluster.stop();
  }
  expect(lines.find((l) => l.component === 'server' && l.msg === 'listening')).toMatchObject({ node: 2000, role: 'proxy' });
  expect(lines.find((l) => l.msg === 'master HTTP listening')).toMatchObject({ node: 0, role: 'master' });
  expect(lines.find((l) => l.msg === 'node started' && l.node === 4000)).toBeDefined();
});

it("logLevel 'silent' silences everything, the proxies' UDP servers included", async () => {
  const dir = mkdtempSync(join(ROOT, 'test', '.logging-'));
  try {
    const file = join(dir, 'silent.ts');
    writeFileSync(
      file,
      `import { Cluster, createConnectToken, createUdpGateway, GameClient } from '../../ts/cluster/index.js';
import { PrivateKey } from '../../ts/index.js';
const rootKey = PrivateKey.generate();
const cluster = await Cluster.start(${JSON.stringify(CONFIG)}, { logLevel: 'silent', gateway: createUdpGateway({ rootKey }) });
const a = cluster.proxyAddress(2000);
const c = new GameClient({ rootPublicKey: rootKey.publicKey(), logLevel: 'silent' });
await c.login(a.host, a.port, createConnectToken('log-key', 7));
await c.close();
await cluster.stop();
`,
    );
    const p = spawn(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GAMEWIRE_LOG_LEVEL: 'info' } });
    let out = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
    expect({ code, out }).toEqual({ code: 0, out: '' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 30_000);
