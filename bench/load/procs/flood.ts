/**
 * Child process: the flood sender, one `UdpClient` with pacing lifted (`net.sendInterval: 0`)
 * sending 32-byte messages (RetryMode NONE) as fast as the connection allows.
 *
 * - `coalesce`: many messages per event-loop turn; the engine packs them into full datagrams.
 * - `single`: one message, then a microtask boundary (the client pumps there), so each datagram
 *   carries about one message: the datagram rate of the protocol path.
 *
 * While the engine refuses messages (its queue is full, e.g. at the 65535 packets/s nonce budget)
 * the sender backs off for a millisecond and counts it.
 *
 * `burst`: the client of a server in `burst` mode (`server.ts`): one small request, then the next
 * when the whole burst of replies has come (or after 50 ms without it: a lost datagram would
 * otherwise stall the loop).
 */
import { GamewireError, PublicKey, RetryMode, UdpClient } from '../../../ts/index.js';
import type { BackendName } from '../../../ts/backend/index.js';
import { pino } from 'pino';
import { serve } from '../lib/proc.js';

export interface FloodSample {
  t: number;
  messages: number;
  datagramsOut: number;
  bytesOut: number;
  queueFull: number;
  cpuUs: number;
}

let client: UdpClient | null = null;
let running = false;
let messages = 0;
let queueFull = 0;
let stopBurst: (() => void) | null = null;

serve({
  connect: async (a: { backend: BackendName; port: number; spkiHex: string }) => {
    client = new UdpClient({
      backend: a.backend,
      rootPublicKey: PublicKey.fromSpki(Buffer.from(a.spkiHex, 'hex'), { backend: a.backend }),
      net: { sendInterval: 0 },
      logger: pino({ level: 'warn' }, pino.destination(2)),
    });
    await client.connect('127.0.0.1', a.port);
    return { token: client.token };
  },
  start: (a: { mode: 'coalesce' | 'single'; size: number; perTurn?: number }) => {
    const c = client!;
    const msg = Buffer.alloc(a.size, 0x2e);
    const perTurn = a.perTurn ?? (a.mode === 'coalesce' ? 2048 : 64);
    running = true;
    const turn = async (): Promise<void> => {
      if (!running) return;
      try {
        for (let i = 0; i < perTurn; i++) {
          c.send(msg, RetryMode.NONE);
          messages++;
          if (a.mode === 'single') await null;
        }
      } catch (err) {
        if (!(err instanceof GamewireError) || err.code !== 'ERR_QUEUE_FULL') throw err;
        queueFull++;
        setTimeout(() => void turn(), 1);
        return;
      }
      setImmediate(() => void turn());
    };
    void turn();
  },
  burst: (a: { count: number }) => {
    const c = client!;
    const request = Buffer.alloc(8);
    let got = 0;
    let last = performance.now();
    const ask = (): void => {
      got = 0;
      last = performance.now();
      c.send(request, RetryMode.NONE);
      messages++;
    };
    const onMessage = (): void => {
      last = performance.now();
      if (++got === a.count) ask();
    };
    c.on('message', onMessage);
    const watchdog = setInterval(() => {
      if (performance.now() - last > 50) ask();
    }, 25);
    stopBurst = () => {
      clearInterval(watchdog);
      c.off('message', onMessage);
    };
    ask();
  },
  sample: (): FloodSample => {
    const s = client!.stats;
    const cpu = process.cpuUsage();
    return { t: performance.now(), messages, datagramsOut: s.datagramsOut, bytesOut: s.bytesOut, queueFull, cpuUs: cpu.user + cpu.system };
  },
  stop: () => {
    running = false;
    stopBurst?.();
    stopBurst = null;
  },
  exit: async () => {
    running = false;
    stopBurst?.();
    await client?.disconnect();
  },
});
