/** Helpers for tests over real loopback sockets. */
import { ClientHandle, EventHandler, PrivateKey, RetryMode, ServerContext, UdpClient, UdpServer, type BackendName, type UdpServerOptions } from '../../ts/index.js';

/** Waits until `pred` holds, polling; fails after `ms`. */
export async function until(pred: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An echo handler that records what happens. */
export class EchoHandler extends EventHandler {
  /** `replyMode`: the RetryMode of the echoes (NONE by default, as the seed's server send). */
  constructor(private readonly replyMode: RetryMode = RetryMode.NONE) {
    super();
  }
  readonly events: string[] = [];
  readonly connected = new Map<number, ClientHandle>();
  readonly messages: { token: number; seq: number; data: Buffer }[] = [];
  readonly disconnected: ClientHandle[] = [];
  updates = 0;
  override starting(): void {
    this.events.push('starting');
  }
  override connect(c: ClientHandle): void {
    this.events.push('connect');
    this.connected.set(c.token, c);
  }
  override disconnect(c: ClientHandle): void {
    this.events.push('disconnect');
    this.disconnected.push(c);
    this.connected.delete(c.token);
  }
  override handleMessage(c: ClientHandle, seq: number, msg: Uint8Array): void {
    this.messages.push({ token: c.token, seq, data: Buffer.from(msg) });
    c.send(Buffer.concat([Buffer.from('re:'), msg]), this.replyMode);
  }
  override update(): void {
    this.updates++;
  }
  override shutdown(): void {
    this.events.push('shutdown');
  }
}

/** A running server on 127.0.0.1 and a port picked by the OS. */
export async function startServer(backend: BackendName, handler: EventHandler, setup?: (ctx: ServerContext) => void, opts: UdpServerOptions = {}) {
  const key = PrivateKey.generate({ backend });
  const ctx = new ServerContext(handler, key, { backend });
  setup?.(ctx);
  const server = new UdpServer(ctx, { host: '127.0.0.1', port: 0 }, { installSignals: false, backend, ...opts });
  const running = server.run();
  await until(() => (server as unknown as { state: string }).state === 'running', 5000, 'server running');
  const port = server.address.port;
  const publicKey = key.publicKey({ backend });
  const client = (opts: Record<string, unknown> = {}) => new UdpClient({ backend, rootPublicKey: publicKey, ...opts });
  return { server, ctx, running, port, publicKey, key, client };
}
