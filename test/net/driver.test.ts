/**
 * Fixes found by the load benchmarks (bench/load): the driver's output arena, message buffers
 * handed to handlers, the client's timer after a handshake packet, replies held by the send gate.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../ts/backend/index.js';
import { EngineDriver } from '../../ts/net/driver.js';
import { EV } from '../../ts/net/constants.js';
import { EventHandler, PrivateKey, RetryMode, ServerContext, UdpClient, UdpServer, type ClientHandle } from '../../ts/index.js';
import { BACKENDS } from '../helpers/backends.js';
import { captureLogs } from '../helpers/logs.js';
import { until } from '../helpers/net.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function bound(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
  return s;
}

/** An engine that transmits `batches` (datagram contents) one batch per `transmit` call. */
function fakeEngine(batches: Uint8Array[][]): Engine {
  const out = Buffer.alloc(128 * 2048);
  const meta = new Uint32Array(128 * 3);
  let next = 0;
  const e: Partial<Engine> = {
    transmit: () => {
      const batch = batches[next++] ?? [];
      let off = 0;
      batch.forEach((d, i) => {
        out.set(d, off);
        meta.set([0, off, d.length], i * 3);
        off += d.length;
      });
      return batch.length;
    },
    outView: () => out,
    outMetaView: () => meta,
    events: () => 0,
    eventView: () => out,
  };
  return e as Engine;
}

describe('EngineDriver under overload', () => {
  it('yields to the event loop when events keep coming, and goes on draining on its next turn', async () => {
    // Socket threads that fill the event queue as fast as handlers empty it: a pump that drained
    // until empty would never return, and no timer, I/O or IPC would run again.
    const view = Buffer.alloc(16);
    view.writeUInt32LE(EV.RELEASED, 0); // a RELEASED record, peer 0
    let batches = 0;
    let flowing = true;
    const engine: Partial<Engine> = {
      transmit: () => 0,
      outMetaView: () => new Uint32Array(3),
      events: () => {
        if (!flowing) return 0;
        batches++;
        return 16;
      },
      eventView: () => view,
    };
    let released = 0;
    const driver = new EngineDriver(
      engine as Engine,
      () => undefined,
      { connected() {}, message() {}, disconnected() {}, released: () => void released++ },
      captureLogs().logger,
    );
    let timerRan = false;
    setImmediate(() => (timerRan = true));
    driver.pump();
    // The pump returned, bounded.
    expect(batches).toBeGreaterThan(0);
    expect(batches).toBeLessThanOrEqual(64);
    const first = batches;
    // The event loop got a turn, and the driver came back for more by itself.
    await until(() => timerRan && batches > first, 2000, 'the event loop turn and the next pump');
    flowing = false;
    await new Promise((r) => setImmediate(r));
    const settled = batches;
    await new Promise((r) => setImmediate(r));
    expect(batches).toBe(settled);
    expect(released).toBe(batches);
    driver.close();
  });
});

describe('EngineDriver output', () => {
  it('keeps every datagram of a pump intact when one pump transmits more than one batch', async () => {
    // node:dgram sends on a later tick (after its address lookup): the second batch must not be
    // written over the first one's bytes before they leave.
    const rx = await bound();
    const tx = await bound();
    const got: Buffer[] = [];
    rx.on('message', (m) => got.push(m));
    const datagram = (i: number) => Buffer.alloc(60 + (i % 7), i & 0xff).fill(i >> 8, 0, 1);
    const all = Array.from({ length: 200 }, (_, i) => datagram(i));
    const driver = new EngineDriver(
      fakeEngine([all.slice(0, 128), all.slice(128)]),
      () => ({ socket: tx, address: '127.0.0.1', port: rx.address().port }),
      { connected() {}, message() {}, disconnected() {}, released() {} },
      captureLogs().logger,
    );
    driver.pump();
    await until(() => got.length === 200, 5000, '200 datagrams');
    const want = new Set(all.map((d) => d.toString('hex')));
    expect(new Set(got.map((d) => d.toString('hex')))).toEqual(want);
  });
});

