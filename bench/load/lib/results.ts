/**
 * The JSON results of a load run: `bench/results/load-<timestamp>.json` + `load-latest.json`
 * (full runs, committed), `load-quick-latest.json` / `load-partial-latest.json` (ignored).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MachineInfo } from '../../lib/machine.js';
import { RESULTS_DIR } from '../../lib/results.js';
import { median } from '../../lib/stats.js';

/** Bumped when the layout changes incompatibly. */
export const LOAD_SCHEMA = 2;

/** The server under test. */
export type ServerImpl = 'gamewire-native' | 'gamewire-wasm' | 'gamewire-thread' | 'gamewire-thread-2' | 'mpgameserver' | 'node-dgram-echo' | 'rust-echo';
/**
 * What generates the load: gamewire's pooled bots, mpgameserver's own `UdpClient`s, or bare
 * node:dgram sockets (for the node:dgram echo floor).
 */
export type GeneratorImpl = 'gamewire-bots' | 'mpgameserver-clients' | 'raw-sockets';

export const SERVER_LABEL: Record<ServerImpl, string> = {
  'gamewire-native': 'gamewire (native)',
  'gamewire-wasm': 'gamewire (WASM)',
  'gamewire-thread': "gamewire (native, io: 'thread')",
  'gamewire-thread-2': "gamewire (native, io: 'thread', threads: 2)",
  mpgameserver: 'mpgameserver 0.2.4',
  'node-dgram-echo': 'node:dgram echo, no protocol',
  'rust-echo': 'Rust recvmmsg/sendmmsg echo, no protocol (floor)',
};

/** The servers with no protocol at all: what the kernel (and node:dgram) cost for the same datagrams. */
export function isFloor(server: ServerImpl): boolean {
  return server === 'rust-echo' || server === 'node-dgram-echo';
}

/** Whose clients an idle run connected (runs before the field existed: gamewire's bots). */
export function idleClientsLabel(i: { generator?: GeneratorImpl }): string {
  return i.generator === 'mpgameserver-clients' ? 'mpgameserver clients' : 'gamewire clients';
}

/** How the server sends each message back, and how mpgameserver's clients send theirs. */
export type EchoRetry = 'NONE' | 'RETRY_ON_TIMEOUT';

/** One game-tick run: N clients × rate messages/s each way for a measured window. */
export interface TickRun {
  server: ServerImpl;
  generator: GeneratorImpl;
  clients: number;
  rateHz: number;
  /** Retry mode of the messages both ways (absent in older results: NONE). */
  retry?: EchoRetry;
  /** `io: 'thread'` servers: the `notifyDelay` option, ms (absent: the default, 0). */
  notifyDelayMs?: number;
  /** Table runs: the round (0, 1, …) this run belongs to; every server runs once per round (absent: one round). */
  round?: number;
  /** Floor runs: the datagrams per second and bytes per datagram each bare-socket client sent (the pattern copied). */
  pattern?: { datagramsPerClientPerSec: number; bytes: number };
  /** Mean size of the datagrams the server received, bytes (gamewire servers). */
  bytesPerDatagramIn?: number | null;
  /** Server datagrams received per message delivered to it (1/messages per datagram). */
  datagramsPerMessage?: number | null;
  /** `io: 'thread'`: socket-thread wake-ups and event-loop notifications per second over the window. */
  threadWakeupsPerSec?: number | null;
  threadNotificationsPerSec?: number | null;
  /** Clients connected when the window opened. */
  connected: number;
  /** Seconds measured (the server's own clock). */
  windowSeconds: number;
  /** Server process CPU over the window, in cores (1 = one core busy). */
  serverCpuCores: number;
  /** Server CPU µs per datagram handled (received + sent). */
  serverCpuUsPerDatagram: number | null;
  /** Server CPU µs per message delivered to it (each is echoed once). */
  serverCpuUsPerMessage: number | null;
  datagramsInPerSec: number;
  datagramsOutPerSec: number;
  /** Messages the clients offered per second (N × rate). */
  offeredPerSec: number;
  /** Messages delivered to the server's handler per second. */
  messagesToServerPerSec: number;
  /** Echoes delivered back to the clients per second (of messages sent in the window). */
  echoesPerSec: number;
  /** Both directions: messagesToServerPerSec + echoesPerSec. */
  deliveredPerSec: number;
  /** Round trip of the echoed in-window messages, ms. */
  rttP50Ms: number | null;
  rttP99Ms: number | null;
  rttMeanMs: number | null;
  /** Messages sent in the window, and the echoes of them that came back before the report. */
  sent: number;
  echoed: number;
  /** 1 − echoed/sent. */
  loss: number;
  generatorStats: GeneratorStats;
  /** Fraction of all the machine's CPUs busy during the window (every process, not only ours). */
  machineBusy: number | null;
  /** UDP datagrams the kernel dropped because a socket's receive buffer was full, machine-wide, over the window. */
  udpRcvbufErrors: number | null;
  /** Of those, drops at the server's own socket (`/proc/net/udp`). */
  serverSocketDrops: number | null;
  /** Why the numbers may not show the server alone (generator behind, drops, saturation). */
  notes: string[];
}

