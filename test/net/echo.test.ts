import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionStatus, RetryMode } from '../../ts/index.js';
import { BACKENDS } from '../helpers/backends.js';
import { EchoHandler, startServer, until } from '../helpers/net.js';

describe.each(BACKENDS)('echo over loopback UDP (%s)', (backend) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  it('connects, echoes in every retry mode, and disconnects', async () => {
    const h = new EchoHandler();
    const s = await startServer(backend, h);
    cleanups.push(() => s.server.stop());
    const c = s.client();
    const got: string[] = [];
    c.on('message', (_seq, msg) => got.push(Buffer.from(msg).toString()));
    await c.connect('127.0.0.1', s.port);
    expect(c.status).toBe(ConnectionStatus.CONNECTED);
    expect(c.token).toBeGreaterThanOrEqual(0x4000_0000);
    await until(() => h.connected.size === 1);
    expect(h.connected.get(c.token)?.addr.port).toBe(c.localAddress?.port);
    const acks: boolean[] = [];
    for (const mode of [RetryMode.NONE, RetryMode.BEST_EFFORT, RetryMode.RETRY_ON_TIMEOUT]) {
      for (let i = 0; i < 5; i++) c.send(Buffer.from(`m${mode}:${i}`), mode, (ok) => acks.push(ok));
    }
    await until(() => got.length === 15 && acks.length === 15);
    expect(new Set(got).size).toBe(15);
    expect(acks.every(Boolean)).toBe(true);
    await c.disconnect();
    await until(() => h.disconnected.length === 1);
    expect(h.disconnected[0].status).toBe(ConnectionStatus.DISCONNECTED);
  });
});
