/**
 * The threaded socket driver (native backend, `io: 'thread'`): the same server API with the
 * socket I/O and protocol work on a Rust thread. mpgameserver's own client talks to it too.
 */
import { writeFileSync, mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, ConnectionStatus, EventHandler, PrivateKey, RetryMode, ServerContext, UdpClient, UdpServer, type ClientHandle } from '../../ts/index.js';
import type { ThreadedServer } from '../../ts/backend/index.js';
import { EchoHandler, until } from '../helpers/net.js';
import { ConventionHandler, PyPeer } from '../interop/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'gamewire-thread-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function start(handler: ConstructorParameters<typeof ServerContext>[0], setup?: (ctx: ServerContext) => void) {
  const key = PrivateKey.generate({ backend: 'native' });
  const ctx = new ServerContext(handler, key, { backend: 'native' });
  setup?.(ctx);
  const server = new UdpServer(ctx, { host: '127.0.0.1', port: 0 }, { installSignals: false, backend: 'native', io: 'thread' });
  const running = server.run();
  await server.listen();
  return { server, ctx, key, running, port: server.address.port };
}

describe('io: thread', () => {
  it('refuses the WASM backend, naming the option', () => {
    const ctx = new ServerContext(new EchoHandler(), PrivateKey.generate({ backend: 'wasm' }), { backend: 'wasm' });
    const s = new UdpServer(ctx, { host: '127.0.0.1', port: 0 }, { installSignals: false, backend: 'wasm', io: 'thread' });
    return expect(s.listen()).rejects.toBeInstanceOf(ConfigError);
  });

  it('100 clients exchange 50 guaranteed messages each; block list, access log and stats work', async () => {
    const h = new EchoHandler(RetryMode.RETRY_ON_TIMEOUT);
    const log = join(dir, 'access.log');
    const s = await start(h, (ctx) => ctx.enableAccessLogs(log));
    const clients = Array.from({ length: 100 }, () => new UdpClient({ backend: 'native', rootPublicKey: s.key.publicKey({ backend: 'native' }) }));
    try {
      await Promise.all(clients.map((c) => c.connect('127.0.0.1', s.port)));
      const got = clients.map(() => new Set<string>());
      clients.forEach((c, i) => c.on('message', (_s, m) => got[i].add(Buffer.from(m).toString())));
      clients.forEach((c, i) => {
        for (let k = 0; k < 50; k++) c.sendGuaranteed(Buffer.from(`${i}:${k}`));
      });
      await until(() => got.every((g) => g.size === 50), 30_000, 'echoes');
      expect(h.messages).toHaveLength(5000);
      await until(() => s.server.stats.messagesAcked === 5000, 5000, 'acks');
      expect(s.server.stats.messagesReceived).toBe(5000);
      const first = clients[0];
      expect(h.connected.get(first.token)?.addr.port).toBe(first.localAddress?.port);
      expect(readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(100);
      // Block list, applied by the thread.
      s.ctx.setBlockList(['127.0.0.1']);
      const blocked = new UdpClient({ backend: 'native', rootPublicKey: s.key.publicKey({ backend: 'native' }), net: { connectTimeout: 0.5 } });
      await expect(blocked.connect('127.0.0.1', s.port)).rejects.toThrow(/timed out/);
      expect(s.server.stats.dropBlocked).toBeGreaterThan(0);
      s.ctx.setBlockList([]);
      await Promise.all(clients.map((c) => c.disconnect()));
      await until(() => h.disconnected.length === 100, 10_000, 'disconnects');
      expect(h.disconnected.every((c) => c.status === ConnectionStatus.DISCONNECTED)).toBe(true);
    } finally {
      await Promise.all(clients.map((c) => c.disconnect()));
      await s.server.stop();
    }
    await s.running;
    expect(h.events.at(-1)).toBe('shutdown');
  }, 60_000);

  it("mpgameserver's client talks to it in all three retry modes", async () => {
    const handler = new ConventionHandler();
    const s = await start(handler);
    try {
      const pub = join(dir, 'thread.pub.pem');
      writeFileSync(pub, s.key.publicKey({ backend: 'native' }).toPem({ backend: 'native' }));
      const py = PyPeer.start('mpgs_client.py', [
        '--host', '127.0.0.1', '--port', String(s.port), '--pub', pub, '--count', '10',
        '--modes', 'NONE,BEST_EFFORT,RETRY_ON_TIMEOUT', '--large', '--no-data', '--quiet-sends',
      ]);
      expect(await py.exited).toBe(0);
      await until(() => handler.disconnects.length === 1, 5000, 'disconnect');
      expect(handler.received).toHaveLength(33);
    } finally {
      await s.server.stop();
    }
  }, 60_000);

  it('sends a burst to one client as UDP GSO buffers, which arrive as the datagrams they were', async () => {
    // Pacing lifted on both sides: the handler's 40 replies are due at once, in one send batch.
    class Burst extends EventHandler {
      override handleMessage(client: ClientHandle, _seq: number, msg: Uint8Array): void {
        for (let k = 0; k < 40; k++) client.send(Buffer.alloc(1000, k), RetryMode.NONE);
        client.send(Buffer.from(msg), RetryMode.NONE);
      }
    }
    const key = PrivateKey.generate({ backend: 'native' });
    const ctx = new ServerContext(new Burst(), key, { backend: 'native', net: { sendInterval: 0 } });
    const server = new UdpServer(ctx, { host: '127.0.0.1', port: 0 }, { installSignals: false, backend: 'native', io: 'thread' });
    const running = server.run();
    await server.listen();
    const c = new UdpClient({ backend: 'native', rootPublicKey: key.publicKey({ backend: 'native' }), net: { sendInterval: 0 } });
    try {
      await c.connect('127.0.0.1', server.address.port);
      const got: Buffer[] = [];
      c.on('message', (_s, m) => got.push(Buffer.from(m)));
      const threaded = (server as unknown as { threaded: ThreadedServer }).threaded;
      const before = threaded.threadProfile();
      c.send(Buffer.from('go'), RetryMode.NONE);
      await until(() => got.length === 41, 5000, 'the burst');
      // Every message whole and in order: the kernel split the buffers where the datagrams ended.
      expect(got.slice(0, 40).map((m) => [m.length, m[0], m[999]])).toEqual(Array.from({ length: 40 }, (_, k) => [1000, k, k]));
      expect(got[40].toString()).toBe('go');
      const after = threaded.threadProfile();
      const datagrams = after.datagramsSent - before.datagramsSent;
      expect(datagrams).toBeGreaterThanOrEqual(40);
      // Grouped, unless GSO was turned off by hand (the kernel here takes it).
      if (process.env.GAMEWIRE_UDP_GSO !== '0') expect(after.sendMessages - before.sendMessages).toBeLessThan(datagrams / 4);
    } finally {
      await c.disconnect();
      await server.stop();
      await running;
    }
  });

  it('tells clients on stop', async () => {
    const h = new EchoHandler();
    const s = await start(h);
    const c = new UdpClient({ backend: 'native', rootPublicKey: s.key.publicKey({ backend: 'native' }) });
    const gone: string[] = [];
    c.on('disconnected', (_st, reason) => gone.push(reason));
    await c.connect('127.0.0.1', s.port);
    await s.server.stop();
    await until(() => gone.length === 1, 3000, 'told');
    expect(gone).toEqual(['peer']);
    await c.disconnect();
  });
});
