/**
 * A WebSocket endpoint for browser players: gamewire datagrams as binary WebSocket messages, one
 * message per datagram, unchanged. It listens on a port of its own or takes the upgrades of an
 * existing node:http(s) server at a path (`/gamewire` by default).
 *
 * Rules, each closing the offending connection: a text message (close code 1003); a message
 * larger than `maxDatagram` (1009, enforced by `ws` before the bytes are buffered). Admission:
 * at most `maxConnectionsPerIp` connections per source address and `maxConnections` in all
 * (over it the upgrade gets 503 or 429 and no WebSocket). Backpressure: when a connection's
 * unsent bytes exceed `maxBufferedBytes`, datagrams to it are dropped (the protocol retransmits
 * what matters), so a slow reader never grows the server's memory.
 */
import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { ConfigError, NetworkError } from '../../errors.js';
import { componentLogger, type Logger } from '../../log.js';
import type { DatagramTransport, TransportHandlers, TransportRemote } from './types.js';

/** Options of {@link WebSocketEndpoint.start}. */
export interface WebSocketEndpointOptions {
  /** Where connections are reported. */
  handlers: TransportHandlers;
  /** Listen on a port of its own (0 picks one)... */
  port?: number;
  /** ...on this host (default `0.0.0.0`; `::` for dual-stack). */
  host?: string;
  /** ...or take the upgrades of this existing server (its other requests are left alone). */
  server?: HttpServer | HttpsServer;
  /** Request path of the upgrade (default `/gamewire`); other paths get 404. */
  path?: string;
  /** Largest message accepted, bytes (default 2048, the engine's `maxDatagram`). */
  maxDatagram?: number;
  /** Connections one source address may hold (default 16). */
  maxConnectionsPerIp?: number;
  /** Connections in all (default 65536). */
  maxConnections?: number;
  /** Unsent bytes of one connection past which datagrams to it are dropped (default 256 KiB). */
  maxBufferedBytes?: number;
  logger?: Logger;
}

/** Counters of a WebSocket endpoint. */
export interface WebSocketEndpointStats {
  /** Connections open now. */
  connections: number;
  /** Connections accepted since start. */
  opened: number;
  /** Upgrades refused by the limits. */
  refused: number;
  datagramsIn: number;
  datagramsOut: number;
  /** Datagrams dropped because the connection's send buffer was over `maxBufferedBytes`. */
  droppedBackpressure: number;
  /** Connections closed for breaking the rules (a text message, a message too large). */
  closedForAbuse: number;
}

/** ws close codes: 1001 going away, 1003 unsupported data (a text message). */
const GOING_AWAY = 1001;
const UNSUPPORTED_DATA = 1003;
const MESSAGE_TOO_BIG = 1009;

interface Conn {
  ws: WebSocket;
}

function positiveInt(name: string, value: number | undefined, dflt: number): number {
  if (value === undefined) return dflt;
  if (!Number.isInteger(value) || value <= 0) throw new ConfigError(name, `must be a positive whole number, got ${JSON.stringify(value)}`);
  return value;
}

/** The client's address as the TCP connection shows it; IPv4-mapped IPv6 as IPv4. */
function remoteOf(req: IncomingMessage): TransportRemote {
  const s = req.socket;
  const host = s.remoteAddress ?? '';
  return { host: host.startsWith('::ffff:') ? host.slice(7) : host, port: s.remotePort ?? 0 };
}

