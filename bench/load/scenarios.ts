/**
 * The end-to-end scenarios over real loopback UDP, each server and each load generator in its
 * own process: the raw node:dgram reference, the flood, the game tick, the capacity search.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PrivateKey } from '../../ts/index.js';
import { busyFraction, machineCpu, processCpuUs, socketDrops, udpCounters } from './lib/cpu.js';
import * as hist from './lib/hist.js';
import type { ProcName } from './lib/build.js';
import { Child } from './lib/proc.js';
import type {
  CapacityProbe,
  CapacityResult,
  FloodRun,
  GeneratorImpl,
  RawRun,
  ServerImpl,
  TickRun,
} from './lib/results.js';
import type { PoolReport, PoolSnapshot } from './pool.js';
import type { FloodSample } from './procs/flood.js';
import type { RawSample } from './procs/raw.js';
import type { ServerSample, ServerStarted } from './procs/server.js';

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
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function forkProc(env: Env, name: string, proc: ProcName, execArgv: string[] = []): Child {
  const module = env.bundles ? env.bundles[proc] : new URL(`${proc}.ts`, PROCS);
  return Child.fork(name, module, [], { tsx: !env.bundles, execArgv });
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

async function startServer(env: Env, impl: ServerImpl, mode: 'echo' | 'sink', net?: { sendInterval?: number }): Promise<Sut> {
  if (impl === 'node-dgram-echo') {
    const child = track(env, forkProc(env, 'node:dgram echo server', 'raw'));
    const st = await child.call<ServerStarted>('echo');
    return { impl, child, pid: st.pid, port: st.port, spkiHex: '', sample: () => child.call<ServerSample>('echoSample') };
  }
  if (impl === 'mpgameserver') {
    if (!env.python) throw new Error('mpgameserver is not installed (run scripts/setup.sh)');
    const keys = pythonKeys(env);
    const child = track(env, Child.spawnPython('mpgameserver server', env.python, join(PYTHON_DIR, 'mpgs_bench_server.py'), ['--key', keys.pem, ...(mode === 'sink' ? ['--sink'] : [])]));
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
        return { t, cpuUs: processCpuUs(hello.pid) ?? Number.NaN, ...s, messagesOut: 0, drops: 0 };
      },
    };
  }
  const backend = impl === 'gamewire-wasm' ? 'wasm' : 'native';
  const io = impl === 'gamewire-thread' ? 'thread' : 'dgram';
  const execArgv: string[] = [];
  // One directory per server: node writes one profile per thread (the main one has the lowest thread id).
  if (env.profileDir && !env.perf) execArgv.push('--cpu-prof', `--cpu-prof-dir=${join(env.profileDir, `server-${impl}-${mode}-${++serverSeq}`)}`);
  if (env.perf) execArgv.push('--perf-basic-prof');
  const child = track(env, forkProc(env, `${impl} server`, 'server', execArgv));
  const st = await child.call<ServerStarted>('start', { backend, mode, net, io }, 60_000);
  return { impl, child, pid: st.pid, port: st.port, spkiHex: st.spkiHex, sample: () => child.call<ServerSample>('sample') };
}

// ---- load generators ------------------------------------------------------------------------

export interface TickSpec {
  server: ServerImpl;
  generator: GeneratorImpl;
  clients: number;
  rateHz: number;
  windowSeconds: number;
  warmupSeconds: number;
  drainSeconds: number;
  botsPerProcess: number;
  pythonBotsPerProcess: number;
}

async function startGenerator(env: Env, spec: TickSpec, sut: Sut): Promise<Child[]> {
  const perProc = spec.generator === 'mpgameserver-clients' ? spec.pythonBotsPerProcess : spec.botsPerProcess;
  const procs = Math.max(1, Math.ceil(spec.clients / perProc));
  const base = Math.floor(spec.clients / procs);
  const counts = Array.from({ length: procs }, (_, i) => base + (i < spec.clients % procs ? 1 : 0));
  const firsts = counts.map((_, i) => counts.slice(0, i).reduce((a, b) => a + b, 0));
  const children: Child[] = [];
  try {
    if (spec.generator === 'raw-sockets') {
      for (let i = 0; i < procs; i++) children.push(track(env, forkProc(env, `raw bots#${i}`, 'rawbots')));
      await Promise.all(children.map((c, i) => c.call('open', { port: sut.port, count: counts[i] }, 60_000)));
    } else if (spec.generator === 'gamewire-bots') {
      for (let i = 0; i < procs; i++) children.push(track(env, forkProc(env, `bots#${i}`, 'bots')));
      await Promise.all(children.map((c, i) => c.call('open', { backend: 'native', host: '127.0.0.1', port: sut.port, spkiHex: sut.spkiHex, count: counts[i], firstBot: firsts[i] }, 60_000)));
    } else {
      if (!env.python) throw new Error('mpgameserver is not installed (run scripts/setup.sh)');
      const pub = pythonKeys(env).pub;
      if (sut.impl !== 'mpgameserver') throw new Error('mpgameserver clients are only run against mpgameserver (they need its key files)');
      for (let i = 0; i < procs; i++) {
        children.push(track(env, Child.spawnPython(`mpgs bots#${i}`, env.python, join(PYTHON_DIR, 'mpgs_bench_bots.py'), [
          '--port', String(sut.port), '--pub', pub, '--count', String(counts[i]), '--first', String(firsts[i]),
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

/** One game-tick run (also a capacity probe). */
export async function runTick(env: Env, spec: TickSpec): Promise<TickRun> {
  const tag = `${spec.server} ← ${spec.generator}, N=${spec.clients}`;
  const sut = await startServer(env, spec.server, 'echo');
  try {
    const gens = await startGenerator(env, spec, sut);
    try {
      const concurrency = Math.max(5, Math.ceil((spec.generator === 'mpgameserver-clients' ? 50 : 200) / gens.length));
      const conn = await Promise.all(gens.map((g) => g.call<{ connected: number; failed: number; ms: number }>('connect', { concurrency, timeoutMs: 60_000 }, 120_000)));
      const connected = conn.reduce((a, c) => a + c.connected, 0);
      env.log(`    ${tag}: ${connected}/${spec.clients} connected in ${(Math.max(...conn.map((c) => c.ms)) / 1000).toFixed(1)} s (${gens.length} generator process${gens.length === 1 ? '' : 'es'})`);
      await Promise.all(gens.map((g) => g.call('start', { rateHz: spec.rateHz })));
      await sleep(spec.warmupSeconds * 1000);

      const m0 = machineCpu();
      const u0 = udpCounters();
      const d0 = socketDrops(sut.port);
      const g0 = gens.map((g) => processCpuUs(g.pid) ?? 0);
      const [s0] = await Promise.all([sut.sample(), ...gens.map((g) => g.call<PoolSnapshot>('mark', { phase: 'start' }))]);
      perfRecord(env, sut.pid, spec.windowSeconds, `server-${spec.server}-${spec.clients}`);
      await sleep(spec.windowSeconds * 1000);
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
        connected,
        windowSeconds: secs,
        serverCpuCores: cpuUs / 1e6 / secs,
        serverCpuUsPerDatagram: dIn + dOut > 0 ? cpuUs / (dIn + dOut) : null,
        serverCpuUsPerMessage: mIn > 0 ? cpuUs / mIn : null,
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
  const sut = await startServer(env, backend === 'native' ? 'gamewire-native' : 'gamewire-wasm', 'sink', { sendInterval: 0 });
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
