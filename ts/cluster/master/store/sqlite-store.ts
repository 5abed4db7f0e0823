/**
 * The master's store in a SQLite file. WAL journal, `synchronous = FULL`: a write that returned is
 * on disk, so a ban survives the master process dying right after.
 *
 * The SQLite module: Node's built-in `node:sqlite` where the running Node has it (22.13+ and
 * 23.4+ without a flag), else the optional package `better-sqlite3` (a `MissingDependencyError`
 * naming it when it is not installed). Both are driven through the few calls below.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError, MissingDependencyError } from '../../../errors.js';
import type { Logger } from '../../../log.js';
import { loadOptional, optionalDeps } from '../../optional-deps.js';
import type { MasterStore, SanctionKind, SanctionRecord } from './store.js';

const SCHEMA_VERSION = 1;

interface Row {
  uid: number;
  ban_time: number;
  ban_timestamp: number;
  reason: string;
  combine: number;
}

/** What the store needs of a SQLite statement (node:sqlite's StatementSync and better-sqlite3's Statement both have it). */
interface Statement {
  get(...params: Array<string | number>): unknown;
  all(...params: Array<string | number>): unknown[];
  run(...params: Array<string | number>): { changes: number | bigint };
}

/** What the store needs of a SQLite database (node:sqlite's DatabaseSync and better-sqlite3's Database). */
interface Database {
  exec(sql: string): unknown;
  prepare(sql: string): Statement;
  close(): unknown;
}

type DatabaseClass = new (path: string) => Database;

/** The SQLite module to use: `node:sqlite` when this Node has it, else better-sqlite3. */
async function sqliteModule(): Promise<{ name: string; Database: DatabaseClass }> {
  try {
    const builtin = (await optionalDeps.load('node:sqlite')) as { DatabaseSync?: DatabaseClass };
    if (builtin.DatabaseSync) return { name: 'node:sqlite', Database: builtin.DatabaseSync };
  } catch {
    // This Node has no node:sqlite (Node 20, or 22 before 22.13 without --experimental-sqlite).
  }
  const mod = await loadOptional<{ default: DatabaseClass }>('better-sqlite3', `the master's SQLite store on Node ${process.versions.node} (it has no node:sqlite)`);
  return { name: 'better-sqlite3', Database: mod.default };
}

export class SqliteStore implements MasterStore {
  readonly kind = 'sqlite' as const;
  private readonly stmts: { get: Statement; put: Statement; del: Statement; list: Statement };
  private open = true;

  private constructor(
    private readonly db: Database,
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

  /**
   * Opens (creating if needed) the database at `path`.
   * @throws ConfigError when it cannot; MissingDependencyError without a SQLite module.
   */
  static async open(path: string, log: Logger): Promise<SqliteStore> {
    const { name, Database } = await sqliteModule();
    const location = resolve(path);
    let db: Database;
    try {
      mkdirSync(dirname(location), { recursive: true });
      db = new Database(location);
      db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;');
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
      const v = db.prepare("SELECT value FROM meta WHERE key = 'schema'").get() as { value: string } | undefined;
      if (!v) db.prepare("INSERT INTO meta (key, value) VALUES ('schema', ?)").run(String(SCHEMA_VERSION));
      else if (Number(v.value) > SCHEMA_VERSION) throw new Error(`schema version ${v.value} is newer than this gamewire understands (${SCHEMA_VERSION})`);
    } catch (err) {
      if (err instanceof MissingDependencyError) throw err;
      throw new ConfigError('store.sqlite', `cannot open the master's SQLite store ${JSON.stringify(location)}: ${(err as Error).message}`, { cause: err });
    }
    log.info({ store: 'sqlite', path: location, module: name }, 'master store open');
    return new SqliteStore(db, location);
  }

  async get(kind: SanctionKind, uid: number): Promise<SanctionRecord | null> {
    const r = this.stmts.get.get(kind, uid) as Row | undefined;
    return r ? toRecord(r) : null;
  }

  async put(kind: SanctionKind, uid: number, rec: SanctionRecord): Promise<void> {
    this.stmts.put.run(kind, uid, rec.banTime, rec.banTimestamp, rec.reason, rec.combineReason ? 1 : 0);
  }

  async delete(kind: SanctionKind, uid: number): Promise<boolean> {
    return Number(this.stmts.del.run(kind, uid).changes) > 0;
  }

  async list(kind: SanctionKind): Promise<Array<SanctionRecord & { uid: number }>> {
    return (this.stmts.list.all(kind) as Row[]).map((r) => ({ uid: Number(r.uid), ...toRecord(r) }));
  }

  async close(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    this.db.close();
  }
}

function toRecord(r: Row): SanctionRecord {
  return { banTime: Number(r.ban_time), banTimestamp: Number(r.ban_timestamp), reason: r.reason, combineReason: Number(r.combine) !== 0 };
}
