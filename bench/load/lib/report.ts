/** The load results as console tables and as the load section of `docs/benchmarks.md`. */
import { describeMachine } from '../../lib/machine.js';
import { mdTable } from '../../lib/markdown.js';
import type { CapacityResult, FloodRun, GsoRun, HelloFloodRun, IdleRun, LoadResults, LoadTargetResult, ServerImpl, SyscallRun, TickRun } from './results.js';
import { gsoSummary, idleClientsLabel, isFloor, roundRatios, SERVER_LABEL, tableRun, tableRuns } from './results.js';

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

function gsoRows(runs: readonly GsoRun[]): string[][] {
  return [...runs].sort((a, b) => a.round - b.round || Number(b.gso) - Number(a.gso)).map((g) => [
    String(g.round + 1),
    g.gso ? 'on' : 'off (GAMEWIRE_UDP_GSO=0)',
    `${g.burst} × ${int(g.messageBytes)} B`,
    fx(g.serverCpuUsPerDatagram, 2),
    int(g.datagramsPerSec),
    g.datagramsPerSendMessage === null ? '—' : fx(g.datagramsPerSendMessage),
  ]);
}
const GSO_HEAD = ['round', 'UDP GSO', 'burst', 'server CPU µs/datagram sent', 'datagrams/s', 'datagrams per send message'];

/** The GSO scenario in one line: the medians and each round's off / on. */
function gsoLine(runs: readonly GsoRun[]): string {
  const s = gsoSummary(runs);
  if (!s) return 'GSO on and off did not both run.';
  return `Median: ${fx(s.on, 2)} µs of server CPU per datagram sent with GSO, ${fx(s.off, 2)} µs without (${fx(s.off / s.on, 2)}×); off / on round by round: ${s.each.map((x) => `${fx(x, 2)}×`).join(', ')}.`;
}

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

/**
 * The table of issue 11: per server and N, CPU per echoed message and its ratios to mpgameserver and
 * to the floor. With several rounds, a row is the server's median run and the ratios are the
 * medians of the rounds' own ratios (each round runs every server back to back).
 */
