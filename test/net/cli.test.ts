/** The `gamewire keygen` and `gamewire echo` commands, as child processes. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
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
