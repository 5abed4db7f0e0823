/**
 * What the master's user API (master-api.ts) and its admin routes (admin-routes.ts) work on: the
 * master node, its state, its lifecycle driver, its store and HTTP server once open, and the few
 * operations of the master role they call. The master role (master-role.ts) provides it.
 */
import type { NodeHost } from '../core/host.js';
import type { Lifecycle } from './lifecycle.js';
import type { MasterHttp } from './master-http.js';
import type { MasterState } from './master-state.js';
import type { Sanctions } from './sanctions.js';

/**
 * A login strategy: decide the lobby/game of `uid` and call `callback(targetId)` exactly once
 * (null or an invalid server refuses the login).
 */
export type LoginStrategy = (uid: number, callback: (targetId: number | null) => void) => void;

export interface MasterContext {
  readonly host: NodeHost;
  readonly state: MasterState;
  readonly lifecycle: Lifecycle;
  /** Bans and mutes (null until the store is open). */
  readonly sanctions: Sanctions | null;
  /** The HTTP server (null until it is open). */
  readonly http: MasterHttp | null;
  /** Disconnects an online player; false when it is not online or the kick could not be sent. */
  kickUid(uid: number, reason: string, text?: string | null): boolean;
  /** Replaces the login strategy (null: the default); false when `fn` is not a function. */
  setLoginStrategy(fn: LoginStrategy | null): boolean;
}
