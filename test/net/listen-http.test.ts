/**
 * listenHttp's limits (what the router, the dashboard and the master's admin API are served
 * with), over real loopback TCP: a client that never finishes its headers or its body is closed by
 * the server, an idle keep-alive connection is closed, and connections past the cap are refused.
 * The timeouts are made short through the options, so each test waits for the server's close
 * event rather than for a long default.
 */
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, HTTP_LIMIT_DEFAULTS, listenHttp, NetworkError, Router, type HttpListener } from '../../ts/index.js';
import { captureLogs } from '../helpers/logs.js';
import { until } from '../helpers/net.js';
import { rawConnect } from './raw-http.js';

const listeners: HttpListener[] = [];
afterEach(async () => {
  for (const l of listeners.splice(0)) await l.close();
});

async function serve(opts: Parameters<typeof listenHttp>[2] = {}) {
  const logs = captureLogs();
  const router = new Router();
  router.get('/hello', () => ({ hello: 'world' }));
  router.post('/echo', async (req) => ({ got: await req.text() }));
  const l = await listenHttp(router, { host: '127.0.0.1', port: 0 }, { logger: logs.logger, ...opts });
  listeners.push(l);
  return { l, port: l.address.port, logs };
}

describe('listenHttp limits', () => {
  it('closes a connection whose request headers never finish (408), and one whose body never finishes', async () => {
    const { port } = await serve({ headersTimeoutMs: 150, requestTimeoutMs: 300 });
    const slow = await rawConnect(port);
    slow.write('GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    await slow.closed;
    expect(slow.received).toMatch(/^HTTP\/1\.1 408 /);

    const slowBody = await rawConnect(port);
    slowBody.write('POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\nab');
    await slowBody.closed;
    expect(slowBody.received).toMatch(/^HTTP\/1\.1 408 /);

    // A prompt client on the same server is served.
    const ok = await rawConnect(port);
    ok.write('GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(await ok.waitFor(/\{"hello":"world"\}/)).toMatch(/^HTTP\/1\.1 200 /);
    ok.destroy();
  });

  it('closes an idle keep-alive connection after keepAliveTimeoutMs', async () => {
    const { l, port } = await serve({ keepAliveTimeoutMs: 200 });
    expect(l.server.keepAliveTimeout).toBe(200);
    const c = await rawConnect(port);
    c.write('GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await c.waitFor(/\{"hello":"world"\}/);
    expect(c.received).toMatch(/keep-alive/i);
    await c.closed;
  });

  it('refuses connections past maxConnections (logged) and keeps serving the open ones', async () => {
    const { l, port, logs } = await serve({ maxConnections: 2 });
    let accepted = 0;
    let gone = 0;
    l.server.on('connection', (s: Socket) => {
      accepted++;
      s.on('close', () => gone++);
    });
    const a = await rawConnect(port);
    const b = await rawConnect(port);
    await until(() => accepted === 2, 5000, 'the server to accept two connections');
    const c = await rawConnect(port);
    await c.closed;
    expect(c.received).toBe('');
    await until(() => logs.records.some((r) => r.msg === 'HTTP connection refused: too many open connections'), 5000, 'the refusal to be logged');
    for (const x of [a, b]) {
      x.write('GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      expect(await x.waitFor(/\{"hello":"world"\}/)).toMatch(/^HTTP\/1\.1 200 /);
    }
    // Once one closes, a new connection is served again.
    a.destroy();
    await a.closed;
    await until(() => gone === 1, 5000, 'the server to see `a` close'); // a refused connection is never 'connection'
    const d = await rawConnect(port);
    d.write('GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(await d.waitFor(/\{"hello":"world"\}/)).toMatch(/^HTTP\/1\.1 200 /);
    b.destroy();
    d.destroy();
  });

  it('has documented defaults, refuses bad limits naming them, and reports a taken port as a NetworkError', async () => {
    expect(HTTP_LIMIT_DEFAULTS).toEqual({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5000, maxConnections: 1024, closeGraceMs: 1000 });
    const { l, port } = await serve();
    expect(l.server.headersTimeout).toBe(10_000);
    expect(l.server.requestTimeout).toBe(30_000);
    expect(l.server.keepAliveTimeout).toBe(5000);
    expect(l.server.maxConnections).toBe(1024);
    const router = new Router();
    const at = { host: '127.0.0.1', port: 0 };
    await expect(listenHttp(router, at, { maxConnections: 0 })).rejects.toMatchObject({ code: 'ERR_CONFIG', field: 'maxConnections' });
    await expect(listenHttp(router, at, { headersTimeoutMs: 1.5 })).rejects.toMatchObject({ field: 'headersTimeoutMs' });
    await expect(listenHttp(router, at, { headersTimeoutMs: 2000, requestTimeoutMs: 1000 })).rejects.toBeInstanceOf(ConfigError);
    const taken = listenHttp(router, { host: '127.0.0.1', port });
    await expect(taken).rejects.toBeInstanceOf(NetworkError);
    await expect(taken).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});
