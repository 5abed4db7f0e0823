/**
 * Child process: a CLIENT_HELLO flood. `prepare` makes real CLIENT_HELLOs for the server's key
 * (`lib/hellos.ts`); `open` binds the flood's sockets (any source addresses: Linux routes
 * all of 127/8 to the loopback interface, so 127.0.x.y can be bound without configuration);
 * `flood` replays the hellos round-robin over the sockets at an even rate; `sample` counts.
 * Replies (SERVER_HELLOs) are read and counted, never answered: every flood handshake stays
 * half-open.
 */
import type { Socket } from 'node:dgram';
import { clock } from '../../../ts/net/driver.js';
import { bindSockets, closeSockets } from '../lib/generator.js';
import { makeHellos } from '../lib/hellos.js';
import { serve } from '../lib/proc.js';

let hellos: Buffer[] = [];
let sockets: Socket[] = [];
let port = 0;
let timer: NodeJS.Timeout | null = null;
let sent = 0;
let replies = 0;
let sendErrors = 0;
let target = 0;
let started = 0;
let perMs = 0;
let cursor = 0;
let finishedAt = 0;

export interface HelloSample {
  t: number;
  sent: number;
  replies: number;
  sendErrors: number;
  done: boolean;
  cpuUs: number;
}

function sample(): HelloSample {
  const c = process.cpuUsage();
  return { t: clock(), sent, replies, sendErrors, done: sent >= target, cpuUs: c.user + c.system };
}

function step(): void {
  const due = Math.min(target, Math.floor((clock() - started) * perMs));
  while (sent < due) {
    const s = sockets[cursor % sockets.length];
    s.send(hellos[cursor % hellos.length], port, '127.0.0.1');
    cursor++;
    sent++;
  }
  if (sent >= target && timer) {
    clearInterval(timer);
    timer = null;
    finishedAt = clock();
  }
}

serve({
  prepare: (a: { spkiHex: string; port: number; distinct: number }) => {
    port = a.port;
    hellos = makeHellos(Buffer.from(a.spkiHex, 'hex'), a.distinct);
    return { hellos: hellos.length, bytes: hellos[0].length };
  },
  /** Binds `count` sockets on each address (port 0: any free port). */
  open: async (a: { addresses: string[]; perAddress: number }) => {
    const hosts = a.addresses.flatMap((host) => Array<string>(a.perAddress).fill(host));
    sockets = await bindSockets(hosts, (s) => {
      s.on('message', () => replies++);
      s.on('error', () => sendErrors++);
    }, 100 * a.perAddress);
    return { sockets: sockets.length };
  },
  /** Sends `total` hellos evenly over `seconds` (resolves at once; `sample` tells when done). */
  flood: (a: { total: number; seconds: number }) => {
    target = sent + a.total;
    perMs = a.total / (a.seconds * 1000);
    started = clock() - sent / perMs;
    finishedAt = 0;
    timer = setInterval(step, 1);
  },
  sample,
  finished: () => ({ finishedAt }),
  exit: async () => {
    if (timer) clearInterval(timer);
    await closeSockets(sockets);
  },
});
