/**
 * UDP GSO on `io: 'thread'`, measured: server CPU per datagram sent when its replies come in bursts
 * to one client, with GSO (the default) and without (`GAMEWIRE_UDP_GSO=0`), in alternating
 * rounds of one run (each round starts a fresh server process of each kind).
 *
 *   node scripts/run-ts.mjs bench/load/gso.ts [--rounds 3] [--window 5] [--burst 32] [--size 1100]
 *
 * The client (one gamewire `UdpClient`, native backend, pacing lifted) sends one small request;
 * the server's handler answers it with `--burst` messages of `--size` bytes (RetryMode NONE, about
 * one message per datagram), which leave in one send batch to that client; the client's next
 * request follows the burst's last message. Pacing is lifted on both sides (`net.sendInterval: 0`),
 * the only setting in which a connection has several datagrams due at once. Server CPU is the
 * server process's `process.cpuUsage()` (every thread) over the window.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { EventHandler, PrivateKey, PublicKey, RetryMode, ServerContext, UdpClient, UdpServer, type ClientHandle } from '../../ts/index.js';
import type { ThreadedServer } from '../../ts/backend/index.js';
import { median } from '../lib/stats.js';

const { values } = parseArgs({
  options: {
    server: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '3' },
    window: { type: 'string', default: '5' },
    burst: { type: 'string', default: '32' },
    size: { type: 'string', default: '1100' },
  },
  strict: true,
});
const burst = Number(values.burst);
const size = Number(values.size);
const logger = pino({ level: 'warn' }, pino.destination(2));

/** Child: the server. Prints its port and key, then answers `sample` lines with its counters. */
async function server(): Promise<void> {
  class Burst extends EventHandler {
    private readonly reply = Buffer.alloc(size, 0x5a);
    override handleMessage(client: ClientHandle): void {
      for (let i = 0; i < burst; i++) client.send(this.reply, RetryMode.NONE);
    }
  }
  const key = PrivateKey.generate({ backend: 'native' });
  const ctx = new ServerContext(new Burst(), key, { backend: 'native', net: { sendInterval: 0 } });
  const srv = new UdpServer(ctx, { host: '127.0.0.1', port: 0 }, { backend: 'native', io: 'thread', logger });
  const addr = await srv.listen();
  void srv.run();
  const spkiHex = Buffer.from(key.publicKey({ backend: 'native' }).spki).toString('hex');
  process.stdout.write(`${JSON.stringify({ port: addr.port, spkiHex })}\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    if (line !== 'sample') continue;
    const u = process.cpuUsage();
    const tp = (srv as unknown as { threaded: ThreadedServer }).threaded.threadProfile();
    process.stdout.write(`${JSON.stringify({ cpuUs: u.user + u.system, datagramsOut: srv.stats.datagramsOut, sent: tp.datagramsSent, messages: tp.sendMessages })}\n`);
  }
  await srv.stop();
}

interface Sample { cpuUs: number; datagramsOut: number; sent: number; messages: number }

/** Parent: one window against a fresh server with GSO on or off. */
async function measure(gso: boolean, windowS: number): Promise<{ usPerDatagram: number; datagramsPerSec: number; perMessage: number }> {
  const child: ChildProcess = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--server', '--burst', String(burst), '--size', String(size)], {
    env: { ...process.env, GAMEWIRE_UDP_GSO: gso ? '1' : '0' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async <T>(): Promise<T> => JSON.parse((await lines.next()).value as string) as T;
  const started = await next<{ port: number; spkiHex: string }>();
  const client = new UdpClient({
    backend: 'native',
    rootPublicKey: PublicKey.fromSpki(Buffer.from(started.spkiHex, 'hex'), { backend: 'native' }),
    net: { sendInterval: 0 },
    logger,
  });
  await client.connect('127.0.0.1', started.port);
  const request = Buffer.alloc(8);
  let got = 0;
  let running = true;
  const ask = (): void => {
    if (running) client.send(request, RetryMode.NONE);
  };
  // A lost datagram would stall the loop: ask again after 50 ms without a full burst.
  let last = Date.now();
  const watchdog = setInterval(() => {
    if (Date.now() - last > 50) {
      got = 0;
      last = Date.now();
      ask();
    }
  }, 25);
  client.on('message', () => {
    last = Date.now();
    if (++got === burst) {
      got = 0;
      ask();
    }
  });
  ask();
  const sample = async (): Promise<Sample> => {
    child.stdin!.write('sample\n');
    return next<Sample>();
  };
  await new Promise((r) => setTimeout(r, 1000));
  const a = await sample();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, windowS * 1000));
  const b = await sample();
  const seconds = (performance.now() - t0) / 1000;
  running = false;
  clearInterval(watchdog);
  await client.disconnect();
  child.stdin!.end();
  child.kill();
  const datagrams = b.datagramsOut - a.datagramsOut;
  return { usPerDatagram: (b.cpuUs - a.cpuUs) / datagrams, datagramsPerSec: datagrams / seconds, perMessage: (b.sent - a.sent) / Math.max(1, b.messages - a.messages) };
}

async function main(): Promise<void> {
  const rounds = Number(values.rounds);
  const windowS = Number(values.window);
  console.log(`UDP GSO, io: 'thread': bursts of ${burst} × ${size} B to one client, ${rounds} rounds of ${windowS} s each way`);
  const on: number[] = [];
  const off: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const gso of r % 2 ? [false, true] : [true, false]) {
      const m = await measure(gso, windowS);
      (gso ? on : off).push(m.usPerDatagram);
      console.log(`  round ${r + 1} GSO ${gso ? 'on ' : 'off'}: ${m.usPerDatagram.toFixed(2)} µs of server CPU per datagram sent, ${Math.round(m.datagramsPerSec).toLocaleString('en-US')} datagrams/s, ${m.perMessage.toFixed(1)} datagrams per send message`);
    }
  }
  const ratios = on.map((v, i) => off[i] / v);
  console.log(`median: GSO on ${median(on).toFixed(2)} µs, off ${median(off).toFixed(2)} µs per datagram; off / on per round: ${ratios.map((x) => `${x.toFixed(2)}×`).join(', ')}`);
}

if (values.server) await server();
else await main();
