/** Shared helpers for the cluster tests: configs, buses, loggers, a cluster per describe block, logins, waiting. */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { afterAll, beforeAll } from 'vitest';
import {
  Cluster,
  createConnectToken,
  ENGINE_NAMESPACE,
  ENGINE_SYSTEM_NAME,
  GameClient,
  type ClusterOptions,
  type GameClientSettings,
  type Gateway,
  type System,
} from '../../../ts/cluster/index.js';
import { NatsServer } from './nats-server.js';

export type BusKind = 'inprocess' | 'nats';
export const BUSES: BusKind[] = ['inprocess', 'nats'];

/** Fast timings for tests (seconds); loose enough for a loaded two-core machine. */
export const FAST = { heartbeatInterval: 0.2, nodeTimeout: 2, opTimeout: 3 } as const;

export type RawConfig = Record<string, unknown> & {
  serverlist: Array<Record<string, unknown>>;
  servicelist: Array<Record<string, unknown>>;
  master: Record<string, unknown>;
};

/**
 * master 0; proxy 2000; lobbies 4000, 4001; games 5000 (survivalGame), 5001 (battle);
 * services 8000 and 8001 (type sign, module idv_service), 8002 (type rank, module rank_module).
 */
export function baseConfig(mods = 'probe'): RawConfig {
  return {
    game_id: 7,
    game_key: 'test-game-key',
    log_debug_level: false,
    master: { serverid: 0, type: 'master', app_type: 'master', ip: '127.0.0.1', port: 0, mods, keep_alive_period: 30 },
    serverlist: [
      { serverid: 2000, type: 'proxy', app_type: 'proxy', ip: '127.0.0.1', port: 0, mods: '', max_players: 0 },
      { serverid: 4000, type: 'lobby', app_type: 'lobby', ip: '127.0.0.1', port: 14000, mods, max_players: 100 },
      { serverid: 4001, type: 'lobby', app_type: 'lobby', ip: '127.0.0.1', port: 14001, mods, max_players: 100 },
      { serverid: 5000, type: 'survivalGame', app_type: 'game', ip: '127.0.0.1', port: 15000, mods, max_players: 100 },
      { serverid: 5001, type: 'battle', app_type: 'game', ip: '127.0.0.1', port: 15001, mods, max_players: 100 },
    ],
    servicelist: [
      { serverid: 8000, type: 'sign', module_names: ['idv_service'], mods },
      { serverid: 8001, type: 'sign', module_names: ['idv_service'], mods },
      { serverid: 8002, type: 'rank', module_names: 'rank_module', mods },
    ],
  };
}

let prefixes = 0;
/** Adds the `nats` key for a bus kind (a fresh subject prefix each time, so clusters never mix). */
export function withBus(config: RawConfig, bus: BusKind, nats: NatsServer | null): RawConfig {
  if (bus === 'inprocess') return config;
  if (!nats) throw new Error('nats bus without a nats-server');
  return { ...config, nats: { servers: nats.url, prefix: `t${process.pid}.c${++prefixes}` } };
}

/** Starts a nats-server for the 'nats' bus; null for the in-process one. */
export async function natsFor(bus: BusKind): Promise<NatsServer | null> {
  return bus === 'nats' ? NatsServer.start() : null;
}

export function quietLogger(): Logger {
  return pino({ level: process.env.GAMEWIRE_TEST_LOG ?? 'silent' });
}

/** A real pino logger whose JSON lines are collected in `lines`. */
export function capturingLogger(level = 'warn'): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

/**
 * Starts every node of `config` here. Without a `store` key the master keeps its state in memory
 * (so tests leave no file behind).
 */
export async function startCluster(config: Record<string, unknown>, opts: ClusterOptions = {}): Promise<Cluster> {
  const c = 'store' in config ? config : { ...config, store: { memory: true } };
  return Cluster.start(c, { logger: quietLogger(), ...FAST, ...opts });
}

