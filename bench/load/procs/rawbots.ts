/**
 * Child process: the floor reference's load generator. Like `pool.ts` (same schedule, same
 * requests, same report) but with no protocol: each bot is a bare node:dgram socket sending one
 * datagram of the size of a gamewire datagram carrying one 32-byte message (70 bytes) per period
 * to a node:dgram echo server (`raw.ts` `echo`), and timing the echo.
 */
import { createSocket, type Socket } from 'node:dgram';
import * as hist from '../lib/hist.js';
import { serve } from '../lib/proc.js';
import type { PoolReport, PoolSnapshot } from '../pool.js';

const STEP_MS = 1;
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

let sockets: Socket[] = [];
let count = 0;
let size = 70;
let timer: NodeJS.Timeout | null = null;
let sending = false;
let periodMs = 0;
let t0 = 0;
let round = 0;
let cursor = 0;
let sentTotal = 0;
let receivedTotal = 0;
let winStart = Number.POSITIVE_INFINITY;
let winEnd = Number.POSITIVE_INFINITY;
let winSent = 0;
let winEchoed = 0;
let winSkipped = 0;
let cpuStart: NodeJS.CpuUsage | null = null;
let cpuWindowUs = 0;
const rtt: hist.Histogram = new Map();
const buf = Buffer.alloc(1500, 0x2e);

function onEcho(m: Buffer): void {
  if (m.length !== size) return;
  for (let i = 0; i < 8; i++) f64Bytes[i] = m[8 + i];
  const sent = f64[0];
  receivedTotal++;
  if (sent >= winStart && sent < winEnd) {
    winEchoed++;
    hist.record(rtt, (performance.now() - sent) * 1000);
  }
}

function step(): void {
  if (!sending) return;
  const now = performance.now();
  for (let budget = 2 * count; budget > 0; budget--) {
    const due = t0 + (round + cursor / count) * periodMs;
    if (due > now) break;
    const inWindow = now >= winStart && now < winEnd;
    if (now - due > 2 * periodMs) {
      if (inWindow) winSkipped++;
    } else {
      f64[0] = now;
      for (let i = 0; i < 8; i++) buf[8 + i] = f64Bytes[i];
      // A copy per datagram: node:dgram reads the bytes on a later tick.
      sockets[cursor].send(Buffer.from(buf.subarray(0, size)));
      sentTotal++;
      if (inWindow) winSent++;
    }
    if (++cursor === count) {
      cursor = 0;
      round++;
    }
  }
}

serve({
  open: async (a: { port: number; count: number; size?: number }) => {
    count = a.count;
    size = a.size ?? 70;
    sockets = [];
    for (let i = 0; i < count; i++) {
      const s = createSocket('udp4');
      s.on('message', onEcho);
      s.on('error', () => undefined);
      await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
      await new Promise<void>((resolve) => s.connect(a.port, '127.0.0.1', () => resolve()));
      sockets.push(s);
    }
    timer = setInterval(step, STEP_MS);
    return { pid: process.pid };
  },
  connect: () => ({ connected: count, failed: 0, ms: 0 }),
  start: (a: { rateHz: number }) => {
    periodMs = 1000 / a.rateHz;
    t0 = performance.now();
    round = cursor = 0;
    sending = true;
  },
  mark: (a: { phase: 'start' | 'end' }): PoolSnapshot => {
    const t = performance.now();
    if (a.phase === 'start') {
      winStart = t;
      winEnd = Number.POSITIVE_INFINITY;
      winSent = winEchoed = winSkipped = 0;
      rtt.clear();
      cpuStart = process.cpuUsage();
    } else {
      winEnd = t;
      const c = process.cpuUsage(cpuStart ?? undefined);
      cpuWindowUs = c.user + c.system;
    }
    return { t, sent: sentTotal, received: receivedTotal, connected: count };
  },
  stop: () => {
    sending = false;
  },
  report: (): Omit<PoolReport, 'engine'> => ({
    bots: count,
    connected: count,
    dropped: 0,
    windowMs: Number.isFinite(winEnd) ? winEnd - winStart : 0,
    sent: winSent,
    echoed: winEchoed,
    skipped: winSkipped,
    refused: 0,
    rtt: hist.toJson(rtt),
    cpuUs: cpuWindowUs,
  }),
  exit: async () => {
    sending = false;
    if (timer) clearInterval(timer);
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  },
});
