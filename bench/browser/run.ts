/**
 * Browser players on loopback: round trip of clients sending a 32-byte message 60 times a second
 * over WebTransport and over a WebSocket (BrowserClients in headless Chromium) and over UDP
 * (UdpClients in this process), and the server's CPU per echoed message for each transport.
 *
 *   node scripts/run-ts.mjs bench/browser/run.ts             # full (~4 min): writes bench/browser/results/latest.json
 *   node scripts/run-ts.mjs bench/browser/run.ts --quick     # smoke run (~15 s), writes nothing
 *   node scripts/run-ts.mjs bench/browser/run.ts --seconds 20 --clients 16
 *
 * The server (bench/browser/server.ts) is one child process for every transport: `UdpServer`
 * native, `io: 'thread'`, echoing each message (RetryMode NONE). Every run is made twice (the
 * quick run: once): with the engine's default pacing (`sendInterval` 1/60 s on both sides: each
 * connection sends at most one packet per frame, so a message may wait for its frame), what a game
 * sees; and unpaced (`sendInterval` 0 on both sides), the transports' own latency.
 * Each run: `--clients` clients of one transport, each on its own phase over the 1/60 s period,
 * a 1 s warm-up, then a window of `--seconds` in which the server's CPU and echoed messages are
 * sampled and every message's round trip is measured by its sender (its send time travels in
 * the message). Messages sent in the window whose echo did not come back within 1 s are loss.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { RetryMode, UdpClient } from '../../ts/index.js';
import { launchChromium, ROOT } from '../../test/browser/helpers/chromium.js';
import type { BenchServerReady, BenchServerSample } from './server.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    clients: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
  },
});
const SECONDS = Number(args.seconds ?? (args.quick ? 2 : 10));
const MANY = Number(args.clients ?? (args.quick ? 4 : 16));
const HZ = 60;
const WARMUP_MS = 1000;
const DRAIN_MS = 1000;
if (!(SECONDS > 0) || !Number.isInteger(MANY) || MANY < 1 || MANY > 16) {
  // 16: the WebTransport and WebSocket endpoints admit 16 connections per source address.
  throw new Error('--seconds must be positive and --clients a whole number from 1 to 16');
}

type Transport = 'udp' | 'webtransport' | 'websocket';

/** What one run of clients measured on their side. */
interface ClientSide {
  /** Round trips of the window's messages, ms. */
  rtts: number[];
  sent: number;
  lost: number;
  /**
   * How late a 5 ms interval timer ran in the window, ms (the longest and the 99th percentile):
   * the longest time the clients' thread (the page's main thread, or this process's event loop)
   * was kept from running other work.
   */
  maxLagMs: number;
  p99LagMs: number;
}

interface RunResult {
  /** The engines' `sendInterval`, s. */
  sendInterval: number;
  transport: Transport;
  clients: number;
  seconds: number;
  messagesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  loss: number;
  /** The clients' thread: longest and 99th-percentile lateness of a 5 ms timer, ms. */
  maxLagMs: number;
  p99LagMs: number;
  /** Server CPU in the window, cores. */
  serverCores: number;
  /** Server CPU per echoed message (one in, one out), µs. */
  serverUsPerMessage: number;
  /** The same less the idle server's CPU (its ticks and timers), µs. */
  serverUsPerMessageAboveIdle: number;
}

// ---- the server child ------------------------------------------------------------------------

