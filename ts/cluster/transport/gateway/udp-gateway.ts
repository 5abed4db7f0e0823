/**
 * The players' transport: gamewire's encrypted UDP protocol (the network layer), as a cluster `Gateway`.
 * A proxy node listens with a `UdpServer`; a game client links with a `UdpClient`. Every envelope
 * goes as one RETRY_ON_TIMEOUT message (fragmented above 1432 bytes by the protocol).
 *
 * The proxies' root key: the config's `gateway.root_key` (a PEM file path), else the file named
 * by `GAMEWIRE_PROXY_KEY`, else a key made at start-up (fine when the clients are created from
 * the same gateway object, e.g. in-process bots; processes that connect from elsewhere must pin
 * the public key of a key file they share with the proxies). See docs/cluster.md.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BackendChoice } from '../../../backend/index.js';
import { ConfigError, GamewireError } from '../../../errors.js';
import type { Logger } from '../../../log.js';
import { EventHandler, PrivateKey, PublicKey, RetryMode, ServerContext, UdpClient, UdpServer, type ClientHandle } from '../../../index.js';
import { configPath, type ClusterConfig } from '../../cluster-config.js';
import type { Gateway, GatewayAddress, GatewayHandler, GatewayListener, GatewayListenOptions, PlayerConnection, ProxyLink } from './gateway.js';

export interface UdpGatewayOptions {
  /** The proxies' root private key (needed to listen). */
  rootKey?: PrivateKey;
  /** The key clients pin (defaults to the public half of `rootKey`). */
  rootPublicKey?: PublicKey;
  backend?: BackendChoice;
  /** The logger of the clients' UdpClients (default: gamewire's). A proxy's UdpServer logs through the proxy's logger. */
  logger?: Logger;
  /** Called with each proxy's UdpServer once it listens (e.g. to `enableDashboard` on it). */
  onListen?: (server: UdpServer) => void | Promise<void>;
}

/** The UDP gateway, with the public key its links pin. */
export interface UdpGateway extends Gateway {
  readonly publicKey: PublicKey | null;
}

class Bridge extends EventHandler {
  readonly conns = new Map<ClientHandle, PlayerConnection>();
  constructor(private readonly handler: GatewayHandler) {
    super();
  }
  override connect(client: ClientHandle): void {
    const conn: PlayerConnection = {
      token: client.token,
      send: (bytes) => client.send(bytes, RetryMode.RETRY_ON_TIMEOUT),
      disconnect: () => client.disconnect(),
    };
    this.conns.set(client, conn);
    this.handler.onConnect(conn);
  }
  override handleMessage(client: ClientHandle, _seq: number, msg: Uint8Array): void {
    const conn = this.conns.get(client);
    if (conn) this.handler.onMessage(conn, msg);
  }
  override disconnect(client: ClientHandle): void {
    const conn = this.conns.get(client);
    if (!conn) return;
    this.conns.delete(client);
    this.handler.onDisconnect(conn);
  }
}

class UdpLink implements ProxyLink {
  private readonly client: UdpClient;
  private closed = false;
  private readonly closeListeners: ((reason: string) => void)[] = [];

  constructor(pinned: PublicKey, backend: BackendChoice | undefined, logger: Logger | undefined) {
    this.client = new UdpClient({ rootPublicKey: pinned, backend, logger });
    this.client.on('disconnected', (_status, reason) => this.fireClose(reason));
  }

  private fireClose(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    // Never inside a call of ours: on the event loop.
    setImmediate(() => this.closeListeners.forEach((l) => l(reason)));
  }

  async connect(host: string, port: number, opts: { timeout?: number } = {}): Promise<void> {
    await this.client.connect(host, port, opts);
  }
  send(bytes: Uint8Array): void {
    this.client.send(bytes, RetryMode.RETRY_ON_TIMEOUT);
  }
  onMessage(listener: (bytes: Uint8Array) => void): void {
    this.client.on('message', (_seq, msg) => listener(msg));
  }
  onClose(listener: (reason: string) => void): void {
    this.closeListeners.push(listener);
  }
  async close(): Promise<void> {
    await this.client.disconnect();
    this.fireClose('local');
  }
}

/** A UDP gateway with explicit keys. */
export function createUdpGateway(opts: UdpGatewayOptions = {}): UdpGateway {
  const backend = opts.backend;
  const publicKey = opts.rootPublicKey ?? opts.rootKey?.publicKey({ backend }) ?? null;
  return {
    name: 'udp',
    publicKey,
    async listen(addr: GatewayAddress, handler: GatewayHandler, listenOpts: GatewayListenOptions = {}): Promise<GatewayListener> {
      if (!opts.rootKey) throw new GamewireError('ERR_NO_GATEWAY', 'this UDP gateway has no rootKey: it can make client links but not listen');
      const bridge = new Bridge(handler);
      const ctx = new ServerContext(bridge, opts.rootKey, { backend });
      const b = listenOpts.browser;
      const server = new UdpServer(ctx, addr, {
        installSignals: false,
        backend,
        logger: listenOpts.logger,
        websocket: b?.websocketPort === undefined ? undefined : { port: b.websocketPort, host: addr.host },
        webtransport: b?.webtransportPort === undefined ? undefined : { port: b.webtransportPort, host: addr.host },
      });
      const bound = await server.listen();
      const running = server.run();
      await opts.onListen?.(server);
      const wt = server.webtransport;
      const ws = server.websocket[0];
      return {
        address: { host: bound.address, port: bound.port },
        browser: b && { websocket: ws?.url, webtransport: wt?.url, certificateHash: wt?.certificateHash },
        async close() {
          await server.stop();
          await running;
        },
      };
    },
    createLink(): ProxyLink {
      if (!publicKey) throw new GamewireError('ERR_NO_GATEWAY', "this UDP gateway has neither rootPublicKey nor rootKey: clients need the proxies' public key to pin");
      return new UdpLink(publicKey, backend, opts.logger);
    },
  };
}

/**
 * The default gateway of a cluster config: the proxies' root key from `gateway.root_key` (a PEM
 * file, relative to the config file), else from the file named by `GAMEWIRE_PROXY_KEY`, else a
 * key made now.
 * @throws ConfigError naming the field (or the variable) and the file when the key cannot be read.
 */
export function createGateway(config: ClusterConfig): UdpGateway {
  const backend = config.gateway.backend ?? undefined;
  const named = config.gateway.root_key;
  const env = process.env.GAMEWIRE_PROXY_KEY?.trim();
  if (!named && !env) return createUdpGateway({ rootKey: PrivateKey.generate({ backend }), backend });
  const field = named ? 'gateway.root_key' : 'GAMEWIRE_PROXY_KEY';
  const file = named ? configPath(config, named) : resolve(env!);
  const where = named && config.source ? ` (named in ${config.source})` : '';
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(field, `cannot read the proxies' root key ${file}${where}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  let rootKey: PrivateKey;
  try {
    rootKey = PrivateKey.fromPem(pem, { backend });
  } catch (err) {
    throw new ConfigError(field, `${file}${where} is not a PEM private key (make one with: gamewire keygen --out ${file}): ${(err as Error).message}`, { cause: err });
  }
  return createUdpGateway({ rootKey, backend });
}
