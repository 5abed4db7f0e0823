/** `gamewire keygen` and `gamewire echo`: the network layer's commands. */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { ConfigError, GamewireError } from '../errors.js';
import { EventHandler, PrivateKey, RetryMode, ServerContext, UdpServer, type ClientHandle } from '../index.js';
import { choiceOption, defineCommand, intOption, numberOption, required, type OptionTable } from './args.js';

const BACKENDS = ['native', 'wasm', 'auto'] as const;

/** The `--backend` option of the network commands. */
const backendOption = { type: 'string', value: 'NAME', help: 'native | wasm | auto (default: GAMEWIRE_BACKEND, else auto)' } as const;

export const keygenCommand = defineCommand({
  name: 'keygen',
  synopsis: ['--out FILE [--pub FILE] [--force]'],
  description:
    'Writes a new P-256 root private key (PKCS#8 PEM, mode 0600) to --out and prints its public key\n(SPKI PEM), which clients pin. The files are interchangeable with mpgameserver\'s genkey.\nAn existing --out file is kept unless --force is given.',
  options: {
    out: { type: 'string', short: 'o', value: 'FILE', help: 'where to write the private key (required)' },
    pub: { type: 'string', value: 'FILE', help: 'also write the public key there' },
    force: { type: 'boolean', help: 'overwrite an existing --out file' },
    backend: backendOption,
  },
  async run(values) {
    const out = required(values.out, 'out', 'FILE (where to write the private key)');
    const opts = { backend: choiceOption(values, 'backend', BACKENDS) };
    const key = PrivateKey.generate(opts);
    try {
      writeFileSync(out, key.toPem(opts), { mode: 0o600, flag: values.force ? 'w' : 'wx' });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new ConfigError('--out', `${out} exists: keygen does not overwrite a key (use --force to replace it)`, { cause: err });
      throw new ConfigError('--out', `cannot write ${out}: ${code ?? (err as Error).message}`, { cause: err });
    }
    chmodSync(out, 0o600);
    const pub = key.publicKey(opts).toPem(opts);
    if (values.pub) {
      try {
        writeFileSync(values.pub, pub);
      } catch (err) {
        throw new ConfigError('--pub', `cannot write ${values.pub}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
      }
    }
    process.stdout.write(pub);
    return 0;
  },
});

const RETRY: Record<string, RetryMode> = {
  NONE: RetryMode.NONE,
  BEST_EFFORT: RetryMode.BEST_EFFORT,
  RETRY_ON_TIMEOUT: RetryMode.RETRY_ON_TIMEOUT,
};

/** The echo server's options: add a row here (and read it in `run`) to add one. */
const ECHO_OPTIONS = {
  host: { type: 'string', value: 'HOST', help: "bind address (default 127.0.0.1; '::' for IPv6)" },
  port: { type: 'string', short: 'p', value: 'PORT', help: 'UDP port (default 0: any free port; the chosen one is printed)' },
  key: { type: 'string', short: 'k', value: 'FILE', help: 'the root private key (PEM); default: a new one, its public key printed' },
  retry: { type: 'string', value: 'MODE', help: 'NONE | BEST_EFFORT | RETRY_ON_TIMEOUT (default)' },
  dashboard: { type: 'string', value: 'PORT', help: 'serve the live dashboard on this TCP port (0: any)' },
  webtransport: { type: 'string', value: 'PORT', help: 'browser players over WebTransport on this UDP port (0: any; native backend)' },
  websocket: { type: 'string', value: 'PORT', help: 'browser players over WebSocket on this TCP port (0: any)' },
  io: { type: 'string', value: 'MODE', help: 'thread (native default) | dgram' },
  threads: { type: 'string', value: 'N', help: 'socket threads sharing the port (io thread, Linux; default 1)' },
  'notify-delay': { type: 'string', value: 'MS', help: 'hold back event-loop wake-ups up to MS after a batch starts (0 to 1)' },
  backend: backendOption,
} satisfies OptionTable;

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

/** Reads a private key file for an option; a ConfigError naming the option and the file otherwise. */
export function readKeyOption(file: string, option: string, opts: { backend?: 'native' | 'wasm' | 'auto' | undefined }): PrivateKey {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(option, `cannot read the key file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  try {
    return PrivateKey.fromPem(pem, opts);
  } catch (err) {
    throw new ConfigError(option, `${file} is not a PEM private key (make one with: gamewire keygen --out ${file}): ${(err as Error).message}`, { cause: err });
  }
}

export const echoCommand = defineCommand({
  name: 'echo',
  synopsis: ['[--host HOST] [--port PORT] [--key FILE] [--retry MODE] [--dashboard PORT]', '[--webtransport PORT] [--websocket PORT] [--io MODE] [--threads N] [--notify-delay MS]'],
  description:
    'An echo server: every message goes back to its sender, with RETRY_ON_TIMEOUT unless --retry\nsays NONE or BEST_EFFORT. Stops gracefully on SIGINT/SIGTERM (clients are told) and exits 0.',
  options: ECHO_OPTIONS,
  async run(values) {
    const host = values.host ?? '127.0.0.1';
    const port = intOption(values, 'port', 0, 65535) ?? 0;
    const dashboard = intOption(values, 'dashboard', 0, 65535);
    const retryName = (values.retry ?? 'RETRY_ON_TIMEOUT').toUpperCase();
    const retry = choiceOption({ retry: retryName }, 'retry', Object.keys(RETRY));
    const opts = { backend: choiceOption(values, 'backend', BACKENDS) };
    const key = values.key ? readKeyOption(values.key, '--key', opts) : PrivateKey.generate(opts);
    const wtPort = intOption(values, 'webtransport', 0, 65535);
    const wsPort = intOption(values, 'websocket', 0, 65535);
    const server = new UdpServer(new ServerContext(new Echo(RETRY[retry!]!), key, opts), { host, port }, {
      ...opts,
      installSignals: true,
      io: choiceOption(values, 'io', ['thread', 'dgram'] as const),
      threads: intOption(values, 'threads', 1, 16),
      notifyDelay: numberOption(values, 'notify-delay', 0, 1),
      webtransport: wtPort === undefined ? undefined : { port: wtPort },
      websocket: wsPort === undefined ? undefined : { port: wsPort },
    });
    let addr;
    try {
      addr = await server.listen();
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw new ConfigError('--port', `cannot listen on udp ${host}:${port}: ${(err as Error).message}`, { cause: err });
    }
    const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    process.stdout.write(`gamewire echo listening on udp://${shown}:${addr.port} (backend ${server.backend}, retry ${retryName})\n`);
    const wt = server.webtransport;
    if (wt) process.stdout.write(`webtransport on ${wt.url} (certificate sha-256 ${wt.certificateHash})\n`);
    for (const ws of server.websocket) process.stdout.write(`websocket on ${ws.url}\n`);
    if (!values.key) process.stdout.write(`root public key (pin it in clients):\n${key.publicKey(opts).toPem(opts)}`);
    if (dashboard !== undefined) {
      const at = { host: host === '::' ? '::' : '127.0.0.1', port: dashboard };
      try {
        const d = await server.enableDashboard(at);
        process.stdout.write(`dashboard on http://127.0.0.1:${d.port}/\n`);
      } catch (err) {
        await server.stop().catch(() => undefined);
        const busy = (err as { code?: unknown }).code === 'EADDRINUSE' || /EADDRINUSE|in use/.test((err as Error).message);
        throw new ConfigError('--dashboard', busy ? `TCP port ${dashboard} is in use` : `cannot serve the dashboard on ${at.host}:${dashboard}: ${(err as Error).message}`, { cause: err });
      }
    }
    try {
      await server.run();
    } catch (err) {
      if (err instanceof GamewireError) throw err;
      throw new GamewireError('ERR_SOCKET', `the echo server stopped: ${(err as Error).message}`, { cause: err });
    }
    return 0;
  },
});
