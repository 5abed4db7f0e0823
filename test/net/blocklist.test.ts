/**
 * ServerContext.setBlockList: one list means the same on every backend and I/O mode (the native
 * backend's socket thread and the WebAssembly backend's node:dgram path), because entries are
 * canonical IP addresses; an entry that is not one IP address is refused, naming it, and then
 * nothing changes. Over real loopback sockets; a block is seen as the server's `dropBlocked`
 * counter growing while a client tries to connect.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, ConnectionStatus, PrivateKey, ServerContext, TimeoutError, UdpClient, UdpServer, type BackendName } from '../../ts/index.js';
import { BACKENDS } from '../helpers/backends.js';
import { EchoHandler, until } from '../helpers/net.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(backend: BackendName, host: string) {
  const key = PrivateKey.generate({ backend });
  const ctx = new ServerContext(new EchoHandler(), key, { backend });
  const server = new UdpServer(ctx, { host, port: 0 }, { installSignals: false, backend });
  void server.run();
  cleanups.push(() => server.stop());
  await until(() => server.metrics.ticks > 0, 5000, 'the server to run');
  const client = () => new UdpClient({ backend, rootPublicKey: key.publicKey({ backend }), net: { connectTimeout: 0.5, handshakeRetransmit: 0.1 } });
  return { ctx, server, port: server.address.port, client };
}

/** Tries to connect from `host`; resolves once the server counted the attempt as blocked. */
async function expectBlocked(s: Awaited<ReturnType<typeof serve>>, host: string): Promise<void> {
  const before = s.server.stats.dropBlocked;
  const c = s.client();
  const attempt = c.connect(host, s.port);
  await until(() => s.server.stats.dropBlocked > before, 5000, `a blocked datagram from ${host}`);
  await expect(attempt).rejects.toBeInstanceOf(TimeoutError);
  expect(s.server.clients()).toHaveLength(0);
}

async function expectConnects(s: Awaited<ReturnType<typeof serve>>, host: string): Promise<void> {
  const c = s.client();
  await c.connect(host, s.port);
  expect(c.status).toBe(ConnectionStatus.CONNECTED);
  await c.disconnect();
}

describe.each(BACKENDS)('block list (%s)', (backend) => {
  it('an IPv4-mapped IPv6 entry blocks that IPv4 address', async () => {
    const s = await serve(backend, '127.0.0.1');
    s.ctx.setBlockList(['::ffff:127.0.0.1']);
    expect([...s.ctx.blocklist]).toEqual(['127.0.0.1']);
    await expectBlocked(s, '127.0.0.1');
    s.ctx.setBlockList([]);
    await expectConnects(s, '127.0.0.1');
  });

  it('an IPv6 entry in any spelling blocks that address', async () => {
    const s = await serve(backend, '::1');
    s.ctx.setBlockList(['0:0:0:0:0:0:0:1', 'FE80:0:0:0:0:0:0:AB']);
    expect([...s.ctx.blocklist]).toEqual(['::1', 'fe80::ab']);
    await expectBlocked(s, '::1');
    s.ctx.setBlockList(new Set(['fe80::ab']));
    await expectConnects(s, '::1');
  });

  it('refuses a list with an entry that is not one IP address, naming it, and keeps the previous list in force', async () => {
    const s = await serve(backend, '127.0.0.1');
    s.ctx.setBlockList(['127.0.0.1']);
    const bad: [unknown, RegExp][] = [
      ['not-an-ip', /"not-an-ip" is not an IPv4 or IPv6 address/],
      ['127.0.0.0/8', /"127\.0\.0\.0\/8" is a range: CIDR ranges are not supported/],
      ['fe80::1%lo', /"fe80::1%lo" has a zone id/],
      ['localhost', /"localhost" is not an IPv4 or IPv6 address/],
      [' 127.0.0.2', /" 127\.0\.0\.2" is not/],
      [7, /7 is not a string/],
    ];
    for (const [entry, why] of bad) {
      let err: unknown;
      try {
        s.ctx.setBlockList(['10.0.0.1', entry as string, '10.0.0.2']);
      } catch (e) {
        err = e;
      }
      expect(err, `${String(entry)} refused`).toBeInstanceOf(ConfigError);
      expect(err).toMatchObject({ field: 'blocklist' });
      expect((err as Error).message).toMatch(why);
      expect([...s.ctx.blocklist]).toEqual(['127.0.0.1']);
    }
    expect(() => s.ctx.setBlockList('127.0.0.1' as unknown as string[])).toThrow(ConfigError);
    // The previous list is still what the server applies.
    await expectBlocked(s, '127.0.0.1');
    s.ctx.setBlockList([]);
    await expectConnects(s, '127.0.0.1');
  });
});
