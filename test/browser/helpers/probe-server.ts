/**
 * A real `UdpServer` for browser tests, with an EventHandler that answers each probe `{ i, mode }`
 * with `re:` + the probe in the same retry mode and records what it sees (connects with their
 * transport, messages, its replies' callbacks, disconnects).
 */
import { EventHandler, PrivateKey, RetryMode, Router, ServerContext, UdpServer, type BackendName, type ClientHandle, type Clock, type CloseReason } from '../../../ts/index.js';
import { captureLogs } from '../../helpers/logs.js';
import { until } from '../../helpers/net.js';

export interface Probe {
  i: number;
  mode: RetryMode;
}

export class ProbeHandler extends EventHandler {
  readonly connected: { token: number; transport: string; host: string }[] = [];
  readonly received: { token: number; probe: Probe; length: number }[] = [];
  /** Callback calls per probe `i` of the server's replies. */
  readonly replyCallbacks = new Map<number, boolean[]>();
  readonly disconnected: { token: number; transport: string; status: number }[] = [];
  readonly clients = new Map<number, ClientHandle>();

  override connect(c: ClientHandle): void {
    this.connected.push({ token: c.token, transport: c.transport, host: c.addr.host });
    this.clients.set(c.token, c);
  }
  override handleMessage(c: ClientHandle, _seq: number, msg: Uint8Array): void {
    const text = new TextDecoder().decode(msg);
    let probe: Probe;
    try {
      probe = JSON.parse(text.slice(0, text.indexOf('}') + 1)) as Probe;
    } catch {
      return; // not a probe (a chat line, a bench message): no answer
    }
    this.received.push({ token: c.token, probe, length: msg.length });
    const reply = new Uint8Array(msg.length + 3);
    reply.set(new TextEncoder().encode('re:'));
    reply.set(msg, 3);
    c.send(reply, probe.mode, (acked) => {
      const calls = this.replyCallbacks.get(probe.i) ?? [];
      calls.push(acked);
      this.replyCallbacks.set(probe.i, calls);
    });
  }
  override disconnect(c: ClientHandle): void {
    this.disconnected.push({ token: c.token, transport: c.transport, status: c.status });
    this.clients.delete(c.token);
  }
}

/** How the server is set up: backend and io, and where its browser transports listen. */
export interface ProbeServerSetup {
  backend: BackendName;
  io: 'thread' | 'dgram';
  webtransport?: boolean;
  /** `own`: the WebSocket on a port of its own; `mounted`: on the listenTcp router at /gamewire. */
  websocket?: 'own' | 'mounted';
  /** The server's clock (default: the real one). */
  clock?: Clock;
  /** Join timeout of both browser transports, seconds (default: the server's). */
  joinTimeout?: number;
  /** WebSocket connections per source address (default: the server's). */
  wsMaxPerAddress?: number;
}

export type ProbeServer = Awaited<ReturnType<typeof startProbeServer>>;

export async function startProbeServer(setup: ProbeServerSetup) {
  const { backend, io } = setup;
  const key = PrivateKey.generate({ backend });
  const handler = new ProbeHandler();
  const logs = captureLogs();
  const ctx = new ServerContext(handler, key, { backend });
  const server = new UdpServer(ctx, { host: '127.0.0.1', port: 0 }, {
    installSignals: false,
    backend,
    io,
    logger: logs.logger,
    ...(setup.clock ? { clock: setup.clock } : {}),
    ...(setup.webtransport ? { webtransport: { port: 0, host: '127.0.0.1', joinTimeout: setup.joinTimeout } } : {}),
    ...(setup.websocket === 'own'
      ? { websocket: { port: 0, host: '127.0.0.1', joinTimeout: setup.joinTimeout, maxPerAddress: setup.wsMaxPerAddress } }
      : setup.websocket === 'mounted'
        ? { websocket: { joinTimeout: setup.joinTimeout, maxPerAddress: setup.wsMaxPerAddress } }
        : {}),
  });
  const running = server.run();
  await until(() => (server as unknown as { state: string }).state === 'running', 5000, 'server running');
  let httpPort = 0;
  if (setup.websocket === 'mounted') {
    const router = new Router().get('/health', () => ({ ok: true }));
    httpPort = (await server.listenTcp(router, { host: '127.0.0.1', port: 0 })).port;
  }
  const ws = server.websocket[0];
  return {
    server,
    handler,
    logs,
    httpPort,
    key,
    publicKeyPem: key.publicKey({ backend }).toPem({ backend }),
    wsUrl: ws ? ws.url : '',
    wtUrl: server.webtransport?.url ?? '',
    wtHash: server.webtransport?.certificateHash ?? '',
    async stop() {
      await server.stop();
      await running;
    },
  };
}

export type { CloseReason };
