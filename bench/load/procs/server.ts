/**
 * Child process: a gamewire `UdpServer` under load. `echo` sends every message back to its sender
 * (RetryMode NONE, as mpgameserver's server default, or `retry`); `sink` only counts (flood);
 * `burst` answers every message with `burst.count` messages of `burst.size` bytes (RetryMode NONE),
 * which leave in one send batch to that client (the UDP GSO scenario).
 * Reports its own CPU (`process.cpuUsage()`, every thread), resident memory and the engine's
 * counters on `sample`.
 */
import { pino } from 'pino';
import { EventHandler, PrivateKey, RetryMode, ServerContext, UdpServer, type ClientHandle, type NetOptions } from '../../../ts/index.js';
import type { BackendName, ThreadedServer, ThreadProfile } from '../../../ts/backend/index.js';
import { serve } from '../lib/proc.js';

export interface ServerStartArgs {
  backend: BackendName;
  mode: 'echo' | 'sink' | 'burst';
  /** `burst` mode: the reply messages per request and their size in bytes. */
  burst?: { count: number; size: number };
  net?: NetOptions;
  /** `UdpServerOptions.io` (default dgram). */
  io?: 'dgram' | 'thread';
  /** `UdpServerOptions.threads` and `notifyDelay` (`io: 'thread'`). */
  threads?: number;
  notifyDelay?: number;
  /** Retry mode of the echoes (default NONE). */
  retry?: 'NONE' | 'RETRY_ON_TIMEOUT';
  /** A root private key (PKCS#8 PEM file) to use instead of a new one: mpgameserver's clients pin its public key file. */
  keyPem?: string;
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
  /** Bytes received (datagram payloads). */
  bytesIn?: number;
  /** Resident set size, bytes. */
  rss?: number;
  handshakesStarted?: number;
  handshakesCompleted?: number;
  handshakesFailed?: number;
  dropRateLimited?: number;
  /** `io: 'thread'`: the socket threads' wake-ups and event-loop notifications so far. */
  wakeups?: number;
  notifications?: number;
  /** `io: 'thread'`: datagrams handed to the kernel and the send messages that carried them (fewer with UDP GSO). */
  datagramsSent?: number;
  sendMessages?: number;
}

class Echo extends EventHandler {
  messages = 0;
  clients = 0;
  /** `burst` mode: the reply and how many times it goes back per message. */
  private readonly burst: { reply: Uint8Array; count: number } | null;
  constructor(
    private readonly echo: boolean,
    private readonly retry: RetryMode,
    burst?: { count: number; size: number },
  ) {
    super();
    this.burst = burst ? { reply: Buffer.alloc(burst.size, 0x5a), count: burst.count } : null;
  }
  override connect(): void {
    this.clients++;
  }
  override disconnect(): void {
    this.clients--;
  }
  override handleMessage(client: ClientHandle, _seq: number, msg: Uint8Array): void {
    this.messages++;
    if (this.burst) for (let i = 0; i < this.burst.count; i++) client.send(this.burst.reply, RetryMode.NONE);
    else if (this.echo) client.send(msg, this.retry);
  }
}

let server: UdpServer | null = null;
let handler: Echo | null = null;

/**
 * The socket threads' counters. `UdpServer` keeps its `ThreadedServer` private (its profile only
 * shows as times in `metrics.profile`); the benchmark reads the counts through the field.
 */
function threadProfile(): Pick<ThreadProfile, 'wakeups' | 'notifications' | 'datagramsSent' | 'sendMessages'> | undefined {
  const threaded = (server as unknown as { threaded: ThreadedServer | null } | null)?.threaded;
  return threaded?.threadProfile();
}

serve({
  start: async (args: ServerStartArgs): Promise<ServerStarted> => {
    const opts = { backend: args.backend };
    const key = args.keyPem ? PrivateKey.fromFile(args.keyPem, opts) : PrivateKey.generate(opts);
    if (args.mode === 'burst' && !args.burst) throw new Error('burst mode needs burst: { count, size }');
    handler = new Echo(args.mode === 'echo', args.retry === 'RETRY_ON_TIMEOUT' ? RetryMode.RETRY_ON_TIMEOUT : RetryMode.NONE, args.mode === 'burst' ? args.burst : undefined);
    const ctx = new ServerContext(handler, key, { ...opts, net: args.net });
    server = new UdpServer(ctx, { host: '127.0.0.1', port: 0 }, {
      ...opts,
      io: args.io,
      ...(args.threads !== undefined ? { threads: args.threads } : {}),
      ...(args.notifyDelay !== undefined ? { notifyDelay: args.notifyDelay } : {}),
      installSignals: false,
      logger: pino({ level: 'warn' }, pino.destination(2)),
    });
    const addr = await server.listen();
    void server.run();
    return { port: addr.port, pid: process.pid, backend: server.backend, spkiHex: Buffer.from(key.publicKey(opts).spki).toString('hex') };
  },
  sample: (): ServerSample => {
    const s = server!.stats;
    const c = process.cpuUsage();
    const tp = threadProfile();
    return {
      t: performance.now(),
      cpuUs: c.user + c.system,
      datagramsIn: s.datagramsIn,
      datagramsOut: s.datagramsOut,
      messagesIn: handler!.messages,
      messagesOut: s.messagesSent,
      clients: handler!.clients,
      drops: s.dropMalformed + s.dropAuthFailed + s.dropReplay + s.dropUnknownConnection + s.dropTooLarge + s.dropRateLimited + s.dropUnexpected,
      bytesIn: s.bytesIn,
      rss: process.memoryUsage.rss(),
      handshakesStarted: s.handshakesStarted,
      handshakesCompleted: s.handshakesCompleted,
      handshakesFailed: s.handshakesFailed,
      dropRateLimited: s.dropRateLimited,
      ...(tp ? { wakeups: tp.wakeups, notifications: tp.notifications, datagramsSent: tp.datagramsSent, sendMessages: tp.sendMessages } : {}),
    };
  },
  exit: async () => {
    await server?.stop();
  },
});
