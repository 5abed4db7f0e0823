/**
 * The deploy config: the shape `getCommonConfig()` returns in Apollo (`master`, `serverlist`,
 * `servicelist`, `game_key`, ...) plus gamewire's keys `nats`, `store` and `gateway`.
 *
 * `parseConfig` validates with zod and refuses a bad config with a `ConfigError` whose `field` is
 * the path of the offending value, e.g. `serverlist[2].serverid`. Unknown keys are kept (Apollo
 * configs carry many: `redis`, `mysql`, `app_version`, ...), so `getCommonConfig()` can hand back
 * the config as it was written.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../errors.js';

/** Where the master keeps bans and mutes. */
export type StoreType = 'sqlite' | 'nats-kv' | 'memory';

/** What a node does in the cluster. Lobby and game nodes are both `server`. */
export type NodeRole = 'master' | 'proxy' | 'server' | 'service';

/** A value usable as one NATS subject token: server types, service types, module names. */
const TOKEN = /^[A-Za-z0-9_-]+$/;
const token = (what: string) => z.string().regex(TOKEN, `${what} may hold only letters, digits, '_' and '-'`);
const serverId = z.number().int('a server id is an integer').nonnegative('a server id is >= 0');
/** `mods` is comma-separated, as in Apollo's configs (`"neteaseRound"`, `""`); a list is accepted too. */
const modList = z.union([z.string(), z.array(z.string())]).optional();
const port = z.number().int().min(0).max(65535);

const masterSchema = z.looseObject({
  serverid: serverId,
  type: z.string().optional(),
  ip: z.string().optional(),
  port: port.optional(),
  mods: modList,
  /** Extension: modules the master serves with `registerRpcMethod` (it may also register others at run time). */
  module_names: modList,
  /** Seconds a node may stay silent before the master (and the node) consider the link lost. */
  keep_alive_period: z.number().positive().optional(),
  /** The shared secret of the master's HTTP API (a bearer token). Absent: every request gets 401. */
  http_secret: z.string().min(16, 'master.http_secret must be at least 16 characters').optional(),
  /** Seconds an HTTP request may wait for sendHttpResponse before it is answered 504 (default 10). */
  http_timeout: z.number().positive().optional(),
  app_version: z.string().optional(),
});

const serverSchema = z.looseObject({
  serverid: serverId,
  type: token('a server type'),
  app_type: z.enum(['proxy', 'lobby', 'game']).optional(),
  ip: z.string().min(1),
  port,
  mods: modList,
  max_players: z.number().int().nonnegative().optional(),
  protocol_version: z.number().int().nullable().optional(),
  /** The engine/app version the node runs (rollingUpdateServers starts nodes of a new one). */
  app_version: z.string().optional(),
  /** A proxy: browser players over WebSocket on this TCP port (0: a free one). */
  websocket_port: port.optional(),
  /** A proxy: browser players over WebTransport on this UDP port (0: a free one; native backend). */
  webtransport_port: port.optional(),
});

const serviceSchema = z.looseObject({
  serverid: serverId,
  type: token('a service type'),
  module_names: z.union([z.string(), z.array(token('a module name'))]).optional(),
  mods: modList,
  ip: z.string().optional(),
  port: port.optional(),
});

const configSchema = z.looseObject({
  game_key: z.string().min(1, 'game_key signs connect tokens and may not be empty'),
  game_id: z.union([z.number(), z.string()]).optional(),
  apolloid: z.union([z.number(), z.string()]).optional(),
  log_debug_level: z.boolean().optional(),
  master: masterSchema,
  serverlist: z.array(serverSchema),
  servicelist: z.array(serviceSchema).optional(),
  nats: z
    .looseObject({
      servers: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
      /** Subject prefix; two clusters on one nats-server must use different prefixes. */
      prefix: z
        .string()
        .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'a prefix is dot-separated tokens of letters, digits, _ and -')
        .optional(),
    })
    .optional(),
  store: z
    .looseObject({
      /** Where the master keeps bans and mutes: `sqlite` (a file), `nats-kv` (a JetStream KV bucket on the bus's nats-server) or `memory` (lost when the master stops). */
      type: z.enum(['sqlite', 'nats-kv', 'memory']).optional(),
      /** `true`: the state lives in memory only (tests, demos). */
      memory: z.boolean().optional(),
      sqlite: z.string().min(1).optional(),
      bucket: z
        .string()
        .regex(/^[A-Za-z0-9_-]+$/, 'a KV bucket name holds only letters, digits, _ and -')
        .optional(),
      replicas: z.number().int().min(1).max(5).optional(),
    })
    .optional(),
  /** Development only: the proxy accepts a bare uid (`"123"`) in place of a signed connect token. */
  dev_bare_uid_login: z.boolean().optional(),
  /** The players' transport: `root_key` is the proxies' root private key (a PEM file path). */
  gateway: z
    .looseObject({
      root_key: z.string().min(1, 'gateway.root_key is the path of a PEM private key').optional(),
      backend: z.enum(['native', 'wasm', 'auto']).optional(),
    })
    .optional(),
});

