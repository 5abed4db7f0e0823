/**
 * The service: keeps who signed in on which day, and answers the lobby over RPC
 * (registerRpcMethodForMod + responseToServer).
 */
import { ServiceSystem } from 'gamewire/cluster';
import { QueryDailyMethod, SignInMethod } from './const.js';

/** YYYY-MM-DD in UTC. */
export function dayOf(d: Date): string {
  return d.toISOString().slice(0, 10);
}

export class DailyServiceSystem extends ServiceSystem {
  /** The clock (tests move it to the next day). */
  static now: () => Date = () => new Date();

  /** uid → the last day it signed in. */
  readonly lastSignIn = new Map<number, string>();

  constructor(namespace: string, systemName: string) {
    super(namespace, systemName);
    this.registerRpcMethodForMod(QueryDailyMethod, this.onQuery);
    this.registerRpcMethodForMod(SignInMethod, this.onSignIn);
  }

  private readonly onQuery = (serverId: number, callbackId: number, args: { uid: number }) => {
    const today = dayOf(DailyServiceSystem.now());
    this.responseToServer(serverId, callbackId, { today, signedToday: this.lastSignIn.get(args.uid) === today });
  };

  private readonly onSignIn = (serverId: number, callbackId: number, args: { uid: number; valid: string }) => {
    const today = dayOf(DailyServiceSystem.now());
    if (args.valid !== today) {
      // The UI was opened on another day: refuse, the client reopens it.
      this.responseToServer(serverId, callbackId, { ok: false, reason: 'stale-date', today });
      return;
    }
    if (this.lastSignIn.get(args.uid) === today) {
      this.responseToServer(serverId, callbackId, { ok: false, reason: 'already-signed', today });
      return;
    }
    this.lastSignIn.set(args.uid, today);
    this.log.info({ uid: args.uid, day: today }, 'signed in');
    this.responseToServer(serverId, callbackId, { ok: true, reason: null, today });
  };
}
