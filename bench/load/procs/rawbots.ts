/**
 * Child process: the floor reference's load generator. Like `pool.ts` (the same schedule and
 * counts, `lib/generator.ts`; the same requests and report) but with no protocol: each bot is a bare node:dgram socket sending one
 * datagram of the size of a gamewire datagram carrying one 32-byte message (70 bytes) per period
 * to a node:dgram echo server (`raw.ts` `echo`), and timing the echo.
 */
import type { Socket } from 'node:dgram';
import { bindSockets, closeSockets, SendSchedule, WindowCounts } from '../lib/generator.js';
import { serve } from '../lib/proc.js';
import type { PoolReport, PoolSnapshot } from '../pool.js';

const STEP_MS = 1;
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

let sockets: Socket[] = [];
let count = 0;
let size = 70;
let timer: NodeJS.Timeout | null = null;
let schedule = new SendSchedule(0);
const counts = new WindowCounts();
const buf = Buffer.alloc(1500, 0x2e);

function onEcho(m: Buffer): void {
  if (m.length !== size) return;
  for (let i = 0; i < 8; i++) f64Bytes[i] = m[8 + i];
  counts.countEcho(f64[0], performance.now());
}

function step(): void {
  const now = performance.now();
  schedule.run(now, (bot, late) => {
    if (late) {
      counts.countSkipped(now);
      return;
    }
    f64[0] = now;
    for (let i = 0; i < 8; i++) buf[8 + i] = f64Bytes[i];
    // A copy per datagram: node:dgram reads the bytes on a later tick.
    sockets[bot].send(Buffer.from(buf.subarray(0, size)));
    counts.countSent(now);
  });
}

serve({
  open: async (a: { port: number; count: number; size?: number }) => {
    count = a.count;
    size = a.size ?? 70;
    schedule = new SendSchedule(count);
    sockets = await bindSockets(Array<string>(count).fill('127.0.0.1'), (s) => {
      s.on('message', onEcho);
      s.on('error', () => undefined);
    });
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.connect(a.port, '127.0.0.1', () => resolve()))));
    timer = setInterval(step, STEP_MS);
    return { pid: process.pid };
  },
  connect: () => ({ connected: count, failed: 0, ms: 0 }),
  start: (a: { rateHz: number }) => schedule.start(a.rateHz, performance.now()),
  mark: (a: { phase: 'start' | 'end' }): PoolSnapshot => {
    const t = performance.now();
    counts.mark(a.phase, t);
    return { t, sent: counts.sentTotal, received: counts.receivedTotal, connected: count };
  },
  stop: () => schedule.stop(),
  report: (): Omit<PoolReport, 'engine'> => ({ bots: count, connected: count, dropped: 0, ...counts.report() }),
  exit: async () => {
    schedule.stop();
    if (timer) clearInterval(timer);
    await closeSockets(sockets);
  },
});
