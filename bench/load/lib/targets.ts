/**
 * The load targets of the benchmark issue, each a ratio (or count) from ONE run's results.
 */
import { judge } from '../scenarios.js';
import type { CapacityResult, FloodRun, HelloFloodRun, IdleRun, LoadTargetResult, RawRun, ServerImpl, TickRun } from './results.js';
import { idleClientsLabel, isFloor, roundRatios, SERVER_LABEL, tableRun, tableRuns } from './results.js';

const f1 = (x: number): string => x.toFixed(1);

/** "median of 3 rounds (2.6×, 3.1×, 2.9×)", or nothing for one round. */
function roundsText(r: { each: number[] }, unit: string, d = 1): string {
  return r.each.length > 1 ? `; median of ${r.each.length} rounds (${r.each.map((x) => `${x.toFixed(d)}${unit}`).join(', ')})` : '';
}

/** Every round's CPU per message of `server` at N: "18.8, 12.1, 13.0 µs". */
function roundValues(table: readonly TickRun[], server: ServerImpl, clients: number): string {
  return tableRuns(table, server, clients).map((t) => f1(t.serverCpuUsPerMessage ?? NaN)).join(', ');
}

function ratioTarget(table: readonly TickRun[], server: ServerImpl, clients: number, factor: number, id: string, label: string): LoadTargetResult {
  const description = `${clients} mpgameserver tick clients: ≥ ${factor}× less server CPU per echoed message than mpgameserver (${label})`;
  const gwRuns = tableRuns(table, server, clients);
  const pyRuns = tableRuns(table, 'mpgameserver', clients);
  const ratio = roundRatios(table, 'mpgameserver', server, clients);
  if (!gwRuns.length) return { id, description, value: null, valueText: '—', status: 'not measured', detail: `${server} with ${clients} mpgameserver clients was not run` };
  if (!pyRuns.length) return { id, description, value: null, valueText: '—', status: 'not measured', detail: `mpgameserver with ${clients} of its clients was not run` };
  if (!ratio) return { id, description, value: null, valueText: '—', status: 'not measured', detail: 'no round measured both servers' };
  const value = ratio.median;
  const rounds = gwRuns.length > 1 ? ' per round' : '';
  const detail = `${roundValues(table, server, clients)} µs vs mpgameserver ${roundValues(table, 'mpgameserver', clients)} µs of server CPU per echoed message${rounds}${roundsText(ratio, '×')}`;
  // A server that lost its clients' traffic did little work per message it got: its ratio says nothing.
  const broken = [...gwRuns, ...pyRuns].filter((t) => !healthy(t)).map((t) => `${SERVER_LABEL[t.server]}: ${t.connected}/${t.clients} connected, ${(t.loss * 100).toFixed(1)}% of the messages not echoed`);
  if (broken.length) return { id, description, value, valueText: `(${f1(value)}×)`, status: 'not measured', detail: `${detail}; not a valid comparison: ${broken.join('; ')}` };
  return { id, description, value, valueText: `${f1(value)}× less`, status: value >= factor ? 'achieved' : 'missed', detail };
}

/** A run in which the server kept up: nearly all clients connected and at most 1% of the messages not echoed. */
export function healthy(t: TickRun): boolean {
  return t.connected >= 0.98 * t.clients && t.loss <= 0.01;
}

function floorTarget(table: readonly TickRun[], clients: number): LoadTargetResult {
  const id = 'floor-thread';
  const description = `${clients} mpgameserver tick clients: native (io: 'thread') server CPU per echoed message within 1.5× of the bare Rust echo's per datagram pair`;
  const ratio = roundRatios(table, 'gamewire-thread', 'rust-echo', clients);
  if (!ratio) {
    const gw = tableRuns(table, 'gamewire-thread', clients).length > 0;
    return { id, description, value: null, valueText: '—', status: 'not measured', detail: !gw ? "io: 'thread' was not run" : 'the Rust floor was not run' };
  }
  const value = ratio.median;
  const rounds = ratio.each.length > 1 ? ' per round' : '';
  return {
    id,
    description,
    value,
    valueText: `${value.toFixed(2)}× the floor`,
    status: value <= 1.5 ? 'achieved' : 'missed',
    detail: `${roundValues(table, 'gamewire-thread', clients)} µs per message vs ${roundValues(table, 'rust-echo', clients)} µs per datagram pair (floor)${rounds}${roundsText(ratio, '×', 2)}`,
  };
}

