/**
 * The dashboard (a live web page of the server's metrics) and its Prometheus `/metrics`, over real
 * loopback sockets; the page is driven in headless Chromium (Debian's `chromium`, through
 * playwright-core) and a screenshot is saved to test-artifacts/dashboard-<backend>.png.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  ConfigError,
  Dashboard,
  RetryMode,
  Router,
  formatPrometheus,
  type DashboardSnapshot,
  type MetricFamily,
  type UdpClient,
} from '../../ts/index.js';
import { componentLogger } from '../../ts/log.js';
import { BACKENDS } from '../helpers/backends.js';
import { captureLogs } from '../helpers/logs.js';
import { EchoHandler, sleep, startServer, until } from '../helpers/net.js';
import { rawConnect } from './raw-http.js';

const CHROMIUM = process.env.GAMEWIRE_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const ASSETS = fileURLToPath(new URL('../../ts/net/dashboard/assets/', import.meta.url));

/** A pino logger whose raw JSON lines the test reads (parsing would hide a repeated key). */
function rawLogLines() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter((l) => l.trim() !== ''));
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

const gauge = (name: string, value = 1, labels?: Record<string, string>): MetricFamily => ({
  name,
  help: `${name} help.`,
  type: 'gauge',
  samples: [{ labels, value }],
});

const dataDirs: string[] = [];
afterAll(() => {
  for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
});

type Scrape = Map<string, number>;

/**
 * Parses the text exposition format strictly enough to catch mistakes: every line is a HELP or
 * TYPE comment or `name{labels} value`; every sample's family has HELP and TYPE before it;
 * counters end in `_total`. Keys are `name` or `name{labels}` as written.
 */
function parseMetrics(text: string): { samples: Scrape; types: Map<string, string> } {
  expect(text.endsWith('\n')).toBe(true);
  const samples: Scrape = new Map();
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const line = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*)?\})? (-?[0-9.]+(?:e[+-]?[0-9]+)?|NaN|[+-]Inf)$/;
  for (const l of text.slice(0, -1).split('\n')) {
    const help = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) \S.*$/.exec(l);
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge)$/.exec(l);
    if (help) {
      helps.add(help[1]);
      continue;
    }
    if (type) {
      types.set(type[1], type[2]);
      continue;
    }
    const m = line.exec(l);
    expect(m, `not a metrics line: ${JSON.stringify(l)}`).not.toBeNull();
    const [, name, labels, value] = m!;
    expect(helps.has(name), `${name} has no HELP`).toBe(true);
    expect(types.has(name), `${name} has no TYPE`).toBe(true);
    if (types.get(name) === 'counter') expect(name).toMatch(/_total$/);
    const key = `${name}${labels ?? ''}`;
    expect(samples.has(key), `duplicate sample ${key}`).toBe(false);
    samples.set(key, Number(value));
  }
  return { samples, types };
}

async function scrape(base: string): Promise<Scrape> {
  const r = await fetch(`${base}/metrics`);
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parseMetrics(await r.text()).samples;
}

/** Clients sending `rate` messages per second each until `stop()`. */
function sendLoop(clients: UdpClient[], perTick = 2, everyMs = 20) {
  let sent = 0;
  const timer = setInterval(() => {
    for (const c of clients) {
      for (let i = 0; i < perTick; i++) {
        c.send(Buffer.from(`hello ${sent++} ${'x'.repeat(100)}`), i % 2 === 0 ? RetryMode.RETRY_ON_TIMEOUT : RetryMode.NONE);
      }
    }
  }, everyMs);
  return { stop: () => clearInterval(timer), get sent() { return sent; } };
}