export interface GeneratorStats {
  processes: number;
  /** CPU of all generator processes over the window, in cores. */
  cpuCores: number;
  /** Sends skipped because a generator ran more than a period behind its schedule. */
  skipped: number;
  /** Connections lost during the run. */
  dropped: number;
  /** Datagrams the generator's engines dropped as unauthentic or malformed (gamewire bots). */
  corrupt: number;
}

/** The raw node:dgram reference: one sender process, one receiver process. */
export interface RawRun {
  datagramBytes: number;
  windowSeconds: number;
  sentPerSec: number;
  receivedPerSec: number;
  loss: number;
  senderCpuCores: number;
  receiverCpuCores: number;
}

/** One flood: a gamewire client blasting at a gamewire server, pacing lifted. */
export interface FloodRun {
  mode: 'coalesce' | 'single';
  backend: 'native' | 'wasm';
  messageBytes: number;
  windowSeconds: number;
  /** Datagrams the server handled per second. */
  datagramsPerSec: number;
  /** Messages delivered to the server's handler per second. */
  messagesPerSec: number;
  /** Datagrams the client sent per second. */
  senderDatagramsPerSec: number;
  /** Messages per datagram (received). */
  messagesPerDatagram: number;
  /** 1 − server datagrams / client datagrams. */
  datagramLoss: number;
  senderCpuCores: number;
  receiverCpuCores: number;
  /** Times the sender found the engine's queue full and backed off. */
  queueFullEvents: number;
  /** True when the sender ran at the per-connection nonce budget (65535 packets/s). */
  nonceBound: boolean;
}

/** One probe of a capacity search. */
export interface CapacityProbe {
  clients: number;
  pass: boolean;
  /** Why it failed (or 'ok'). */
  reason: string;
  rttP99Ms: number | null;
  loss: number;
  serverCpuCores: number;
  generatorSkipped: number;
  /** Failed only because the generator fell behind (said nothing about the server). */
  inconclusive: boolean;
}

export interface CapacityResult {
  server: ServerImpl;
  generator: GeneratorImpl;
  rateHz: number;
  /** p99 round trip must be below this, ms. */
  maxP99Ms: number;
  /** The largest N that passed (null: none did). */
  capacity: number | null;
  /** The smallest N that failed (null: none did, up to the search's cap). */
  firstFailing: number | null;
  probes: CapacityProbe[];
  notes: string[];
}

/** A target of the issue, evaluated from one run. */
export interface LoadTargetResult {
  id: string;
  description: string;
  value: number | null;
  /** How `value` reads (e.g. "12.3× less CPU"). */
  valueText: string;
  status: 'achieved' | 'missed' | 'not measured';
  detail: string;
}

/** A server's CPU with nobody sending: no clients at all, then N connected clients that only keep alive. */
export interface IdleRun {
  server: ServerImpl;
  clients: number;
  /** The connected clients' kind (for the floor: whose keep-alive pattern it replays). Absent in runs before it existed: gamewire's bots. */
  generator?: GeneratorImpl;
  windowSeconds: number;
  /** Server process CPU over the window, fraction of one core. */
  cpuCores: number;
  /** `io: 'thread'`: socket-thread wake-ups and event-loop notifications per second. */
  wakeupsPerSec: number | null;
  notificationsPerSec: number | null;
  /** Datagrams received and sent per second (keep-alives). */
  datagramsInPerSec: number;
  datagramsOutPerSec: number;
  /** Mean size of the datagrams received, bytes (gamewire servers: the keep-alives). */
  bytesPerDatagramIn?: number | null;
  connected: number;
}