describe.each(BACKENDS)('messages handed to handlers (%s)', (backend) => {
  it('are copies that later messages do not overwrite, on the server and on the client', async () => {
    const kept: Uint8Array[] = [];
    class Keep extends EventHandler {
      override handleMessage(c: ClientHandle, _s: number, m: Uint8Array) {
        kept.push(m);
        c.send(m, RetryMode.NONE);
      }
    }
    const key = PrivateKey.generate({ backend });
    const server = new UdpServer(new ServerContext(new Keep(), key, { backend }), { host: '127.0.0.1', port: 0 }, { installSignals: false, backend });
    const running = server.run();
    cleanups.push(async () => {
      await server.stop();
      await running;
    });
    await server.listen();
    const c = new UdpClient({ backend, rootPublicKey: key.publicKey({ backend }) });
    cleanups.push(() => c.disconnect());
    const back: Uint8Array[] = [];
    c.on('message', (_s, m) => back.push(m));
    await c.connect('127.0.0.1', server.address.port);
    for (let i = 0; i < 3; i++) {
      c.send(Buffer.from(`message-${i}`), RetryMode.NONE);
      await until(() => back.length === i + 1, 5000, `echo ${i}`);
    }
    const text = (xs: Uint8Array[]) => xs.map((m) => Buffer.from(m).toString());
    expect(text(kept)).toEqual(['message-0', 'message-1', 'message-2']);
    expect(text(back)).toEqual(['message-0', 'message-1', 'message-2']);
  });
});

describe('UdpClient and UdpServer timers', () => {
  it('a client connects without waiting for the CLIENT_HELLO retransmit', async () => {
    // The CHALLENGE_RESP is held by the send gate right after the SERVER_HELLO; the client's timer
    // must be re-armed after the datagram is handled, not before (it was armed for the hello's
    // retransmit or its 1 s packet timeout: connects took 0.5–1 s; now the server's first
    // keep-alive, 0.1 s, is what they wait for).
    const key = PrivateKey.generate();
    const server = new UdpServer(new ServerContext(new (class extends EventHandler {})(), key), { host: '127.0.0.1', port: 0 }, { installSignals: false });
    const running = server.run();
    cleanups.push(async () => {
      await server.stop();
      await running;
    });
    await server.listen();
    const c = new UdpClient({ rootPublicKey: key.publicKey(), net: { handshakeRetransmit: 5, connectTimeout: 10 } });
    cleanups.push(() => c.disconnect());
    const t0 = performance.now();
    await c.connect('127.0.0.1', server.address.port);
    expect(performance.now() - t0).toBeLessThan(700);
  });

  it('a reply held by the send gate leaves before the next tick', async () => {
    class Echo extends EventHandler {
      override handleMessage(c: ClientHandle, _s: number, m: Uint8Array) {
        c.send(m, RetryMode.NONE);
      }
    }
    const key = PrivateKey.generate();
    const ctx = new ServerContext(new Echo(), key);
    ctx.setInterval(1); // one tick a second
    const server = new UdpServer(ctx, { host: '127.0.0.1', port: 0 }, { installSignals: false });
    const running = server.run();
    cleanups.push(async () => {
      await server.stop();
      await running;
    });
    await server.listen();
    // An unpaced client, so that its second message reaches the server while the server's gate
    // towards it (1/60 s after the first echo) is still closed; no keep-alives from it in between
    // (a datagram arriving once the gate is open would also release the reply).
    const c = new UdpClient({ rootPublicKey: key.publicKey(), net: { sendInterval: 0, keepAliveInterval: 2 } });
    cleanups.push(() => c.disconnect());
    const at = new Map<string, number>();
    c.on('message', (_s, m) => at.set(Buffer.from(m).toString(), performance.now()));
    await c.connect('127.0.0.1', server.address.port);
    c.send(Buffer.from('a'), RetryMode.NONE);
    await until(() => at.has('a'), 5000, 'echo a');
    await new Promise((r) => setTimeout(r, 2));
    const sentB = performance.now();
    c.send(Buffer.from('b'), RetryMode.NONE);
    await until(() => at.has('b'), 5000, 'echo b');
    expect(at.get('b')! - sentB).toBeLessThan(300);
  });
});
