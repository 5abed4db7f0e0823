/**
 * A server that restarts and survives its own event loop stalling, on every backend and I/O mode:
 * a stopped server frees its port at once (a new one binds it in the same process), a port in use
 * is the same error everywhere, a reply for a client that left never reaches the client that came
 * next, and SIGTERM leaves the process to the application.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { EventHandler, NetworkError, PrivateKey, RetryMode, ServerContext, UdpClient, UdpServer, type BackendName, type ClientHandle } from '../../ts/index.js';
import { BACKENDS } from '../helpers/backends.js';
import { until } from '../helpers/net.js';

const ROOT = join(import.meta.dirname, '..', '..');

interface Mode {
  backend: BackendName;
  io: 'thread' | 'dgram';
  threads?: number;
}

const MODES: Mode[] = [
  ...(BACKENDS.includes('native')
    ? ([
        { backend: 'native', io: 'thread' },
        { backend: 'native', io: 'thread', threads: 2 },
        { backend: 'native', io: 'dgram' },
      ] as Mode[])
    : []),
  ...(BACKENDS.includes('wasm') ? ([{ backend: 'wasm', io: 'dgram' }] as Mode[]) : []),
];

const label = (m: Mode) => `${m.backend}, io: ${m.io}${m.threads ? `, threads: ${m.threads}` : ''}`;

function server(m: Mode, handler: EventHandler, port = 0): UdpServer {
  const ctx = new ServerContext(handler, PrivateKey.generate({ backend: m.backend }), { backend: m.backend });
  return new UdpServer(ctx, { host: '127.0.0.1', port }, { installSignals: false, backend: m.backend, io: m.io, threads: m.threads });
}

class Quiet extends EventHandler {}

describe.each(MODES)('lifecycle ($backend, io: $io, threads: $threads)', (m) => {
  it('a stopped server frees its port at once: a new server binds it right after, twice over', async () => {
    const first = server(m, new Quiet());
    const running = first.run();
    const { port } = await first.listen();
    await first.stop();
    await running;
    for (let round = 0; round < 2; round++) {
      const again = server(m, new Quiet(), port);
      const done = again.run();
      expect((await again.listen()).port).toBe(port);
      await again.stop();
      await done;
    }
  });

  it(`a port in use is NetworkError EADDRINUSE (${label(m)})`, async () => {
    const holder = server(m, new Quiet());
    const { port } = await holder.listen();
    const clash = server(m, new Quiet(), port);
    const err = await clash.listen().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as NetworkError).code).toBe('EADDRINUSE');
    expect((err as Error).message).toContain(`127.0.0.1:${port}`);
    await holder.stop();
    await clash.stop();
  });

  it('a reply for a client that left during a stalled event loop is refused, never delivered to the next client', async () => {
    const replies: boolean[] = [];
    let secretsAsked = 0;
    class Staller extends EventHandler {
      override connect(c: ClientHandle): void {
        c.send(Buffer.from('welcome'), RetryMode.RETRY_ON_TIMEOUT);
      }
      override handleMessage(c: ClientHandle, _seq: number, msg: Uint8Array): void {
        const text = Buffer.from(msg).toString();
        if (text.startsWith('stall ')) {
          const end = performance.now() + Number(text.slice(6));
          while (performance.now() < end) {
            // The event loop is stalled: the socket threads (native) go on without it.
          }
        } else if (text === 'secret?') {
          secretsAsked++;
          c.send(Buffer.from(`SECRET for ${c.token}`), RetryMode.RETRY_ON_TIMEOUT, (acked) => replies.push(acked));
        }
      }
    }
    const s = server(m, new Staller());
    const running = s.run();
    const { port } = await s.listen();
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/net/fixtures/stall-clients.ts'), String(port), m.backend], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let errOut = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (errOut += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    await until(() => out.includes('"b"') || child.exitCode !== null, 20_000, `the clients' report (stderr: ${errOut})`);
    await exited;
    await s.stop();
    await running;
    const report = out
      .split('\n')
      .filter((l) => l.includes('"b"'))
      .map((l) => JSON.parse(l) as { b: string[] })[0];
    // A's handler ran after A had left: its reply was refused (callback false, exactly once).
    expect(secretsAsked).toBe(1);
    expect(replies).toEqual([false]);
    // B was connected and reachable, and got only what was meant for it.
    expect(report.b).toContain('welcome');
    expect(report.b.filter((t) => t.startsWith('SECRET'))).toEqual([]);
  }, 30_000);
});

describe.each(MODES)('send, then disconnect ($backend, io: $io, threads: $threads)', (m) => {
  it('what either side sent just before a graceful disconnect is delivered first', async () => {
    const got: string[] = [];
    const kicked: boolean[] = [];
    class Kicker extends EventHandler {
      override handleMessage(c: ClientHandle, _seq: number, msg: Uint8Array): void {
        got.push(Buffer.from(msg).toString());
        if (got.length === 3) {
          c.send(Buffer.from('bye: you are kicked'), RetryMode.RETRY_ON_TIMEOUT, (acked) => kicked.push(acked));
          c.disconnect();
        }
      }
    }
    const key = PrivateKey.generate({ backend: m.backend });
    const ctx = new ServerContext(new Kicker(), key, { backend: m.backend });
    const s = new UdpServer(ctx, { host: '127.0.0.1', port: 0 }, { installSignals: false, backend: m.backend, io: m.io, threads: m.threads });
    const running = s.run();
    const { port } = await s.listen();
    // Client side: three messages, then disconnect at once.
    const leaving = new UdpClient({ backend: m.backend, rootPublicKey: key.publicKey({ backend: m.backend }) });
    await leaving.connect('127.0.0.1', port);
    leaving.send(Buffer.from('one'), RetryMode.NONE);
    leaving.send(Buffer.from('two'), RetryMode.BEST_EFFORT);
    await leaving.disconnect();
    // Server side: the third message makes the server send a reason and disconnect the client.
    const kickedClient = new UdpClient({ backend: m.backend, rootPublicKey: key.publicKey({ backend: m.backend }) });
    const reasons: string[] = [];
    kickedClient.on('message', (_seq, msg) => reasons.push(Buffer.from(msg).toString()));
    const gone = new Promise<void>((r) => kickedClient.once('disconnected', () => r()));
    await kickedClient.connect('127.0.0.1', port);
    kickedClient.send(Buffer.from('three'), RetryMode.RETRY_ON_TIMEOUT);
    await gone;
    await until(() => kicked.length === 1, 5000, 'the callback of the kick message');
    expect(got).toEqual(['one', 'two', 'three']);
    expect(reasons).toEqual(['bye: you are kicked']);
    expect(kicked).toEqual([true]);
    await s.stop();
    await running;
  });
});

describe('signals', () => {
  it("SIGTERM stops the server and runs the application's hook; the library never exits the process", async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/net/fixtures/sigterm-server.ts')], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    await until(() => out.includes('listening'), 20_000, 'the server to listen');
    child.kill('SIGTERM');
    const code = await exited;
    // The hook's asynchronous cleanup finished, and the process ended on its own with its code.
    expect(out).toContain('stopped by SIGTERM');
    expect(out).toContain('async cleanup done');
    expect(code).toBe(3);
  }, 30_000);
});
