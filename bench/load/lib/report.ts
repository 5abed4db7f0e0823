/** The load results as console tables and as the load section of `docs/benchmarks.md`. */
import { describeMachine } from '../../lib/machine.js';
import { mdTable } from '../../lib/markdown.js';
import type { CapacityResult, FloodRun, LoadResults, LoadTargetResult, TickRun } from './results.js';
import { SERVER_LABEL } from './results.js';

const int = (x: number): string => Math.round(x).toLocaleString('en-US');
const fx = (x: number | null | undefined, d = 1): string => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));
const pct = (x: number | null | undefined, d = 0): string => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(d)}%`);
const lossText = (x: number): string => (x === 0 ? '0' : x < 0.0001 ? `${(x * 100).toFixed(4)}%` : `${(x * 100).toFixed(2)}%`);
const GEN_LABEL: Record<TickRun['generator'], string> = { 'gamewire-bots': 'gamewire bots', 'mpgameserver-clients': 'mpgameserver clients', 'raw-sockets': 'bare node:dgram sockets' };

function tickRows(tick: readonly TickRun[]): string[][] {
  return [...tick]
    .sort((a, b) => a.clients - b.clients)
    .map((t) => [
      String(t.clients),
      SERVER_LABEL[t.server],
      `${GEN_LABEL[t.generator]} (${t.generatorStats.processes} proc, ${pct(t.generatorStats.cpuCores)} CPU)`,
      `${t.connected}`,
      pct(t.serverCpuCores),
      fx(t.serverCpuUsPerDatagram),
      fx(t.serverCpuUsPerMessage),
      int(t.datagramsInPerSec),
      int(t.datagramsOutPerSec),
      int(t.deliveredPerSec),
      fx(t.rttP50Ms),
      fx(t.rttP99Ms),
      lossText(t.loss),
      pct(t.machineBusy),
      t.notes.join('; '),
    ]);
}
const TICK_HEAD = ['N', 'server', 'clients (load generator)', 'connected', 'server CPU', 'µs/datagram', 'µs/message', 'datagrams in/s', 'out/s', 'delivered msg/s', 'RTT p50 ms', 'p99 ms', 'loss', 'machine busy', 'notes'];
const TICK_ALIGN: ('l' | 'r')[] = ['r', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'];

/** "mpgameserver / gamewire" CPU-per-datagram ratios at each N where both ran. */
function ratioLines(tick: readonly TickRun[]): string[] {
  const out: string[] = [];
  const ns = [...new Set(tick.map((t) => t.clients))].sort((a, b) => a - b);
  for (const n of ns) {
    const py = tick.find((t) => t.clients === n && t.server === 'mpgameserver' && t.generator === 'mpgameserver-clients');
    if (!py?.serverCpuUsPerDatagram) continue;
    const parts: string[] = [];
    for (const s of ['gamewire-native', 'gamewire-wasm', 'gamewire-thread'] as const) {
      const g = tick.find((t) => t.clients === n && t.server === s && t.generator === 'gamewire-bots');
      if (g?.serverCpuUsPerDatagram) {
        parts.push(`${SERVER_LABEL[s]} ${fx(py.serverCpuUsPerDatagram / g.serverCpuUsPerDatagram)}× less CPU per datagram, ${fx(py.serverCpuUsPerMessage! / g.serverCpuUsPerMessage!)}× per message`);
      }
    }
    if (parts.length) out.push(`N=${n}: ${parts.join('; ')} than mpgameserver`);
  }
  for (const n of ns) {
    const floor = tick.find((t) => t.clients === n && t.server === 'node-dgram-echo');
    if (!floor?.serverCpuUsPerDatagram) continue;
    const parts: string[] = [];
    for (const s of ['gamewire-native', 'gamewire-wasm', 'gamewire-thread', 'mpgameserver'] as const) {
      const g = tick.find((t) => t.clients === n && t.server === s && t.generator !== 'raw-sockets');
      if (g?.serverCpuUsPerDatagram) parts.push(`${SERVER_LABEL[s]} ${fx(g.serverCpuUsPerDatagram)} µs (${fx(g.serverCpuUsPerDatagram / floor.serverCpuUsPerDatagram)}× the floor)`);
    }
    if (parts.length) out.push(`N=${n}: a bare node:dgram echo server (no protocol, same datagram pattern) spends ${fx(floor.serverCpuUsPerDatagram)} µs of CPU per datagram; ${parts.join(', ')}`);
  }
  return out;
}

function floodRows(flood: readonly FloodRun[], rawRate: number | null): string[][] {
  return flood.map((f) => [
    f.mode === 'coalesce' ? 'coalescing (many messages per turn)' : 'one message per datagram',
    f.backend,
    int(f.datagramsPerSec),
    int(f.messagesPerSec),
    fx(f.messagesPerDatagram),
    rawRate ? pct(f.datagramsPerSec / rawRate) : '—',
    int(f.senderDatagramsPerSec),
    pct(f.datagramLoss, 1),
    pct(f.senderCpuCores),
    pct(f.receiverCpuCores),
    [f.nonceBound ? 'sender at the 65535 packets/s nonce budget' : '', f.queueFullEvents ? `sender queue full ${f.queueFullEvents}×` : ''].filter(Boolean).join('; '),
  ]);
}
const FLOOD_HEAD = ['mode', 'backend', 'datagrams/s (received)', 'messages/s', 'messages/datagram', 'vs node:dgram', 'datagrams/s sent', 'datagram loss', 'sender CPU', 'receiver CPU', 'notes'];

function capacityRows(cap: readonly CapacityResult[]): string[][] {
  return cap.map((c) => [
    SERVER_LABEL[c.server],
    GEN_LABEL[c.generator],
    `p99 < ${c.maxP99Ms} ms, no loss, ${c.rateHz} Hz`,
    c.capacity === null ? 'none' : String(c.capacity),
    c.firstFailing === null ? '—' : String(c.firstFailing),
    c.probes.map((p) => `${p.clients}: ${p.pass ? 'pass' : p.inconclusive ? 'inconclusive' : 'fail'} (p99 ${fx(p.rttP99Ms)} ms, loss ${lossText(p.loss)}, server ${pct(p.serverCpuCores)})`).join('; '),
  ]);
}
const CAP_HEAD = ['server', 'clients', 'criterion', 'capacity', 'first failing N', 'runs (N: result)'];

function pad(rows: string[][], right: boolean[]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd());
}

/** Plain-text tables for the end of a run. */
export function loadConsoleReport(r: LoadResults): string {
  const lines: string[] = [];
  if (r.raw) {
    lines.push('', `Raw node:dgram (${r.raw.datagramBytes} B, one sender process, one receiver process): sent ${int(r.raw.sentPerSec)}/s, received ${int(r.raw.receivedPerSec)}/s (${pct(r.raw.loss)} lost at the receiver); sender ${pct(r.raw.senderCpuCores)} CPU, receiver ${pct(r.raw.receiverCpuCores)}`);
  }
  if (r.flood.length) {
    lines.push('', 'Flood (one gamewire connection, pacing lifted, 32-byte messages, RetryMode NONE):');
    lines.push(...pad([FLOOD_HEAD, ...floodRows(r.flood, r.raw?.receivedPerSec ?? null)], FLOOD_HEAD.map((_, i) => i >= 2 && i < 10)).map((l) => `  ${l}`));
  }
  if (r.tick.length) {
    lines.push('', `Game tick (N clients × ${r.settings.rateHz} messages/s of 32 B each way, echoed, encrypted):`);
    lines.push(...pad([TICK_HEAD, ...tickRows(r.tick)], TICK_ALIGN.map((a) => a === 'r')).map((l) => `  ${l}`));
    for (const l of ratioLines(r.tick)) lines.push(`  ${l}`);
  }
  if (r.capacity.length) {
    lines.push('', 'Capacity:');
    for (const c of capacityRows(r.capacity)) lines.push(`  ${c[0]} with ${c[1]} (${c[2]}): ${c[3]} (first failing ${c[4]}); ${c[5]}`);
  }
  lines.push('', 'Load targets:');
  for (const t of r.targets) lines.push(`  [${t.status}] ${t.description}: ${t.valueText} (${t.detail})`);
  if (r.failures.length) lines.push('', 'Failures:', ...r.failures.map((f) => `  ${f}`));
  return lines.join('\n');
}

const MARK: Record<LoadTargetResult['status'], string> = { achieved: '✅ achieved', missed: '❌ missed', 'not measured': '— not measured' };

/** The load section of `docs/benchmarks.md` (null: no load run yet). */
export function loadMarkdownSection(r: LoadResults | null, source = 'bench/results/load-latest.json'): string {
  if (!r) {
    return ['## Load benchmarks (end to end)', '', 'Not measured yet: run `npm run bench:load` (see `bench/load/README.md`).', ''].join('\n');
  }
  const m = r.machine;
  const s = r.settings;
  const out: string[] = [
    '## Load benchmarks (end to end)',
    '',
    `<!-- From ${source} (\`npm run bench:load\`); regenerated with the rest of this page. -->`,
    '',
    `Run: ${r.startedAt} (${r.mode} mode, ${r.durationSeconds.toFixed(0)} s), over real loopback UDP, every server and every load generator ` +
      'in its own process. gamewire servers are `UdpServer` with an echo `EventHandler`; their load comes from gamewire bots ' +
      '(`bench/load/pool.ts`: one engine and one socket per bot, a few hundred bots per process). mpgameserver 0.2.4 (from PyPI) runs ' +
      'its own `TwistedServer` with an echo handler, loaded by its own `UdpClient`s (`bench/load/python/`). Server CPU is the server ' +
      'process\'s user + system time over the window (`process.cpuUsage()` for gamewire, `/proc/<pid>/stat` for Python), divided ' +
      'by the datagrams it received and sent. Quote ratios from one run: the machine is shared.',
    '',
    `Machine: ${describeMachine(m)}. Load average (1 min): ${m.loadAverage.start.toFixed(2)} at the start, ${m.loadAverage.end.toFixed(2)} at the end.`,
    '',
    '### Load targets',
    '',
    mdTable(['target', 'measured', 'status', 'detail'], r.targets.map((t) => [t.description, t.valueText, MARK[t.status], t.detail]), ['l', 'r', 'l', 'l']),
    '',
    '### Game tick',
    '',
    `N clients, each sending one 32-byte message ${s.rateHz} times a second (RetryMode NONE: loss shows as loss; every packet is still ` +
      'encrypted and acknowledged by the protocol\'s ack fields); the server sends each message back to its sender. ' +
      `${s.warmupSeconds} s of warm-up, then a ${s.windowSeconds} s window; round trips are those of the messages sent in the window, ` +
      `echoes counted until ${s.drainSeconds} s after it (later ones count as lost). Both gamewire and mpgameserver pace each ` +
      'connection at one packet per 1/60 s; mpgameserver\'s strict `> 1/60 s` gate and its once-per-tick send make it about 30 ' +
      'datagrams/s per connection and direction, each carrying two messages, hence "µs/message" beside "µs/datagram". ' +
      `mpgameserver's own clients run up to N = ${s.mpgameserverMaxClients} (${s.pythonBotsPerProcess} per process); beyond that ` +
      'the Python clients alone would need more CPUs than the machine has.',
    '',
    mdTable(TICK_HEAD, tickRows(r.tick), TICK_ALIGN),
    '',
    ...ratioLines(r.tick).map((l) => `- ${l}`),
    '',
    '### Capacity',
    '',
    'The largest N at 60 Hz that one server process holds with a p99 round trip under the bound and no loss, found by bisecting ' +
      `between the game-tick runs (windows of ${s.capacityWindowSeconds} s for the probes). The load generator shares the machine's CPUs ` +
      'with the server; a run where it fell behind its schedule fails and says so.',
    '',
    r.capacity.length ? mdTable(CAP_HEAD, capacityRows(r.capacity), ['l', 'l', 'l', 'r', 'r', 'l']) : 'Not measured in this run.',
    ...r.capacity.flatMap((c) => c.notes.map((n) => `\n- ${SERVER_LABEL[c.server]}: ${n}`)),
    '',
    '### Flood',
    '',
    'One gamewire client and one gamewire server (separate processes), pacing lifted on both (`net: { sendInterval: 0 }`), the ' +
      'client sending 32-byte messages as fast as the connection takes them; the server only counts. Beside it, the raw node:dgram ' +
      'rate of the same run: one process sending 32-byte datagrams on a connected socket as fast as it can, another counting them.',
    '',
    r.raw
      ? `Raw node:dgram: sent ${int(r.raw.sentPerSec)}/s, received ${int(r.raw.receivedPerSec)}/s (${pct(r.raw.loss)} lost at the receiver); sender ${pct(r.raw.senderCpuCores)} of a core, receiver ${pct(r.raw.receiverCpuCores)}.`
      : 'Raw node:dgram: not measured in this run.',
    '',
    r.flood.length ? mdTable(FLOOD_HEAD, floodRows(r.flood, r.raw?.receivedPerSec ?? null), ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l']) : 'Not measured in this run.',
    '',
    'Where the time goes, what limits each number and what was fixed: [`bench/load/README.md`](../bench/load/README.md#findings).',
    ...(r.failures.length ? ['', '**Failures in this run:**', '', ...r.failures.map((f) => `- ${f}`)] : []),
    '',
  ];
  return out.join('\n');
}