/** Refuses an upgrade with a plain HTTP status (no WebSocket is made). */
function refuse(socket: Duplex, status: number, text: string): void {
  if (socket.writable) socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

export class WebSocketEndpoint implements DatagramTransport {
  readonly kind = 'websocket' as const;
  private readonly wss: WebSocketServer;
  private readonly conns = new Map<number, Conn>();
  private readonly perIp = new Map<string, number>();
  private nextKey = 1;
  private stopping: Promise<void> | null = null;
  private readonly counters = { opened: 0, refused: 0, datagramsIn: 0, datagramsOut: 0, droppedBackpressure: 0, closedForAbuse: 0 };
  private readonly onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

  private constructor(
    private readonly opts: Required<Pick<WebSocketEndpointOptions, 'path' | 'maxDatagram' | 'maxConnectionsPerIp' | 'maxConnections' | 'maxBufferedBytes'>>,
    private readonly handlers: TransportHandlers,
    private readonly http: HttpServer | HttpsServer,
    /** True when the endpoint made `http` (and so closes it). */
    private readonly ownsServer: boolean,
    private readonly log: Logger,
  ) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxDatagram, perMessageDeflate: false, clientTracking: false });
    this.onUpgrade = (req, socket, head) => this.upgrade(req, socket, head);
    http.on('upgrade', this.onUpgrade);
  }

  /**
   * Starts the endpoint: on its own port (`port`, `host`) or on `server`'s upgrades.
   * @throws ConfigError for a bad option; NetworkError when the port cannot be bound.
   */
  static async start(options: WebSocketEndpointOptions): Promise<WebSocketEndpoint> {
    if (!options || typeof options.handlers !== 'object' || options.handlers === null) {
      throw new ConfigError('handlers', 'must be an object with onOpen, onDatagram and onClose');
    }
    const path = options.path ?? '/gamewire';
    if (typeof path !== 'string' || !path.startsWith('/')) throw new ConfigError('path', `must start with "/", got ${JSON.stringify(path)}`);
    if (options.server && options.port !== undefined) throw new ConfigError('port', 'give either port (a port of its own) or server (an existing server), not both');
    const opts = {
      path,
      maxDatagram: positiveInt('maxDatagram', options.maxDatagram, 2048),
      maxConnectionsPerIp: positiveInt('maxConnectionsPerIp', options.maxConnectionsPerIp, 16),
      maxConnections: positiveInt('maxConnections', options.maxConnections, 65536),
      maxBufferedBytes: positiveInt('maxBufferedBytes', options.maxBufferedBytes, 256 * 1024),
    };
    const log = componentLogger(options.logger, 'websocket');
    if (options.server) return new WebSocketEndpoint(opts, options.handlers, options.server, false, log);
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError('port', `must be a port number from 0 to 65535, got ${JSON.stringify(port)}`);
    const host = options.host ?? '0.0.0.0';
    const server = createServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' }).end('WebSocket only\n');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        const code = err.code === 'EADDRINUSE' || err.code === 'EADDRNOTAVAIL' || err.code === 'EACCES' ? err.code : 'ERR_SOCKET';
        reject(new NetworkError(code, `websocket: cannot listen on ${host}:${port}: ${err.message}`, { cause: err }));
      });
      server.listen({ host, port }, () => resolve());
    });
    server.on('error', (err) => log.warn({ err }, 'WebSocket server error'));
    const endpoint = new WebSocketEndpoint(opts, options.handlers, server, true, log);
    log.info({ address: endpoint.address, path }, 'WebSocket endpoint listening');
    return endpoint;
  }

  /** The bound address of the endpoint's own port, or of the server it was mounted on. */
  get address(): AddressInfo | null {
    const a = this.http.address();
    return a && typeof a === 'object' ? a : null;
  }

  /** The upgrade path. */
  get path(): string {
    return this.opts.path;
  }

  get stats(): WebSocketEndpointStats {
    return { connections: this.conns.size, ...this.counters };
  }

  send(key: number, bytes: Uint8Array): boolean {
    const c = this.conns.get(key);
    if (!c || c.ws.readyState !== c.ws.OPEN) return false;
    if (c.ws.bufferedAmount > this.opts.maxBufferedBytes) {
      this.counters.droppedBackpressure++;
      return false;
    }
    // A copy: `ws` may hold the buffer until the socket drains, and callers reuse theirs.
    c.ws.send(Buffer.from(bytes), { binary: true });
    this.counters.datagramsOut++;
    return true;
  }

  close(key: number): void {
    this.conns.get(key)?.ws.close(GOING_AWAY, 'closed by the server');
  }

  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.http.off('upgrade', this.onUpgrade);
    const closed = [...this.conns.values()].map(
      (c) =>
        new Promise<void>((resolve) => {
          c.ws.once('close', () => resolve());
          c.ws.close(GOING_AWAY, 'server stopping');
          // A peer that does not answer the close handshake is cut.
          setTimeout(() => c.ws.terminate(), 1000).unref();
        }),
    );
    await Promise.all(closed);
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    if (this.ownsServer) {
      await new Promise<void>((resolve) => {
        this.http.close(() => resolve());
        this.http.closeAllConnections();
      });
    }
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== this.opts.path) {
      // Another upgrade listener may own this path; alone, answer it.
      if (this.http.listenerCount('upgrade') === 1) refuse(socket, 404, 'Not Found');
      return;
    }
    if (this.stopping) return refuse(socket, 503, 'Service Unavailable');
    const remote = remoteOf(req);
    const held = this.perIp.get(remote.host) ?? 0;
    if (this.conns.size >= this.opts.maxConnections) {
      this.counters.refused++;
      return refuse(socket, 503, 'Service Unavailable');
    }
    if (held >= this.opts.maxConnectionsPerIp) {
      this.counters.refused++;
      return refuse(socket, 429, 'Too Many Requests');
    }
    // Counted before the handshake completes, so a burst of upgrades cannot pass the limit;
    // given back when the TCP connection closes, whether or not it became a WebSocket.
    this.perIp.set(remote.host, held + 1);
    socket.once('close', () => {
      const n = (this.perIp.get(remote.host) ?? 1) - 1;
      if (n <= 0) this.perIp.delete(remote.host);
      else this.perIp.set(remote.host, n);
    });
    (socket as Socket).setNoDelay?.(true);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, remote));
  }

  private accept(ws: WebSocket, remote: TransportRemote): void {
    const key = this.nextKey++;
    this.conns.set(key, { ws });
    this.counters.opened++;
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (!isBinary) {
        this.counters.closedForAbuse++;
        ws.close(UNSUPPORTED_DATA, 'binary messages only');
        return;
      }
      this.counters.datagramsIn++;
      const bytes = data as Buffer;
      this.call('onDatagram', key, () => this.handlers.onDatagram(key, bytes));
    });
    ws.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.counters.closedForAbuse++;
      this.log.debug({ err, key }, 'WebSocket connection error');
    });
    ws.once('close', (code: number) => {
      this.conns.delete(key);
      if (code === MESSAGE_TOO_BIG) this.log.debug({ key }, 'closed: a message larger than maxDatagram');
      this.call('onClose', key, () => this.handlers.onClose(key));
    });
    this.call('onOpen', key, () => this.handlers.onOpen(key, remote));
  }

  /** Runs a handler; an exception is logged, never thrown into `ws`. */
  private call(what: string, key: number, f: () => void): void {
    try {
      f();
    } catch (err) {
      this.log.error({ err, key, handler: what }, 'exception in a transport handler');
    }
  }
}
