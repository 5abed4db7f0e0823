/** The `gamewire` commands, as child processes: keygen and echo per backend, and the usage rules of every command. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { ConnectionStatus, PrivateKey, PublicKey, RetryMode, UdpClient } from '../../ts/index.js';
import { packageRoot } from '../../ts/backend/loader.js';
import { BACKENDS } from '../helpers/backends.js';
import { until } from '../helpers/net.js';

const bin = join(packageRoot, 'bin', 'gamewire.js');
const dir = mkdtempSync(join(tmpdir(), 'gamewire-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(BACKENDS)('gamewire CLI (%s)', (backend) => {
  it('keygen writes a private key (0600) and prints its public key', () => {
    const out = join(dir, `root-${backend}.pem`);
    const r = spawnSync(process.execPath, [bin, 'keygen', '--out', out, '--backend', backend], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const key = PrivateKey.fromPem(readFileSync(out, 'utf8'), { backend });
    expect(key.publicKey({ backend }).equals(PublicKey.fromPem(r.stdout, { backend }))).toBe(true);
    const bad = spawnSync(process.execPath, [bin, 'keygen'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--out');
  });

  it('echo serves clients, and on SIGTERM tells them, runs shutdown and exits 0', async () => {
    const keyFile = join(dir, `echo-${backend}.pem`);
    spawnSync(process.execPath, [bin, 'keygen', '--out', keyFile], { encoding: 'utf8' });
    const pub = PrivateKey.fromFile(keyFile, { backend }).publicKey({ backend });
    const child = spawn(process.execPath, [bin, 'echo', '--port', '0', '--key', keyFile, '--backend', backend], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const port = await new Promise<number>((resolve, reject) => {
      const rl = createInterface({ input: child.stdout! });
      rl.on('line', (line) => {
        const m = /listening on udp:\/\/[^ ]*:(\d+)/.exec(line);
        if (m) resolve(Number(m[1]));
      });
      child.on('exit', () => reject(new Error('echo exited early')));
    });
    const c = new UdpClient({ backend, rootPublicKey: pub });
    const back: string[] = [];
    const gone: [ConnectionStatus, string][] = [];
    c.on('message', (_s, m) => back.push(Buffer.from(m).toString()));
    c.on('disconnected', (st, reason) => gone.push([st, reason]));
    await c.connect('127.0.0.1', port);
    c.send(Buffer.from('ping'), RetryMode.RETRY_ON_TIMEOUT);
    await until(() => back.length === 1);
    expect(back).toEqual(['ping']);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await until(() => gone.length === 1, 3000, 'told of the shutdown');
    expect(gone[0]).toEqual([ConnectionStatus.DISCONNECTING, 'peer']);
    await c.disconnect();
  });
});

describe('gamewire echo for browser players', () => {
  /** The lines echo prints before it serves, and the process to stop. */
  async function echoLines(args: string[], until: RegExp): Promise<string[]> {
    const child = spawn(process.execPath, [bin, 'echo', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        lines.push(line);
        if (until.test(line)) resolve();
      });
      child.on('exit', () => reject(new Error(`echo exited early: ${lines.join('\n')}`)));
    });
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGTERM');
    await exited;
    return lines;
  }

  it.runIf(BACKENDS.includes('native'))('prints a line per transport: the WebTransport URL with the certificate hash, the WebSocket URL (native)', async () => {
    const lines = await echoLines(['--backend', 'native', '--webtransport', '0', '--websocket', '0'], /^root public key/);
    expect(lines.find((l) => l.startsWith('webtransport on '))).toMatch(/^webtransport on https:\/\/127\.0\.0\.1:\d+\/gamewire \(certificate sha-256 [0-9a-f]{64}\)$/);
    expect(lines.find((l) => l.startsWith('websocket on '))).toMatch(/^websocket on ws:\/\/127\.0\.0\.1:\d+\/gamewire$/);
  });

  it.runIf(BACKENDS.includes('wasm'))('serves WebSocket on WASM, and refuses WebTransport there naming the option', async () => {
    const lines = await echoLines(['--backend', 'wasm', '--websocket', '0'], /^root public key/);
    expect(lines.find((l) => l.startsWith('websocket on '))).toMatch(/^websocket on ws:\/\/127\.0\.0\.1:\d+\/gamewire$/);
    const r = spawnSync(process.execPath, [bin, 'echo', '--backend', 'wasm', '--webtransport', '0'], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('webtransport: needs the native backend');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('gamewire CLI usage', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at /);

  it('--help on every command prints its usage and exits 0; --version prints the version', () => {
    for (const command of ['info', 'keygen', 'echo', 'cluster', 'node', 'demo']) {
      const r = run(command, '--help');
      expect(r.status, command).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^usage: gamewire ${command}`));
      expect(r.stdout).toContain('--help');
    }
    expect(run('info', '--help').stdout).not.toContain('"version"'); // it does not run info
    const v = run('--version');
    expect(v.status).toBe(0);
    expect(v.stdout.trim()).toBe(JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')).version);
  });

  it('bad usage: exit 2, one line naming the problem, then the usage; never a stack', () => {
    for (const [args, line] of [
      [['keygen', '--out'], 'gamewire keygen: --out needs a value'],
      [['keygen'], 'gamewire keygen: --out FILE (where to write the private key) is required'],
      [['echo', '--port', 'x'], 'gamewire echo: --port takes a whole number from 0 to 65535 (got "x")'],
      [['echo', '--nope'], 'gamewire echo: unknown option --nope'],
      [['info', 'extra'], 'gamewire info: unexpected argument "extra"'],
      [['node', '--config', 'c.json'], 'gamewire node: --server-id ID is required'],
      [['cluster', '--config', 'c.json', '--log-level', 'loud'], 'gamewire cluster: --log-level is one of trace, debug, info, warn, error, fatal, silent (got "loud")'],
    ] as const) {
      const r = run(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.split('\n')[0]).toBe(line);
      expect(r.stderr).toContain(`usage: gamewire ${args[0]}`);
      noStack(r.stderr);
    }
    const unknown = run('frobnicate');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/^gamewire: unknown command "frobnicate"/);
  });

  it('keygen keeps an existing key unless --force', () => {
    const out = join(dir, 'keep.pem');
    expect(run('keygen', '--out', out).status).toBe(0);
    const first = readFileSync(out, 'utf8');
    const again = run('keygen', '--out', out);
    expect(again.status).toBe(1);
    expect(again.stderr).toBe(`gamewire keygen: --out: ${out} exists: keygen does not overwrite a key (use --force to replace it)\n`);
    expect(readFileSync(out, 'utf8')).toBe(first);
    expect(run('keygen', '--out', out, '--force').status).toBe(0);
    expect(readFileSync(out, 'utf8')).not.toBe(first);
  });

  it('echo names the option and the file or port it could not use', async () => {
    const missing = run('echo', '--key', '/nonexistent.pem');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^gamewire echo: --key: cannot read the key file \/nonexistent\.pem: ENOENT\n$/);
    const notKey = join(dir, 'not-a-key.pem');
    writeFileSync(notKey, 'hello');
    expect(run('echo', '--key', notKey).stderr).toMatch(new RegExp(`^gamewire echo: --key: ${notKey} is not a PEM private key`));
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    try {
      const port = (busy.address() as AddressInfo).port;
      const r = spawnSync(process.execPath, [bin, 'echo', '--dashboard', String(port)], { encoding: 'utf8', timeout: 20_000 });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`\ngamewire echo: --dashboard: TCP port ${port} is in use\n`);
      noStack(r.stderr);
    } finally {
      busy.close();
    }
  });

  it('cluster: a gateway.root_key that cannot be read names the field, the key file and the config', () => {
    const config = join(dir, 'rootkey-cluster.json');
    writeFileSync(config, JSON.stringify({ game_key: 'k', master: { serverid: 0 }, serverlist: [{ serverid: 2000, type: 'proxy', ip: '127.0.0.1', port: 0 }], store: { memory: true }, gateway: { root_key: 'missing.pem' } }));
    const r = run('cluster', '--config', config, '--log-level', 'silent');
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`gamewire cluster: gateway.root_key: cannot read the proxies' root key ${join(dir, 'missing.pem')} (named in ${config}): ENOENT\n`);
  });
});
