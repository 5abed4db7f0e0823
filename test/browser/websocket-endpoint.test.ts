/**
 * The WebSocket endpoint (ts/net/transports/websocket.ts) against real `ws` clients over
 * loopback: on a port of its own and mounted on an existing HTTP server.
 */
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { WebSocketEndpoint } from '../../ts/net/transports/websocket.js';
import type { TransportHandlers, TransportRemote } from '../../ts/net/transports/types.js';
import { captureLogs } from '../helpers/logs.js';
import { until } from '../helpers/net.js';

/** Handlers that record what the endpoint reports. */
function recorder() {
  const opened = new Map<number, TransportRemote>();
  const datagrams: { key: number; bytes: Buffer }[] = [];
  const closed: number[] = [];
  const handlers: TransportHandlers = {
    onOpen: (key, remote) => void opened.set(key, remote),
    onDatagram: (key, bytes) => void datagrams.push({ key, bytes: Buffer.from(bytes) }),
    onClose: (key) => void closed.push(key),
  };
  return { opened, datagrams, closed, handlers };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function started(opts: Partial<Parameters<typeof WebSocketEndpoint.start>[0]> = {}) {
  const rec = recorder();
  const logs = captureLogs();
  const ep = await WebSocketEndpoint.start({ handlers: rec.handlers, host: '127.0.0.1', port: 0, logger: logs.logger, ...opts });
  cleanups.push(() => ep.stop());
  const url = `ws://127.0.0.1:${ep.address!.port}${ep.path}`;
  return { ep, url, logs, ...rec };
}

/** A connected client that records binary messages and its close code. */
async function client(url: string, localAddress?: string) {
  const ws = new WebSocket(url, { localAddress });
  const got: Buffer[] = [];
  let closeCode = 0;
  ws.on('message', (d: Buffer) => got.push(d));
  ws.on('close', (code: number) => (closeCode = code));
  cleanups.push(() => ws.terminate());
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, got, closeCode: () => closeCode };
}

/** The HTTP status an upgrade was refused with. */
function refusedStatus(url: string, localAddress?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { localAddress });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => reject(new Error('the upgrade was accepted')));
    ws.once('error', () => undefined);
  });
}

