/**
 * Child process: the raw node:dgram references. `receive` counts datagrams; `send` sends
 * fixed-size datagrams as fast as node:dgram takes them (a connected socket, bursts of 64 per
 * event-loop turn, no callbacks), throttling only while libuv holds queued sends. `echo` is the
 * game tick's floor: a node:dgram server sending every datagram back to its sender, no protocol
 * (samples in the shape of `server.ts`'s).
 */
import { createSocket, type Socket } from 'node:dgram';
import { serve } from '../lib/proc.js';

let socket: Socket | null = null;
let count = 0;
let bytes = 0;
let running = false;
let echoed = 0;

export interface RawSample {
  t: number;
  count: number;
  bytes: number;
  cpuUs: number;
}

function sample(): RawSample {
  const c = process.cpuUsage();
  return { t: performance.now(), count, bytes, cpuUs: c.user + c.system };
}

serve({
  receive: async (): Promise<{ port: number }> => {
    const s = createSocket('udp4');
    socket = s;
    s.on('message', (m) => {
      count++;
      bytes += m.length;
    });
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
    return { port: s.address().port };
  },
  send: async (a: { port: number; size: number }): Promise<void> => {
    const s = createSocket('udp4');
    socket = s;
    s.on('error', () => undefined);
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
    await new Promise<void>((resolve) => s.connect(a.port, '127.0.0.1', () => resolve()));
    const buf = Buffer.alloc(a.size, 0x2e);
    running = true;
    const burst = (): void => {
      if (!running) return;
      if (s.getSendQueueCount() < 256) {
        for (let i = 0; i < 64; i++) {
          s.send(buf);
          count++;
          bytes += buf.length;
        }
      }
      setImmediate(burst);
    };
    setImmediate(burst);
  },
  sample,
  echo: async (): Promise<{ port: number; pid: number; backend: string; spkiHex: string }> => {
    const s = createSocket('udp4');
    socket = s;
    s.on('error', () => undefined);
    s.on('message', (m, rinfo) => {
      count++;
      bytes += m.length;
      s.send(m, rinfo.port, rinfo.address);
      echoed++;
    });
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
    s.setRecvBufferSize(4 * 1024 * 1024);
    return { port: s.address().port, pid: process.pid, backend: 'node:dgram', spkiHex: '' };
  },
  echoSample: () => {
    const c = process.cpuUsage();
    return { t: performance.now(), cpuUs: c.user + c.system, datagramsIn: count, datagramsOut: echoed, messagesIn: count, messagesOut: echoed, clients: 0, drops: 0 };
  },
  stop: () => {
    running = false;
  },
  exit: () => {
    running = false;
    socket?.close();
  },
});
