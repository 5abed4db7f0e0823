/**
 * Bans and mutes, over a MasterStore:
 *
 * - times in seconds; `-1` is permanent; a ban of `banTime > 0` ends at `banTimestamp + banTime`
 *   (whole seconds: it lasts at least `banTime`, at most one second more; an ended one reads as
 *   "not banned" and is removed);
 * - info is `{ banTime, banTimestamp, reason }`, `{}` when there is none, `null` when the store
 *   failed;
 * - a banned player's login is refused with the ban text (`banLoginText`).
 */
import type { Logger } from '../../log.js';
import { unixSeconds, type Clock } from '../../clock.js';
import type { MasterStore, SanctionKind, SanctionRecord } from './store/store.js';

/** What getBanUserInfo / getUserSilentInfo give for a ban or mute in force. */
export interface SanctionInfo {
  banTime: number;
  banTimestamp: number;
  reason: string;
}

/** What getBanUserInfo / getUserSilentInfo give: a dict, `{}` (none), or null (the lookup failed). */
export type SanctionInfoResult = SanctionInfo | Record<string, never> | null;

/**
 * The text a banned player sees when logging in (Apollo's wording). `combineReason` false:
 * the reason alone. Remaining time is rounded up to the minute (at least 1).
 */
export function banLoginText(rec: SanctionRecord, nowSeconds: number): string {
  if (!rec.combineReason) return rec.reason;
  if (rec.banTime === -1) {
    return `Your account has been permanently banned, ban reason: ${rec.reason}. If you have any questions, please go to the customer service area to give feedback`;
  }
  const left = Math.max(0, rec.banTimestamp + rec.banTime - nowSeconds);
  // Rounded up; a player still banned never reads "0 minutes".
  const minutes = Math.max(1, Math.ceil(left / 60));
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  return `Your account has been banned, the remaining ban time: ${d} days ${h} hours ${m} minutes, ban reason: ${rec.reason}. If you have any questions, please go to the customer service area for feedback`;
}

/** True if `uid` is an integer uid (a safe integer). */
export function isUid(uid: unknown): uid is number {
  return typeof uid === 'number' && Number.isSafeInteger(uid);
}

/**
 * Has a timed ban ended? Timestamps are whole seconds, so a ban that began at t0 is stamped
 * floor(t0); it ends once the clock has passed the whole second after `banTimestamp + banTime`:
 * it lasts at least `banTime` seconds (at most one more), never less.
 */
function ended(rec: SanctionRecord, nowSeconds: number): boolean {
  return rec.banTimestamp + rec.banTime < nowSeconds;
}

function validTime(t: unknown): t is number {
  return typeof t === 'number' && Number.isSafeInteger(t) && (t > 0 || t === -1);
}

export class Sanctions {
  readonly stats = { bans: 0, unbans: 0, mutes: 0, unmutes: 0, refusedLogins: 0, storeErrors: 0 };

  constructor(
    readonly store: MasterStore,
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {}

  /** Unix seconds now. */
  now(): number {
    return unixSeconds(this.clock);
  }

  /** Stores a ban or mute. Resolves false for bad arguments or when the store failed. */
  async set(kind: SanctionKind, uid: number, banTime: number, reason: string, combineReason: boolean): Promise<boolean> {
    if (!isUid(uid) || !validTime(banTime) || typeof reason !== 'string') {
      this.log.warn({ kind, uid, banTime }, `${kind}: bad arguments (uid an integer, banTime > 0 or -1, reason a string)`);
      return false;
    }
    const rec: SanctionRecord = { banTime, banTimestamp: this.now(), reason, combineReason: !!combineReason };
    try {
      await this.store.put(kind, uid, rec);
    } catch (err) {
      this.stats.storeErrors++;
      this.log.error({ err, kind, uid }, `${kind}: the store failed`);
      return false;
    }
    if (kind === 'ban') this.stats.bans++;
    else this.stats.mutes++;
    this.log.info({ kind, uid, banTime, reason }, kind === 'ban' ? 'user banned' : 'user muted');
    return true;
  }

  /** Removes a ban or mute (true also when there was none). False when the store failed. */
  async clear(kind: SanctionKind, uid: number): Promise<boolean> {
    if (!isUid(uid)) return false;
    try {
      const had = await this.store.delete(kind, uid);
      if (had) {
        if (kind === 'ban') this.stats.unbans++;
        else this.stats.unmutes++;
        this.log.info({ kind, uid }, kind === 'ban' ? 'user unbanned' : 'user unmuted');
      }
      return true;
    } catch (err) {
      this.stats.storeErrors++;
      this.log.error({ err, kind, uid }, `un${kind}: the store failed`);
      return false;
    }
  }

  /** The record in force for `uid`, or null (an ended one is removed). Rejects when the store fails. */
  async active(kind: SanctionKind, uid: number): Promise<SanctionRecord | null> {
    const rec = await this.store.get(kind, uid);
    if (!rec) return null;
    if (rec.banTime !== -1 && ended(rec, this.now())) {
      await this.store.delete(kind, uid).catch(() => false);
      return null;
    }
    return rec;
  }

  /** The info of getBanUserInfo / getUserSilentInfo: a dict, `{}` (none) or null (failed). Never rejects. */
  async info(kind: SanctionKind, uid: number): Promise<SanctionInfoResult> {
    if (!isUid(uid)) return null;
    try {
      const rec = await this.active(kind, uid);
      return rec ? { banTime: rec.banTime, banTimestamp: rec.banTimestamp, reason: rec.reason } : {};
    } catch (err) {
      this.stats.storeErrors++;
      this.log.error({ err, kind, uid }, `${kind} info: the store failed`);
      return null;
    }
  }

  /** Every ban or mute in force. */
  async listActive(kind: SanctionKind): Promise<Array<SanctionInfo & { uid: number }>> {
    const now = this.now();
    return (await this.store.list(kind))
      .filter((r) => r.banTime === -1 || !ended(r, now))
      .map((r) => ({ uid: r.uid, banTime: r.banTime, banTimestamp: r.banTimestamp, reason: r.reason }));
  }
}
