/**
 * Events: engine event names and payloads, and the per-node listener table.
 *
 * An event is addressed by its sender: a handler registered with `(N, S, E)` receives event `E`
 * sent by the system named `S` in namespace `N`. Engine events come from
 * `(ENGINE_NAMESPACE, ENGINE_SYSTEM_NAME)`.
 */
import type { Logger } from '../../log.js';

/** The namespace engine events are sent from (Apollo: `GetEngineNamespace()`). */
export const ENGINE_NAMESPACE = 'gamewire';
/** The system name engine events are sent from (Apollo: `GetEngineSystemName()`). */
export const ENGINE_SYSTEM_NAME = 'Engine';

/** Apollo-style accessors for the two constants above. */
export function getEngineNamespace(): string {
  return ENGINE_NAMESPACE;
}
export function getEngineSystemName(): string {
  return ENGINE_SYSTEM_NAME;
}

/** Names of the engine events. */
export const EngineEvents = {
  /** Lobby/game/service/proxy: the link to the master came up or went down. */
  MasterConnectStatusEvent: 'MasterConnectStatusEvent',
  /** Lobby/game: a player arrived (login or transfer). */
  AddServerPlayerEvent: 'AddServerPlayerEvent',
  /** Lobby/game: a player left (logout, disconnect, kick or transfer). */
  DelServerPlayerEvent: 'DelServerPlayerEvent',
  /** Lobby/game: a reset began / ended (the master's serverManager.resetServer; data `{ serverId }`). */
  ResetGamesBeginEvent: 'ResetGamesBeginEvent',
  ResetGamesEndEvent: 'ResetGamesEndEvent',
  /** Master: a node registered (or re-registered) / was lost. */
  ServerConnectEvent: 'ServerConnectEvent',
  ServerDisconnectEvent: 'ServerDisconnectEvent',
  /** Client: the login through the proxy finished (ok or refused). */
  LoginResultEvent: 'LoginResultEvent',
  /** Client: the player was moved to another lobby/game. */
  ClientTransferEvent: 'ClientTransferEvent',
  /** Client: the link to the proxy closed (kick, proxy gone, close()). */
  ClientDisconnectEvent: 'ClientDisconnectEvent',
} as const;

/** Event data: a JSON object (Apollo: a dict). */
export type EventData = { [key: string]: unknown };

export interface MasterConnectStatusEventData {
  isConnect: boolean;
}

export interface AddServerPlayerEventData {
  /** The player's id on this server (same as `playerId`; Apollo calls it `id`). */
  id: string;
  playerId: string;
  uid: number;
  /** The proxy the player's client is connected to. */
  proxyId: number;
  protocolVersion: number | null;
  /** True when the player came from another lobby/game by `transferToServer`. */
  isTransfer: boolean;
  /** What the transferring server passed along (null on login). */
  transferParam: unknown;
  /** The server the player came from on a transfer, else null. */
  fromServerId: number | null;
}

export interface DelServerPlayerEventData {
  id: string;
  playerId: string;
  uid: number;
  proxyId: number;
  /** True when the player left for another lobby/game. */
  isTransfer: boolean;
  /** Why the player left: `logout`, `kicked`, `transfer`, `login-elsewhere`, `proxy-lost`, ... */
  reason: string;
}

export interface ServerConnectEventData {
  serverId: number;
  serverType: string;
  /** True when the node had registered before (reconnect or master restart). */
  isReconnect: boolean;
}

export interface ServerDisconnectEventData {
  serverId: number;
  serverType: string;
}

export interface LoginResultEventData {
  ok: boolean;
  uid: number | null;
  playerId: string | null;
  serverId: number | null;
  serverType: string | null;
  reason: string | null;
  /** For a refusal the player should read (a ban): its text (absent otherwise). */
  text?: string;
}

export interface ClientTransferEventData {
  fromServerId: number | null;
  serverId: number;
  serverType: string;
}

export interface ClientDisconnectEventData {
  reason: string;
  /** The text that came with a kick (a ban); absent otherwise. */
  text?: string;
}

export interface ResetGamesEventData {
  serverId: number;
}

/** A listener. May return a Promise; a rejection is logged like a throw. */
export type EventListener<T = EventData> = (data: T) => unknown;

interface Entry {
  fn: EventListener<never>;
  /** For the `(instance, method)` form: the instance, so unListenForEvent can match it. */
  instance: object | null;
  /** Who registered it (a system), so its listeners go when it is destroyed. */
  owner: object | null;
  ownerName: string;
}

const key = (ns: string, sys: string, ev: string) => `${ns}\u0000${sys}\u0000${ev}`;

/**
 * The listener table of one node (or client). Handlers run in registration order; an exception
 * or rejected Promise in one is logged with the node, system and event, and the rest still run.
 */
export class EventDispatcher {
  private readonly table = new Map<string, Entry[]>();
  /** Exceptions thrown by listeners, counted. */
  handlerErrors = 0;

  constructor(private readonly log: Logger) {}

  listen(ns: string, sys: string, ev: string, fn: EventListener<never>, instance: object | null, owner: object | null, ownerName: string): void {
    const k = key(ns, sys, ev);
    let list = this.table.get(k);
    if (!list) this.table.set(k, (list = []));
    if (list.some((e) => e.fn === fn && e.instance === instance)) return; // registering twice is a no-op
    list.push({ fn, instance, owner, ownerName });
  }

  unlisten(ns: string, sys: string, ev: string, fn: EventListener<never>, instance: object | null): boolean {
    const k = key(ns, sys, ev);
    const list = this.table.get(k);
    if (!list) return false;
    const i = list.findIndex((e) => e.fn === fn && e.instance === instance);
    if (i < 0) return false;
    // Copy on write: a dispatch in progress keeps iterating its snapshot.
    const next = list.slice();
    next.splice(i, 1);
    if (next.length === 0) this.table.delete(k);
    else this.table.set(k, next);
    return true;
  }

  /** Drops every listener an owner registered. */
  removeOwner(owner: object): void {
    for (const [k, list] of this.table) {
      const next = list.filter((e) => e.owner !== owner);
      if (next.length === 0) this.table.delete(k);
      else if (next.length !== list.length) this.table.set(k, next);
    }
  }

  /** True if anything listens for `(ns, sys, ev)`. */
  has(ns: string, sys: string, ev: string): boolean {
    return this.table.has(key(ns, sys, ev));
  }

  /** Calls every listener of `(ns, sys, ev)`; returns how many ran. */
  dispatch(ns: string, sys: string, ev: string, data: unknown): number {
    const list = this.table.get(key(ns, sys, ev));
    if (!list) return 0;
    for (const e of list) {
      const ctx = { system: e.ownerName, from: `${ns}.${sys}`, event: ev };
      try {
        const r = e.instance ? (e.fn as (d: unknown) => unknown).call(e.instance, data) : (e.fn as (d: unknown) => unknown)(data);
        if (r && typeof (r as Promise<unknown>).then === 'function') {
          (r as Promise<unknown>).then(undefined, (err: unknown) => this.reportError(err, ctx));
        }
      } catch (err) {
        this.reportError(err, ctx);
      }
    }
    return list.length;
  }

  private reportError(err: unknown, ctx: { system: string; from: string; event: string }): void {
    this.handlerErrors++;
    this.log.error({ err, ...ctx }, 'event listener threw');
  }
}
