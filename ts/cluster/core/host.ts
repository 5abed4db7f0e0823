/**
 * The narrow interface between the node core and everything that runs on a node.
 *
 * - `NodeHost` is what a node offers: its identity and config, the bus (events, engine operations,
 *   requests), the engine events, its clock. Role parts (master, proxy, lobby/game, service) and
 *   the systems of mods use nodes only through it; nothing above the core sees `ClusterNode`.
 * - `RolePart` is what a role adds to a node: hooks the core calls at start, stop and
 *   registration. The composition (cluster.ts) gives each node the part of its role.
 * - `RoleKey` names a role part so that the role's own system class can find it on its host
 *   (`host.part(MASTER_ROLE)`) with its type, without the core knowing the role.
 */
import type { Logger } from '../../log.js';
import type { ClusterConfig, NodeEntry, NodeRole, ServerEntry } from '../cluster-config.js';
import type { Subjects } from '../transport/bus/bus.js';
import type { OpMessage } from './bus-messages.js';
import type { Clock } from '../../clock.js';
import type { EventData, EventDispatcher } from './events.js';
import type { RpcCallback, RpcResult } from './rpc.js';
import type { SystemHost } from './system.js';

/** Heartbeat and timeout settings, in seconds. */
export interface NodeTiming {
  /** Seconds between heartbeats to the master (and the master's sweeps). */
  heartbeatInterval: number;
  /** Seconds without a heartbeat answer after which a node and the master consider the link lost. */
  nodeTimeout: number;
  /** Seconds an engine operation (login, transfer, registration) may take. */
  opTimeout: number;
}

/** Counters of one node's bus traffic. */
export interface NodeStats {
  received: number;
  /** Bus messages that did not decode: dropped. */
  malformed: number;
  /** Bus messages seen before (same id): dropped. */
  duplicates: number;
  /** Requests for an event nobody registered here: dropped (the caller times out). */
  unhandledRequests: number;
  /** Events to a target that is not of the right kind, or a player not here: dropped. */
  misaddressed: number;
  /** Player events claiming a sender that is not a client system of any mod: dropped. */
  forged: number;
}

/** An RPC handler: `fn(serverId, callbackId, args)`; answer with `responseToServer(serverId, callbackId, data)`. */
export type RpcHandler<T = EventData> = (serverId: number, callbackId: number, args: T) => unknown;

/** The name (and type) of a role part on a node. */
export class RoleKey<T> {
  /** Only for the type: a RoleKey<A> is not a RoleKey<B>. */
  private declare readonly brand: T;
  constructor(readonly name: string) {}
}

/** What a role adds to a node. Every hook is optional. */
export interface RolePart {
  /** Before the node's systems are built (the master opens its store and its HTTP server). */
  open?(): Promise<void>;
  /** Once the node runs (its systems built, its subscriptions live). */
  start?(): Promise<void> | void;
  /** When the node stops, after its systems were destroyed and before it leaves the master. */
  stop?(): Promise<void> | void;
  /** What the node reports when it registers with the master (its players, its sessions). */
  registration?(): Record<string, unknown>;
  /** Players on (or, for a proxy, through) this node, reported with each heartbeat. */
  load?(): number;
  /** The bus connection came back. */
  busReconnected?(): void;
  /** The master asks the node to stop; `kick`: send its players away first. Resolves when the node may go. */
  beforeShutdown?(kick: boolean, reason: string): Promise<void> | void;
}

/** What a node offers to its role part and its systems. */
export interface NodeHost extends SystemHost {
  readonly kind: 'node';
  readonly config: ClusterConfig;
  readonly serverId: number;
  /** This node's own config entry. */
  readonly entry: NodeEntry;
  readonly role: NodeRole;
  readonly serverType: string;
  readonly timing: NodeTiming;
  readonly clock: Clock;
  /** A fresh random id per start: tells a restarted node from the one before. */
  readonly incarnation: string;
  readonly subjects: Subjects;
  readonly stats: NodeStats;
  /** True while the node runs (started, not stopping). */
  readonly running: boolean;
  readonly events: EventDispatcher;
  readonly log: Logger;

  /** The role part registered under `key`, if this node has it. */
  part<T>(key: RoleKey<T>): T | undefined;

  /** Publishes an event from the system `(ns, sys)` on `subject`. */
  sendEvent(subject: string, ns: string, sys: string, ev: string, data: EventData | undefined): void;
  /** An event to one node, if it has the expected role; otherwise logged, counted and dropped. */
  sendEventToNode(targetId: number, want: 'master' | 'server' | 'service', ns: string, sys: string, ev: string, data: EventData | undefined): void;
  /** Sends an engine operation that wants no answer. */
  sendOp(targetId: number, op: string, body: unknown): void;
  /** Sends an engine operation to every node. */
  broadcastOp(op: string, body: unknown): void;
  /** Sends an engine operation and waits for its answer (`ok: false` on timeout). */
  requestOp<T>(targetId: number, op: string, body: unknown, opts?: { timeout?: number; callback?: RpcCallback<T> }): Promise<RpcResult<T>>;
  /** Answers an engine operation. */
  replyOp(m: OpMessage, body: unknown): void;
  /** Registers the handler of an engine operation. */
  onOp(op: string, fn: (m: OpMessage) => void): void;
  /** Fires an engine event on this node. */
  fireEngineEvent(ev: string, data: object): void;
  /** Checks the sender a player's event claims; counts and logs a forged one. */
  acceptFromClient(ns: string, sys: string, ev: string): boolean;

  /** Sends a request to one node of a module or of a service type. */
  request<T>(route: { module: string } | { serviceType: string }, ev: string, data: unknown, callback: RpcCallback<T> | undefined, timeout: number | undefined): Promise<RpcResult<T>>;
  /** Answers request `callbackId` of node `serverId` (responseToServer). */
  respond(serverId: number, callbackId: number, data: unknown): void;
  /** Registers the handler of `event` of `module`. */
  registerModuleHandler(module: string, event: string, fn: RpcHandler<never>, owner: string): void;
  /** Registers the handler of `event` for requests by this service's type. */
  registerTypeHandler(event: string, fn: RpcHandler<never>, owner: string): void;

  /** Lobby/game entries of a type. */
  serversOfType(type: string): ServerEntry[];
  /** Destroys this node's systems and builds them again (a lobby/game reset). */
  rebuildSystems(): void;
  /** Asks this node's owner to stop it. */
  requestStop(): void;
}