/** The master's entry, normalized. */
export interface MasterEntry {
  serverid: number;
  type: 'master';
  role: 'master';
  ip: string | null;
  port: number | null;
  mods: string[];
  module_names: string[];
  keep_alive_period: number;
  /** The HTTP API's shared secret (null: the API answers 401 to everything). */
  http_secret: string | null;
  /** Seconds before an unanswered HTTP request gets 504. */
  http_timeout: number;
  app_version: string | null;
}

/** A proxy, lobby or game entry of `serverlist`, normalized. */
export interface ServerEntry {
  serverid: number;
  type: string;
  /** `proxy`, `lobby` or `game`: `app_type` when given, else `proxy`/`lobby` from `type`, else `game`. */
  app_type: 'proxy' | 'lobby' | 'game';
  role: 'proxy' | 'server';
  ip: string;
  port: number;
  mods: string[];
  /** 0: no limit. */
  max_players: number;
  /** The client protocol version this server speaks; null: any. */
  protocol_version: number | null;
  /** The app/engine version it runs (config `app_version`; null when absent). */
  app_version: string | null;
  /** True for a node the master added at run time (rollingUpdateServers), not in the config as written. */
  dynamic?: boolean;
  /** A proxy's WebSocket port for browser players (null: none). */
  websocket_port?: number | null;
  /** A proxy's WebTransport port for browser players (null: none). */
  webtransport_port?: number | null;
}

/** A functional service entry of `servicelist`, normalized. */
export interface ServiceEntry {
  serverid: number;
  type: string;
  role: 'service';
  module_names: string[];
  mods: string[];
  ip: string | null;
  port: number | null;
}

/** Any node entry. */
export type NodeEntry = MasterEntry | ServerEntry | ServiceEntry;

/** A validated deploy config. `raw` is the config as written (what `getCommonConfig()` returns). */
export interface ClusterConfig {
  game_key: string;
  game_id: number | string | null;
  log_debug_level: boolean;
  master: MasterEntry;
  serverlist: ServerEntry[];
  servicelist: ServiceEntry[];
  nats: { servers: string[]; prefix: string } | null;
  /**
   * The master's durable state. `type` null: `sqlite` when every node runs in one process
   * (`Cluster.start`), `nats-kv` when the master runs alone (`Cluster.startNode`, the distributed
   * mode). `sqlite` null: a file in the data directory (see `defaultStorePath`).
   */
  store: { type: StoreType | null; sqlite: string | null; bucket: string; replicas: number };
  dev_bare_uid_login: boolean;
  /** The players' transport: the proxies' root key file (null: GAMEWIRE_PROXY_KEY, else a key made at start) and backend. */
  gateway: { root_key: string | null; backend: 'native' | 'wasm' | 'auto' | null };
  /** The file the config was read from (null: given as an object or text). Relative paths in it are relative to this file. */
  source: string | null;
  /** The validated input, unknown keys included. */
  raw: Readonly<Record<string, unknown>>;
}

/** `serverlist[2].serverid` from `['serverlist', 2, 'serverid']`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out === '' ? '(config)' : out;
}

function splitList(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  const list = Array.isArray(v) ? v : v.split(',');
  return list.map((s) => s.trim()).filter((s) => s !== '');
}

/**
 * Validates a deploy config (an object, or JSON text) and returns it normalized.
 * @throws ConfigError naming the first offending field.
 */
