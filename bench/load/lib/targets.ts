/**
 * The load targets of the benchmark issue, each a ratio (or count) from ONE run's results.
 */
import { judge } from '../scenarios.js';
import type { CapacityResult, FloodRun, LoadTargetResult, RawRun, ServerImpl, TickRun } from './results.js';

/** The tick run the targets compare at N = 100: each server with its natural clients. */
export function referenceRun(tick: readonly TickRun[], server: ServerImpl, clients = 100): TickRun | undefined {
  const generator = server === 'mpgameserver' ? 'mpgameserver-clients' : 'gamewire-bots';
  return tick.find((t) => t.server === server && t.generator === generator && t.clients === clients);
}

const f1 = (x: number): string => x.toFixed(1);

function cpuTarget(tick: readonly TickRun[], server: ServerImpl, factor: number, id: string, label: string): LoadTargetResult {
  const description = `game tick, 100 clients: server CPU per datagram ≤ 1/${factor} of mpgameserver's (${label})`;
  const gw = referenceRun(tick, server);
  const py = referenceRun(tick, 'mpgameserver');
  const notMeasured = (detail: string): LoadTargetResult => ({ id, description, value: null, valueText: '—', status: 'not measured', detail });
  if (!gw || gw.serverCpuUsPerDatagram === null) return notMeasured(`${server} with 100 clients was not run`);
  if (!py || py.serverCpuUsPerDatagram === null) return notMeasured('mpgameserver with 100 of its own clients was not run');
  const value = py.serverCpuUsPerDatagram / gw.serverCpuUsPerDatagram;
  return {
    id,
    description,
    value,
    valueText: `${f1(value)}× less`,
    status: value >= factor ? 'achieved' : 'missed',
    detail: `${server} ${f1(gw.serverCpuUsPerDatagram)} µs vs mpgameserver ${f1(py.serverCpuUsPerDatagram)} µs of server CPU per datagram (received + sent)`,
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
export function evaluateLoadTargets(r: { tick: readonly TickRun[]; flood: readonly FloodRun[]; raw: RawRun | null; capacity: readonly CapacityResult[] }): LoadTargetResult[] {
  const out: LoadTargetResult[] = [
    cpuTarget(r.tick, 'gamewire-native', 10, 'tick-cpu-native', 'native over node:dgram'),
    cpuTarget(r.tick, 'gamewire-wasm', 5, 'tick-cpu-wasm', 'WASM over node:dgram'),
    cpuTarget(r.tick, 'gamewire-thread', 20, 'tick-cpu-thread', "native, io: 'thread' (Rust socket thread)"),
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