/** The engine's own events (`ENGINE_NAMESPACE`, `ENGINE_SYSTEM_NAME`, `ev`), as `listenForEvent` and `record` take them. */
export const engineEvent = (ev: string) => [ENGINE_NAMESPACE, ENGINE_SYSTEM_NAME, ev] as const;

/** Logs `client` in through proxy 2000 as `uid`, with a connect token signed by the cluster's game key. */
export async function loginThroughProxy(cluster: Cluster, client: GameClient, uid: number): Promise<GameClient> {
  const a = cluster.proxyAddress(2000);
  await client.login(a.host, a.port, createConnectToken(cluster.config.game_key, uid));
  return client;
}

/** Options of the players a {@link ClusterFixture} makes (the transport is the cluster's gateway). */
export type FixtureClientOptions = GameClientSettings;

/** A cluster started for one describe block by {@link useCluster}. */
export interface ClusterFixture {
  /** The running cluster (from the block's `beforeAll` on). */
  readonly cluster: Cluster;
  /** The block's nats-server (null on the in-process bus). */
  readonly nats: NatsServer | null;
  /** The gateway the cluster was started with (players reach the proxies over it). */
  readonly gateway: Gateway;
  /** Every client `client()` made; closed after the block. */
  readonly clients: GameClient[];
  /** A new player over the cluster's gateway: the fixture's client options, then `opts`. */
  client(opts?: FixtureClientOptions): GameClient;
  /** Logs `client` (default: a new one) in through proxy 2000 as `uid`. */
  login(uid: number, client?: GameClient): Promise<GameClient>;
}

/**
 * Starts a cluster for the enclosing describe block. Before its tests: a nats-server when `bus`
 * is 'nats', then every node of `config()` on that bus, with `options()` (both called then, so
 * that a gateway or a temporary folder is made only when the block runs). After them: the
 * clients it made, the cluster, the nats-server.
 */
export function useCluster(setup: {
  bus: BusKind;
  config: () => RawConfig;
  options?: () => ClusterOptions;
  /** Options of every player `client()` makes (default: none beyond the gateway). */
  client?: FixtureClientOptions;
}): ClusterFixture {
  let cluster: Cluster | undefined;
  let nats: NatsServer | null = null;
  let gateway: Gateway | undefined;
  const clients: GameClient[] = [];
  const started = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`useCluster: no ${what} (read it inside a test, after beforeAll)`);
    return v;
  };
  const fixture: ClusterFixture = {
    get cluster() {
      return started(cluster, 'cluster yet');
    },
    get nats() {
      return nats;
    },
    get gateway() {
      return started(gateway, 'gateway in the cluster options');
    },
    clients,
    client(opts = {}) {
      const c = new GameClient({ ...setup.client, ...opts, gateway: fixture.gateway });
      clients.push(c);
      return c;
    },
    login(uid, client = fixture.client()) {
      return loginThroughProxy(fixture.cluster, client, uid);
    },
  };
  beforeAll(async () => {
    nats = await natsFor(setup.bus);
    const options = setup.options?.() ?? {};
    gateway = options.gateway;
    cluster = await startCluster(withBus(setup.config(), setup.bus, nats), options);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await cluster?.stop();
    await nats?.stop();
  });
  return fixture;
}

/** Polls `pred` until true; throws after `ms`. */
export async function waitFor(pred: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let barriers = 0;
/**
 * Resolves once an event `fromId` sends now has reached every system in `systems`. Messages from
 * one node arrive in the order it sent them (on both buses), so whatever that node sent before
 * has arrived by then too: a test can then assert that something did NOT arrive.
 */
export async function drained(cluster: Cluster, fromId: number, systems: Array<System & { serverId: number }>): Promise<void> {
  const node = cluster.node(fromId);
  const ev = `Drained${++barriers}`;
  let got = 0;
  for (const s of systems) s.listenForEvent('drain', 'marker', ev, () => void got++);
  for (const s of systems) node.sendEventToNode(s.serverId, cluster.node(s.serverId).role as 'master' | 'server' | 'service', 'drain', 'marker', ev, {});
  await waitFor(() => got === systems.length, 5000, `the ${ev} marker`);
}
