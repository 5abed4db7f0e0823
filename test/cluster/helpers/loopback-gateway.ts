/**
 * TEST TRANSPORT, not shipped: an in-memory gateway (ts/cluster/gateway.ts) for player-flow tests
 * in one process. Each `createLoopbackGateway()` is its own address space. Delivery is
 * asynchronous and ordered; with `chaos` it also reorders and duplicates messages, as the UDP
 * layer's retries may, to exercise the envelope's sequence numbers.
 */
import type { Gateway, GatewayAddress, GatewayHandler, GatewayListener, PlayerConnection, ProxyLink } from '../../../ts/cluster/index.js';

export interface LoopbackOptions {
  /** Reorder and duplicate some messages (both directions). */
  chaos?: boolean;
}

type Deliver = () => void;

/**
 * An ordered async queue. With chaos, runs of data messages are sometimes reversed and some
 * repeat; connect/close events are barriers that never move.
 */
class Pipe {
  private q: Array<{ run: Deliver; data: boolean }> = [];
  private scheduled = false;
  constructor(private readonly chaos: boolean) {}
  push(run: Deliver, data = false): void {
    this.q.push({ run, data });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }
  private flush(): void {
    this.scheduled = false;
    const batch = this.q.splice(0);
    let run: Array<{ run: Deliver; data: boolean }> = [];
    const flushRun = () => {
      if (this.chaos && run.length > 1 && Math.random() < 0.5) run.reverse();
      for (const item of run) {
        item.run();
        if (this.chaos && Math.random() < 0.2) item.run();
      }
      run = [];
    };
    for (const item of batch) {
      if (item.data) run.push(item);
      else {
        flushRun();
        item.run();
      }
    }
    flushRun();
  }
}

interface ListenerState {
  handler: GatewayHandler;
  conns: Set<LoopbackConnection>;
}

class LoopbackConnection implements PlayerConnection {
  readonly token = Math.floor(Math.random() * 0x7fffffff);
  closed = false;
  constructor(
    readonly link: LoopbackLink,
    readonly listener: ListenerState,
    readonly toServer: Pipe,
    readonly toClient: Pipe,
  ) {}
  send(bytes: Uint8Array): void {
    if (this.closed) return;
    const copy = bytes.slice();
    this.toClient.push(() => this.link.deliver(copy), true);
  }
  disconnect(): void {
    this.close('disconnected by proxy');
  }
  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.listener.conns.delete(this);
    this.toServer.push(() => this.listener.handler.onDisconnect(this));
    this.toClient.push(() => this.link.closed(reason));
  }
}

class LoopbackLink implements ProxyLink {
  private conn: LoopbackConnection | null = null;
  private readonly msgListeners: Array<(b: Uint8Array) => void> = [];
  private readonly closeListeners: Array<(r: string) => void> = [];
  private didClose = false;

  constructor(
    private readonly space: Map<string, ListenerState>,
    private readonly chaos: boolean,
  ) {}

  async connect(host: string, port: number): Promise<void> {
    const l = this.space.get(`${host}:${port}`);
    if (!l) throw new Error(`loopback: nothing listens on ${host}:${port}`);
    const conn = new LoopbackConnection(this, l, new Pipe(this.chaos), new Pipe(this.chaos));
    this.conn = conn;
    l.conns.add(conn);
    conn.toServer.push(() => l.handler.onConnect(conn));
    await new Promise((r) => setImmediate(r));
  }

  send(bytes: Uint8Array): void {
    const c = this.conn;
    if (!c || c.closed) return;
    const copy = bytes.slice();
    c.toServer.push(() => c.listener.handler.onMessage(c, copy), true);
  }

  onMessage(listener: (bytes: Uint8Array) => void): void {
    this.msgListeners.push(listener);
  }

  onClose(listener: (reason: string) => void): void {
    this.closeListeners.push(listener);
  }

  async close(): Promise<void> {
    if (this.conn) this.conn.close('closed by client');
    else this.closed('closed by client');
    await new Promise((r) => setImmediate(r));
  }

  deliver(bytes: Uint8Array): void {
    if (this.didClose) return;
    for (const l of this.msgListeners) l(bytes);
  }

  closed(reason: string): void {
    if (this.didClose) return;
    this.didClose = true;
    for (const l of this.closeListeners) l(reason);
  }
}

export function createLoopbackGateway(opts: LoopbackOptions = {}): Gateway {
  const space = new Map<string, ListenerState>();
  let nextPort = 40000;
  const chaos = opts.chaos ?? false;
  return {
    name: chaos ? 'loopback-chaos' : 'loopback',
    async listen(addr: GatewayAddress, handler: GatewayHandler): Promise<GatewayListener> {
      const port = addr.port === 0 ? nextPort++ : addr.port;
      const key = `${addr.host}:${port}`;
      if (space.has(key)) throw new Error(`loopback: ${key} is in use`);
      const state: ListenerState = { handler, conns: new Set() };
      space.set(key, state);
      return {
        address: { host: addr.host, port },
        async close() {
          space.delete(key);
          for (const c of [...state.conns]) c.close('proxy closed');
          await new Promise((r) => setImmediate(r));
        },
      };
    },
    createLink(): ProxyLink {
      return new LoopbackLink(space, chaos);
    },
  };
}