describe('WebSocketEndpoint', () => {
  it('reports connections with unique keys and carries binary datagrams both ways', async () => {
    const { ep, url, opened, datagrams, closed } = await started();
    const a = await client(url);
    const b = await client(url);
    await until(() => opened.size === 2);
    const [ka, kb] = [...opened.keys()];
    expect(ka).not.toBe(kb);
    expect(opened.get(ka)).toMatchObject({ host: '127.0.0.1' });
    a.ws.send(Buffer.from('from a'));
    b.ws.send(Buffer.from('from b'));
    await until(() => datagrams.length === 2);
    const byKey = new Map(datagrams.map((d) => [d.key, d.bytes.toString()]));
    expect(byKey.get(ka)).toBe('from a');
    expect(byKey.get(kb)).toBe('from b');
    const reply = new Uint8Array([1, 2, 3]);
    expect(ep.send(kb, reply)).toBe(true);
    reply[0] = 9; // the endpoint copied the bytes: reusing the buffer changes nothing sent
    await until(() => b.got.length === 1);
    expect([...b.got[0]]).toEqual([1, 2, 3]);
    expect(a.got).toEqual([]);
    a.ws.close();
    await until(() => closed.length === 1);
    expect(closed).toEqual([ka]);
    expect(ep.send(ka, reply)).toBe(false);
    expect(ep.stats).toMatchObject({ connections: 1, opened: 2, datagramsIn: 2, datagramsOut: 1 });
    // Keys are never reused.
    await client(url);
    await until(() => opened.size === 3);
    expect(Math.max(...opened.keys())).toBeGreaterThan(Math.max(ka, kb));
  });

  it('closes a connection that sends a text message or one larger than maxDatagram', async () => {
    const { ep, url, datagrams, closed } = await started({ maxDatagram: 100 });
    const text = await client(url);
    text.ws.send('hello');
    await until(() => text.closeCode() !== 0);
    expect(text.closeCode()).toBe(1003);
    const big = await client(url);
    big.ws.send(Buffer.alloc(100, 1)); // exactly the limit: accepted
    big.ws.send(Buffer.alloc(101, 2));
    await until(() => big.closeCode() !== 0);
    expect(big.closeCode()).toBe(1009);
    expect(datagrams.map((d) => d.bytes.length)).toEqual([100]);
    await until(() => closed.length === 2);
    expect(ep.stats.closedForAbuse).toBe(2);
  });

  it('limits connections per source address, leaving other sources alone', async () => {
    const { ep, url, closed } = await started({ maxConnectionsPerIp: 2 });
    const first = await client(url, '127.0.0.1');
    await client(url, '127.0.0.1');
    expect(await refusedStatus(url, '127.0.0.1')).toBe(429);
    // Linux routes all of 127.0.0.0/8 to loopback: another source address.
    await client(url, '127.0.0.2');
    expect(ep.stats).toMatchObject({ connections: 3, refused: 1 });
    first.ws.close();
    await until(() => closed.length === 1);
    await until(() => ep.stats.connections === 2);
    await client(url, '127.0.0.1'); // the slot came back
  });

  it('drops datagrams to a connection whose send buffer is over maxBufferedBytes', async () => {
    const { ep, url, opened } = await started({ maxBufferedBytes: 64 * 1024 });
    const slow = await client(url);
    await until(() => opened.size === 1);
    const key = [...opened.keys()][0];
    // The client stops reading: the kernel's buffers fill, then ws's.
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const datagram = new Uint8Array(1200);
    let refused = 0;
    for (let i = 0; i < 40_000 && refused === 0; i++) {
      if (!ep.send(key, datagram)) refused++;
      if (i % 500 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(refused).toBe(1);
    expect(ep.stats.droppedBackpressure).toBe(1);
    expect(ep.stats.connections).toBe(1);
  });

  it('mounts on an existing HTTP server at its path and leaves other requests alone', async () => {
    const http: Server = createServer((_req, res) => res.end('plain http'));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => http.close(() => r())));
    const rec = recorder();
    const ep = await WebSocketEndpoint.start({ handlers: rec.handlers, server: http, logger: captureLogs().logger });
    cleanups.push(() => ep.stop());
    const port = (http.address() as { port: number }).port;
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('plain http');
    expect(await refusedStatus(`ws://127.0.0.1:${port}/elsewhere`)).toBe(404);
    const c = await client(`ws://127.0.0.1:${port}/gamewire`);
    c.ws.send(Buffer.from([7]));
    await until(() => rec.datagrams.length === 1);
    await ep.stop();
    await until(() => c.closeCode() !== 0);
    expect(c.closeCode()).toBe(1001);
    // The mounted-on server is the caller's: it still serves.
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('plain http');
  });

  it('stop closes every connection and frees its own port', async () => {
    const { ep, url, closed } = await started();
    const c = await client(url);
    const port = ep.address!.port;
    await ep.stop();
    expect(c.closeCode()).toBe(1001);
    expect(closed.length).toBe(1);
    const probe = createNetServer();
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(port, '127.0.0.1', () => resolve());
    });
    await new Promise<void>((r) => probe.close(() => r()));
  });

  it('logs an exception from a handler and goes on', async () => {
    const logs = captureLogs();
    let calls = 0;
    const ep = await WebSocketEndpoint.start({
      host: '127.0.0.1',
      port: 0,
      logger: logs.logger,
      handlers: { onOpen: () => undefined, onClose: () => undefined, onDatagram: () => { calls++; throw new Error('boom'); } },
    });
    cleanups.push(() => ep.stop());
    const c = await client(`ws://127.0.0.1:${ep.address!.port}/gamewire`);
    c.ws.send(Buffer.from([1]));
    c.ws.send(Buffer.from([2]));
    await until(() => calls === 2);
    expect(logs.records.filter((r) => r.msg === 'exception in a transport handler')).toHaveLength(2);
    expect(ep.stats.connections).toBe(1);
  });

  it('refuses bad options naming the field', async () => {
    const handlers = recorder().handlers;
    await expect(WebSocketEndpoint.start({ handlers, path: 'gamewire' })).rejects.toMatchObject({ code: 'ERR_CONFIG', field: 'path' });
    await expect(WebSocketEndpoint.start({ handlers, maxDatagram: 0 })).rejects.toMatchObject({ field: 'maxDatagram' });
    await expect(WebSocketEndpoint.start({ handlers, port: 70000 })).rejects.toMatchObject({ field: 'port' });
    const taken = await started();
    await expect(WebSocketEndpoint.start({ handlers, host: '127.0.0.1', port: taken.ep.address!.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});