describe.each(BACKENDS)('dashboard (%s)', (backend) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('/metrics is Prometheus text whose counters grow while a client sends', async () => {
    const h = new EchoHandler();
    const s = await startServer(backend, h);
    cleanups.push(() => s.server.stop());
    const addr = await s.server.enableDashboard({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${addr.port}`;

    const before = await scrape(base);
    expect(before.get(`gamewire_info{backend="${backend}",version="0.1.0"}`)).toBe(1);
    expect(before.get('gamewire_connected_clients')).toBe(0);
    expect(before.get('gamewire_tick_interval_seconds')).toBeCloseTo(1 / 60, 6);
    for (const reason of ['malformed', 'auth_failed', 'replay', 'blocked', 'unknown_connection', 'too_large', 'rate_limited', 'unexpected']) {
      expect(before.get(`gamewire_datagrams_dropped_total{reason="${reason}"}`)).toBe(0);
    }
    for (const category of ['message_handling', 'update', 'network', 'idle']) {
      expect(before.has(`gamewire_time_spent_seconds_total{category="${category}"}`)).toBe(true);
    }

    const c = s.client();
    await c.connect('127.0.0.1', s.port);
    cleanups.push(() => c.disconnect());
    let echoes = 0;
    c.on('message', () => echoes++);
    for (let i = 0; i < 50; i++) c.send(Buffer.from(`m${i}`), RetryMode.RETRY_ON_TIMEOUT);
    await until(() => h.messages.length === 50 && echoes === 50, 5000, '50 echoes');
    await until(() => s.server.stats.packetsAcked > 0, 5000, 'acks');

    const after = await scrape(base);
    const grew = (name: string, by = 1) => expect((after.get(name) ?? NaN) - (before.get(name) ?? NaN), name).toBeGreaterThanOrEqual(by);
    grew('gamewire_datagrams_received_total');
    grew('gamewire_datagrams_sent_total');
    grew('gamewire_received_bytes_total', 50 * 2);
    grew('gamewire_sent_bytes_total', 50 * 5);
    grew('gamewire_messages_received_total', 50);
    grew('gamewire_messages_sent_total', 50);
    grew('gamewire_handshakes_completed_total', 1);
    grew('gamewire_packets_acked_total');
    grew('gamewire_ticks_total');
    expect(after.get('gamewire_connected_clients')).toBe(1);
    expect(after.get('gamewire_uptime_seconds')).toBeGreaterThan(0);
    expect(after.get('gamewire_start_time_seconds')! * 1000).toBeCloseTo(s.server.metrics.startedAt, -1);
    // The counters agree with the server's own view.
    expect(after.get('gamewire_messages_received_total')).toBe(s.server.stats.messagesReceived);
    expect(after.get('gamewire_ticks_total')).toBeLessThanOrEqual(s.server.metrics.ticks);
  });

  it('feeds samples (rates from counter differences) as JSON and Server-Sent Events, mountable on a router', async () => {
    const h = new EchoHandler();
    const s = await startServer(backend, h);
    cleanups.push(() => s.server.stop());
    // A user's router carries both its own routes and the dashboard under /admin.
    const router = new Router();
    router.get('/health', () => ({ ok: true }));
    const d = new Dashboard(s.server, { sampleIntervalMs: 200, windowSeconds: 1, extraMetrics: () => [
      { name: 'game_rooms', help: 'Open rooms.', type: 'gauge', samples: [{ labels: { mode: 'duel "1v1"' }, value: 3 }] },
    ] }).register(router, '/admin');
    cleanups.push(() => d.close());
    const { port } = await s.server.listenTcp(router, { host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${port}/admin`;
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    const page = await fetch(`${base}/`);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    expect(await page.text()).toContain('id="profile-chart"');
    expect((await scrape(base)).get('game_rooms{mode="duel \\"1v1\\""}')).toBe(3);

    const c = s.client();
    await c.connect('127.0.0.1', s.port);
    cleanups.push(() => c.disconnect());
    const load = sendLoop([c], 2, 10);
    // The live feed: a snapshot, then one update per sample.
    const ac = new AbortController();
    const events: string[] = [];
    const feed = fetch(`${base}/events`, { signal: ac.signal }).then(async (r) => {
      expect(r.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      const dec = new TextDecoder();
      for await (const chunk of r.body!) events.push(dec.decode(chunk as Uint8Array));
    }).catch(() => undefined);
    await until(() => events.join('').split('\n\n').filter((e) => e.startsWith('data: ')).length >= 3, 5000, '3 live updates');
    load.stop();
    ac.abort();
    await feed;
    expect(events.join('')).toMatch(/^retry: 2000\nevent: snapshot\ndata: \{/);

    const snap = (await (await fetch(`${base}/samples`)).json()) as DashboardSnapshot;
    expect(snap.info).toMatchObject({ backend, address: '127.0.0.1', port: s.port, clients: 1, windowSeconds: 1, sampleIntervalMs: 200 });
    expect(snap.samples.length).toBeGreaterThanOrEqual(3);
    expect(snap.samples.length).toBeLessThanOrEqual(5); // a rolling window of 1 s
    const last = snap.samples[snap.samples.length - 1];
    expect(last.ticksPerSecond).toBeGreaterThan(10);
    expect(last.packetsInPerSecond).toBeGreaterThan(10);
    expect(last.bytesOutPerSecond).toBeGreaterThan(100);
    const p = last.profile;
    expect(p.messageHandling + p.update + p.network + p.idle).toBeCloseTo(1, 6);
    for (const v of Object.values(p)) expect(v).toBeGreaterThanOrEqual(0);
    expect(p.idle).toBeGreaterThan(0.1);
    expect(snap.totals.packetsAssembled).toBe(snap.totals.datagramsOut);
    expect(snap.totals.messagesReceived).toBeGreaterThan(0);
  });

  it('formats Prometheus text and refuses bad names', () => {
    expect(formatPrometheus([{ name: 'a_total', help: 'line\\one\ntwo', type: 'counter', samples: [{ value: 1 }, { labels: { l: 'x\ny' }, value: Infinity }] }]))
      .toBe('# HELP a_total line\\\\one\\ntwo\n# TYPE a_total counter\na_total 1\na_total{l="x\\ny"} +Inf\n');
    expect(() => formatPrometheus([{ name: 'bad-name', help: 'x', type: 'gauge', samples: [] }])).toThrow(/invalid metric name/);
    expect(() => formatPrometheus([{ name: 'ok', help: 'x', type: 'gauge', samples: [{ labels: { 'bad-label': '1' }, value: 1 }] }])).toThrow(/invalid label/);
    expect(() => formatPrometheus([gauge('twice'), gauge('twice')])).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG', message: expect.stringMatching(/"twice".*duplicate/) }));
  });

  it('refuses invalid extraMetrics when the dashboard is created, naming the metric', async () => {
    const s = await startServer(backend, new EchoHandler());
    cleanups.push(() => s.server.stop());
    const refused = (families: unknown[], name: string, why: RegExp) => {
      let err: unknown;
      try {
        new Dashboard(s.server, { extraMetrics: () => families as MetricFamily[] });
      } catch (e) {
        err = e;
      }
      expect(err, `${name} refused`).toBeInstanceOf(ConfigError);
      expect(err).toMatchObject({ field: 'extraMetrics' });
      expect((err as Error).message).toContain(JSON.stringify(name));
      expect((err as Error).message).toMatch(why);
    };
    refused([gauge('game_rooms'), gauge('game-players')], 'game-players', /invalid metric name/);
    refused([gauge('game_rooms', 1, { 'room-mode': 'duel' })], 'game_rooms', /invalid label name "room-mode"/);
    refused([gauge('game_rooms', 1, { __reserved: 'x' })], 'game_rooms', /invalid label name "__reserved"/);
    refused([gauge('gamewire_info')], 'gamewire_info', /taken by a built-in/);
    refused([gauge('game_rooms'), gauge('game_rooms')], 'game_rooms', /two families have this name/);
    refused([{ ...gauge('game_rooms'), type: 'histogram' }], 'game_rooms', /type must be/);
    refused([{ ...gauge('game_rooms'), samples: [{ value: 1 }, { value: 2 }] }], 'game_rooms', /same labels/);
    expect(() => new Dashboard(s.server, { extraMetrics: () => { throw new Error('not ready'); } })).toThrow(/extraMetrics: threw when called: not ready/);
    expect(() => new Dashboard(s.server, { extraMetrics: 'nope' as unknown as () => MetricFamily[] })).toThrow(ConfigError);
    // Valid ones are accepted.
    const ok = new Dashboard(s.server, { extraMetrics: () => [gauge('game_rooms', 3, { mode: 'duel' }), gauge('game_players')] });
    expect(ok.metricsText()).toContain('game_rooms{mode="duel"} 3\n');
    await ok.close();
  });

  it('a family that turns invalid later is left out of the scrape (logged once); the rest is still served', async () => {
    const s = await startServer(backend, new EchoHandler());
    cleanups.push(() => s.server.stop());
    const logs = captureLogs();
    let families: MetricFamily[] = [gauge('game_rooms', 2)];
    let explode = false;
    const d = new Dashboard(s.server, {
      logger: logs.logger,
      extraMetrics: () => {
        if (explode) throw new Error('rooms table gone');
        return families;
      },
    });
    cleanups.push(() => d.close());
    await d.listen({ host: '127.0.0.1', port: 0 });
    const base = d.url!.slice(0, -1);
    expect((await scrape(base)).get('game_rooms')).toBe(2);

    families = [gauge('game_rooms', 4), gauge('game players'), gauge('gamewire_uptime_seconds')];
    for (let i = 0; i < 2; i++) {
      const m = await scrape(base);
      expect(m.get('game_rooms')).toBe(4);
      expect(m.has('gamewire_ticks_total')).toBe(true);
      expect([...m.keys()].filter((k) => k.startsWith('game ')).length).toBe(0);
    }
    const warned = logs.records.filter((r) => r.msg === 'an extraMetrics family is invalid and left out of /metrics');
    expect(warned.map((r) => r.metric).sort()).toEqual(['game players', 'gamewire_uptime_seconds']);
    expect(warned.every((r) => r.component === 'dashboard')).toBe(true);

    explode = true;
    const m = await scrape(base);
    expect(m.has('game_rooms')).toBe(false);
    expect(m.has('gamewire_ticks_total')).toBe(true);
    expect(logs.records.some((r) => r.msg === 'extraMetrics threw: the scrape has the built-in metrics only' && (r.err as { message: string }).message === 'rooms table gone')).toBe(true);
  });

  it('logs with component "dashboard" once, also when given a component logger (such as the server\'s)', async () => {
    const s = await startServer(backend, new EchoHandler());
    cleanups.push(() => s.server.stop());
    const raw = rawLogLines();
    const d = new Dashboard(s.server, { logger: componentLogger(raw.logger, 'server') });
    cleanups.push(() => d.close());
    await d.listen({ host: '127.0.0.1', port: 0 });
    const line = raw.lines.find((l) => l.includes('"msg":"dashboard listening"'));
    expect(line, 'the dashboard logged that it listens').toBeDefined();
    expect(line!.match(/"component":/g)).toHaveLength(1);
    expect(JSON.parse(line!)).toMatchObject({ component: 'dashboard' });
    const http = raw.lines.find((l) => l.includes('"msg":"HTTP listening"'));
    expect(http!.match(/"component":/g)).toHaveLength(1);
    expect(JSON.parse(http!)).toMatchObject({ component: 'http' });
  });

  it('serves the page from its asset files, with a CSP that allows exactly their inlined style and script', async () => {
    const s = await startServer(backend, new EchoHandler());
    cleanups.push(() => s.server.stop());
    const router = new Router();
    const d = new Dashboard(s.server).register(router, '/admin');
    cleanups.push(() => d.close());
    const { port } = await s.server.listenTcp(router, { host: '127.0.0.1', port: 0 });
    const r = await fetch(`http://127.0.0.1:${port}/admin/`);
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await r.text();
    const script = readFileSync(join(ASSETS, 'dashboard.js'), 'utf8');
    const style = readFileSync(join(ASSETS, 'dashboard.css'), 'utf8');
    expect(html).toContain(`<script>${script}</script>`);
    expect(html).toContain(`<style>${style}</style>`);
    expect(html).not.toMatch(/<script src=|<link rel="stylesheet"/);
    const hash = (t: string) => `'sha256-${createHash('sha256').update(t).digest('base64')}'`;
    const csp = r.headers.get('content-security-policy')!;
    expect(csp).toContain(`script-src ${hash(script)};`);
    expect(csp).toContain(`style-src ${hash(style)};`);
    expect(csp).toMatch(/^default-src 'none';/);
    // Without the trailing slash, the page's relative requests would miss: redirected.
    const bare = await fetch(`http://127.0.0.1:${port}/admin`, { redirect: 'manual' });
    expect(bare.status).toBe(308);
    expect(new URL(bare.headers.get('location')!, bare.url).pathname).toBe('/admin/');
    // The dashboard's routes answer only GET and HEAD.
    const post = await fetch(`http://127.0.0.1:${port}/admin/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('its own port closes a client that never finishes its request headers', async () => {
    const s = await startServer(backend, new EchoHandler());
    cleanups.push(() => s.server.stop());
    const addr = await s.server.enableDashboard({ host: '127.0.0.1', port: 0 }, { headersTimeoutMs: 150, requestTimeoutMs: 300 });
    const slow = await rawConnect(addr.port);
    slow.write('GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    await slow.closed;
    expect(slow.received).toMatch(/^HTTP\/1\.1 408 /);
  }, 5000); // well under the default headersTimeoutMs (10 s): the option reached the port

  it('renders the five views in headless Chromium, and its numbers move while clients send', async () => {
    expect(existsSync(CHROMIUM), `Chromium is needed at ${CHROMIUM} (scripts/setup.sh installs Debian's chromium; GAMEWIRE_CHROMIUM overrides the path)`).toBe(true);
    const h = new EchoHandler();
    const s = await startServer(backend, h);
    cleanups.push(() => s.server.stop());
    // A short window so that the screenshot shows the curves, not a sliver at the right edge.
    const addr = await s.server.enableDashboard({ host: '127.0.0.1', port: 0 }, { windowSeconds: 15 });
    const base = `http://127.0.0.1:${addr.port}`;

    const userDataDir = mkdtempSync(join(tmpdir(), 'gamewire-chromium-'));
    dataDirs.push(userDataDir);
    const context: BrowserContext = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      headless: true,
      viewport: { width: 1400, height: 900 },
      deviceScaleFactor: 1,
    });
    cleanups.push(() => context.close());
    const page: Page = context.pages()[0] ?? (await context.newPage());
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => requests.push(r.url()));

    await page.goto(`${base}/`);
    await page.waitForSelector('body[data-feed="live"]', { timeout: 10_000 });
    // Read with locators (Playwright's utility world): the page's CSP forbids string evaluation.
    const num = async (id: string) => Number(await page.getAttribute(`#${id}`, 'data-value'));
    const poll = async (pred: () => Promise<boolean>, what: string, ms = 10_000) => {
      const end = Date.now() + ms;
      while (!(await pred())) {
        if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
        await sleep(100);
      }
    };
    await poll(async () => Number(await page.getAttribute('body', 'data-samples')) >= 2, '2 samples on the page');

    // The five views are there and drawn.
    const sections = page.locator('section[data-view]');
    const views: (string | null)[] = [];
    for (let i = 0; i < (await sections.count()); i++) {
      views.push(await sections.nth(i).getAttribute('data-view'));
      expect(await sections.nth(i).isVisible()).toBe(true);
    }
    expect(views).toEqual(['lifetime', 'profile', 'tps', 'pps', 'bps']);
    for (const id of ['profile-chart', 'tps-chart', 'pps-chart', 'bps-chart']) {
      const box = await page.locator(`#${id}`).boundingBox();
      expect(box && box.width > 200 && box.height > 100, `${id} has a size`).toBe(true);
    }
    expect(await page.textContent('#server-backend')).toBe(backend);
    expect(await page.textContent('#server-address')).toBe(`127.0.0.1:${s.port}`);
    expect(await page.textContent('#server-uptime')).toMatch(/^\d\d:\d\d:\d\d$/);
    expect(await num('ticks-per-second')).toBeGreaterThan(10);
    expect(await num('packets-in-per-second')).toBe(0);
    expect(await num('server-clients')).toBe(0);
    const assembled0 = await num('packets-assembled');
    const received0 = await num('packets-received');
    const messages0 = await num('messages-received');
    // The time profile's four shares add up to the whole second.
    const shares = await Promise.all(['profile-message-handling', 'profile-update', 'profile-network', 'profile-idle'].map(num));
    expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);

    // Three clients send for a few seconds.
    const clients = [s.client(), s.client(), s.client()];
    await Promise.all(clients.map((c) => c.connect('127.0.0.1', s.port)));
    for (const c of clients) cleanups.push(() => c.disconnect());
    const load = sendLoop(clients);
    try {
      await poll(async () => (await num('packets-in-per-second')) > 50 && (await num('server-clients')) === 3, 'the rates to move');
      await poll(
        async () =>
          (await num('packets-assembled')) > assembled0 + 100 &&
          (await num('packets-received')) > received0 + 100 &&
          (await num('messages-received')) > messages0 + 100,
        'the lifetime totals to grow',
      );
      expect(await num('packets-in-per-second')).toBeGreaterThan(50);
      expect(await num('packets-out-per-second')).toBeGreaterThan(50);
      expect(await num('bytes-in-per-second')).toBeGreaterThan(5000);
      expect(await num('bytes-out-per-second')).toBeGreaterThan(5000);
      expect(await num('packets-assembled')).toBeGreaterThan(assembled0 + 100);
      expect(await num('packets-received')).toBeGreaterThan(received0 + 100);
      expect(await num('messages-received')).toBeGreaterThan(messages0 + 100);
      expect(await num('packets-acked')).toBeGreaterThan(0);
      expect(await num('server-clients')).toBe(3);
      expect(await num('profile-message-handling')).toBeGreaterThan(0);
      expect(await page.textContent('#bytes-in-per-second')).toMatch(/(B|KiB|MiB)\/s$/);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, `dashboard-${backend}.png`), fullPage: true });
    } finally {
      load.stop();
    }
    expect(existsSync(join(ARTIFACTS, `dashboard-${backend}.png`))).toBe(true);
    // Self-contained: nothing but the dashboard's own routes was requested, and nothing complained
    // (a Content-Security-Policy violation would be a console error).
    expect(requests.filter((u) => !u.startsWith(`${base}/`))).toEqual([]);
    expect(problems).toEqual([]);

    // The page notices when the server goes away.
    await s.server.stop();
    await page.waitForSelector('body[data-feed="down"]', { timeout: 10_000 });
  });
});
