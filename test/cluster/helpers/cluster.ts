/** Shared helpers for the cluster tests: configs, buses, loggers, waiting. */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { Cluster, type ClusterOptions, type System } from '../../../ts/cluster/index.js';
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
