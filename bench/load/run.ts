/**
 * `npm run bench:load`: the end-to-end load benchmarks over real loopback UDP, with mpgameserver
 * 0.2.4's own server and clients run in the same run. Prints progress and a table with ratios,
 * writes `bench/results/load-<timestamp>.json` + `load-latest.json` and regenerates
 * `docs/benchmarks.md` (full runs). See `bench/load/README.md`.
 *
 *   --quick              CI smoke run (about a minute); writes load-quick-latest.json, leaves the docs alone
 *   --only a,b           scenarios: raw, flood, gso, tick, table, sweep, idle, syscalls, flood-hello, capacity (a partial run)
 *   --clients 100,500    game-tick client counts (default 100,500,1000)
 *   --table-clients 100  the mpgameserver-client table's (and the sweep's) client counts (default 100,500)
 *   --table-rounds 3     rounds of the table at its smallest N, every server once per round (default 3; quick 1)
 *   --window S           game-tick window, seconds (default 10)
 *   --idle-seconds S     idle windows (default 20)
 *   --gso-rounds 3       rounds of the UDP GSO scenario, GSO on and off in each (default 3; quick 1)
 *   --notify-delays 0,1  the sweep's notifyDelay values, ms (default 0,0.25,0.5,1; repeats allowed)
 *   --servers a,b        only these servers (gamewire-thread, gamewire-thread-2, gamewire-native, gamewire-wasm,
 *                        mpgameserver, node-dgram-echo, rust-echo): a partial run
 *   --no-python          skip mpgameserver
 *   --no-wasm            skip the WASM server
 *   --no-thread          skip the native server with io: 'thread' (its socket on a Rust thread)
 *   --no-floor           skip the node:dgram echo floor (bare sockets, no protocol) in the game tick
 *   --mpgs-max N         largest N run with mpgameserver's own clients (default 500)
 *   --profile DIR        write `--cpu-prof` profiles of the gamewire servers to DIR
 *   --perf               with --profile: `perf record` each server during its window instead
 *   --no-docs, --no-write
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadBackend, probeBackends } from '../../ts/backend/index.js';
import { describeMachine, finishMachineInfo, machineInfo } from '../lib/machine.js';
import { writeDocs } from '../lib/report.js';
import { readResults } from '../lib/results.js';
import type { Child } from './lib/proc.js';
import { bundleProcs } from './lib/build.js';
import { loadConsoleReport } from './lib/report.js';
import { isFloor, LOAD_SCHEMA, writeLoadResults, type CapacityResult, type FloodRun, type GsoRun, type HelloFloodRun, type IdleRun, type LoadResults, type LoadSettings, type RawRun, type ServerImpl, type SyscallRun, type TickRun, type TickTiming } from './lib/results.js';
import { evaluateLoadTargets } from './lib/targets.js';
import { buildFloor } from './lib/floor.js';
import { runCapacity, runFlood, runGso, runHelloFlood, runIdle, runRaw, runStrace, runTick, type Env, type HelloFloodSpec, type TickSpec } from './scenarios.js';

const SCENARIOS = ['raw', 'flood', 'gso', 'tick', 'table', 'sweep', 'idle', 'syscalls', 'flood-hello', 'capacity'] as const;
type Scenario = (typeof SCENARIOS)[number];

function list(v: string | undefined): number[] | undefined {
  if (v === undefined) return undefined;
  const ns = v.split(',').map((s) => Number(s.trim()));
  if (ns.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--clients needs positive integers, got ${v}`);
  return ns;
}

function mpgameserverPython(): { python: string | null; detail: string } {
  const cache = process.env.GAMEWIRE_CACHE || join(process.env.HOME ?? '', '.cache', 'gamewire');
  const py = join(cache, 'mpgs-venv', 'bin', 'python');
  if (!existsSync(py)) return { python: null, detail: `not installed (${py} missing: run scripts/setup.sh)` };
  try {
    const v = execFileSync(py, ['-c', 'import importlib.metadata as m, sys; print(m.version("mpgameserver"), sys.version.split()[0])'], { encoding: 'utf8', timeout: 30_000 }).trim().split(' ');
    return { python: py, detail: `mpgameserver ${v[0]} on Python ${v[1]} (${py})` };
  } catch (err) {
    return { python: null, detail: `cannot import mpgameserver with ${py}: ${(err as Error).message.split('\n')[0]}` };
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      clients: { type: 'string' },
      'table-clients': { type: 'string' },
      'table-rounds': { type: 'string' },
      'gso-rounds': { type: 'string' },
      window: { type: 'string' },
      'idle-seconds': { type: 'string' },
      servers: { type: 'string' },
      'notify-delays': { type: 'string' },
      'no-python': { type: 'boolean', default: false },
      'no-wasm': { type: 'boolean', default: false },
      'no-thread': { type: 'boolean', default: false },
      'no-floor': { type: 'boolean', default: false },
      'mpgs-max': { type: 'string' },
      profile: { type: 'string' },
      perf: { type: 'boolean', default: false },
      'no-docs': { type: 'boolean', default: false },
      'no-write': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const quick = values.quick;
  const only = values.only?.split(',').map((s) => s.trim()) as Scenario[] | undefined;
  const bad = only?.filter((s) => !SCENARIOS.includes(s));
  if (bad?.length) throw new Error(`--only: unknown ${bad.join(', ')} (known: ${SCENARIOS.join(', ')})`);
  const want = (s: Scenario): boolean => !only || only.includes(s);
  const clientsArg = list(values.clients);
  const tableArg = list(values['table-clients']);
  const settings: LoadSettings = quick
    ? {
      clients: clientsArg ?? [20], rateHz: 60, windowSeconds: Number(values.window ?? 1.5), warmupSeconds: 0.5, drainSeconds: 0.5, botsPerProcess: 250, pythonBotsPerProcess: 50,
      mpgameserverMaxClients: Number(values['mpgs-max'] ?? 20), floodSeconds: 1, capacityWindowSeconds: 1.5,
      tableClients: tableArg ?? [10], tableRounds: Number(values['table-rounds'] ?? 1), notifyDelays: [0.5], idleSeconds: Number(values['idle-seconds'] ?? 1), idleSettleSeconds: 1, idleClients: 10, straceSeconds: 1, helloFloodSeconds: 1,
      gsoRounds: Number(values['gso-rounds'] ?? 1), gsoSeconds: 0.5,
    }
    : {
      clients: clientsArg ?? [100, 500, 1000], rateHz: 60, windowSeconds: Number(values.window ?? 10), warmupSeconds: 2, drainSeconds: 1.5, botsPerProcess: 250, pythonBotsPerProcess: 50,
      mpgameserverMaxClients: Number(values['mpgs-max'] ?? 500), floodSeconds: 5, capacityWindowSeconds: 8,
      tableClients: tableArg ?? [100, 500], tableRounds: Number(values['table-rounds'] ?? 3), notifyDelays: [0, 0.25, 0.5, 1], idleSeconds: Number(values['idle-seconds'] ?? 20), idleSettleSeconds: 10, idleClients: 100, straceSeconds: 5, helloFloodSeconds: 5,
      gsoRounds: Number(values['gso-rounds'] ?? 3), gsoSeconds: 5,
    };
  const delaysArg = values['notify-delays']?.split(',').map((x) => Number(x.trim()));
  if (delaysArg?.some((d) => !(d >= 0 && d <= 1))) throw new Error(`--notify-delays needs milliseconds from 0 to 1, got ${values['notify-delays']}`);
  if (delaysArg) settings.notifyDelays = delaysArg;
  if (!(Number.isInteger(settings.tableRounds) && settings.tableRounds! >= 1)) throw new Error(`--table-rounds needs a whole number ≥ 1, got ${values['table-rounds']}`);
  if (!(Number.isInteger(settings.gsoRounds) && settings.gsoRounds! >= 1)) throw new Error(`--gso-rounds needs a whole number ≥ 1, got ${values['gso-rounds']}`);
  const onlyServers = values.servers?.split(',').map((x) => x.trim()) as ServerImpl[] | undefined;
  const mode: LoadResults['mode'] = quick ? 'quick' : only || clientsArg || tableArg || values.window || values['table-rounds'] || values['gso-rounds'] || values['idle-seconds'] || onlyServers || delaysArg ? 'partial' : 'full';

  const t0 = Date.now();
  const startedAt = new Date(t0).toISOString();
  const machine = machineInfo();
  const log = (l: string): void => console.log(l);
  log(`gamewire load benchmarks, ${mode} mode`);
  log(`machine: ${describeMachine(machine)}`);
  log(`load average (1 min) at the start: ${machine.loadAverage.start.toFixed(2)}`);

  const backends = probeBackends();
  const threadIo = backends.native.available && loadBackend({ backend: 'native' }).createThreadedServer
    ? { available: true, detail: 'UdpServer({ io: "thread" }): the socket and protocol on a Rust thread' }
    : { available: false, detail: 'this native build has no threaded socket driver' };
  const py = values['no-python'] ? { python: null, detail: 'skipped (--no-python)' } : mpgameserverPython();
  const implementations = [
    { name: 'gamewire native', available: backends.native.available, detail: backends.native.available ? backends.native.path : backends.native.error ?? '' },
    { name: 'gamewire wasm', available: backends.wasm.available && !values['no-wasm'], detail: values['no-wasm'] ? 'skipped (--no-wasm)' : backends.wasm.available ? backends.wasm.path : backends.wasm.error ?? '' },
    { name: "gamewire native, io: 'thread'", available: threadIo.available && !values['no-thread'], detail: values['no-thread'] ? 'skipped (--no-thread)' : threadIo.detail },
    { name: 'mpgameserver', available: py.python !== null, detail: py.detail },
  ];
  const floor = values['no-floor'] ? { error: 'skipped (--no-floor)' } : buildFloor();
  implementations.push({ name: 'Rust echo floor', available: 'bin' in floor, detail: 'bin' in floor ? floor.bin : floor.error });
  for (const i of implementations) log(`  ${i.name}: ${i.available ? '' : 'not available: '}${i.detail}`);
  if (!backends.native.available) {
    console.error('the native backend does not load; the load generator needs it (npm run build:native)');
    return 1;
  }

  const dir = mkdtempSync(join(tmpdir(), 'gamewire-load-'));
  const profileDir = values.profile ? resolve(values.profile) : null;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const children = new Set<Child>();
  const built = await bundleProcs();
  if ('error' in built) log(`  child processes run under tsx (${built.error}); tsx's keepNames adds a V8 runtime call per closure created`);
  const env: Env = { python: py.python, dir, log, profileDir, perf: values.perf && profileDir !== null, children, bundles: 'files' in built ? built.files : null, floorBin: 'bin' in floor ? floor.bin : null };
  const cleanup = (): void => {
    for (const c of children) c.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });

  const failures: string[] = [];
  const attempt = async <T>(what: string, f: () => Promise<T>): Promise<T | null> => {
    try {
      return await f();
    } catch (err) {
      const msg = `${what}: ${(err as Error).message}`;
      failures.push(msg);
      log(`  FAILED ${msg}`);
      return null;
    }
  };

  let raw: RawRun | null = null;
  const flood: FloodRun[] = [];
  const tick: TickRun[] = [];
  const table: TickRun[] = [];
  const sweep: TickRun[] = [];
  const idle: IdleRun[] = [];
  const syscalls: SyscallRun[] = [];
  const helloFlood: HelloFloodRun[] = [];
  const capacity: CapacityResult[] = [];
  const gso: GsoRun[] = [];
  const wasm = implementations[1].available;
  const thread = implementations[2].available;
  const rustFloor = env.floorBin !== null;
  // The quick run keeps one server of each I/O path; a full run has them all.
  const picked = (l: ServerImpl[]): ServerImpl[] => (onlyServers ? l.filter((x) => onlyServers.includes(x)) : l);
  const gamewireServers: ServerImpl[] = picked(quick
    ? [...(thread ? (['gamewire-thread'] as const) : []), ...(wasm ? (['gamewire-wasm'] as const) : [])]
    : [...(thread ? (['gamewire-thread', 'gamewire-thread-2'] as const) : []), 'gamewire-native', ...(wasm ? (['gamewire-wasm'] as const) : [])]);
  const servers: ServerImpl[] = picked([
    ...gamewireServers,
    ...(values['no-floor'] || quick ? [] : (['node-dgram-echo'] as const)),
    ...(rustFloor ? (['rust-echo'] as const) : []),
  ]);
  const tickBase: TickTiming = { rateHz: settings.rateHz, windowSeconds: settings.windowSeconds, warmupSeconds: settings.warmupSeconds, drainSeconds: settings.drainSeconds, botsPerProcess: settings.botsPerProcess, pythonBotsPerProcess: settings.pythonBotsPerProcess };
  const show = (t: TickRun): string =>
    `server ${(t.serverCpuCores * 100).toFixed(1)}% CPU, ${t.serverCpuUsPerDatagram?.toFixed(1) ?? '—'} µs/datagram, ${t.serverCpuUsPerMessage?.toFixed(1) ?? '—'} µs/message, ${Math.round(t.deliveredPerSec).toLocaleString('en-US')} msg/s delivered, RTT p50 ${t.rttP50Ms?.toFixed(1) ?? '—'} ms p99 ${t.rttP99Ms?.toFixed(1) ?? '—'} ms, loss ${(t.loss * 100).toFixed(3)}%${t.threadWakeupsPerSec != null ? `, ${Math.round(t.threadWakeupsPerSec)} wakeups/s, ${Math.round(t.threadNotificationsPerSec ?? 0)} notifications/s` : ''}${t.notes.length ? ` [${t.notes.join('; ')}]` : ''}`;
  /** The table's floor copies the datagram pattern gamewire's server saw from mpgameserver's clients at the same N. */
  const tablePattern = (n: number, round: number): TickSpec['pattern'] => {
    const mine = table.filter((t) => t.clients === n && (t.round ?? 0) === round);
    const ref = mine.find((t) => t.server === 'gamewire-thread') ?? mine.find((t) => t.generator === 'mpgameserver-clients' && t.server !== 'mpgameserver');
    return ref && ref.connected > 0 && ref.bytesPerDatagramIn
      ? { datagramsPerClientPerSec: ref.datagramsInPerSec / ref.connected, bytes: Math.round(ref.bytesPerDatagramIn) }
      : { datagramsPerClientPerSec: settings.rateHz, bytes: 70 };
  };

  try {
    if (want('raw')) {
      log(`\n[raw] node:dgram, 32-byte datagrams, ${settings.floodSeconds} s`);
      raw = await attempt('raw node:dgram', () => runRaw(env, settings.floodSeconds));
      if (raw) log(`  sent ${Math.round(raw.sentPerSec).toLocaleString('en-US')}/s, received ${Math.round(raw.receivedPerSec).toLocaleString('en-US')}/s (${(raw.loss * 100).toFixed(0)}% lost), sender ${(raw.senderCpuCores * 100).toFixed(0)}% CPU, receiver ${(raw.receiverCpuCores * 100).toFixed(0)}%`);
    }
    if (want('flood')) {
      for (const m of ['coalesce', 'single'] as const) {
        log(`\n[flood] gamewire ↔ gamewire (native), ${m}, ${settings.floodSeconds} s`);
        const f = await attempt(`flood ${m}`, () => runFlood(env, m, 'native', settings.floodSeconds));
        if (f) {
          flood.push(f);
          log(`  ${Math.round(f.datagramsPerSec).toLocaleString('en-US')} datagrams/s, ${Math.round(f.messagesPerSec).toLocaleString('en-US')} messages/s received; sender ${Math.round(f.senderDatagramsPerSec).toLocaleString('en-US')} datagrams/s${f.nonceBound ? ' (nonce budget)' : ''}; CPU sender ${(f.senderCpuCores * 100).toFixed(0)}%, receiver ${(f.receiverCpuCores * 100).toFixed(0)}%`);
        }
      }
    }
    if (want('gso') && thread && (!onlyServers || onlyServers.includes('gamewire-thread'))) {
      const [count, size] = [32, 1100];
      log(`\n[gso] io: 'thread', bursts of ${count} × ${size} B to one client, pacing lifted, GSO on and off (GAMEWIRE_UDP_GSO=0), ${settings.gsoRounds} round(s) of ${settings.gsoSeconds} s each`);
      for (let round = 0; round < settings.gsoRounds!; round++) {
        // The order alternates, so that neither side always runs first.
        for (const on of round % 2 ? [false, true] : [true, false]) {
          const g = await attempt(`gso ${on ? 'on' : 'off'} round ${round + 1}`, () => runGso(env, { gso: on, round, seconds: settings.gsoSeconds!, burst: count, size }));
          if (!g) continue;
          gso.push(g);
          log(`  [${round + 1}] GSO ${on ? 'on ' : 'off'}: ${g.serverCpuUsPerDatagram.toFixed(2)} µs of server CPU per datagram sent, ${Math.round(g.datagramsPerSec).toLocaleString('en-US')} datagrams/s, ${g.datagramsPerSendMessage?.toFixed(1) ?? '—'} datagrams per send message`);
        }
      }
    }
    if (want('tick')) {
      for (const n of settings.clients) {
        log(`\n[tick] N=${n} clients × ${settings.rateHz} Hz`);
        for (const server of servers) {
          const generator = isFloor(server) ? 'raw-sockets' : 'gamewire-bots';
          const t = await attempt(`tick ${server} N=${n}`, () => runTick(env, { ...tickBase, server, generator, clients: n }));
          if (!t) continue;
          tick.push(t);
          log(`  ${server}: ${show(t)}`);
        }
      }
    }
    if (want('table')) {
      // Issue 11's table: mpgameserver's own clients (its PyPI package, in its venv), RETRY_ON_TIMEOUT
      // both ways, against every server; the Rust floor with bare sockets in the same datagram pattern.
      // At the smallest N the table runs in rounds, every server once per round with the order
      // rotated, so that a ratio is taken between runs minutes apart at most and the machine's drift
      // (other people's work) shows as spread instead of as a figure.
      for (const n of settings.tableClients) {
        const rounds = n === Math.min(...settings.tableClients) ? settings.tableRounds ?? 1 : 1;
        log(`\n[table] N=${n} mpgameserver clients × ${settings.rateHz} Hz, RETRY_ON_TIMEOUT echoes${rounds > 1 ? `, ${rounds} rounds` : ''}`);
        if (!py.python) {
          log('  mpgameserver is not installed: the table is not run');
          break;
        }
        const rotating = picked([...(quick ? [] : (['mpgameserver'] as const)), ...(quick ? gamewireServers.slice(0, 1) : gamewireServers)]);
        for (let round = 0; round < rounds; round++) {
          const k = rotating.length ? round % rotating.length : 0;
          const order = [...rotating.slice(k), ...rotating.slice(0, k)];
          // The floor comes last: it copies the datagram pattern gamewire's server saw in this round.
          for (const server of [...order, ...picked(rustFloor ? (['rust-echo'] as const) : [])]) {
            const spec: TickSpec = server === 'rust-echo'
              ? { ...tickBase, server, generator: 'raw-sockets', clients: n, pattern: tablePattern(n, round) }
              : { ...tickBase, server, generator: 'mpgameserver-clients', clients: n, retry: 'RETRY_ON_TIMEOUT' };
            const t = await attempt(`table ${server} N=${n}${rounds > 1 ? ` round ${round + 1}` : ''}`, () => runTick(env, spec));
            if (!t) continue;
            if (rounds > 1) t.round = round;
            table.push(t);
            log(`  ${rounds > 1 ? `[${round + 1}/${rounds}] ` : ''}${server}: ${show(t)}`);
          }
        }
      }
    }
    if (want('sweep') && thread && py.python) {
      for (const n of settings.tableClients) {
        log(`\n[sweep] io: 'thread', notifyDelay ${settings.notifyDelays.join(', ')} ms, N=${n} mpgameserver clients, RETRY_ON_TIMEOUT`);
        for (const d of settings.notifyDelays) {
          const t = await attempt(`sweep notifyDelay ${d} N=${n}`, () => runTick(env, { ...tickBase, server: 'gamewire-thread', generator: 'mpgameserver-clients', clients: n, retry: 'RETRY_ON_TIMEOUT', notifyDelayMs: d }));
          if (!t) continue;
          sweep.push(t);
          log(`  notifyDelay ${d} ms: ${show(t)}`);
        }
      }
    }
    if (want('idle')) {
      // gamewire's bots, and mpgameserver's own clients where its venv is there.
      const idleGenerators = py.python && !quick ? (['gamewire-bots', 'mpgameserver-clients'] as const) : (['gamewire-bots'] as const);
      log(`\n[idle] server CPU with no clients, then with ${settings.idleClients} connected clients sending nothing (${idleGenerators.join(', ')}), ${settings.idleSeconds} s each`);
      for (const server of quick ? gamewireServers.slice(-1) : gamewireServers) {
        const r = await attempt(`idle ${server}`, () => runIdle(env, server, settings.idleClients, settings.idleSeconds, settings.botsPerProcess, settings.idleSettleSeconds, idleGenerators));
        if (!r) continue;
        idle.push(...r);
        for (const i of r) log(`  ${server}, ${i.clients} clients${i.generator ? ` (${i.generator})` : ''}: ${(i.cpuCores * 100).toFixed(3)}% of a core, ${Math.round(i.datagramsInPerSec)} datagrams/s in, ${Math.round(i.datagramsOutPerSec)} out${i.wakeupsPerSec !== null ? `, ${i.wakeupsPerSec.toFixed(1)} wakeups/s, ${i.notificationsPerSec?.toFixed(1)} notifications/s` : ''}`);
      }
      // The floors of each kind's keep-alive traffic, loaded by bare sockets in the same pattern:
      // the Rust echo (the kernel's cost) and the node:dgram echo (what the node:dgram servers'
      // path costs before any protocol).
      for (const generator of idleGenerators) {
        const ka = idle.find((i) => i.generator === generator && i.clients > 0 && i.connected > 0 && i.bytesPerDatagramIn);
        if (!ka) continue;
        const pattern = { datagramsPerClientPerSec: ka.datagramsInPerSec / ka.connected, bytes: Math.round(ka.bytesPerDatagramIn!) };
        for (const floor of servers.filter(isFloor)) {
          const t = await attempt(`idle floor ${floor} (${generator})`, () => runTick(env, { ...tickBase, windowSeconds: settings.idleSeconds, server: floor, generator: 'raw-sockets', clients: ka.connected, pattern }));
          if (!t) continue;
          idle.push({ server: floor, clients: t.clients, generator, windowSeconds: t.windowSeconds, cpuCores: t.serverCpuCores, wakeupsPerSec: null, notificationsPerSec: null, datagramsInPerSec: t.datagramsInPerSec, datagramsOutPerSec: t.datagramsOutPerSec, bytesPerDatagramIn: pattern.bytes, connected: t.connected });
          log(`  ${floor} floor (${generator}'s pattern), ${t.clients} bare sockets × ${pattern.datagramsPerClientPerSec.toFixed(1)} datagrams/s of ${pattern.bytes} B: ${(t.serverCpuCores * 100).toFixed(3)}% of a core`);
        }
      }
    }
    if (want('syscalls') && !quick) {
      const n = settings.tableClients[0];
      const generator = py.python ? 'mpgameserver-clients' as const : 'gamewire-bots' as const;
      for (const server of onlyServers ? gamewireServers : thread ? (['gamewire-thread'] as const) : []) {
        log(`\n[syscalls] strace -c -f of ${server} under N=${n} ${generator}, ${settings.straceSeconds} s`);
        const r = await attempt(`syscalls ${server}`, () => runStrace(env, { ...tickBase, windowSeconds: settings.straceSeconds, server, generator, clients: n, retry: 'RETRY_ON_TIMEOUT' }));
        if (r) {
          syscalls.push(r);
          log(r.error ? `  ${r.error}` : `  ${Math.round(r.messages)} messages: ${r.calls.slice(0, 8).map((c) => `${c.name} ${c.calls}`).join(', ')}`);
        }
      }
    }
    if (want('flood-hello')) {
      const secs = settings.helloFloodSeconds;
      const specs: Omit<HelloFloodSpec, 'server'>[] = quick
        ? [{ scenario: 'many-sources', established: 5, seconds: secs, perSec: 500, sources: 20, lateClients: 0 }]
        : [
          { scenario: 'many-sources', established: 20, seconds: secs, perSec: 4000, sources: 400, lateClients: 0 },
          { scenario: 'one-source', established: 20, seconds: secs, perSec: 4000, sources: 50, lateClients: 6 },
          { scenario: 'many-addresses', established: 20, seconds: secs, perSec: 2500, sources: 3000, lateClients: 0 },
        ];
      const floodServers: ServerImpl[] = quick ? gamewireServers.slice(0, 1) : [...(thread ? (['gamewire-thread'] as const) : []), 'gamewire-native', ...(wasm ? (['gamewire-wasm'] as const) : [])];
      for (const sp of specs) {
        log(`\n[flood-hello] ${sp.scenario}: ${sp.perSec * sp.seconds} CLIENT_HELLOs in ${sp.seconds} s from ${sp.scenario === 'many-addresses' ? `${sp.sources} addresses` : `${sp.sources} sockets`}, ${sp.established} established clients${sp.lateClients ? `, ${sp.lateClients} connecting` : ''}`);
        for (const server of floodServers) {
          const r = await attempt(`flood-hello ${sp.scenario} ${server}`, () => runHelloFlood(env, { ...sp, server }));
          if (!r) continue;
          helloFlood.push(r);
          log(`  ${server}: established p50 ${r.established.rttP50Ms?.toFixed(1) ?? '—'} ms p99 ${r.established.rttP99Ms?.toFixed(1) ?? '—'} ms (loss ${(r.established.loss * 100).toFixed(2)}%), RSS +${r.rssGrowthMiB.toFixed(1)} MiB, handshakes ${r.handshakes.started} started ${r.handshakes.completed} completed ${r.handshakes.failed} failed ${r.handshakes.rateLimited} refused (queue)${r.late ? `, late clients ${r.late.connected}/${r.late.clients} in ${(r.late.ms / 1000).toFixed(2)} s` : ''}, server ${(r.serverCpuCores * 100).toFixed(0)}% CPU; ${r.notes.join('; ')}`);
        }
      }
    }
    if (want('capacity')) {
      const capBase = { windowSeconds: settings.capacityWindowSeconds, warmupSeconds: settings.warmupSeconds, drainSeconds: settings.drainSeconds, botsPerProcess: settings.botsPerProcess, pythonBotsPerProcess: settings.pythonBotsPerProcess };
      const capServers: ServerImpl[] = quick ? gamewireServers.slice(0, 1) : [...(thread ? (['gamewire-thread', 'gamewire-thread-2'] as const) : []), 'gamewire-native'];
      for (const server of capServers) {
        log(`\n[capacity] ${server} with gamewire bots: p99 < 50 ms, no loss, 60 Hz`);
        const c = await attempt(`capacity ${server}`, () => runCapacity(env, { server, generator: 'gamewire-bots', rateHz: settings.rateHz, maxP99Ms: 50, maxProbes: quick ? 1 : 5, resolution: 0.1, maxClients: 4000, tick: capBase }, tick));
        if (c) {
          capacity.push(c);
          log(`  capacity ${c.capacity ?? 'none'} (first failing ${c.firstFailing ?? '—'})`);
        }
      }
      if (py.python && !quick) {
        // mpgameserver's own round trip is above 50 ms even unloaded (it sends every other tick on both
        // sides): its search uses 100 ms, and the table says so.
        log('\n[capacity] mpgameserver with its own clients: p99 < 100 ms, no loss, 60 Hz');
        const p = await attempt('capacity mpgameserver', () => runCapacity(env, { server: 'mpgameserver', generator: 'mpgameserver-clients', rateHz: settings.rateHz, maxP99Ms: 100, maxProbes: 4, resolution: 0.15, maxClients: settings.mpgameserverMaxClients, tick: { ...capBase, retry: 'RETRY_ON_TIMEOUT' } }, table));
        if (p) {
          const strict = table.filter((t) => t.server === 'mpgameserver' && t.generator === 'mpgameserver-clients').sort((a, b) => a.clients - b.clients)[0];
          if (strict && (strict.rttP99Ms ?? 0) >= 50) p.notes.push(`with the 50 ms bound it holds no N: its p99 was already ${strict.rttP99Ms?.toFixed(0)} ms at N=${strict.clients}`);
          capacity.push(p);
          log(`  capacity ${p.capacity ?? 'none'} (first failing ${p.firstFailing ?? '—'})`);
        }
      }
    }
  } finally {
    cleanup();
  }

  finishMachineInfo(machine);
  const results: LoadResults = {
    schema: LOAD_SCHEMA,
    mode,
    startedAt,
    finishedAt: new Date().toISOString(),
    durationSeconds: (Date.now() - t0) / 1000,
    machine,
    settings,
    implementations,
    raw,
    flood,
    tick,
    table,
    sweep,
    idle,
    syscalls,
    helloFlood,
    capacity,
    gso,
    targets: quick
      ? evaluateLoadTargets({ tick, table, idle, helloFlood, flood, raw, capacity }).map((t) => ({ ...t, status: 'not measured' as const, detail: `quick (CI smoke) run, not a measurement: ${t.detail}` }))
      : evaluateLoadTargets({ tick, table, idle, helloFlood, flood, raw, capacity }),
    failures,
  };
  log(loadConsoleReport(results));
  log(`\nload average (1 min) at the end: ${machine.loadAverage.end.toFixed(2)}`);
  if (!values['no-write']) for (const p of writeLoadResults(results)) log(`wrote ${p}`);
  if (mode === 'full' && !values['no-write'] && !values['no-docs']) {
    try {
      log(`wrote ${writeDocs(readResults(), undefined, 'bench/results/latest.json')}`);
    } catch (err) {
      log(`docs not regenerated: ${(err as Error).message}`);
    }
  }
  log(`done in ${results.durationSeconds.toFixed(1)} s`);
  return failures.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(2);
  },
);