function tableRows(table: readonly TickRun[]): string[][] {
  const keys: { server: ServerImpl; clients: number }[] = [];
  for (const t of table) if (!keys.some((k) => k.server === t.server && k.clients === t.clients)) keys.push({ server: t.server, clients: t.clients });
  return keys
    .sort((a, b) => a.clients - b.clients)
    .map(({ server, clients }) => {
      const t = tableRun(table, server, clients)!;
      const runs = tableRuns(table, server, clients);
      const floorRun = server === 'rust-echo';
      const vsPy = floorRun ? null : roundRatios(table, 'mpgameserver', server, clients);
      const vsFloor = floorRun ? null : roundRatios(table, server, 'rust-echo', clients);
      const own = t.serverCpuUsPerMessage;
      return [
        String(clients),
        SERVER_LABEL[server],
        floorRun && t.pattern ? `bare sockets, ${t.pattern.datagramsPerClientPerSec.toFixed(1)} datagrams/s of ${t.pattern.bytes} B each` : `mpgameserver clients (${t.generatorStats.processes} proc, ${pct(t.generatorStats.cpuCores)} CPU)`,
        `${t.connected}`,
        pct(t.serverCpuCores, 1),
        floorRun ? `${fx(own, 2)} per pair` : fx(own, 2),
        runs.length > 1 ? runs.map((r) => fx(r.serverCpuUsPerMessage)).join(', ') : '—',
        server !== 'mpgameserver' && vsPy ? `${fx(vsPy.median)}×` : '—',
        vsFloor ? `${fx(vsFloor.median, 2)}×` : '—',
        int(t.datagramsInPerSec),
        int(t.datagramsOutPerSec),
        floorRun ? '—' : int(t.deliveredPerSec),
        floorRun ? '—' : fx(t.rttP50Ms),
        floorRun ? '—' : fx(t.rttP99Ms),
        floorRun ? '—' : lossText(t.loss),
        t.threadWakeupsPerSec != null ? `${int(t.threadWakeupsPerSec)} / ${int(t.threadNotificationsPerSec ?? 0)}` : '—',
        pct(t.machineBusy),
        t.notes.join('; '),
      ];
    });
}
const TABLE_HEAD = ['N', 'server', 'load', 'connected', 'server CPU', 'µs/message', 'each round µs/message', 'vs mpgameserver', 'vs floor', 'datagrams in/s', 'out/s', 'delivered msg/s', 'RTT p50 ms', 'p99 ms', 'failures (loss)', 'wakeups / notifications per s', 'machine busy', 'notes'];
const TABLE_ALIGN: ('l' | 'r')[] = ['r', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'];

function sweepRows(sweep: readonly TickRun[]): string[][] {
  return [...sweep]
    .sort((a, b) => a.clients - b.clients || (a.notifyDelayMs ?? 0) - (b.notifyDelayMs ?? 0))
    .map((t) => [String(t.clients), `${t.notifyDelayMs ?? 0}`, pct(t.serverCpuCores, 1), fx(t.serverCpuUsPerMessage, 2), fx(t.rttP50Ms), fx(t.rttP99Ms), lossText(t.loss), t.threadWakeupsPerSec != null ? int(t.threadWakeupsPerSec) : '—', t.threadNotificationsPerSec != null ? int(t.threadNotificationsPerSec) : '—', t.notes.join('; ')]);
}
const SWEEP_HEAD = ['N', 'notifyDelay ms', 'server CPU', 'µs/message', 'RTT p50 ms', 'p99 ms', 'loss', 'wakeups/s', 'notifications/s', 'notes'];

function idleRows(idle: readonly IdleRun[]): string[][] {
  return idle.map((i) => [SERVER_LABEL[i.server], isFloor(i.server) ? `${i.connected} bare sockets, the keep-alives' pattern of ${idleClientsLabel(i)} (${i.bytesPerDatagramIn ?? '?'} B)` : i.clients ? `${i.connected} ${idleClientsLabel(i)}, sending nothing` : 'none', fx(i.windowSeconds, 0), `${(i.cpuCores * 100).toFixed(3)}%`, int(i.datagramsInPerSec), int(i.datagramsOutPerSec), i.wakeupsPerSec === null ? '—' : fx(i.wakeupsPerSec), i.notificationsPerSec === null ? '—' : fx(i.notificationsPerSec)]);
}
const IDLE_HEAD = ['server', 'clients', 'window s', 'CPU (of a core)', 'datagrams in/s', 'out/s', 'wakeups/s', 'notifications/s'];

function syscallLines(runs: readonly SyscallRun[]): string[] {
  return runs.map((r) => {
    if (r.error) return `${SERVER_LABEL[r.server]}: not measured (${r.error})`;
    const per = (n: number): string => (r.messages > 0 ? (n / r.messages).toFixed(3) : '—');
    const head = `${SERVER_LABEL[r.server]}, ${r.clients} ${r.generator === 'mpgameserver-clients' ? 'mpgameserver clients' : 'gamewire bots'}, ${fx(r.seconds)} s under \`strace -c -f\`: ${int(r.messages)} messages, ${int(r.datagramsIn)} datagrams in, ${int(r.datagramsOut)} out`;
    return `${head}. Calls (per message): ${r.calls.map((c) => `${c.name} ${int(c.calls)} (${per(c.calls)})${c.errors ? ` [${int(c.errors)} errors]` : ''}`).join(', ')}`;
  });
}

function helloRows(runs: readonly HelloFloodRun[]): string[][] {
  return runs.map((r) => [
    r.scenario,
    SERVER_LABEL[r.server],
    `${int(r.flood.sent)} in ${fx(r.flood.seconds, 0)} s (${int(r.flood.perSec)}/s) from ${r.scenario === 'many-addresses' ? `${int(r.flood.addresses)} addresses` : `${int(r.flood.sockets)} ports of ${r.scenario === 'one-source' ? '127.0.0.2' : '127.0.0.1'}`}`,
    `${r.established.connected}/${r.established.clients}`,
    fx(r.established.rttP50Ms),
    fx(r.established.rttP99Ms),
    lossText(r.established.loss),
    r.late ? `${r.late.connected}/${r.late.clients} in ${fx(r.late.ms / 1000, 2)} s` : '—',
    `${fx(r.rssBeforeMiB, 0)} → ${fx(r.rssPeakMiB, 0)} (+${fx(r.rssGrowthMiB)})`,
    int(r.handshakes.started),
    int(r.handshakes.completed),
    int(r.handshakes.failed + r.handshakes.rateLimited),
    pct(r.serverCpuCores),
    r.notes.join('; '),
  ]);
}
const HELLO_HEAD = ['scenario', 'server', 'CLIENT_HELLOs', 'established', 'RTT p50 ms', 'p99 ms', 'loss', 'connecting from 127.0.0.1', 'RSS MiB (growth)', 'handshakes started', 'completed', 'dropped (queue full, failed)', 'server CPU', 'notes'];

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
  if (r.gso?.length) {
    lines.push('', "UDP GSO (io: 'thread', bursts to one client, pacing lifted):");
    lines.push(...pad([GSO_HEAD, ...gsoRows(r.gso)], GSO_HEAD.map((_, i) => i >= 3)).map((l) => `  ${l}`));
    lines.push(`  ${gsoLine(r.gso)}`);
  }
  if (r.tick.length) {
    lines.push('', `Game tick (N clients × ${r.settings.rateHz} messages/s of 32 B each way, echoed, encrypted):`);
    lines.push(...pad([TICK_HEAD, ...tickRows(r.tick)], TICK_ALIGN.map((a) => a === 'r')).map((l) => `  ${l}`));
    for (const l of ratioLines(r.tick)) lines.push(`  ${l}`);
  }
  if (r.table?.length) {
    lines.push('', `mpgameserver's clients, N × ${r.settings.rateHz} messages/s of 32 B, RETRY_ON_TIMEOUT both ways (the Rust floor: bare sockets, same datagram pattern):`);
    lines.push(...pad([TABLE_HEAD, ...tableRows(r.table)], TABLE_ALIGN.map((a) => a === 'r')).map((l) => `  ${l}`));
  }
  if (r.sweep?.length) {
    lines.push('', "notifyDelay sweep (io: 'thread', mpgameserver clients):");
    lines.push(...pad([SWEEP_HEAD, ...sweepRows(r.sweep)], SWEEP_HEAD.map((_, i) => i < 9)).map((l) => `  ${l}`));
  }
  if (r.idle?.length) {
    lines.push('', 'Idle:');
    lines.push(...pad([IDLE_HEAD, ...idleRows(r.idle)], IDLE_HEAD.map((_, i) => i >= 2)).map((l) => `  ${l}`));
  }
  if (r.syscalls?.length) lines.push('', 'System calls:', ...syscallLines(r.syscalls).map((l) => `  ${l}`));
  if (r.helloFlood?.length) {
    lines.push('', 'CLIENT_HELLO flood:');
    lines.push(...pad([HELLO_HEAD, ...helloRows(r.helloFlood)], HELLO_HEAD.map((_, i) => i >= 3 && i < 13)).map((l) => `  ${l}`));
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
      'in its own process. gamewire servers are `UdpServer` with an echo `EventHandler`. mpgameserver 0.2.4 (from PyPI) runs ' +
      'its own `TwistedServer` with an echo handler. The first table loads every server with mpgameserver\'s own `UdpClient`s ' +
      '(`bench/load/python/`); the game tick and capacity use gamewire bots (`bench/load/pool.ts`: one engine and one socket per ' +
      'bot, a few hundred bots per process). Server CPU is the server process\'s run time over the window, every thread ' +
      '(`process.cpuUsage()` for gamewire, the scheduler\'s `/proc/<pid>/task/*/schedstat` for Python and the Rust floor). ' +
      'Quote ratios from one run: the machine (2 CPUs) is shared with the load generators and with other people\'s work.',
    '',
    `Machine: ${describeMachine(m)}. Load average (1 min): ${m.loadAverage.start.toFixed(2)} at the start, ${m.loadAverage.end.toFixed(2)} at the end.`,
    '',
    '### Load targets',
    '',
    mdTable(['target', 'measured', 'status', 'detail'], r.targets.map((t) => [t.description, t.valueText, MARK[t.status], t.detail]), ['l', 'r', 'l', 'l']),
    '',
    '### mpgameserver\'s clients against every server, beside a bare Rust echo',
    '',
    `N of mpgameserver 0.2.4's own \`UdpClient\`s (its PyPI package, in its venv; ${s.pythonBotsPerProcess} per process, one \`update()\` per ` +
      `client per frame at ${s.rateHz} Hz), each queuing one 32-byte message per frame with RETRY_ON_TIMEOUT; every server echoes it with ` +
      'RETRY_ON_TIMEOUT (gamewire servers: `UdpServer` with an echo handler, the equivalent of `gamewire echo`). Server CPU from the ' +
      'process\'s own counters or `/proc` (every thread) over the window, divided by the messages its handler got (each echoed once). ' +
      'The floor: `bench/floor`, a Rust echo with no protocol (recvmmsg/sendmmsg, 64 per call), loaded by bare sockets sending the ' +
      'datagram pattern gamewire\'s server saw from mpgameserver\'s clients at that N (datagrams per client per second, mean size); ' +
      'its cost is per datagram pair (received and sent back). "failures" are messages not echoed by the end of the drain.' +
      ((s.tableRounds ?? 1) > 1
        ? ` At N=${Math.min(...s.tableClients)} the table ran in ${s.tableRounds} rounds, every server once per round (the order rotated, the floor last): ` +
          'a row is the server\'s median run, and a ratio is the median of the ratios within each round, whose runs were minutes apart at most. ' +
          '"each round" shows how far other work on the machine moved the figures.'
        : ''),
    '',
    r.table?.length ? mdTable(TABLE_HEAD, tableRows(r.table), TABLE_ALIGN) : 'Not measured in this run.',
    '',
    `#### notifyDelay (io: 'thread')`,
    '',
    'The same load on `io: \'thread\'` with each `notifyDelay` (how long a socket thread may hold back the event loop\'s wake-up after ' +
      'the first event of a batch).',
    '',
    r.sweep?.length ? mdTable(SWEEP_HEAD, sweepRows(r.sweep), ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l']) : 'Not measured in this run.',
    '',
    '#### System calls',
    '',
    ...(r.syscalls?.length ? syscallLines(r.syscalls).map((l) => `- ${l}`) : ['Not measured in this run.']),
    '',
    '### Idle',
    '',
    `Server CPU with no clients, then with ${s.idleClients} connected clients that send nothing (the protocol's keep-alives ` +
      `only): gamewire's own clients, whose keep-alives fall in step with the server's, and (where the run has mpgameserver's venv) mpgameserver 0.2.4's clients, ` +
      `which send one every 0.1 s whatever they receive. ${s.idleSeconds} s each after a ${s.idleSettleSeconds ?? 2} s settle (V8 compiles and collects in the background for several seconds after start-up). ` +
      `The floors: the Rust echo and the node:dgram echo, with no protocol, answering bare sockets that send in each kind of client's keep-alive pattern (what the kernel, and node:dgram, cost for that traffic).`,
    '',
    r.idle?.length ? mdTable(IDLE_HEAD, idleRows(r.idle), ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r']) : 'Not measured in this run.',
    '',
    '### CLIENT_HELLO flood',
    '',
    'Established gamewire clients (echoes at 60 Hz, RETRY_ON_TIMEOUT both ways) beside a flood of valid CLIENT_HELLOs (made by a ' +
      'gamewire client engine, replayed; never completed): from many ports of one address, from one other address (127.0.0.2) while ' +
      'clients connect from 127.0.0.1, and from thousands of loopback addresses (127.0.x.y). RSS: the server\'s resident memory ' +
      'before the flood and its peak during it (sampled every 200 ms).',
    '',
    r.helloFlood?.length ? mdTable(HELLO_HEAD, helloRows(r.helloFlood), ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l']) : 'Not measured in this run.',
    '',
    '### Game tick',
    '',
    `N gamewire bots (lighter load generators than mpgameserver's clients, so N goes higher), each sending one 32-byte message ` +
      `${s.rateHz} times a second (RetryMode NONE: loss shows as loss; every packet is still encrypted and acknowledged by the ` +
      'protocol\'s ack fields); the server sends each message back to its sender. ' +
      `${s.warmupSeconds} s of warm-up, then a ${s.windowSeconds} s window; round trips are those of the messages sent in the window, ` +
      `echoes counted until ${s.drainSeconds} s after it (later ones count as lost). The two floors get bare sockets sending ` +
      '70-byte datagrams (a gamewire datagram carrying one 32-byte message) on the same schedule.',
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
    "### UDP GSO (io: 'thread')",
    '',
    'One gamewire client sends a small request; the server answers it with a burst of equal messages (RetryMode NONE, about one ' +
      'message per datagram), which leave in one send batch to that client; the client asks again when the burst has come. Pacing ' +
      'is lifted on both sides (`net: { sendInterval: 0 }`), the only setting in which a connection has several datagrams due at ' +
      'once. With GSO (the default) a run of datagrams to one client leaves as one `sendmmsg` message with `UDP_SEGMENT`; off is the ' +
      'same server with `GAMEWIRE_UDP_GSO=0`. Each round runs both, the order alternating, each with a fresh server process.',
    '',
    r.gso?.length ? mdTable(GSO_HEAD, gsoRows(r.gso), ['r', 'l', 'l', 'r', 'r', 'r']) : 'Not measured in this run.',
    ...(r.gso?.length ? ['', gsoLine(r.gso)] : []),
    '',
    'Where the time goes, what limits each number and what was fixed: [`bench/load/README.md`](../bench/load/README.md#findings).',
    ...(r.failures.length ? ['', '**Failures in this run:**', '', ...r.failures.map((f) => `- ${f}`)] : []),
    '',
  ];
  return out.join('\n');
}
