/**
 * UdpServer.listenTcp: an HTTP(S) router beside the game port, over real loopback sockets. Routes,
 * parameters, query strings, JSON bodies (validated by a zod schema), 404 and 405, the one error
 * body shape, HTTPS with a self-signed certificate made by openssl, and closing with the server.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { GamewireError, HttpError, NetworkError, PrivateKey, Router, ServerContext, StateError, UdpServer } from '../../ts/index.js';
import { BACKENDS } from '../helpers/backends.js';
import { captureLogs } from '../helpers/logs.js';
import { EchoHandler, sleep, startServer, until } from '../helpers/net.js';

const dir = mkdtempSync(join(tmpdir(), 'gamewire-http-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A self-signed P-256 certificate for localhost, valid one day. */
function selfSigned(): { keyPath: string; certPath: string; key: string; cert: string } {
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-days', '1',
    '-keyout', keyPath, '-out', certPath,
  ], { stdio: 'pipe' });
  return { keyPath, certPath, key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8') };
}

/** GET over HTTPS trusting only `ca`. */
function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const json = async (r: Response) => ({ status: r.status, type: r.headers.get('content-type'), body: (await r.json()) as unknown });

describe.each(BACKENDS)('UdpServer.listenTcp (%s)', (backend) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  it('routes GET and POST with parameters, query strings and JSON bodies; unknown paths are 404, wrong methods 405', async () => {
    const s = await startServer(backend, new EchoHandler());
    cleanups.push(() => s.server.stop());
    const router = new Router();
    router.get('/health', () => ({ ok: true }));
    router.get('/rooms/:id', (req) => ({ id: req.params.id, full: req.query.full ?? null, path: req.path }));
    router.get('/rooms/:id/players/:name', (req, res) => res.text(`${req.params.name}@${req.params.id}`));
    router.post('/rooms/:id/say', async (req, res) => {
      const body = await req.json<{ text: string }>();
      res.status(201).json({ room: req.params.id, said: body.text, type: req.header('content-type') });
    });
    router.delete('/rooms/:id', (_req, res) => res.end());
    router.get('/q', (req) => ({ query: { ...req.query }, tags: req.queryAll('tag'), none: req.queryAll('none') }));
    const Room = z.object({ name: z.string().min(1), size: z.number().int() });
    router.post('/rooms', async (req, res) => res.status(201).json(await req.json(Room)));
    const addr = await s.server.listenTcp(router, { host: '127.0.0.1', port: 0 });
    expect(addr.port).toBeGreaterThan(0);
    expect(addr.port).not.toBe(s.port);
    const base = `http://127.0.0.1:${addr.port}`;

    expect(await json(await fetch(`${base}/health`))).toEqual({ status: 200, type: 'application/json; charset=utf-8', body: { ok: true } });
    expect((await json(await fetch(`${base}/rooms/7?full=1`))).body).toEqual({ id: '7', full: '1', path: '/rooms/7' });
    expect((await json(await fetch(`${base}/rooms/abc`))).body).toEqual({ id: 'abc', full: null, path: '/rooms/abc' });
    const text = await fetch(`${base}/rooms/3/players/ann`);
    expect(text.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await text.text()).toBe('ann@3');
    const post = await fetch(`${base}/rooms/9/say`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'hello' }),
    });
    expect(await json(post)).toMatchObject({ status: 201, body: { room: '9', said: 'hello', type: 'application/json' } });
    expect((await fetch(`${base}/rooms/9`, { method: 'DELETE' })).status).toBe(204);
    const head = await fetch(`${base}/health`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');

    // One string per query key, the last of repeated ones; queryAll has them all.
    expect((await json(await fetch(`${base}/q?a=1&a=2&tag=x&tag=y+z&b=%C3%A9`))).body).toEqual({
      query: { a: '2', tag: 'y z', b: 'é' },
      tags: ['x', 'y z'],
      none: [],
    });

    expect(await json(await fetch(`${base}/nowhere`))).toEqual({
      status: 404,
      type: 'application/json; charset=utf-8',
      body: { error: { status: 404, code: 'ERR_HTTP', message: 'not found' } },
    });
    // A known path with another method: 405 and the methods it has.
    const wrong = await fetch(`${base}/health`, { method: 'POST', body: 'x' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, HEAD');
    expect(await wrong.json()).toEqual({ error: { status: 405, code: 'ERR_HTTP', message: 'method POST is not allowed here (allowed: GET, HEAD)' } });
    const wrongParam = await fetch(`${base}/rooms/5`, { method: 'PUT' });
    expect(wrongParam.status).toBe(405);
    expect(wrongParam.headers.get('allow')).toBe('GET, HEAD, DELETE');
    // Malformed JSON is the client's fault: 400, with the reason.
    const bad = await json(await fetch(`${base}/rooms/9/say`, { method: 'POST', body: '{nope' }));
    expect(bad).toMatchObject({ status: 400, body: { error: { status: 400, code: 'ERR_INVALID_ARG' } } });
    expect((bad.body as { error: { message: string } }).error.message).toMatch(/not valid JSON/);
    const empty = await fetch(`${base}/rooms/9/say`, { method: 'POST' });
    expect(empty.status).toBe(400);
    // A body the schema refuses: 400 with one issue per field.
    const invalid = await json(await fetch(`${base}/rooms`, { method: 'POST', body: JSON.stringify({ name: '', size: 2.5 }) }));
    expect(invalid.status).toBe(400);
    const err = (invalid.body as { error: { code: string; message: string; issues: { path: string; message: string }[] } }).error;
    expect(err.code).toBe('ERR_INVALID_ARG');
    expect(err.issues.map((i) => i.path)).toEqual(['name', 'size']);
    for (const i of err.issues) expect(i.message).toEqual(expect.any(String));
    expect(await json(await fetch(`${base}/rooms`, { method: 'POST', body: JSON.stringify({ name: 'duel', size: 2 }) }))).toMatchObject({
      status: 201,
      body: { name: 'duel', size: 2 },
    });
  });

  it('a throwing handler is a logged 500; the router keeps serving and the game port is unaffected', async () => {
    const h = new EchoHandler();
    const s = await startServer(backend, h);
    cleanups.push(() => s.server.stop());
    const logs = captureLogs();
    const router = new Router({ logger: logs.logger, bodyLimit: 1024 });
    let calls = 0;
    router.get('/count', () => ({ calls: ++calls }));
    router.get('/boom', () => {
      throw new Error('sync boom');
    });
    router.get('/async-boom', async () => {
      await sleep(1);
      throw new Error('async boom');
    });
    router.get('/teapot', () => {
      throw new HttpError(418, 'short and stout');
    });
    router.get('/secret', () => {
      throw new HttpError(503, 'database password is hunter2');
    });
    router.get('/unavailable', (_req, res) => res.error(503, 'ERR_STATE', 'the game is restarting'));
    router.post('/upload', async (req) => ({ bytes: (await req.body()).length }));
    const { port } = await s.server.listenTcp(router, { host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${port}`;

    const c = s.client();
    const got: string[] = [];
    c.on('message', (_seq, msg) => got.push(Buffer.from(msg).toString()));
    await c.connect('127.0.0.1', s.port);
    cleanups.push(() => c.disconnect());

    for (let round = 0; round < 3; round++) {
      const sync = await json(await fetch(`${base}/boom`));
      expect(sync).toMatchObject({ status: 500, body: { error: { status: 500, code: 'ERR_HTTP', message: 'internal server error' } } });
      expect(JSON.stringify(sync.body)).not.toContain('sync boom');
      expect(await json(await fetch(`${base}/async-boom`))).toMatchObject({ status: 500, body: { error: { message: 'internal server error' } } });
      expect((await json(await fetch(`${base}/count`))).body).toEqual({ calls: round + 1 });
      c.send(Buffer.from(`ping${round}`));
    }
    expect(await json(await fetch(`${base}/teapot`))).toMatchObject({ status: 418, body: { error: { status: 418, code: 'ERR_HTTP', message: 'short and stout' } } });
    // 5xx messages are not shown to the client (they may carry internals).
    expect((await json(await fetch(`${base}/secret`))).body).toEqual({ error: { status: 503, code: 'ERR_HTTP', message: 'internal server error' } });
    expect((await json(await fetch(`${base}/unavailable`))).body).toEqual({ error: { status: 503, code: 'ERR_STATE', message: 'the game is restarting' } });
    expect((await json(await fetch(`${base}/upload`, { method: 'POST', body: 'x'.repeat(1000) }))).body).toEqual({ bytes: 1000 });
    expect(await json(await fetch(`${base}/upload`, { method: 'POST', body: 'x'.repeat(5000) }))).toMatchObject({
      status: 413,
      body: { error: { status: 413, code: 'ERR_MESSAGE_TOO_LARGE' } },
    });

    await until(() => got.length === 3, 5000, 'UDP echoes');
    expect(got.sort()).toEqual(['re:ping0', 're:ping1', 're:ping2']);
    expect(h.events).toEqual(['starting', 'connect']);

    const errors = logs.records.filter((r) => r.msg === 'exception in HTTP handler');
    expect(errors.map((r) => (r.err as { message: string }).message).sort()).toEqual([
      'async boom', 'async boom', 'async boom', 'database password is hunter2', 'sync boom', 'sync boom', 'sync boom',
    ]);
    expect(errors[0]).toMatchObject({ level: 50, method: 'GET' });
  });

  it('serves HTTPS with a self-signed certificate, from file paths or PEM text', async () => {
    const tls = selfSigned();
    const s = await startServer(backend, new EchoHandler());
    cleanups.push(() => s.server.stop());
    const router = new Router();
    router.get('/hello', (req) => ({ hello: 'tls', secure: (req.raw.socket as { encrypted?: boolean }).encrypted === true }));
    const fromPaths = await s.server.listenTcp(router, { host: '127.0.0.1', port: 0 }, { key: tls.keyPath, cert: tls.certPath });
    const fromPem = await s.server.listenTcp(router, { host: '127.0.0.1', port: 0 }, { key: tls.key, cert: tls.cert });
    for (const { port } of [fromPaths, fromPem]) {
      const r = await httpsGet(`https://localhost:${port}/hello`, tls.cert);
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toEqual({ hello: 'tls', secure: true });
      // Not trusted without the certificate.
      await expect(httpsGet(`https://localhost:${port}/hello`, '')).rejects.toThrow();
      // Plain HTTP to the TLS port does not get an answer from the router.
      await expect(fetch(`http://127.0.0.1:${port}/hello`).then((x) => x.status)).rejects.toThrow();
    }
    await expect(s.server.listenTcp(router, { host: '127.0.0.1', port: 0 }, { key: join(dir, 'missing.pem'), cert: tls.cert })).rejects.toMatchObject({
      code: 'ERR_CONFIG',
      field: 'tls.key',
    });
  });

  it('closes with server.stop(), before or after run(); refuses once stopped; a taken port is an error', async () => {
    // After run(): closes when the server stops, open keep-alive connections included.
    const s = await startServer(backend, new EchoHandler());
    const router = new Router();
    router.get('/health', () => ({ ok: true }));
    const { port } = await s.server.listenTcp(router, { host: '127.0.0.1', port: 0 });
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    // The same port twice: the bind fails and is reported.
    const taken = s.server.listenTcp(router, { host: '127.0.0.1', port });
    await expect(taken).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await expect(taken).rejects.toBeInstanceOf(NetworkError);
    const t0 = Date.now();
    await s.server.stop();
    expect(Date.now() - t0).toBeLessThan(3000);
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
    await expect(s.server.listenTcp(router, { host: '127.0.0.1', port: 0 })).rejects.toBeInstanceOf(StateError);

    // Before listen() (the seed's order), then run: served throughout; stop closes it.
    const ctx = new ServerContext(new EchoHandler(), PrivateKey.generate({ backend }), { backend });
    const server = new UdpServer(ctx, { host: '127.0.0.1', port: 0 }, { installSignals: false, backend });
    const early = await server.listenTcp(router, { host: '127.0.0.1', port: 0 });
    expect((await fetch(`http://127.0.0.1:${early.port}/health`)).status).toBe(200);
    const running = server.run();
    await until(() => server.metrics.ticks > 0, 5000, 'ticks');
    expect((await fetch(`http://127.0.0.1:${early.port}/health`)).status).toBe(200);
    await server.stop();
    await running;
    await expect(fetch(`http://127.0.0.1:${early.port}/health`)).rejects.toThrow();

    // Never run: stop() still closes it.
    const idle = new UdpServer(new ServerContext(new EchoHandler(), PrivateKey.generate({ backend }), { backend }), { host: '127.0.0.1', port: 0 }, {
      installSignals: false,
      backend,
    });
    const idlePort = (await idle.listenTcp(router, { host: '127.0.0.1', port: 0 })).port;
    expect((await fetch(`http://127.0.0.1:${idlePort}/health`)).status).toBe(200);
    await idle.stop();
    await expect(fetch(`http://127.0.0.1:${idlePort}/health`)).rejects.toThrow();
  });

  it('refuses bad arguments', async () => {
    const s = await startServer(backend, new EchoHandler());
    cleanups.push(() => s.server.stop());
    const router = new Router();
    await expect(s.server.listenTcp(router, { host: '127.0.0.1', port: 70000 })).rejects.toMatchObject({ code: 'ERR_CONFIG', field: 'addr.port' });
    await expect(s.server.listenTcp({} as Router, { host: '127.0.0.1', port: 0 })).rejects.toMatchObject({ code: 'ERR_CONFIG', field: 'router' });
    expect(() => router.on('BREW' as 'GET', '/x', () => 1)).toThrow(/unsupported HTTP method/);
    expect(() => new HttpError(200, 'fine')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
    expect(new HttpError(404, 'gone')).toBeInstanceOf(GamewireError);
    router.get('/x', () => 1);
    expect(() => router.get('/x', () => 2)).toThrow();
    expect(router.hasRoute('GET', '/x')).toBe(true);
    expect(router.hasRoute('HEAD', '/x')).toBe(true);
    router.off(['GET', 'HEAD'], '/x');
    expect(router.hasRoute('GET', '/x')).toBe(false);
  });
});