async function startServer(sendInterval: number): Promise<{ child: ChildProcess; ready: BenchServerReady; sample(): Promise<BenchServerSample>; stop(): Promise<void> }> {
  const esbuild = await import('esbuild');
  // Two levels below the root, like the sources: `gamewire` resolves to this package's dist/.
  const out = join(ROOT, '.cache', 'bench-browser', 'server.mjs');
  mkdirSync(join(ROOT, '.cache', 'bench-browser'), { recursive: true });
  await esbuild.build({
    entryPoints: [join(ROOT, 'bench', 'browser', 'server.ts')],
    outfile: out,
    bundle: true,
    format: 'esm',
    platform: 'node',
    packages: 'external',
    logLevel: 'silent',
  });
  const child = fork(out, [String(sendInterval)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiters: ((s: BenchServerSample) => void)[] = [];
  const ready = await new Promise<BenchServerReady>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the bench server exited (${code})`)));
    child.on('message', (m: { ready?: BenchServerReady; sample?: BenchServerSample }) => {
      if (m.ready) resolve(m.ready);
      if (m.sample) waiters.shift()?.(m.sample);
    });
  });
  return {
    child,
    ready,
    sample: () => new Promise((resolve) => {
      waiters.push(resolve);
      child.send({ cmd: 'sample' });
    }),
    stop: () => new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.send({ cmd: 'stop' });
    }),
  };
}

// ---- the clients -------------------------------------------------------------------------------

/** A client as the driver sees it: sends a message stamped `at`, reports echoes' stamps. */
interface BenchClient {
  send(at: number): void;
  onEcho(f: (at: number) => void): void;
  close(): Promise<void>;
}

interface DriveOptions {
  hz: number;
  warmupMs: number;
  windowMs: number;
  drainMs: number;
}

/**
 * Each client sends every 1/hz s on its own phase, from `warmupMs` for `windowMs` (earlier
 * messages warm up and are not counted), then a drain; then they close. Self-contained (it
 * refers to nothing outside its body, and names no inner function): it also runs in the page,
 * from its source text.
 */
async function driveClients(cs: BenchClient[], o: DriveOptions): Promise<ClientSide> {
  const rtts: number[] = [];
  let sent = 0;
  let back = 0;
  const t0 = performance.now() + 50;
  const from = t0 + o.warmupMs;
  const to = from + o.windowMs;
  for (const c of cs) {
    c.onEcho((at) => {
      if (at >= from && at < to) {
        rtts.push(performance.now() - at);
        back++;
      }
    });
  }
  const period = 1000 / o.hz;
  const timers: ReturnType<typeof setInterval>[] = [];
  // The thread's responsiveness: a 5 ms timer's lateness, over the window.
  const lags: number[] = [];
  let expected = performance.now() + 5;
  timers.push(setInterval(() => {
    const now = performance.now();
    if (now >= from && now < to) lags.push(Math.max(0, now - expected));
    expected = now + 5;
  }, 5));
  cs.forEach((c, i) => {
    setTimeout(() => {
      timers.push(setInterval(() => {
        const now = performance.now();
        if (now >= to) return;
        c.send(now);
        if (now >= from) sent++;
      }, period));
    }, Math.max(0, t0 - performance.now()) + (i * period) / cs.length);
  });
  await new Promise((r) => setTimeout(r, to + o.drainMs - performance.now()));
  timers.forEach((t) => clearInterval(t));
  await Promise.all(cs.map((c) => c.close()));
  lags.sort((x, y) => x - y);
  const maxLagMs = lags.length ? lags[lags.length - 1] : 0;
  const p99LagMs = lags.length ? lags[Math.min(lags.length - 1, Math.ceil(lags.length * 0.99) - 1)] : 0;
  return { rtts, sent, lost: sent - back, maxLagMs, p99LagMs };
}

/** In the page: `clients` BrowserClients of one transport, driven by `driveClients`. */
async function browserRun(page: Page, a: DriveOptions & { url: string; pem: string; hash: string; transport: Transport; clients: number; sendInterval: number }): Promise<ClientSide> {
  // The driver's source, with esbuild's `__name` helper (tsx keeps names) made a no-op.
  await page.evaluate(`globalThis.__name ??= (f) => f; globalThis.driveClients = ${driveClients.toString()};`);
  return page.evaluate(async ({ url, pem, hash, transport, clients, sendInterval, ...o }) => {
    type Client = {
      connect(u: string, o: unknown): Promise<void>;
      on(e: 'message', f: (seq: number, b: Uint8Array) => void): void;
      send(b: Uint8Array, m: number): void;
      disconnect(): Promise<void>;
    };
    const g = globalThis as unknown as { gw: { BrowserClient: new (o: unknown) => Client }; driveClients: typeof driveClients };
    const cs: BenchClient[] = [];
    for (let i = 0; i < clients; i++) {
      const c = new g.gw.BrowserClient({ rootPublicKey: pem, net: { sendInterval } });
      await c.connect(url, { transport, serverCertificateHashes: [hash] });
      cs.push({
        send: (at) => {
          const b = new Uint8Array(32);
          new DataView(b.buffer).setFloat64(0, at, true);
          c.send(b, 0);
        },
        onEcho: (f) => c.on('message', (_seq, b) => f(new DataView(b.buffer, b.byteOffset, b.byteLength).getFloat64(0, true))),
        close: () => c.disconnect(),
      });
    }
    return g.driveClients(cs, o);
  }, a);
}

/** The same with UdpClients in this process. */
async function udpRun(a: DriveOptions & { port: number; pem: string; clients: number; sendInterval: number }): Promise<ClientSide> {
  const cs: BenchClient[] = [];
  for (let i = 0; i < a.clients; i++) {
    const c = new UdpClient({ rootPublicKey: a.pem, net: { sendInterval: a.sendInterval } });
    await c.connect('127.0.0.1', a.port);
    cs.push({
      send: (at) => {
        const b = Buffer.alloc(32);
        b.writeDoubleLE(at, 0);
        c.send(b, RetryMode.NONE);
      },
      onEcho: (f) => c.on('message', (_seq, b) => f(Buffer.from(b.buffer, b.byteOffset, b.byteLength).readDoubleLE(0))),
      close: () => c.disconnect(),
    });
  }
  return driveClients(cs, a);
}

function quantile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * p) - 1))];
}

// ---- the run -------------------------------------------------------------------------------------

const chromium = await launchChromium();
const page = await chromium.page();
const results: RunResult[] = [];
const idle: { sendInterval: number; cores: number }[] = [];
try {
  for (const sendInterval of args.quick ? [1 / 60] : [1 / 60, 0]) {
    console.log(`sendInterval ${sendInterval ? '1/60 s (the default pacing)' : '0 (unpaced)'}`);
    const server = await startServer(sendInterval);
    try {
      idle.push({ sendInterval, cores: await runAll(server, sendInterval) });
    } finally {
      await server.stop();
    }
  }
  if (chromium.problems.length) console.log(`page problems: ${chromium.problems.join('; ')}`);
} finally {
  await chromium.close();
}

/** Every run on one server; returns the idle server's CPU, cores. */
async function runAll(server: Awaited<ReturnType<typeof startServer>>, sendInterval: number): Promise<number> {
  const { ready } = server;
  const windowMs = SECONDS * 1000;
  // The idle server (no clients): its 60 Hz ticks and timers, subtracted below.
  const idle0 = await server.sample();
  await new Promise((r) => setTimeout(r, windowMs));
  const idleCores = ((await server.sample()).cpuUs - idle0.cpuUs) / (windowMs * 1000);
  console.log(`idle server: ${(idleCores * 100).toFixed(1)}% of a core`);
  for (const clients of [...new Set([1, MANY])]) {
    for (const transport of ['udp', 'webtransport', 'websocket'] as const) {
      const common = { pem: ready.pem, clients, hz: HZ, warmupMs: WARMUP_MS, windowMs, drainMs: DRAIN_MS, sendInterval };
      const running = transport === 'udp'
        ? udpRun({ ...common, port: ready.udpPort })
        : browserRun(page, { ...common, transport, url: transport === 'webtransport' ? ready.wtUrl : ready.wsUrl, hash: ready.wtHash });
      // The server's window: started once the clients are connected and warm (approximately the
      // clients' own window; CPU is divided by the messages the server counted in it).
      let before: BenchServerSample | null = null;
      const sampled = (async () => {
        while (!before || before.clients < clients) {
          before = await server.sample();
          if (before.clients < clients) await new Promise((r) => setTimeout(r, 20));
        }
        await new Promise((r) => setTimeout(r, WARMUP_MS));
        before = await server.sample();
        await new Promise((r) => setTimeout(r, windowMs));
        return { before, after: await server.sample() };
      })();
      const [side, window] = await Promise.all([running, sampled]);
      const msgs = window.after.messages[transport] - window.before.messages[transport];
      const cpu = window.after.cpuUs - window.before.cpuUs;
      const sorted = side.rtts.slice().sort((x, y) => x - y);
      const r: RunResult = {
        sendInterval,
        transport,
        clients,
        seconds: SECONDS,
        messagesPerSecond: msgs / SECONDS,
        p50Ms: quantile(sorted, 0.5),
        p99Ms: quantile(sorted, 0.99),
        loss: side.sent > 0 ? side.lost / side.sent : Number.NaN,
        maxLagMs: side.maxLagMs,
        p99LagMs: side.p99LagMs,
        serverCores: cpu / (windowMs * 1000),
        serverUsPerMessage: msgs > 0 ? cpu / msgs : Number.NaN,
        serverUsPerMessageAboveIdle: msgs > 0 ? (cpu - idleCores * windowMs * 1000) / msgs : Number.NaN,
      };
      results.push(r);
      console.log(
        `${transport.padEnd(12)} ${String(clients).padStart(2)} clients  ${r.messagesPerSecond.toFixed(0).padStart(5)} msg/s  ` +
          `rtt p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms  loss ${(r.loss * 100).toFixed(2)}%  ` +
          `client thread blocked ≤ ${r.maxLagMs.toFixed(1)} ms (p99 ${r.p99LagMs.toFixed(1)})  ` +
          `server ${(r.serverCores * 100).toFixed(1)}% of a core, ${r.serverUsPerMessage.toFixed(1)} µs/message ` +
          `(${r.serverUsPerMessageAboveIdle.toFixed(1)} above idle)`,
      );
      // WebTransport admits 4 new sessions per second per address (16 at once): let the bucket refill.
      await new Promise((r) => setTimeout(r, transport === 'webtransport' ? (clients / 4) * 1000 : 200));
    }
  }
  return idleCores;
}

if (!args.quick && !args['no-write']) {
  const dir = join(ROOT, 'bench', 'browser', 'results');
  mkdirSync(dir, { recursive: true });
  const doc = {
    when: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '', node: process.version },
    hz: HZ,
    seconds: SECONDS,
    idleServer: idle,
    results,
  };
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(doc, null, 2)}\n`);
  console.log(`wrote bench/browser/results/latest.json`);
}
const failed = results.some((r) => !(r.messagesPerSecond > 0) || Number.isNaN(r.p50Ms));
process.exitCode = failed ? 1 : 0;