function idleTarget(idle: readonly IdleRun[], clients: number, limit: number): LoadTargetResult {
  const id = clients === 0 ? 'idle-none' : 'idle-clients';
  const description = clients === 0 ? `idle server, no clients: ≤ ${limit * 100}% of a core, every gamewire server kind` : `${clients} connected clients sending nothing (keep-alives only): ≤ ${limit * 100}% of a core, every gamewire server kind`;
  const runs = idle.filter((i) => !isFloor(i.server) && (clients === 0 ? i.clients === 0 : i.clients > 0));
  const kind = (i: IdleRun) => (i.clients > 0 ? ` (${idleClientsLabel(i)})` : '');
  const floors = idle.filter((i) => isFloor(i.server));
  const floorName = (i: IdleRun) => (i.server === 'rust-echo' ? 'Rust echo' : 'node:dgram echo');
  const floorText = clients > 0 && floors.length ? `; the floors under the same keep-alive datagrams: ${floors.map((f) => `${floorName(f)} ${(f.cpuCores * 100).toFixed(2)}%${kind(f)}`).join(', ')}` : '';
  if (!runs.length) return { id, description, value: null, valueText: '—', status: 'not measured', detail: 'the idle scenario did not run' };
  const worst = runs.reduce((a, b) => (b.cpuCores > a.cpuCores ? b : a));
  return {
    id,
    description,
    value: worst.cpuCores,
    valueText: `${(worst.cpuCores * 100).toFixed(2)}% (worst)`,
    status: runs.every((r) => r.cpuCores <= limit) ? 'achieved' : 'missed',
    detail: runs.map((r) => `${SERVER_LABEL[r.server]}${kind(r)} ${(r.cpuCores * 100).toFixed(2)}%`).join('; ') + floorText,
  };
}

/** The p99 round trips the targets must not exceed: the issue's figure at 100 mpgameserver clients, the previous committed run at 1000 gamewire bots. */
export const P99_BEFORE = { table100: 36, tick1000: 37 } as const;

function p99Target(table: readonly TickRun[], tick: readonly TickRun[]): LoadTargetResult {
  const id = 'p99-thread';
  const description = `p99 round trip no worse than before, native io: 'thread': ≤ ${P99_BEFORE.table100} ms at 100 mpgameserver clients, ≤ ${P99_BEFORE.tick1000} ms at 1000 gamewire bots`;
  // With several rounds of the table: the median of the rounds' p99s.
  const p99s = tableRuns(table, 'gamewire-thread', 100).flatMap((t) => (t.rttP99Ms == null ? [] : [t.rttP99Ms])).sort((x, y) => x - y);
  const a = p99s.length ? p99s[(p99s.length - 1) >> 1] : null;
  const b = tick.find((t) => t.server === 'gamewire-thread' && t.clients === 1000 && t.generator === 'gamewire-bots')?.rttP99Ms ?? null;
  if (a === null && b === null) return { id, description, value: null, valueText: '—', status: 'not measured', detail: 'neither run' };
  const ok = (a === null || a <= P99_BEFORE.table100) && (b === null || b <= P99_BEFORE.tick1000);
  return { id, description, value: a ?? b, valueText: `${a === null ? '—' : f1(a)} / ${b === null ? '—' : f1(b)} ms`, status: a !== null && b !== null ? (ok ? 'achieved' : 'missed') : ok ? 'not measured' : 'missed', detail: `100 mpgameserver clients: ${a === null ? 'not run' : `${f1(a)} ms`}; 1000 gamewire bots: ${b === null ? 'not run' : `${f1(b)} ms`}` };
}