/** `strace -c -f` of one server under load: system calls by name over a few seconds. */
export interface SyscallRun {
  server: ServerImpl;
  clients: number;
  generator: GeneratorImpl;
  seconds: number;
  /** Messages the server's handler got while strace was attached. */
  messages: number;
  datagramsIn: number;
  datagramsOut: number;
  calls: { name: string; calls: number; errors: number; seconds: number }[];
  /** Why there is nothing (strace missing, not permitted). */
  error?: string;
}

/** One CLIENT_HELLO flood beside established clients (see `scenarios.ts` `runHelloFlood`). */
export interface HelloFloodRun {
  scenario: 'many-sources' | 'one-source' | 'many-addresses';
  server: ServerImpl;
  /** What the flood did: sources (sockets), distinct source addresses, hellos sent, seconds, rate. */
  flood: { sockets: number; addresses: number; sent: number; seconds: number; perSec: number };
  established: { clients: number; connected: number; sent: number; echoed: number; rttP50Ms: number | null; rttP99Ms: number | null; loss: number; dropped: number };
  /** one-source: the clients that connected from 127.0.0.1 during the flood. */
  late?: { clients: number; connected: number; ms: number };
  /** Server resident memory, MiB: before the flood, the peak during it (VmHWM), growth = peak − before. */
  rssBeforeMiB: number;
  rssPeakMiB: number;
  rssGrowthMiB: number;
  /** Server counters over the flood (engine statistics). */
  /** rateLimited: hellos refused because the handshake queue was full; otherDrops: every other datagram the server dropped (a repeated hello from an address with a handshake under way is not counted anywhere). */
  handshakes: { started: number; completed: number; failed: number; rateLimited: number; otherDrops: number };
  serverCpuCores: number;
  notes: string[];
}

/** How a tick run sends, measures and spreads its clients over generator processes. */
export interface TickTiming {
  /** Messages per second per client. */
  rateHz: number;
  windowSeconds: number;
  warmupSeconds: number;
  drainSeconds: number;
  botsPerProcess: number;
  pythonBotsPerProcess: number;
}

export interface LoadSettings extends TickTiming {
  clients: number[];
  /** Largest N run with mpgameserver's own clients (beyond it: not measured). */
  mpgameserverMaxClients: number;
  floodSeconds: number;
  capacityWindowSeconds: number;
  /** mpgameserver-client table (issue 11): client counts, window. */
  tableClients: number[];
  /** Rounds of the table at its smallest N, every server once per round (absent in runs before it existed: 1). */
  tableRounds?: number;
  /** notifyDelay sweep, ms. */
  notifyDelays: number[];
  idleSeconds: number;
  /** Seconds the idle scenario waits after start-up and after connecting (V8's background work settles). Absent in runs before it existed (2 s). */
  idleSettleSeconds?: number;
  idleClients: number;
  straceSeconds: number;
  helloFloodSeconds: number;
  /** UDP GSO scenario: rounds (each runs GSO on and off, the order alternating) and window, s. Absent in runs before it existed. */
  gsoRounds?: number;
  gsoSeconds?: number;
}

/**
 * One window of the UDP GSO scenario: an `io: 'thread'` server answering each small request of
 * one client with a burst of equal messages (pacing lifted on both sides), with UDP GSO on (the
 * default) or off (`GAMEWIRE_UDP_GSO=0`), a fresh server process each time.
 */
export interface GsoRun {
  gso: boolean;
  round: number;
  /** Reply messages per request and their size, bytes. */
  burst: number;
  messageBytes: number;
  windowSeconds: number;
  /** Datagrams the server sent per second. */
  datagramsPerSec: number;
  /** Server process CPU per datagram sent, µs. */
  serverCpuUsPerDatagram: number;
  /** Datagrams per `sendmmsg` message (1 without GSO). */
  datagramsPerSendMessage: number | null;
}

