/**
 * The bus: how nodes reach each other. Two implementations behind one small interface, with the
 * same semantics (the cluster test suite runs on both):
 *
 * - `InProcessBus` (bus/inprocess.ts): every node in one process, no server to install.
 * - `NatsBus` (bus/nats.ts): one connection per node to a nats-server.
 *
 * Semantics (NATS core's, mirrored in process):
 * - `publish` is fire-and-forget, at most once; a subject nobody listens on swallows the message.
 * - every plain subscriber of a subject gets its own copy; among the subscribers of one subject
 *   that share a `queue` name, exactly one gets each message (a queue group: load sharing).
 * - messages from one connection arrive in the order they were published.
 * - delivery is asynchronous: never inside `publish`.
 * - a payload is at most `maxPayload` bytes (the node refuses larger ones with an error);
 * - while a connection is down it receives nothing; what it publishes meanwhile is buffered and
 *   sent when it reconnects. Subscriptions survive a reconnect (never subscribe again).
 */

/** An active subscription. */
export interface BusSubscription {
  unsubscribe(): void;
}

/** What a connection reports about itself. */
export type BusStatus = 'disconnected' | 'reconnected' | 'closed';

/** One node's connection to the bus. */
export interface BusConnection {
  /** The node's name on the bus (for logs and server monitoring). */
  readonly name: string;
  /** The largest payload the bus takes (NATS: the server's max_payload, 1 MiB by default). */
  readonly maxPayload: number;
  publish(subject: string, payload: Uint8Array): void;
  subscribe(subject: string, handler: (payload: Uint8Array) => void, opts?: { queue?: string }): BusSubscription;
  /** Listens for status changes (disconnect, reconnect, close). */
  onStatus(listener: (status: BusStatus) => void): void;
  isConnected(): boolean;
  /** Resolves once what was published so far has reached the bus. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** A bus: opens connections. */
export interface Bus {
  readonly kind: 'inprocess' | 'nats';
  connect(name: string): Promise<BusConnection>;
}

/**
 * Subjects, under a per-cluster prefix so two clusters can share one nats-server:
 *
 * | subject                 | subscribers                               | queue group        |
 * |-------------------------|-------------------------------------------|--------------------|
 * | `P.node.<serverId>`     | that node (events, replies, engine ops)   | none               |
 * | `P.type.<serverType>`   | every lobby/game of that type             | none               |
 * | `P.services`            | every service                             | none               |
 * | `P.mod.<module>`        | services with that module, the master     | `mod.<module>`     |
 * | `P.stype.<serviceType>` | every service of that type                | `stype.<type>`     |
 * | `P.all`                 | every node (the master's announcements)   | none               |
 */
export class Subjects {
  constructor(readonly prefix: string) {}
  node(id: number): string {
    return `${this.prefix}.node.${id}`;
  }
  serverType(type: string): string {
    return `${this.prefix}.type.${type}`;
  }
  services(): string {
    return `${this.prefix}.services`;
  }
  module(module: string): string {
    return `${this.prefix}.mod.${module}`;
  }
  moduleQueue(module: string): string {
    return `mod.${module}`;
  }
  serviceType(type: string): string {
    return `${this.prefix}.stype.${type}`;
  }
  serviceTypeQueue(type: string): string {
    return `stype.${type}`;
  }
  all(): string {
    return `${this.prefix}.all`;
  }
}