export function parseConfig(input: unknown, opts: { source?: string } = {}): ClusterConfig {
  let value = input;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown;
    } catch (err) {
      throw new ConfigError('(config)', `not valid JSON: ${(err as Error).message}`, { cause: err });
    }
  }
  const r = configSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new ConfigError(formatPath(issue.path), issue.message);
  }
  const c = r.data;

  // Module names given as a comma-separated string are tokens too.
  const checkTokens = (list: string[], field: string, what: string) => {
    for (const m of list) if (!TOKEN.test(m)) throw new ConfigError(field, `${what} ${JSON.stringify(m)} may hold only letters, digits, '_' and '-'`);
  };

  const master: MasterEntry = {
    serverid: c.master.serverid,
    type: 'master',
    role: 'master',
    ip: c.master.ip ?? null,
    port: c.master.port ?? null,
    mods: splitList(c.master.mods),
    module_names: splitList(c.master.module_names),
    keep_alive_period: c.master.keep_alive_period ?? 30,
    http_secret: c.master.http_secret ?? null,
    http_timeout: c.master.http_timeout ?? 10,
    app_version: c.master.app_version ?? null,
  };
  checkTokens(master.module_names, 'master.module_names', 'a module name');

  const serverlist: ServerEntry[] = c.serverlist.map((s) => {
    const app_type = s.app_type ?? (s.type === 'proxy' ? 'proxy' : s.type === 'lobby' ? 'lobby' : 'game');
    return {
      serverid: s.serverid,
      type: s.type,
      app_type,
      role: app_type === 'proxy' ? 'proxy' : 'server',
      ip: s.ip,
      port: s.port,
      mods: splitList(s.mods),
      max_players: s.max_players ?? 0,
      protocol_version: s.protocol_version ?? null,
      app_version: s.app_version ?? null,
      websocket_port: s.websocket_port ?? null,
      webtransport_port: s.webtransport_port ?? null,
    };
  });

  const servicelist: ServiceEntry[] = (c.servicelist ?? []).map((s, i) => {
    const module_names = splitList(s.module_names);
    checkTokens(module_names, `servicelist[${i}].module_names`, 'a module name');
    return {
      serverid: s.serverid,
      type: s.type,
      role: 'service',
      module_names,
      mods: splitList(s.mods),
      ip: s.ip ?? null,
      port: s.port ?? null,
    };
  });

  // Server ids are unique across the whole cluster: they address nodes on the bus.
  const seen = new Map<number, string>();
  const claim = (id: number, field: string) => {
    const prev = seen.get(id);
    if (prev !== undefined) throw new ConfigError(field, `duplicate server id ${id} (already used by ${prev})`);
    seen.set(id, field);
  };
  claim(master.serverid, 'master.serverid');
  serverlist.forEach((s, i) => claim(s.serverid, `serverlist[${i}].serverid`));
  servicelist.forEach((s, i) => claim(s.serverid, `servicelist[${i}].serverid`));

  // A server type names either lobby/game servers or services, never both kinds, so that
  // broadcasts by type and requests by service type cannot reach the wrong kind of node.
  const serviceTypes = new Set(servicelist.map((s) => s.type));
  serverlist.forEach((s, i) => {
    if (serviceTypes.has(s.type)) throw new ConfigError(`serverlist[${i}].type`, `type ${JSON.stringify(s.type)} is also a service type`);
  });

  const gameId = c.game_id ?? c.apolloid ?? null;
  const prefix = c.nats?.prefix ?? `gamewire.${String(gameId ?? 0).replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const nats = c.nats ? { servers: Array.isArray(c.nats.servers) ? c.nats.servers : [c.nats.servers], prefix } : null;

  return {
    game_key: c.game_key,
    game_id: gameId,
    log_debug_level: c.log_debug_level ?? false,
    master,
    serverlist,
    servicelist,
    nats,
    store: {
      type: storeType(c.store),
      sqlite: c.store?.sqlite ?? null,
      bucket: c.store?.bucket ?? `gamewire_${prefix.replace(/[^A-Za-z0-9_-]/g, '_')}`,
      replicas: c.store?.replicas ?? 1,
    },
    dev_bare_uid_login: c.dev_bare_uid_login ?? false,
    gateway: { root_key: c.gateway?.root_key ?? null, backend: c.gateway?.backend ?? null },
    source: opts.source ?? null,
    raw: structuredClone(c) as Record<string, unknown>,
  };
}

/** The store type a config's `store` names (`memory: true` and `sqlite: ":memory:"` are the memory store). */
function storeType(store: { type?: StoreType | undefined; memory?: boolean | undefined; sqlite?: string | undefined } | undefined): StoreType | null {
  if (!store) return null;
  const memory = store.memory === true || store.sqlite === ':memory:';
  if (memory && store.type === 'nats-kv') throw new ConfigError('store.type', '"nats-kv" contradicts "memory": true / "sqlite": ":memory:"');
  if (store.memory === true && store.sqlite !== undefined && store.sqlite !== ':memory:') throw new ConfigError('store.sqlite', 'a file contradicts "memory": true');
  if (memory) return 'memory';
  if (store.sqlite !== undefined && store.type === 'nats-kv') throw new ConfigError('store.sqlite', 'a file contradicts "type": "nats-kv"');
  return store.type ?? (store.sqlite !== undefined ? 'sqlite' : null);
}

/**
 * The folder where a master keeps its SQLite file when the config names none:
 * `GAMEWIRE_DATA_DIR`, else `$XDG_DATA_HOME/gamewire`, else `~/.local/share/gamewire`.
 */
export function defaultDataDir(): string {
  const env = process.env.GAMEWIRE_DATA_DIR?.trim();
  if (env) return resolve(env);
  const xdg = process.env.XDG_DATA_HOME?.trim();
  if (xdg) return join(resolve(xdg), 'gamewire');
  return join(homedir(), '.local', 'share', 'gamewire');
}

/** The SQLite file of a master whose config names none: `<data dir>/<prefix>.master-<serverid>.sqlite`. */
export function defaultStorePath(config: ClusterConfig): string {
  const cluster = (config.nats?.prefix ?? `gamewire.${String(config.game_id ?? 0)}`).replace(/[^A-Za-z0-9_.-]/g, '_');
  return join(defaultDataDir(), `${cluster}.master-${config.master.serverid}.sqlite`);
}

/**
 * Adds a lobby/game/proxy entry the master created at run time (rollingUpdateServers) to `config`,
 * or learns one another node announced. Returns false if the id is taken (by another entry).
 */
export function addServerEntry(config: ClusterConfig, entry: ServerEntry): boolean {
  const known = findNode(config, entry.serverid);
  if (known) return known.role === entry.role && known.type === entry.type;
  if (!TOKEN.test(entry.type)) return false;
  if (config.servicelist.some((s) => s.type === entry.type)) return false;
  config.serverlist.push({ ...entry, mods: [...entry.mods], dynamic: true });
  return true;
}

/** A server entry as it is written in a config file (the inverse of the normalization above). */
export function rawServerEntry(entry: ServerEntry): Record<string, unknown> {
  const out: Record<string, unknown> = {
    serverid: entry.serverid,
    type: entry.type,
    app_type: entry.app_type,
    ip: entry.ip,
    port: entry.port,
    mods: entry.mods.join(','),
    max_players: entry.max_players,
    protocol_version: entry.protocol_version,
  };
  if (entry.app_version !== null) out.app_version = entry.app_version;
  if (entry.websocket_port != null) out.websocket_port = entry.websocket_port;
  if (entry.webtransport_port != null) out.webtransport_port = entry.webtransport_port;
  return out;
}

/** Checks that `v` is a server entry as the master sends it in `members` (from another process). */
export function isServerEntry(v: unknown): v is ServerEntry {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return (
    Number.isInteger(e.serverid) &&
    typeof e.type === 'string' &&
    TOKEN.test(e.type) &&
    (e.role === 'proxy' || e.role === 'server') &&
    (e.app_type === 'proxy' || e.app_type === 'lobby' || e.app_type === 'game') &&
    typeof e.ip === 'string' &&
    Number.isInteger(e.port) &&
    Array.isArray(e.mods) &&
    (e.mods as unknown[]).every((m) => typeof m === 'string') &&
    Number.isInteger(e.max_players) &&
    (e.protocol_version === null || Number.isInteger(e.protocol_version)) &&
    (e.app_version === null || typeof e.app_version === 'string')
  );
}

/** Reads and validates a JSON config file. */
export function loadConfigFile(path: string): ClusterConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError('(config)', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return parseConfig(text, { source: resolve(path) });
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(err.field, `${err.message.slice(err.field.length + 2)} (in ${path})`, { cause: err });
    throw err;
  }
}

/** A path the config names, resolved against the config file's folder (or the working directory). */
export function configPath(config: ClusterConfig, path: string): string {
  return resolve(config.source ? dirname(config.source) : process.cwd(), path);
}

/** Every node entry: master, then serverlist, then servicelist, each with its field path. */
export function nodeEntries(config: ClusterConfig): Array<{ entry: NodeEntry; field: string }> {
  return [
    { entry: config.master, field: 'master' },
    ...config.serverlist.map((entry, i) => ({ entry, field: `serverlist[${i}]` })),
    ...config.servicelist.map((entry, i) => ({ entry, field: `servicelist[${i}]` })),
  ];
}

/** The entry of one node, or undefined. */
export function findNode(config: ClusterConfig, id: number): NodeEntry | undefined {
  if (config.master.serverid === id) return config.master;
  return config.serverlist.find((s) => s.serverid === id) ?? config.servicelist.find((s) => s.serverid === id);
}
