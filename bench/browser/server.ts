/**
 * Child process of the browser benchmark: one `UdpServer` (native, `io: 'thread'`) with UDP,
 * WebTransport and WebSocket players, echoing every message to its sender (RetryMode NONE).
 * Talks to its parent over the IPC channel: it announces where it listens, then answers `sample`
 * with its CPU time (`process.cpuUsage()`: every thread of the process, the socket thread and the
 * WebTransport thread included) and the messages it echoed per transport; `stop` ends it.
 *
 * Argument: the engine's `sendInterval` in seconds (default 1/60, the protocol's pacing of each
 * connection; 0 lifts it).
 *
 * It imports the built package (`gamewire`, dist/): run.ts bundles this file with esbuild into
 * .cache/bench-browser/ (plain JavaScript, no tsx in the measured process).
 */
import { createLogger, EventHandler, PrivateKey, RetryMode, ServerContext, UdpServer, type ClientHandle } from 'gamewire';

export interface BenchServerReady {
  udpPort: number;
  wtUrl: string;
  wtHash: string;
  wsUrl: string;
  pem: string;
}

export interface BenchServerSample {
  /** CPU time of the whole process so far (user + system), µs. */
  cpuUs: number;
  /** Messages echoed so far, per transport. */
  messages: Record<ClientHandle['transport'], number>;
  clients: number;
}

class Echo extends EventHandler {
  readonly messages: BenchServerSample['messages'] = { udp: 0, webtransport: 0, websocket: 0 };
  clients = 0;
  override connect(): void {
    this.clients++;
  }
  override disconnect(): void {
    this.clients--;
  }
  override handleMessage(client: ClientHandle, _seq: number, msg: Uint8Array): void {
    this.messages[client.transport]++;
    client.send(msg, RetryMode.NONE);
  }
}

const handler = new Echo();
const key = PrivateKey.generate();
const sendInterval = Number(process.argv[2] ?? 1 / 60);
const server = new UdpServer(new ServerContext(handler, key, { net: { sendInterval } }), { host: '127.0.0.1', port: 0 }, {
  io: 'thread',
  installSignals: false,
  logger: createLogger({ level: 'warn' }),
  webtransport: { port: 0, host: '127.0.0.1' },
  websocket: { port: 0, host: '127.0.0.1' },
});
const addr = await server.listen();
void server.run();
const ready: BenchServerReady = {
  udpPort: addr.port,
  wtUrl: server.webtransport!.url,
  wtHash: server.webtransport!.certificateHash,
  wsUrl: server.websocket[0].url,
  pem: key.publicKey().toPem(),
};
process.send!({ ready });
process.on('message', (m: { cmd: string }) => {
  if (m.cmd === 'sample') {
    const c = process.cpuUsage();
    const sample: BenchServerSample = { cpuUs: c.user + c.system, messages: { ...handler.messages }, clients: handler.clients };
    process.send!({ sample });
  } else if (m.cmd === 'stop') {
    void server.stop().then(() => process.disconnect());
  }
});
