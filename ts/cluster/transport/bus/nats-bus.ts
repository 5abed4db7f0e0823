/**
 * The NATS bus: each node holds one connection to a nats-server, through the optional package
 * `@nats-io/transport-node` (loaded when the first node connects; a `MissingDependencyError`
 * naming it when it is not installed). The client reconnects by itself (forever, every
 * `reconnectTimeWait` ms) and keeps subscriptions across reconnects; publishes made while
 * disconnected are buffered and sent after. Queue groups are NATS queue subscriptions.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { loadOptional } from '../../optional-deps.js';
import type { Bus, BusConnection, BusStatus, BusSubscription } from './bus.js';

type NatsTransport = typeof import('@nats-io/transport-node');

/** Loads the NATS client package. @throws MissingDependencyError */
function loadNatsTransport(): Promise<NatsTransport> {
  return loadOptional<NatsTransport>('@nats-io/transport-node', 'the NATS bus');
}

export interface NatsBusOptions {
  /** `nats://host:port`, or several. */
  servers: string | string[];
  /** Milliseconds between reconnect attempts. Default 250. */
  reconnectTimeWait?: number;
  /** Milliseconds between client pings (finds half-open links). Default 5000. */
  pingInterval?: number;
}

export class NatsBus implements Bus {
  readonly kind = 'nats' as const;
  constructor(private readonly opts: NatsBusOptions) {}

  async connect(name: string): Promise<BusConnection> {
    const { connect } = await loadNatsTransport();
    const nc = await connect({
      servers: this.opts.servers,
      name,
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: this.opts.reconnectTimeWait ?? 250,
      reconnectJitter: 50,
      waitOnFirstConnect: true,
      pingInterval: this.opts.pingInterval ?? 5000,
      maxPingOut: 3,
    });
    return new NatsBusConnection(nc, name);
  }
}

class NatsBusConnection implements BusConnection {
  private readonly listeners: Array<(s: BusStatus) => void> = [];
  private connected = true;
  private closing = false;
  /** Publishes refused by a closed connection. */
  dropped = 0;

  constructor(
    private readonly nc: NatsConnection,
    readonly name: string,
  ) {
    void this.watch();
    void nc.closed().then(() => {
      this.connected = false;
      this.emit('closed');
    });
  }

  private async watch(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === 'disconnect') {
        if (this.connected) {
          this.connected = false;
          this.emit('disconnected');
        }
      } else if (s.type === 'reconnect') {
        this.connected = true;
        this.emit('reconnected');
      }
    }
  }

  publish(subject: string, payload: Uint8Array): void {
    try {
      this.nc.publish(subject, payload);
    } catch {
      // Closed or draining: the message is lost, like one to a node that is gone.
      this.dropped++;
    }
  }

  subscribe(subject: string, handler: (payload: Uint8Array) => void, opts?: { queue?: string }): BusSubscription {
    const sub = this.nc.subscribe(subject, {
      ...(opts?.queue ? { queue: opts.queue } : {}),
      callback: (err, msg) => {
        if (!err) handler(msg.data);
      },
    });
    return {
      unsubscribe: () => {
        try {
          sub.unsubscribe();
        } catch {
          // already closed
        }
      },
    };
  }

  onStatus(listener: (s: BusStatus) => void): void {
    this.listeners.push(listener);
  }

  get maxPayload(): number {
    return this.nc.info?.max_payload ?? 1024 * 1024;
  }

  isConnected(): boolean {
    return this.connected && !this.nc.isClosed();
  }

  async flush(): Promise<void> {
    if (this.nc.isClosed()) return;
    await this.nc.flush();
  }

  async close(): Promise<void> {
    if (this.closing) return this.nc.closed().then(() => undefined);
    this.closing = true;
    if (this.nc.isClosed()) return;
    await this.nc.close();
  }

  private emit(s: BusStatus): void {
    for (const l of this.listeners) l(s);
  }
}
