/**
 * The master's store in a SQLite file (better-sqlite3). WAL journal, `synchronous = FULL`: a
 * write that returned is on disk, so a ban survives the master process dying right after.
 * `:memory:` gives a private in-memory database (tests that do not care about durability).
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../../../log.js';
import { ConfigError } from '../../../errors.js';
import type { MasterStore, SanctionKind, SanctionRecord } from './store.js';

const SCHEMA_VERSION = 1;

interface Row {
  uid: number;
  ban_time: number;
  ban_timestamp: number;
  reason: string;
  combine: number;
}

export class SqliteStore implements MasterStore {
  readonly kind = 'sqlite' as const;
  private readonly stmts: {
    get: Database.Statement<[string, number], Row>;
    put: Database.Statement<[string, number, number, number, string, number]>;
    del: Database.Statement<[string, number]>;
    list: Database.Statement<[string], Row>;
  };

  private constructor(
    private readonly db: Database.Database,
    readonly location: string,
  ) {
    this.stmts = {
      get: db.prepare('SELECT uid, ban_time, ban_timestamp, reason, combine FROM sanctions WHERE kind = ? AND uid = ?'),
      put: db.prepare(
        'INSERT INTO sanctions (kind, uid, ban_time, ban_timestamp, reason, combine) VALUES (?, ?, ?, ?, ?, ?) ' +
          'ON CONFLICT (kind, uid) DO UPDATE SET ban_time = excluded.ban_time, ban_timestamp = excluded.ban_timestamp, reason = excluded.reason, combine = excluded.combine',
      ),
      del: db.prepare('DELETE FROM sanctions WHERE kind = ? AND uid = ?'),
      list: db.prepare('SELECT uid, ban_time, ban_timestamp, reason, combine FROM sanctions WHERE kind = ? ORDER BY uid'),
    };
  }

  /** Opens (creating if needed) the database at `path`. @throws ConfigError when it cannot. */
  static open(path: string, log: Logger): SqliteStore {
    const location = path === ':memory:' ? path : resolve(path);
    let db: Database.Database;
    try {
      if (location !== ':memory:') mkdirSync(dirname(location), { recursive: true });
      db = new Database(location);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      db.exec(`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS sanctions (
          kind TEXT NOT NULL CHECK (kind IN ('ban', 'mute')),
          uid INTEGER NOT NULL,
          ban_time INTEGER NOT NULL,
          ban_timestamp INTEGER NOT NULL,
          reason TEXT NOT NULL,
          combine INTEGER NOT NULL DEFAULT 0,
          PRIMARY KEY (kind, uid)
        );`);
      const v = db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'schema'").get();
      if (!v) db.prepare("INSERT INTO meta (key, value) VALUES ('schema', ?)").run(String(SCHEMA_VERSION));
      else if (Number(v.value) > SCHEMA_VERSION) throw new Error(`schema version ${v.value} is newer than this gamewire understands (${SCHEMA_VERSION})`);
    } catch (err) {
      throw new ConfigError('store.sqlite', `cannot open the master's SQLite store ${JSON.stringify(location)}: ${(err as Error).message}`, { cause: err });
    }
    log.info({ store: 'sqlite', path: location }, 'master store open');
    return new SqliteStore(db, location);
  }

  async get(kind: SanctionKind, uid: number): Promise<SanctionRecord | null> {
    const r = this.stmts.get.get(kind, uid);
    return r ? toRecord(r) : null;
  }

  async put(kind: SanctionKind, uid: number, rec: SanctionRecord): Promise<void> {
    this.stmts.put.run(kind, uid, rec.banTime, rec.banTimestamp, rec.reason, rec.combineReason ? 1 : 0);
  }

  async delete(kind: SanctionKind, uid: number): Promise<boolean> {
    return this.stmts.del.run(kind, uid).changes > 0;
  }

  async list(kind: SanctionKind): Promise<Array<SanctionRecord & { uid: number }>> {
    return this.stmts.list.all(kind).map((r) => ({ uid: r.uid, ...toRecord(r) }));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

function toRecord(r: Row): SanctionRecord {
  return { banTime: r.ban_time, banTimestamp: r.ban_timestamp, reason: r.reason, combineReason: r.combine !== 0 };
}
