/**
 * The in-process bus: a broker in this process that behaves like NATS core (see bus.ts) so the
 * same cluster runs unchanged on both. Payloads are bytes, as on NATS, so nothing is shared by
 * reference between nodes.
 *
 * Queue groups pick members round-robin (NATS picks at random; both spread the load and neither
 * promises more). Tests can take one connection down and up again with `simulateDisconnect()` /
 * `simulateReconnect()`, as a nats-server restart would.
 */
import type { Bus, BusConnection, BusStatus, BusSubscription } from './bus.js';

interface Sub {
  conn: InProcessConnection;
  subject: string;
  queue: string | null;
  handler: (payload: Uint8Array) => void;
  active: boolean;
}

export class InProcessBus implements Bus {
  readonly kind = 'inprocess' as const;
  private readonly subs = new Map<string, Sub[]>();
  private readonly rr = new Map<string, number>();
  private readonly queue: Array<{ sub: Sub; payload: Uint8Array }> = [];
  private scheduled = false;
  /** Messages published, and messages that found no subscriber. */
  readonly stats = { published: 0, unrouted: 0 };

  async connect(name: string): Promise<BusConnection> {
    return new InProcessConnection(this, name);
  }

  /** @internal */
  addSub(sub: Sub): void {
    let list = this.subs.get(sub.subject);
    if (!list) this.subs.set(sub.subject, (list = []));
    list.push(sub);
  }

  /** @internal */
  removeSub(sub: Sub): void {
    sub.active = false;
    const list = this.subs.get(sub.subject);
    if (!list) return;
    const i = list.indexOf(sub);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.subs.delete(sub.subject);
  }

  /** @internal Routes one message: every plain subscriber, one member per queue group. */
  route(subject: string, payload: Uint8Array): void {
    this.stats.published++;
    const list = (this.subs.get(subject) ?? []).filter((s) => s.active && s.conn.isConnected());
    if (list.length === 0) {
      this.stats.unrouted++;
      return;
    }
    const groups = new Map<string, Sub[]>();
    for (const s of list) {
      if (s.queue === null) this.enqueue(s, payload);
      else {
        let g = groups.get(s.queue);
        if (!g) groups.set(s.queue, (g = []));
        g.push(s);
      }
    }
    for (const [q, members] of groups) {
      const k = `${subject}\u0000${q}`;
      const n = this.rr.get(k) ?? 0;
      this.rr.set(k, n + 1);
      this.enqueue(members[n % members.length]!, payload);
    }
  }

  private enqueue(sub: Sub, payload: Uint8Array): void {
    this.queue.push({ sub, payload: payload.slice() });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  private drain(): void {
    this.scheduled = false;
    const batch = this.queue.splice(0, this.queue.length);
    for (const { sub, payload } of batch) {
      // Checked at delivery time too: a connection that went down meanwhile gets nothing.
      if (!sub.active || !sub.conn.isConnected()) continue;
      try {
        sub.handler(payload);
      } catch {
        // A subscriber's handler is the node's; it fences its own errors. Nothing to do here.
      }
    }
  }
}

/** NATS' default max_payload, mirrored. */
export const IN_PROCESS_MAX_PAYLOAD = 1024 * 1024;

export class InProcessConnection implements BusConnection {
  readonly maxPayload = IN_PROCESS_MAX_PAYLOAD;
  private connected = true;
  private closed = false;
  private readonly mySubs = new Set<Sub>();
  private readonly pending: Array<{ subject: string; payload: Uint8Array }> = [];
  private readonly listeners: Array<(s: BusStatus) => void> = [];

  constructor(
    private readonly broker: InProcessBus,
    readonly name: string,
  ) {}

  publish(subject: string, payload: Uint8Array): void {
    if (this.closed) return;
    if (!this.connected) {
      this.pending.push({ subject, payload: payload.slice() });
      return;
    }
    this.broker.route(subject, payload);
  }

  subscribe(subject: string, handler: (payload: Uint8Array) => void, opts?: { queue?: string }): BusSubscription {
    const sub: Sub = { conn: this, subject, queue: opts?.queue ?? null, handler, active: true };
    if (this.closed) return { unsubscribe() {} };
    this.mySubs.add(sub);
    this.broker.addSub(sub);
    return {
      unsubscribe: () => {
        this.mySubs.delete(sub);
        this.broker.removeSub(sub);
      },
    };
  }

  onStatus(listener: (s: BusStatus) => void): void {
    this.listeners.push(listener);
  }

  isConnected(): boolean {
    return this.connected && !this.closed;
  }

  async flush(): Promise<void> {
    await new Promise<void>((r) => setImmediate(r));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.connected = false;
    for (const s of this.mySubs) this.broker.removeSub(s);
    this.mySubs.clear();
    this.pending.length = 0;
    this.emit('closed');
  }

  /** Test hook: the connection drops (as when the nats-server goes away). */
  simulateDisconnect(): void {
    if (!this.connected || this.closed) return;
    this.connected = false;
    setImmediate(() => this.emit('disconnected'));
  }

  /** Test hook: the connection comes back; buffered publishes go out, subscriptions still hold. */
  simulateReconnect(): void {
    if (this.connected || this.closed) return;
    this.connected = true;
    for (const { subject, payload } of this.pending.splice(0)) this.broker.route(subject, payload);
    setImmediate(() => this.emit('reconnected'));
  }

  private emit(s: BusStatus): void {
    for (const l of this.listeners) l(s);
  }
}
