/** `gamewire keygen` and `gamewire echo`. */
import { chmodSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from '../errors.js';
import {
  EventHandler,
  PrivateKey,
  RetryMode,
  ServerContext,
  UdpServer,
  type ClientHandle,
} from '../net/index.js';

const RETRY: Record<string, RetryMode> = {
  NONE: RetryMode.NONE,
  BEST_EFFORT: RetryMode.BEST_EFFORT,
  RETRY_ON_TIMEOUT: RetryMode.RETRY_ON_TIMEOUT,
};

export const KEYGEN_USAGE = `usage: gamewire keygen --out root.pem [--pub root.pub.pem]

Writes a new P-256 root private key (PKCS#8 PEM, mode 0600) to --out and prints its public key
(SPKI PEM), which clients pin. The files are interchangeable with mpgameserver's genkey.
`;

export async function keygen(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { out: { type: 'string' }, pub: { type: 'string' }, backend: { type: 'string' } } });
  if (!values.out) throw new ConfigError('--out', 'is required (the file to write the private key to)');
  const opts = { backend: values.backend as 'native' | 'wasm' | 'auto' | undefined };
  const key = PrivateKey.generate(opts);
  writeFileSync(values.out, key.toPem(opts), { mode: 0o600 });
  chmodSync(values.out, 0o600);
  const pub = key.publicKey(opts).toPem(opts);
  if (values.pub) writeFileSync(values.pub, pub);
  process.stdout.write(pub);
  return 0;
}

export const ECHO_USAGE = `usage: gamewire echo [--host H] [--port P] [--key root.pem] [--retry MODE] [--dashboard PORT]

An echo server: every message goes back to its sender, with RETRY_ON_TIMEOUT unless --retry
says NONE or BEST_EFFORT. Without --key a root key is made and its public key printed.
Stops gracefully on SIGINT/SIGTERM (clients are told) and exits 0.
  --host       bind address (default 127.0.0.1; '::' for IPv6)
  --port       UDP port (default 0: any free port; the chosen one is printed)
  --dashboard  serve the live dashboard on this TCP port (0: any)
  --backend    native | wasm | auto (default: GAMEWIRE_BACKEND, else auto)
`;

class Echo extends EventHandler {
  constructor(private readonly retry: RetryMode) {
    super();
  }
  override handleMessage(client: ClientHandle, _seq: number, msg: Uint8Array): void {
    client.send(msg, this.retry);
  }
  override connect(client: ClientHandle): void {
    client.log.info('connected');
  }
  override disconnect(client: ClientHandle): void {
    client.log.info({ status: client.status }, 'disconnected');
  }
}

export async function echo(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
      key: { type: 'string' },
      retry: { type: 'string', default: 'RETRY_ON_TIMEOUT' },
      dashboard: { type: 'string' },
      backend: { type: 'string' },
    },
  });
  const retry = RETRY[String(values.retry).toUpperCase()];
  if (retry === undefined) throw new ConfigError('--retry', `must be NONE, BEST_EFFORT or RETRY_ON_TIMEOUT, got ${values.retry}`);
  const port = Number(values.port);
  const opts = { backend: values.backend as 'native' | 'wasm' | 'auto' | undefined };
  const key = values.key ? PrivateKey.fromFile(values.key, opts) : PrivateKey.generate(opts);
  const ctx = new ServerContext(new Echo(retry), key, opts);
  const server = new UdpServer(ctx, { host: String(values.host), port }, { ...opts, installSignals: true });
  const addr = await server.listen();
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  process.stdout.write(`gamewire echo listening on udp://${shown}:${addr.port} (backend ${server.backend}, retry ${values.retry})\n`);
  if (!values.key) process.stdout.write(`root public key (pin it in clients):\n${key.publicKey(opts).toPem(opts)}`);
  if (values.dashboard !== undefined) {
    const withDashboard = server as UdpServer & { enableDashboard?: (a: { host: string; port: number }) => Promise<{ port: number }> };
    if (!withDashboard.enableDashboard) throw new ConfigError('--dashboard', 'this build has no dashboard');
    const d = await withDashboard.enableDashboard({ host: String(values.host) === '::' ? '::' : '127.0.0.1', port: Number(values.dashboard) });
    process.stdout.write(`dashboard on http://127.0.0.1:${d.port}/\n`);
  }
  await server.run();
  return 0;
}
