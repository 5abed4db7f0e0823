/**
 * The master's durable state: bans and mutes (banUser / silentByUid). Kept apart from
 * the API (api.ts) and the in-memory registry (registry.ts) behind one interface with two
 * implementations, chosen by the config's `store`:
 *
 * | `store.type` | where                                            | survives                              |
 * |--------------|--------------------------------------------------|---------------------------------------|
 * | `sqlite`     | a SQLite file (`store.sqlite`), better-sqlite3    | master restarts on the same machine   |
 * | `nats-kv`    | a JetStream KV bucket (`store.bucket`) on the bus's nats-server (`store.replicas` copies in a NATS cluster) | losing the master's machine |
 *
 * Without `store.type`: `sqlite` when every node runs in one process (the embedded mode,
 * `Cluster.start`), `nats-kv` when the master runs in a process of its own (`Cluster.startNode`).
 *
 * The online list is not stored: nodes report their players when they register again with a
 * restarted master (node.ts, MasterLink).
 */
import type { StoreType } from '../../cluster-config.js';

/** What is stored: a ban (login refused) or a mute (the API calls it "silent"). */
export type SanctionKind = 'ban' | 'mute';

/** One ban or mute, as getBanUserInfo gives it, plus how the login text is built. */
export interface SanctionRecord {
  /** Seconds; -1: permanent. */
  banTime: number;
  /** Unix seconds when it began; it ends at banTimestamp + banTime (unless permanent). */
  banTimestamp: number;
  reason: string;
  /** Bans: build the login text from the ban template (true) or show `reason` alone (false). */
  combineReason: boolean;
}

/** Durable storage of the master's sanctions. Every method may reject (I/O, the nats-server gone). */
export interface MasterStore {
  readonly kind: StoreType;
  /** Where the data lives: a file path, or `nats-kv:<bucket>`. */
  readonly location: string;
  get(kind: SanctionKind, uid: number): Promise<SanctionRecord | null>;
  put(kind: SanctionKind, uid: number, record: SanctionRecord): Promise<void>;
  /** Resolves true if something was removed. */
  delete(kind: SanctionKind, uid: number): Promise<boolean>;
  /** Every stored record of a kind (expired ones included). */
  list(kind: SanctionKind): Promise<Array<SanctionRecord & { uid: number }>>;
  close(): Promise<void>;
}

/** Checks a record read back from storage. */
export function isSanctionRecord(v: unknown): v is SanctionRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return Number.isInteger(r.banTime) && Number.isInteger(r.banTimestamp) && typeof r.reason === 'string' && typeof r.combineReason === 'boolean';
}