function threadsTarget(capacity: readonly CapacityResult[]): LoadTargetResult {
  const id = 'threads-2';
  const description = "threads: 2 holds more clients at 60 Hz (p99 < 50 ms, no loss) than threads: 1";
  const one = capacity.find((c) => c.server === 'gamewire-thread');
  const two = capacity.find((c) => c.server === 'gamewire-thread-2');
  if (!one || !two) return { id, description, value: null, valueText: '—', status: 'not measured', detail: 'the capacity searches of threads 1 and 2 did not both run' };
  const v1 = one.capacity ?? 0;
  const v2 = two.capacity ?? 0;
  return { id, description, value: v2, valueText: `${v2} vs ${v1}`, status: v2 > v1 ? 'achieved' : 'missed', detail: `threads: 1 ${v1} (first failing ${one.firstFailing ?? '—'}); threads: 2 ${v2} (first failing ${two.firstFailing ?? '—'})` };
}

function helloTarget(runs: readonly HelloFloodRun[]): LoadTargetResult {
  const id = 'flood-hello';
  const description = 'CLIENT_HELLO floods: established clients\' p99 < 250 ms and server RSS growth < 100 MiB, every backend and scenario';
  if (!runs.length) return { id, description, value: null, valueText: '—', status: 'not measured', detail: 'the hello flood did not run' };
  const p99 = Math.max(...runs.map((r) => r.established.rttP99Ms ?? Infinity));
  const rss = Math.max(...runs.map((r) => r.rssGrowthMiB));
  return {
    id,
    description,
    value: p99,
    valueText: `p99 ≤ ${f1(p99)} ms, RSS ≤ +${f1(rss)} MiB`,
    status: p99 < 250 && rss < 100 ? 'achieved' : 'missed',
    detail: runs.map((r) => `${r.scenario} ${SERVER_LABEL[r.server]}: p99 ${f1(r.established.rttP99Ms ?? NaN)} ms, +${f1(r.rssGrowthMiB)} MiB`).join('; '),
  };
}

/**
 * ≥ 1000 clients at 60 Hz on `io: 'thread'`: the largest N among the game-tick runs of that server
 * that meets the capacity criterion (p99 < 50 ms, no loss, the generator on schedule).
 */
function threadClientsTarget(tick: readonly TickRun[]): LoadTargetResult {
  const id = 'clients-thread';
  const description = "game tick at 60 Hz with p99 round trip < 50 ms and no loss: ≥ 1000 clients, native, io: 'thread'";
  const runs = tick.filter((t) => t.server === 'gamewire-thread' && t.generator === 'gamewire-bots').sort((a, b) => a.clients - b.clients);
  if (runs.length === 0) return { id, description, value: null, valueText: '—', status: 'not measured', detail: "no game-tick run of io: 'thread'" };
  const judged = runs.map((t) => ({ t, p: judge(t, 50) }));
  const passing = judged.filter((j) => j.p.pass);
  const best = passing.length ? passing[passing.length - 1] : undefined;
  const value = best?.t.clients ?? 0;
  const detail = judged.map((j) => `${j.t.clients}: ${j.p.pass ? `pass (p99 ${f1(j.p.rttP99Ms ?? 0)} ms)` : `fail (${j.p.reason})`}`).join('; ');
  return { id, description, value, valueText: `${value} clients`, status: value >= 1000 ? 'achieved' : 'missed', detail };
}

