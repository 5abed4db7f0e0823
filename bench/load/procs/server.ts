/**
 * Child process: a gamewire `UdpServer` under load. `echo` sends every message back to its sender
 * (RetryMode NONE, as mpgameserver's server default); `sink` only counts (flood). Reports its own
 * CPU (`process.cpuUsage()`) and the engine's datagram counters on `sample`.
 */
import { pino } from 'pino';
import { EventHandler, PrivateKey, RetryMode, ServerContext, UdpServer, type ClientHandle, type NetOptions } from '../../../ts/index.js';
import type { BackendName } from '../../../ts/backend/index.js';
import { serve } from '../lib/proc.js';

export interface ServerStartArgs {
  backend: BackendName;
  mode: 'echo' | 'sink';
  net?: NetOptions;
  /** `UdpServerOptions.io` (default dgram). */
  io?: 'dgram' | 'thread';
}

export interface ServerStarted {
  port: number;
  pid: number;
  backend: string;
  /** Root public key, SPKI DER as hex. */
  spkiHex: string;
}

/** One sample of the server's counters. */
export interface ServerSample {
  t: number;
  /** CPU time of the whole server process so far (user + system), µs. */
  cpuUs: number;
  datagramsIn: number;
  datagramsOut: number;
  messagesIn: number;
  messagesOut: number;
  clients: number;
  drops: number;
}

class Echo extends EventHandler {
  messages = 0;
  clients = 0;
  constructor(private readonly echo: boolean) {
    super();
  }
  override connect(): void {
    this.clients++;
  }
  override disconnect(): void {
    this.clients--;
  }
  override handleMessage(client: ClientHandle, _seq: number, msg: Uint8Array): void {
    this.messages++;
    if (this.echo) client.send(msg, RetryMode.NONE);
  }
}

let server: UdpServer | null = null;
let handler: Echo | null = null;

serve({
  start: async (args: ServerStartArgs): Promise<ServerStarted> => {
    const opts = { backend: args.backend };
    const key = PrivateKey.generate(opts);
    handler = new Echo(args.mode === 'echo');
    const ctx = new ServerContext(handler, key, { ...opts, net: args.net });
    server = new UdpServer(ctx, { host: '127.0.0.1', port: 0 }, { ...opts, io: args.io, installSignals: false, logger: pino({ level: 'warn' }, pino.destination(2)) });
    const addr = await server.listen();
    void server.run();
    return { port: addr.port, pid: process.pid, backend: server.backend, spkiHex: Buffer.from(key.publicKey(opts).spki).toString('hex') };
  },
  sample: (): ServerSample => {
    const s = server!.stats;
    const c = process.cpuUsage();
    return {
      t: performance.now(),
      cpuUs: c.user + c.system,
      datagramsIn: s.datagramsIn,
      datagramsOut: s.datagramsOut,
      messagesIn: handler!.messages,
      messagesOut: s.messagesSent,
      clients: handler!.clients,
      drops: s.dropMalformed + s.dropAuthFailed + s.dropReplay + s.dropUnknownConnection + s.dropTooLarge + s.dropRateLimited + s.dropUnexpected,
    };
  },
  exit: async () => {
    await server?.stop();
  },
});
