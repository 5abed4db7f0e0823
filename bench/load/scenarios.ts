/**
 * The end-to-end scenarios over real loopback UDP, each server and each load generator in its
 * own process: the raw node:dgram reference, the flood, the game tick, the capacity search.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PrivateKey, RetryMode } from '../../ts/index.js';
import { busyFraction, machineCpu, processCpuUs, processMemory, socketDrops, udpCounters } from './lib/cpu.js';
import * as hist from './lib/hist.js';
import type { ProcName } from './lib/build.js';
import { Child } from './lib/proc.js';
import type {
  CapacityProbe,
  CapacityResult,
  EchoRetry,
  FloodRun,
  GeneratorImpl,
  GsoRun,
  HelloFloodRun,
  IdleRun,
  RawRun,
  ServerImpl,
  SyscallRun,
  TickRun,
  TickTiming,
} from './lib/results.js';
import type { PoolReport, PoolSnapshot } from './pool.js';
import type { BotsOpenArgs } from './procs/bots.js';
import type { FloodSample } from './procs/flood.js';
import type { HelloSample } from './procs/hello.js';
import type { RawSample } from './procs/raw.js';
import type { ServerSample, ServerStartArgs, ServerStarted } from './procs/server.js';

const PROCS = new URL('./procs/', import.meta.url);
const PYTHON_DIR = new URL('./python/', import.meta.url).pathname;

/** The per-connection packet budget of one ctime second (AES-GCM nonce rule). */
export const NONCE_BUDGET = 65535;