/** Evaluates every load target. */
export function evaluateLoadTargets(r: {
  tick: readonly TickRun[];
  table: readonly TickRun[];
  idle: readonly IdleRun[];
  helloFlood: readonly HelloFloodRun[];
  flood: readonly FloodRun[];
  raw: RawRun | null;
  capacity: readonly CapacityResult[];
}): LoadTargetResult[] {
  const out: LoadTargetResult[] = [
    ratioTarget(r.table, 'gamewire-thread', 100, 8, 'ratio-thread-100', "native, io: 'thread'"),
    floorTarget(r.table, 100),
    ratioTarget(r.table, 'gamewire-thread', 500, 10, 'ratio-thread-500', "native, io: 'thread'"),
    ratioTarget(r.table, 'gamewire-wasm', 100, 2.5, 'ratio-wasm-100', 'WASM, node:dgram'),
    idleTarget(r.idle, 0, 0.002),
    idleTarget(r.idle, 100, 0.01),
    p99Target(r.table, r.tick),
    threadsTarget(r.capacity),
    helloTarget(r.helloFlood),
    threadClientsTarget(r.tick),
  ];

  const capDesc = 'capacity of one server process at 60 Hz (p99 round trip < 50 ms, no loss): ≥ 500 clients, native over node:dgram';
  const cap = r.capacity.find((c) => c.server === 'gamewire-native');
  const py = r.capacity.find((c) => c.server === 'mpgameserver');
  const pyText = py ? `; mpgameserver (its own clients, p99 < ${py.maxP99Ms} ms): ${py.capacity ?? 'none'}` : '';
  if (!cap) {
    out.push({ id: 'capacity-native', description: capDesc, value: null, valueText: '—', status: 'not measured', detail: 'the capacity search did not run' });
  } else {
    const value = cap.capacity ?? 0;
    out.push({
      id: 'capacity-native',
      description: capDesc,
      value,
      valueText: `${value} clients`,
      status: value >= 500 ? 'achieved' : 'missed',
      detail: `largest passing N ${cap.capacity ?? 'none'}, smallest failing N ${cap.firstFailing ?? 'none up to the cap'}${pyText}`,
    });
  }

  const dgDesc = 'flood: gamewire-to-gamewire datagram rate ≥ 50% of the raw node:dgram rate of the same run';
  const best = [...r.flood].sort((a, b) => b.datagramsPerSec - a.datagramsPerSec)[0];
  if (!best || !r.raw || r.raw.receivedPerSec <= 0) {
    out.push({ id: 'flood-datagrams', description: dgDesc, value: null, valueText: '—', status: 'not measured', detail: !r.raw ? 'the raw node:dgram reference was not run' : 'no flood ran' });
  } else {
    const value = best.datagramsPerSec / r.raw.receivedPerSec;
    out.push({
      id: 'flood-datagrams',
      description: dgDesc,
      value,
      valueText: `${(value * 100).toFixed(0)}%`,
      status: value >= 0.5 ? 'achieved' : 'missed',
      detail: `${Math.round(best.datagramsPerSec).toLocaleString('en-US')} datagrams/s received (${best.mode} mode${best.nonceBound ? ', sender at the 65535 packets/s nonce budget' : ''}) vs node:dgram ${Math.round(r.raw.receivedPerSec).toLocaleString('en-US')}/s received`,
    });
  }

  const msgDesc = 'flood: ≥ 1M messages/s of 32 B with coalescing';
  const co = r.flood.find((f) => f.mode === 'coalesce' && f.backend === 'native') ?? r.flood.find((f) => f.mode === 'coalesce');
  if (!co) {
    out.push({ id: 'flood-messages', description: msgDesc, value: null, valueText: '—', status: 'not measured', detail: 'the coalescing flood did not run' });
  } else {
    out.push({
      id: 'flood-messages',
      description: msgDesc,
      value: co.messagesPerSec,
      valueText: `${(co.messagesPerSec / 1e6).toFixed(2)}M/s`,
      status: co.messagesPerSec >= 1e6 ? 'achieved' : 'missed',
      detail: `${co.backend}: ${Math.round(co.messagesPerSec).toLocaleString('en-US')} messages/s delivered in ${Math.round(co.datagramsPerSec).toLocaleString('en-US')} datagrams/s (${co.messagesPerDatagram.toFixed(1)} per datagram)`,
    });
  }
  return out;
}