/** The GSO scenario's medians: CPU per datagram with GSO on and off, and off / on round by round. */
export function gsoSummary(runs: readonly GsoRun[]): { on: number; off: number; each: number[] } | null {
  const side = (gso: boolean): GsoRun[] => runs.filter((r) => r.gso === gso && Number.isFinite(r.serverCpuUsPerDatagram));
  const on = side(true);
  const off = side(false);
  if (!on.length || !off.length) return null;
  const each: number[] = [];
  for (const a of on) {
    const b = off.find((x) => x.round === a.round);
    if (b) each.push(b.serverCpuUsPerDatagram / a.serverCpuUsPerDatagram);
  }
  return { on: median(on.map((r) => r.serverCpuUsPerDatagram)), off: median(off.map((r) => r.serverCpuUsPerDatagram)), each };
}

export interface LoadResults {
  schema: number;
  mode: 'full' | 'quick' | 'partial';
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  machine: MachineInfo;
  settings: LoadSettings;
  /** What ran (or why not): backends, the mpgameserver interpreter. */
  implementations: { name: string; available: boolean; detail: string }[];
  raw: RawRun | null;
  flood: FloodRun[];
  tick: TickRun[];
  /** mpgameserver's own clients against every server, RETRY_ON_TIMEOUT both ways, beside the Rust floor. */
  table: TickRun[];
  /** io: 'thread' under the table's load with each notifyDelay. */
  sweep: TickRun[];
  idle: IdleRun[];
  syscalls: SyscallRun[];
  helloFlood: HelloFloodRun[];
  capacity: CapacityResult[];
  /** UDP GSO on and off (absent in runs before it existed). */
  gso?: GsoRun[];
  targets: LoadTargetResult[];
  /** Scenario errors; a run with any exits 1. */
  failures: string[];
}

/** Writes the results; returns the paths. */
export function writeLoadResults(r: LoadResults, dir = RESULTS_DIR): string[] {
  mkdirSync(dir, { recursive: true });
  const json = `${JSON.stringify(r, null, 2)}\n`;
  const names = r.mode === 'full'
    ? [`load-${r.startedAt.replace(/\.\d+Z$/, 'Z').replace(/:/g, '-')}.json`, 'load-latest.json']
    : [`load-${r.mode}-latest.json`];
  const paths = names.map((n) => join(dir, n));
  for (const p of paths) writeFileSync(p, json);
  return paths;
}

/** The latest full load run, or null if there is none (or it has another schema). */
export function readLoadResults(path = join(RESULTS_DIR, 'load-latest.json')): LoadResults | null {
  if (!existsSync(path)) return null;
  const r = JSON.parse(readFileSync(path, 'utf8')) as LoadResults;
  return r.schema === LOAD_SCHEMA ? r : null;
}

/** The table's runs (mpgameserver's clients) of `server` at N, one per round. */
export function tableRuns(table: readonly TickRun[], server: ServerImpl, clients: number): TickRun[] {
  return table.filter((t) => t.server === server && t.clients === clients && t.notifyDelayMs === undefined);
}

/** The table run of `server` at N: with several rounds, the one of median CPU per message (the lower one of an even count). */
export function tableRun(table: readonly TickRun[], server: ServerImpl, clients: number): TickRun | undefined {
  const runs = tableRuns(table, server, clients);
  const measured = runs.filter((t) => t.serverCpuUsPerMessage != null).sort((a, b) => a.serverCpuUsPerMessage! - b.serverCpuUsPerMessage!);
  return measured.length ? measured[(measured.length - 1) >> 1] : runs[0];
}

/**
 * `num`'s CPU per message over `den`'s at N, round by round. A round runs every server back to back,
 * so the two runs of a round share the machine's state; the median of the rounds' ratios is the
 * figure, and each round's ratio shows the spread. Null unless both ran in some round.
 */
export function roundRatios(table: readonly TickRun[], num: ServerImpl, den: ServerImpl, clients: number): { median: number; each: number[] } | null {
  const each: number[] = [];
  for (const a of tableRuns(table, num, clients)) {
    const b = tableRuns(table, den, clients).find((x) => (x.round ?? 0) === (a.round ?? 0));
    if (a.serverCpuUsPerMessage && b?.serverCpuUsPerMessage) each.push(a.serverCpuUsPerMessage / b.serverCpuUsPerMessage);
  }
  return each.length ? { median: median(each), each } : null;
}