/** What the scenarios share. */
export interface Env {
  /** mpgameserver's interpreter, or null when it is not installed. */
  python: string | null;
  /** A temporary directory (keys for the Python server). */
  dir: string;
  log: (line: string) => void;
  /** Directory for `--cpu-prof` profiles of gamewire servers, or null. */
  profileDir: string | null;
  /** perf-record the server process during each window (into profileDir). */
  perf: boolean;
  /** Every child started, for cleanup on failure or interrupt. */
  children: Set<Child>;
  /** The children's JavaScript bundles (`lib/build.ts`); null: run them with tsx. */
  bundles: Record<ProcName, string> | null;
  /** The Rust echo floor's binary (`bench/floor`), or null when it could not be built. */
  floorBin: string | null;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function forkProc(env: Env, name: string, proc: ProcName, execArgv: string[] = [], childEnv: NodeJS.ProcessEnv = {}): Child {
  const module = env.bundles ? env.bundles[proc] : new URL(`${proc}.ts`, PROCS);
  return Child.fork(name, module, [], { tsx: !env.bundles, execArgv, env: childEnv });
}

function track(env: Env, c: Child): Child {
  env.children.add(c);
  void c.exited.then(() => env.children.delete(c));
  return c;
}

async function closeAll(children: Child[]): Promise<void> {
  await Promise.all(children.map((c) => c.close().catch(() => c.kill())));
}

// ---- servers under test -------------------------------------------------------------------

interface Sut {
  impl: ServerImpl;
  child: Child;
  pid: number;
  port: number;
  spkiHex: string;
  sample(): Promise<ServerSample>;
}

let serverSeq = 0;
let pythonKey: { pem: string; pub: string; spkiHex: string } | null = null;

function pythonKeys(env: Env): { pem: string; pub: string; spkiHex: string } {
  if (!pythonKey) {
    const key = PrivateKey.generate();
    const pem = join(env.dir, 'root.pem');
    const pub = join(env.dir, 'root.pub.pem');
    writeFileSync(pem, key.toPem(), { mode: 0o600 });
    writeFileSync(pub, key.publicKey().toPem());
    pythonKey = { pem, pub, spkiHex: Buffer.from(key.publicKey().spki).toString('hex') };
  }
  return pythonKey;
}

/** How a server under test is started, beyond its kind. */
export interface ServerOptions {
  net?: { sendInterval?: number };
  retry?: EchoRetry;
  /** `io: 'thread'` servers: `notifyDelay`, ms. */
  notifyDelayMs?: number;
  /** Use the Python side's root key (mpgameserver's clients pin its public key file). */
  sharedKey?: boolean;
  /** `burst` mode: reply messages per request and their size. */
  burst?: { count: number; size: number };
  /** Extra environment of a gamewire server's process (e.g. `GAMEWIRE_UDP_GSO`). */
  env?: NodeJS.ProcessEnv;
}

async function startServer(env: Env, impl: ServerImpl, mode: ServerStartArgs['mode'], o: ServerOptions = {}): Promise<Sut> {
  if (impl === 'rust-echo') {
    if (!env.floorBin) throw new Error('the Rust echo floor is not built (cargo build --release -p gamewire-bench-floor)');
    const child = track(env, Child.spawnLines('Rust echo floor', env.floorBin, ['--host', '127.0.0.1', '--port', '0']));
    const hello = await child.call<{ port: number; pid: number }>('hello', undefined, 30_000);
    return {
      impl,
      child,
      pid: hello.pid,
      port: hello.port,
      spkiHex: '',
      sample: async () => {
        const s = await child.call<{ datagramsIn: number; datagramsOut: number }>('sample');
        const t = performance.now();
        return { t, cpuUs: processCpuUs(hello.pid) ?? Number.NaN, datagramsIn: s.datagramsIn, datagramsOut: s.datagramsOut, messagesIn: s.datagramsIn, messagesOut: s.datagramsOut, clients: 0, drops: 0, rss: processMemory(hello.pid)?.rss };
      },
    };
  }
  if (impl === 'node-dgram-echo') {
    const child = track(env, forkProc(env, 'node:dgram echo server', 'raw'));
    const st = await child.call<ServerStarted>('echo');
    return { impl, child, pid: st.pid, port: st.port, spkiHex: '', sample: () => child.call<ServerSample>('echoSample') };
  }
  if (impl === 'mpgameserver') {
    if (!env.python) throw new Error('mpgameserver is not installed (run scripts/setup.sh)');
    const keys = pythonKeys(env);
    const child = track(env, Child.spawnPython('mpgameserver server', env.python, join(PYTHON_DIR, 'mpgs_bench_server.py'), ['--key', keys.pem, '--retry', o.retry ?? 'NONE', ...(mode === 'sink' ? ['--sink'] : [])]));
    const hello = await child.call<{ port: number; pid: number }>('hello', undefined, 60_000);
    type PySample = { datagramsIn: number; datagramsOut: number; messagesIn: number; clients: number };
    return {
      impl,
      child,
      pid: hello.pid,
      port: hello.port,
      spkiHex: keys.spkiHex,
      sample: async () => {
        const s = await child.call<PySample>('sample');
        const t = performance.now();
        return { t, cpuUs: processCpuUs(hello.pid) ?? Number.NaN, ...s, messagesOut: 0, drops: 0, rss: processMemory(hello.pid)?.rss };
      },
    };
  }
  const backend = impl === 'gamewire-wasm' ? 'wasm' : 'native';
  const io = impl === 'gamewire-thread' || impl === 'gamewire-thread-2' ? 'thread' : 'dgram';
  const execArgv: string[] = [];
  // One directory per server: node writes one profile per thread (the main one has the lowest thread id).
  if (env.profileDir && !env.perf) execArgv.push('--cpu-prof', `--cpu-prof-dir=${join(env.profileDir, `server-${impl}-${mode}-${++serverSeq}`)}`);
  if (env.perf) execArgv.push('--perf-basic-prof');
  const child = track(env, forkProc(env, `${impl} server`, 'server', execArgv, o.env));
  const st = await child.call<ServerStarted>('start', {
    backend,
    mode,
    burst: o.burst,
    net: o.net,
    io,
    threads: impl === 'gamewire-thread-2' ? 2 : undefined,
    notifyDelay: io === 'thread' ? o.notifyDelayMs : undefined,
    retry: o.retry,
    keyPem: o.sharedKey ? pythonKeys(env).pem : undefined,
  } satisfies ServerStartArgs, 60_000);
  return { impl, child, pid: st.pid, port: st.port, spkiHex: st.spkiHex, sample: () => child.call<ServerSample>('sample') };
}

// ---- load generators ------------------------------------------------------------------------

export interface TickSpec extends TickTiming {
  server: ServerImpl;
  generator: GeneratorImpl;
  clients: number;
  /** Retry mode of the messages both ways (default NONE). */
  retry?: EchoRetry;
  /** `io: 'thread'` servers: `notifyDelay`, ms. */
  notifyDelayMs?: number;
  /** raw-sockets: the datagrams per second and the size each bare-socket client sends (default rateHz, 70 B). */
  pattern?: { datagramsPerClientPerSec: number; bytes: number };
  /** Generator processes at most (default: as many as the clients per process need). */
  maxProcesses?: number;
}

async function startGenerator(env: Env, spec: TickSpec, sut: Sut): Promise<Child[]> {
  const perProc = spec.generator === 'mpgameserver-clients' ? spec.pythonBotsPerProcess : spec.botsPerProcess;
  const procs = Math.max(1, Math.min(spec.maxProcesses ?? Infinity, Math.ceil(spec.clients / perProc)));
  const base = Math.floor(spec.clients / procs);
  const counts = Array.from({ length: procs }, (_, i) => base + (i < spec.clients % procs ? 1 : 0));
  const firsts = counts.map((_, i) => counts.slice(0, i).reduce((a, b) => a + b, 0));
  const children: Child[] = [];
  try {
    if (spec.generator === 'raw-sockets') {
      for (let i = 0; i < procs; i++) children.push(track(env, forkProc(env, `raw bots#${i}`, 'rawbots')));
      await Promise.all(children.map((c, i) => c.call('open', { port: sut.port, count: counts[i], size: spec.pattern?.bytes }, 60_000)));
    } else if (spec.generator === 'gamewire-bots') {
      for (let i = 0; i < procs; i++) children.push(track(env, forkProc(env, `bots#${i}`, 'bots')));
      const retry = spec.retry === 'RETRY_ON_TIMEOUT' ? RetryMode.RETRY_ON_TIMEOUT : RetryMode.NONE;
      await Promise.all(children.map((c, i) => c.call('open', { backend: 'native', host: '127.0.0.1', port: sut.port, spkiHex: sut.spkiHex, count: counts[i], firstBot: firsts[i], retry } satisfies BotsOpenArgs, 60_000)));
    } else {
      if (!env.python) throw new Error('mpgameserver is not installed (run scripts/setup.sh)');
      const pub = pythonKeys(env).pub;
      // Every server the Python clients load uses the Python side's key (startServer's sharedKey).
      for (let i = 0; i < procs; i++) {
        children.push(track(env, Child.spawnPython(`mpgs bots#${i}`, env.python, join(PYTHON_DIR, 'mpgs_bench_bots.py'), [
          '--port', String(sut.port), '--pub', pub, '--count', String(counts[i]), '--first', String(firsts[i]), '--retry', spec.retry ?? 'NONE',
        ])));
      }
    }
    return children;
  } catch (err) {
    await closeAll(children);
    throw err;
  }
}

function perfRecord(env: Env, pid: number, seconds: number, name: string): void {
  if (!env.perf || !env.profileDir) return;
  const out = join(env.profileDir, `${name}.perf.data`);
  const p = spawn('perf', ['record', '-e', 'cpu-clock', '-g', '-p', String(pid), '-o', out, '--', 'sleep', seconds.toFixed(1)], { stdio: 'ignore' });
  p.on('error', () => undefined);
}

const ms = (us: number | null): number | null => (us === null ? null : us / 1000);

/**
 * Handshakes each generator process keeps in flight. Every client is on 127.0.0.1, and a gamewire
 * server queues at most 32 CLIENT_HELLOs per source address (handshakeQueuePerSource):
 * mpgameserver's clients never re-send theirs, so they keep fewer than that in flight (and try
 * again with a new socket after a failure).
 */
function connectConcurrency(generator: GeneratorImpl, processes: number): number {
  return generator === 'mpgameserver-clients' ? Math.max(2, Math.floor(24 / processes)) : Math.max(5, Math.ceil(200 / processes));
}

/**
 * One game-tick run (also a capacity probe). `during`, if given, runs over the measured window
 * (it gets the server's pid and the window's length; the window ends when it and the window's
 * sleep have both finished).
 */
export async function runTick(env: Env, spec: TickSpec, during?: (pid: number, seconds: number) => Promise<void>): Promise<TickRun> {
  const tag = `${spec.server} ← ${spec.generator}, N=${spec.clients}${spec.notifyDelayMs !== undefined ? `, notifyDelay ${spec.notifyDelayMs} ms` : ''}`;
  const sut = await startServer(env, spec.server, 'echo', { retry: spec.retry, notifyDelayMs: spec.notifyDelayMs, sharedKey: spec.generator === 'mpgameserver-clients' });
  try {
    const gens = await startGenerator(env, spec, sut);
    try {
      const concurrency = connectConcurrency(spec.generator, gens.length);
      const conn = await Promise.all(gens.map((g) => g.call<{ connected: number; failed: number; ms: number }>('connect', { concurrency, timeoutMs: 60_000 }, 120_000)));
      const connected = conn.reduce((a, c) => a + c.connected, 0);
      env.log(`    ${tag}: ${connected}/${spec.clients} connected in ${(Math.max(...conn.map((c) => c.ms)) / 1000).toFixed(1)} s (${gens.length} generator process${gens.length === 1 ? '' : 'es'})`);
      await Promise.all(gens.map((g) => g.call('start', { rateHz: spec.pattern?.datagramsPerClientPerSec ?? spec.rateHz })));
      await sleep(spec.warmupSeconds * 1000);

      const m0 = machineCpu();
      const u0 = udpCounters();
      const d0 = socketDrops(sut.port);
      const g0 = gens.map((g) => processCpuUs(g.pid) ?? 0);
      const [s0] = await Promise.all([sut.sample(), ...gens.map((g) => g.call<PoolSnapshot>('mark', { phase: 'start' }))]);
      perfRecord(env, sut.pid, spec.windowSeconds, `server-${spec.server}-${spec.clients}`);
      await Promise.all([sleep(spec.windowSeconds * 1000), during?.(sut.pid, spec.windowSeconds)]);
      const [s1] = await Promise.all([sut.sample(), ...gens.map((g) => g.call<PoolSnapshot>('mark', { phase: 'end' }))]);
      const g1 = gens.map((g) => processCpuUs(g.pid) ?? 0);
      const m1 = machineCpu();
      const u1 = udpCounters();
      const d1 = socketDrops(sut.port);
      await sleep(spec.drainSeconds * 1000);
      const reps = await Promise.all(gens.map((g) => g.call<PoolReport>('report')));
      await Promise.all(gens.map((g) => g.call('stop')));

      const secs = (s1.t - s0.t) / 1000;
      const dIn = s1.datagramsIn - s0.datagramsIn;
      const dOut = s1.datagramsOut - s0.datagramsOut;
      const cpuUs = s1.cpuUs - s0.cpuUs;
      const mIn = s1.messagesIn - s0.messagesIn;
      const perSec = (a?: number, b?: number): number | null => (a === undefined || b === undefined ? null : (b - a) / secs);
      const h: hist.Histogram = new Map();
      for (const r of reps) hist.merge(h, r.rtt);
      const sent = reps.reduce((a, r) => a + r.sent, 0);
      const echoed = reps.reduce((a, r) => a + r.echoed, 0);
      const genSecs = reps.reduce((a, r) => a + r.windowMs, 0) / reps.length / 1000 || secs;
      const skipped = reps.reduce((a, r) => a + r.skipped, 0);
      const dropped = reps.reduce((a, r) => a + r.dropped, 0);
      const corrupt = reps.reduce((a, r) => a + (r.engine ? r.engine.dropAuthFailed + r.engine.dropMalformed : 0), 0);
      const strays = reps.reduce((a, r) => a + (r.engine?.dropBlocked ?? 0), 0);
      const genCpu = g1.reduce((a, c, i) => a + (c - g0[i]), 0) / 1e6 / secs;
      const run: TickRun = {
        server: spec.server,
        generator: spec.generator,
        clients: spec.clients,
        rateHz: spec.rateHz,
        retry: spec.retry ?? 'NONE',
        ...(spec.notifyDelayMs !== undefined ? { notifyDelayMs: spec.notifyDelayMs } : {}),
        ...(spec.pattern ? { pattern: spec.pattern } : {}),
        connected,
        windowSeconds: secs,
        serverCpuCores: cpuUs / 1e6 / secs,
        serverCpuUsPerDatagram: dIn + dOut > 0 ? cpuUs / (dIn + dOut) : null,
        serverCpuUsPerMessage: mIn > 0 ? cpuUs / mIn : null,
        datagramsPerMessage: mIn > 0 ? dIn / mIn : null,
        threadWakeupsPerSec: perSec(s0.wakeups, s1.wakeups),
        threadNotificationsPerSec: perSec(s0.notifications, s1.notifications),
        bytesPerDatagramIn: s0.bytesIn !== undefined && s1.bytesIn !== undefined && dIn > 0 ? (s1.bytesIn - s0.bytesIn) / dIn : null,
        datagramsInPerSec: dIn / secs,
        datagramsOutPerSec: dOut / secs,
        offeredPerSec: spec.clients * spec.rateHz,
        messagesToServerPerSec: mIn / secs,
        echoesPerSec: echoed / genSecs,
        deliveredPerSec: mIn / secs + echoed / genSecs,
        rttP50Ms: ms(hist.quantile(h, 0.5)),
        rttP99Ms: ms(hist.quantile(h, 0.99)),
        rttMeanMs: ms(hist.mean(h)),
        sent,
        echoed,
        loss: sent > 0 ? Math.max(0, 1 - echoed / sent) : 0,
        generatorStats: { processes: gens.length, cpuCores: genCpu, skipped, dropped, corrupt },
        machineBusy: busyFraction(m0, m1),
        udpRcvbufErrors: u0 && u1 ? u1.rcvbufErrors - u0.rcvbufErrors : null,
        serverSocketDrops: d0 !== null && d1 !== null ? d1 - d0 : null,
        notes: [],
      };
      if (connected < spec.clients) run.notes.push(`only ${connected} of ${spec.clients} clients connected`);
      if (skipped > 0) run.notes.push(`the generator fell behind its schedule (${skipped} sends skipped)`);
      if (dropped > 0) run.notes.push(`${dropped} connections dropped during the run`);
      if (run.udpRcvbufErrors) run.notes.push(`${run.udpRcvbufErrors} datagrams dropped by full socket buffers (machine-wide; ${run.serverSocketDrops ?? '?'} at the server's socket)`);
      if (strays > 0) run.notes.push(`${strays} datagrams from other senders ignored at the bots`);
      if (corrupt > 0) run.notes.push(`${corrupt} datagrams failed authentication at the bots`);
      if (run.serverCpuCores >= 0.9) run.notes.push('server saturated (≥ 90% of a core)');
      if ((run.machineBusy ?? 0) >= 0.95) run.notes.push('machine saturated (≥ 95% of all CPUs busy)');
      return run;
    } finally {
      await closeAll(gens);
    }
  } finally {
    await closeAll([sut.child]);
  }
}

// ---- raw node:dgram -------------------------------------------------------------------------

export async function runRaw(env: Env, seconds: number, bytes = 32): Promise<RawRun> {
  const rx = track(env, forkProc(env, 'raw receiver', 'raw'));
  const tx = track(env, forkProc(env, 'raw sender', 'raw'));
  try {
    const { port } = await rx.call<{ port: number }>('receive');
    await tx.call('send', { port, size: bytes });
    await sleep(500);
    const [r0, t0] = await Promise.all([rx.call<RawSample>('sample'), tx.call<RawSample>('sample')]);
    await sleep(seconds * 1000);
    const [r1, t1] = await Promise.all([rx.call<RawSample>('sample'), tx.call<RawSample>('sample')]);
    await tx.call('stop');
    const secs = (r1.t - r0.t) / 1000;
    const tsecs = (t1.t - t0.t) / 1000;
    const received = (r1.count - r0.count) / secs;
    const sent = (t1.count - t0.count) / tsecs;
    return {
      datagramBytes: bytes,
      windowSeconds: secs,
      sentPerSec: sent,
      receivedPerSec: received,
      loss: sent > 0 ? Math.max(0, 1 - received / sent) : 0,
      senderCpuCores: (t1.cpuUs - t0.cpuUs) / 1e6 / tsecs,
      receiverCpuCores: (r1.cpuUs - r0.cpuUs) / 1e6 / secs,
    };
  } finally {
    await closeAll([tx, rx]);
  }
}

// ---- flood ----------------------------------------------------------------------------------

export async function runFlood(env: Env, mode: 'coalesce' | 'single', backend: 'native' | 'wasm', seconds: number, bytes = 32): Promise<FloodRun> {
  const sut = await startServer(env, backend === 'native' ? 'gamewire-native' : 'gamewire-wasm', 'sink', { net: { sendInterval: 0 } });
  const fl = track(env, forkProc(env, 'flood sender', 'flood'));
  try {
    await fl.call('connect', { backend, port: sut.port, spkiHex: sut.spkiHex }, 30_000);
    await fl.call('start', { mode, size: bytes });
    await sleep(1000);
    const [s0, f0] = await Promise.all([sut.sample(), fl.call<FloodSample>('sample')]);
    perfRecord(env, sut.pid, seconds, `flood-${mode}-${backend}`);
    await sleep(seconds * 1000);
    const [s1, f1] = await Promise.all([sut.sample(), fl.call<FloodSample>('sample')]);
    await fl.call('stop');
    const secs = (s1.t - s0.t) / 1000;
    const fsecs = (f1.t - f0.t) / 1000;
    const dIn = (s1.datagramsIn - s0.datagramsIn) / secs;
    const mIn = (s1.messagesIn - s0.messagesIn) / secs;
    const dOut = (f1.datagramsOut - f0.datagramsOut) / fsecs;
    return {
      mode,
      backend,
      messageBytes: bytes,
      windowSeconds: secs,
      datagramsPerSec: dIn,
      messagesPerSec: mIn,
      senderDatagramsPerSec: dOut,
      messagesPerDatagram: dIn > 0 ? mIn / dIn : 0,
      datagramLoss: dOut > 0 ? Math.max(0, 1 - dIn / dOut) : 0,
      senderCpuCores: (f1.cpuUs - f0.cpuUs) / 1e6 / fsecs,
      receiverCpuCores: (s1.cpuUs - s0.cpuUs) / 1e6 / secs,
      queueFullEvents: f1.queueFull - f0.queueFull,
      nonceBound: dOut >= 0.95 * NONCE_BUDGET,
    };
  } finally {
    await closeAll([fl]);
    await closeAll([sut.child]);
  }
}

// ---- UDP GSO --------------------------------------------------------------------------------

export interface GsoSpec {
  gso: boolean;
  round: number;
  seconds: number;
  /** Reply messages per request and their size (one message per datagram at 1100 B). */
  burst: number;
  size: number;
}

/**
 * UDP GSO on `io: 'thread'`: one gamewire client (pacing lifted) sends a small request, the server
 * answers with a burst of equal messages that leave in one send batch to that client, the client
 * asks again when the burst has come. Pacing is lifted on both sides (`net.sendInterval: 0`), the
 * only setting in which a connection has several datagrams due at once. GSO off is the same server
 * with `GAMEWIRE_UDP_GSO=0`.
 */
export async function runGso(env: Env, spec: GsoSpec): Promise<GsoRun> {
  const sut = await startServer(env, 'gamewire-thread', 'burst', {
    net: { sendInterval: 0 },
    burst: { count: spec.burst, size: spec.size },
    env: { GAMEWIRE_UDP_GSO: spec.gso ? '1' : '0' },
  });
  const cl = track(env, forkProc(env, 'GSO client', 'flood'));
  try {
    await cl.call('connect', { backend: 'native', port: sut.port, spkiHex: sut.spkiHex }, 30_000);
    await cl.call('burst', { count: spec.burst });
    await sleep(1000);
    const s0 = await sut.sample();
    perfRecord(env, sut.pid, spec.seconds, `gso-${spec.gso ? 'on' : 'off'}-${spec.round}`);
    await sleep(spec.seconds * 1000);
    const s1 = await sut.sample();
    await cl.call('stop');
    const secs = (s1.t - s0.t) / 1000;
    const datagrams = s1.datagramsOut - s0.datagramsOut;
    const messages = (s1.sendMessages ?? 0) - (s0.sendMessages ?? 0);
    return {
      gso: spec.gso,
      round: spec.round,
      burst: spec.burst,
      messageBytes: spec.size,
      windowSeconds: secs,
      datagramsPerSec: datagrams / secs,
      serverCpuUsPerDatagram: datagrams > 0 ? (s1.cpuUs - s0.cpuUs) / datagrams : Number.NaN,
      datagramsPerSendMessage: messages > 0 ? ((s1.datagramsSent ?? 0) - (s0.datagramsSent ?? 0)) / messages : null,
    };
  } finally {
    await closeAll([cl]);
    await closeAll([sut.child]);
  }
}

// ---- capacity -------------------------------------------------------------------------------

export interface CapacitySpec {
  server: ServerImpl;
  generator: GeneratorImpl;
  rateHz: number;
  maxP99Ms: number;
  /** Probes at most (runs from the game tick count as known results, not probes). */
  maxProbes: number;
  /** Stop bisecting when the bracket is narrower than this fraction of the lower bound. */
  resolution: number;
  /** Do not probe above this many clients. */
  maxClients: number;
  tick: Omit<TickSpec, 'server' | 'generator' | 'clients' | 'rateHz'>;
}

/**
 * A run whose generator skipped more than this fraction of its sends (a client more than two
 * periods late) did not offer N × rate: it says nothing about the server at N.
 */
const MAX_SKIPPED = 0.005;

/** Judges one run against the capacity criterion. */
export function judge(run: TickRun, maxP99Ms: number): CapacityProbe {
  const reasons: string[] = [];
  if (run.connected < run.clients) reasons.push(`${run.connected}/${run.clients} connected`);
  if (run.loss > 0) reasons.push(`loss ${(run.loss * 100).toFixed(3)}%`);
  if (run.rttP99Ms === null || run.rttP99Ms >= maxP99Ms) reasons.push(`p99 ${run.rttP99Ms?.toFixed(1) ?? '—'} ms ≥ ${maxP99Ms}`);
  const offered = run.connected * run.rateHz * run.windowSeconds;
  const generatorBehind = run.generatorStats.skipped > MAX_SKIPPED * offered;
  const serverFailed = reasons.length > 0;
  if (generatorBehind) reasons.push(`generator behind (${run.generatorStats.skipped} of ${Math.round(offered)} sends skipped)`);
  return {
    clients: run.clients,
    pass: reasons.length === 0,
    inconclusive: generatorBehind && !serverFailed,
    reason: reasons.length ? reasons.join('; ') : 'ok',
    rttP99Ms: run.rttP99Ms,
    loss: run.loss,
    serverCpuCores: run.serverCpuCores,
    generatorSkipped: run.generatorStats.skipped,
  };
}

const roundTo = (n: number, step: number): number => Math.max(step, Math.round(n / step) * step);

/** Finds the largest N (at spec.rateHz) meeting the criterion, starting from known runs. */
export async function runCapacity(env: Env, spec: CapacitySpec, known: TickRun[]): Promise<CapacityResult> {
  const probes: CapacityProbe[] = [];
  const notes: string[] = [];
  const results = new Map<number, CapacityProbe>();
  for (const k of known) {
    if (k.server === spec.server && k.generator === spec.generator && k.rateHz === spec.rateHz) results.set(k.clients, judge(k, spec.maxP99Ms));
  }
  const bounds = (): { lo: number | null; hi: number | null } => {
    const passing = [...results.values()].filter((p) => p.pass).map((p) => p.clients);
    const lo = passing.length ? Math.max(...passing) : null;
    const failing = [...results.values()].filter((p) => !p.pass && (lo === null || p.clients > lo)).map((p) => p.clients);
    return { lo, hi: failing.length ? Math.min(...failing) : null };
  };
  const probe = async (n: number): Promise<void> => {
    env.log(`  capacity ${spec.server}: probing N=${n}`);
    let run = await runTick(env, { ...spec.tick, server: spec.server, generator: spec.generator, clients: n, rateHz: spec.rateHz });
    let p = judge(run, spec.maxP99Ms);
    if (p.inconclusive) {
      env.log(`    → inconclusive (${p.reason}): once more`);
      run = await runTick(env, { ...spec.tick, server: spec.server, generator: spec.generator, clients: n, rateHz: spec.rateHz });
      p = judge(run, spec.maxP99Ms);
    }
    env.log(`    → ${p.pass ? 'pass' : 'fail'}: p99 ${run.rttP99Ms?.toFixed(1) ?? '—'} ms, loss ${(run.loss * 100).toFixed(3)}%, server ${(run.serverCpuCores * 100).toFixed(0)}% of a core${p.pass ? '' : ` (${p.reason})`}`);
    probes.push(p);
    results.set(n, p);
  };
  // A known run that failed only because its generator fell behind is run again first.
  for (const [n, p] of [...results]) {
    if (p.inconclusive && probes.length < spec.maxProbes) await probe(n);
  }
  for (let i = probes.length; i < spec.maxProbes; i++) {
    const { lo, hi } = bounds();
    let next: number;
    if (lo === null && hi === null) next = 100;
    else if (lo === null) {
      if (hi! <= 10) break;
      next = roundTo(hi! / 2, 10);
    } else if (hi === null) {
      if (lo >= spec.maxClients) break;
      next = Math.min(spec.maxClients, roundTo(lo * 2, 10));
    } else {
      if (hi - lo <= Math.max(10, lo * spec.resolution)) break;
      const step = lo >= 200 ? 50 : 10;
      next = roundTo((lo + hi) / 2, step);
      if (next <= lo || next >= hi) next = Math.round((lo + hi) / 2);
      if (next <= lo || next >= hi) break;
    }
    if (results.has(next)) break;
    await probe(next);
  }
  const { lo, hi } = bounds();
  const all = [...results.values()].sort((a, b) => a.clients - b.clients);
  if (all.some((p) => p.inconclusive)) {
    notes.push('some runs failed only because the load generator (sharing the CPUs with the server) fell behind its schedule: inconclusive about the server, counted as failures');
  } else if (all.some((p) => !p.pass && p.generatorSkipped > 0)) {
    notes.push('some failing runs also had the generator behind schedule: there the machine (generator and server on the same CPUs), not the server alone, was the limit');
  }
  return { server: spec.server, generator: spec.generator, rateHz: spec.rateHz, maxP99Ms: spec.maxP99Ms, capacity: lo, firstFailing: hi, probes: all, notes };
}

// ---- idle -----------------------------------------------------------------------------------

/**
 * A server's CPU with nobody sending: first with no clients at all (`seconds` after a settle),
 * then, for each kind in `generators`, with `clients` of that kind connected and sending nothing
 * (keep-alives only). gamewire's own bots keep their keep-alives in step with the server's;
 * mpgameserver's clients send theirs every 0.1 s whatever they receive.
 *
 * The settle is long on purpose: for several seconds after start-up (and after a burst of
 * handshakes) V8's background threads still compile and collect. Measured on an idle native
 * server: 0.30% of a core over the 10 s after a 3 s settle, 0.02% after a 12 s settle, and a
 * window that began 2 s after start-up read 1.9% on a busy machine.
 */
export async function runIdle(
  env: Env,
  server: ServerImpl,
  clients: number,
  seconds: number,
  botsPerProcess: number,
  settleSeconds = 10,
  generators: readonly GeneratorImpl[] = ['gamewire-bots'],
): Promise<IdleRun[]> {
  // mpgameserver's clients read the server's public key from a file.
  const sut = await startServer(env, server, 'echo', { sharedKey: generators.includes('mpgameserver-clients') });
  const measure = async (n: number, connected: number, generator?: GeneratorImpl): Promise<IdleRun> => {
    const s0 = await sut.sample();
    await sleep(seconds * 1000);
    const s1 = await sut.sample();
    const secs = (s1.t - s0.t) / 1000;
    const rate = (a?: number, b?: number): number | null => (a === undefined || b === undefined ? null : (b - a) / secs);
    return {
      server,
      clients: n,
      ...(generator ? { generator } : {}),
      windowSeconds: secs,
      cpuCores: (s1.cpuUs - s0.cpuUs) / 1e6 / secs,
      wakeupsPerSec: rate(s0.wakeups, s1.wakeups),
      notificationsPerSec: rate(s0.notifications, s1.notifications),
      datagramsInPerSec: (s1.datagramsIn - s0.datagramsIn) / secs,
      datagramsOutPerSec: (s1.datagramsOut - s0.datagramsOut) / secs,
      bytesPerDatagramIn: s0.bytesIn !== undefined && s1.bytesIn !== undefined && s1.datagramsIn > s0.datagramsIn ? (s1.bytesIn - s0.bytesIn) / (s1.datagramsIn - s0.datagramsIn) : null,
      connected,
    };
  };
  try {
    await sleep(settleSeconds * 1000);
    const out = [await measure(0, 0)];
    for (const generator of clients > 0 ? generators : []) {
      const spec: TickSpec = { server, generator, clients, rateHz: 60, windowSeconds: seconds, warmupSeconds: 0, drainSeconds: 0, botsPerProcess, pythonBotsPerProcess: 50 };
      const gens = await startGenerator(env, spec, sut);
      try {
        const conn = await Promise.all(gens.map((g) => g.call<{ connected: number }>('connect', { concurrency: connectConcurrency(generator, gens.length), timeoutMs: 30_000 }, 60_000)));
        await sleep(settleSeconds * 1000);
        out.push(await measure(clients, conn.reduce((a, c) => a + c.connected, 0), generator));
      } finally {
        await closeAll(gens);
      }
    }
    return out;
  } finally {
    await closeAll([sut.child]);
  }
}

// ---- system calls ---------------------------------------------------------------------------

/** Parses `strace -c` output: one entry per system call, busiest first. */
export function parseStraceSummary(text: string): SyscallRun['calls'] {
  const out: SyscallRun['calls'] = [];
  for (const line of text.split('\n')) {
    // % time  seconds  usecs/call  calls  [errors]  syscall
    const m = /^\s*[\d.]+\s+([\d.]+)\s+\d+\s+(\d+)\s+(\d+\s+)?([a-z_0-9]+)\s*$/.exec(line);
    if (!m || m[4] === 'total') continue;
    out.push({ name: m[4], seconds: Number(m[1]), calls: Number(m[2]), errors: m[3] ? Number(m[3]) : 0 });
  }
  return out.sort((a, b) => b.calls - a.calls);
}

/** `strace -c -f` of a server over a game-tick window (the tick's own numbers are not kept: strace slows every call). */
export async function runStrace(env: Env, spec: TickSpec): Promise<SyscallRun> {
  const base: SyscallRun = { server: spec.server, clients: spec.clients, generator: spec.generator, seconds: spec.windowSeconds, messages: 0, datagramsIn: 0, datagramsOut: 0, calls: [] };
  if (spawnSync('strace', ['-V']).status !== 0) return { ...base, error: 'strace is not installed (apt-get install strace)' };
  const file = join(env.dir, `strace-${spec.server}-${spec.clients}.txt`);
  let error: string | undefined;
  const run = await runTick(env, spec, async (pid, seconds) => {
    const p = spawn('strace', ['-c', '-f', '-o', file, '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    await sleep(seconds * 1000);
    p.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => p.on('exit', resolve));
    if (code !== 0) error = `strace exited ${code}: ${err.trim().split('\n').slice(-2).join(' ')}`;
  });
  let calls: SyscallRun['calls'] = [];
  try {
    calls = parseStraceSummary(readFileSync(file, 'utf8'));
  } catch (e) {
    error ??= `no strace summary: ${(e as Error).message}`;
  }
  const secs = run.windowSeconds;
  return {
    ...base,
    seconds: secs,
    messages: run.messagesToServerPerSec * secs,
    datagramsIn: run.datagramsInPerSec * secs,
    datagramsOut: run.datagramsOutPerSec * secs,
    calls,
    ...(error && calls.length === 0 ? { error } : {}),
  };
}

// ---- CLIENT_HELLO flood ---------------------------------------------------------------------

export interface HelloFloodSpec {
  scenario: HelloFloodRun['scenario'];
  server: ServerImpl;
  /** Established clients echoing at 60 Hz with RETRY_ON_TIMEOUT during the flood. */
  established: number;
  /** Flood length, seconds, and hellos per second. */
  seconds: number;
  perSec: number;
  /** many-sources: sockets (source ports) on 127.0.0.1; one-source: sockets on 127.0.0.2; many-addresses: addresses 127.0.x.y, one socket each. */
  sources: number;
  /** one-source: clients connecting from 127.0.0.1 during the flood. */
  lateClients: number;
}

const MiB = 1024 * 1024;

/** The flood's source addresses: 127.0.x.y from 127.0.10.1 on (clear of 127.0.0.1, where the server and the clients are). */
export function floodAddresses(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `127.0.${10 + Math.floor(i / 250)}.${1 + (i % 250)}`);
}

/**
 * Established clients (gamewire bots, RETRY_ON_TIMEOUT both ways, 60 Hz) beside a CLIENT_HELLO
 * flood of valid hellos replayed from many ports, one IP, or many addresses; reports their round
 * trips during the flood, the server's memory growth and its handshake counters.
 */
export async function runHelloFlood(env: Env, spec: HelloFloodSpec): Promise<HelloFloodRun> {
  const sut = await startServer(env, spec.server, 'echo', { retry: 'RETRY_ON_TIMEOUT' });
  const children: Child[] = [];
  try {
    const tick: TickSpec = { server: spec.server, generator: 'gamewire-bots', clients: spec.established, rateHz: 60, windowSeconds: spec.seconds, warmupSeconds: 1, drainSeconds: 1.5, botsPerProcess: 250, pythonBotsPerProcess: 50, retry: 'RETRY_ON_TIMEOUT' };
    const gens = await startGenerator(env, tick, sut);
    children.push(...gens);
    const conn = await Promise.all(gens.map((g) => g.call<{ connected: number }>('connect', { concurrency: 50, timeoutMs: 30_000 }, 60_000)));
    const connected = conn.reduce((a, c) => a + c.connected, 0);
    const flood = track(env, forkProc(env, 'hello flood', 'hello'));
    children.push(flood);
    const prepared = await flood.call<{ hellos: number; bytes: number }>('prepare', { spkiHex: sut.spkiHex, port: sut.port, distinct: 64 });
    const addresses = spec.scenario === 'many-addresses' ? floodAddresses(spec.sources) : [spec.scenario === 'one-source' ? '127.0.0.2' : '127.0.0.1'];
    const perAddress = spec.scenario === 'many-addresses' ? 1 : spec.sources;
    const opened = await flood.call<{ sockets: number }>('open', { addresses, perAddress }, 120_000);
    let late: Child[] = [];
    if (spec.scenario === 'one-source' && spec.lateClients > 0) {
      late = await startGenerator(env, { ...tick, clients: spec.lateClients, retry: 'RETRY_ON_TIMEOUT' }, sut);
      children.push(...late);
    }
    await Promise.all(gens.map((g) => g.call('start', { rateHz: 60 })));
    await sleep(tick.warmupSeconds * 1000);

    const mem0 = processMemory(sut.pid);
    const [s0] = await Promise.all([sut.sample(), ...gens.map((g) => g.call<PoolSnapshot>('mark', { phase: 'start' }))]);
    const total = Math.round(spec.perSec * spec.seconds);
    await flood.call('flood', { total, seconds: spec.seconds });
    const lateConnect = late.length
      ? Promise.all(late.map((g) => g.call<{ connected: number; failed: number; ms: number }>('connect', { concurrency: spec.lateClients, timeoutMs: 20_000 }, 60_000)))
      : Promise.resolve([]);
    let peak = mem0?.rss ?? 0;
    const deadline = performance.now() + spec.seconds * 1000 * 3 + 10_000;
    let fs = await flood.call<HelloSample>('sample');
    while (!fs.done && performance.now() < deadline) {
      await sleep(200);
      peak = Math.max(peak, processMemory(sut.pid)?.rss ?? 0);
      fs = await flood.call<HelloSample>('sample');
    }
    const fs0Time = s0.t;
    await sleep(500);
    peak = Math.max(peak, processMemory(sut.pid)?.rss ?? 0);
    const [s1] = await Promise.all([sut.sample(), ...gens.map((g) => g.call<PoolSnapshot>('mark', { phase: 'end' }))]);
    const lateRes = await lateConnect;
    await sleep(tick.drainSeconds * 1000);
    const reps = await Promise.all(gens.map((g) => g.call<PoolReport>('report')));
    const h: hist.Histogram = new Map();
    for (const r of reps) hist.merge(h, r.rtt);
    const sent = reps.reduce((a, r) => a + r.sent, 0);
    const echoed = reps.reduce((a, r) => a + r.echoed, 0);
    const secs = (s1.t - fs0Time) / 1000;
    const d = (k: 'handshakesStarted' | 'handshakesCompleted' | 'handshakesFailed' | 'dropRateLimited'): number => (s1[k] ?? 0) - (s0[k] ?? 0);
    const run: HelloFloodRun = {
      scenario: spec.scenario,
      server: spec.server,
      flood: { sockets: opened.sockets, addresses: addresses.length, sent: fs.sent, seconds: spec.seconds, perSec: spec.perSec },
      established: {
        clients: spec.established,
        connected,
        sent,
        echoed,
        rttP50Ms: ms(hist.quantile(h, 0.5)),
        rttP99Ms: ms(hist.quantile(h, 0.99)),
        loss: sent > 0 ? Math.max(0, 1 - echoed / sent) : 0,
        dropped: reps.reduce((a, r) => a + r.dropped, 0),
      },
      ...(late.length ? { late: { clients: spec.lateClients, connected: lateRes.reduce((a, c) => a + c.connected, 0), ms: Math.max(...lateRes.map((c) => c.ms)) } } : {}),
      rssBeforeMiB: (mem0?.rss ?? 0) / MiB,
      rssPeakMiB: peak / MiB,
      rssGrowthMiB: Math.max(0, peak - (mem0?.rss ?? 0)) / MiB,
      handshakes: { started: d('handshakesStarted'), completed: d('handshakesCompleted'), failed: d('handshakesFailed'), rateLimited: d('dropRateLimited'), otherDrops: s1.drops - s0.drops - d('dropRateLimited') },
      serverCpuCores: (s1.cpuUs - s0.cpuUs) / 1e6 / secs,
      notes: [],
    };
    if (prepared.hellos < 64) run.notes.push(`only ${prepared.hellos} distinct hellos replayed`);
    if (!fs.done) run.notes.push(`the flood sent ${fs.sent} of ${total} hellos before the deadline`);
    if (fs.sendErrors) run.notes.push(`${fs.sendErrors} flood send errors`);
    run.notes.push(`${fs.replies} replies (SERVER_HELLOs) reached the flood's sockets`);
    return run;
  } finally {
    await closeAll(children);
    await closeAll([sut.child]);
  }
}
