/** The deploy config: shape of seed 000's getCommonConfig(), plus `nats` and `store`; bad configs are refused naming the field. */
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkMods, Cluster, ConfigError, createGateway, defineMod, loadConfigFile, parseConfig } from '../../../ts/cluster/index.js';
import { PrivateKey } from '../../../ts/index.js';
import { baseConfig, type RawConfig } from '../helpers/cluster.js';
import '../helpers/probe-mod.js';

function refused(config: unknown): ConfigError {
  try {
    const c = parseConfig(config);
    checkMods(c);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('config was accepted');
}

const clone = (): RawConfig => structuredClone(baseConfig());

describe('cluster config', () => {
  it('accepts seed 000 style config and normalizes it', () => {
    const c = parseConfig({
      apolloid: 111,
      game_id: 0,
      game_key: 'game_key',
      log_debug_level: true,
      redis: { host: '127.0.0.1', port: 6379 },
      master: { app_type: 'master', ip: '127.0.0.1', keep_alive_period: 30, master_port: 0, mods: '', port: 8000, serverid: 0, type: 'master' },
      serverlist: [
        { app_type: 'proxy', ip: '127.0.0.1', master_port: 11003, max_players: 0, mods: '', port: 11002, serverid: 2000, type: 'proxy' },
        { app_type: 'lobby', ip: '127.0.0.1', max_players: 200, mods: 'neteaseRound', port: 13002, serverid: 4000, type: 'lobby' },
        { ip: '127.0.0.1', mods: 'a, b', port: 13003, serverid: 6000, type: 'survivalGame', protocol_version: 2 },
      ],
      servicelist: [{ serverid: 8000, type: 'sign', module_names: 'idv_service,other', mods: 'x' }],
    });
    expect(c.serverlist.map((s) => [s.serverid, s.role, s.app_type])).toEqual([
      [2000, 'proxy', 'proxy'],
      [4000, 'server', 'lobby'],
      [6000, 'server', 'game'],
    ]);
    expect(c.serverlist[2]!.mods).toEqual(['a', 'b']);
    expect(c.serverlist[2]!.protocol_version).toBe(2);
    expect(c.serverlist[1]!.protocol_version).toBeNull();
    expect(c.servicelist[0]!.module_names).toEqual(['idv_service', 'other']);
    expect(c.master.keep_alive_period).toBe(30);
    expect(c.nats).toBeNull();
    expect(c.store).toMatchObject({ type: null, sqlite: null });
    // getCommonConfig() hands back what was written, unknown keys included.
    expect((c.raw as { redis: unknown }).redis).toEqual({ host: '127.0.0.1', port: 6379 });
    expect(c.game_id).toBe(0);
  });

  it('reads the nats and store keys', () => {
    const c = parseConfig({ ...clone(), nats: { servers: 'nats://127.0.0.1:4222' }, store: { sqlite: '/tmp/m.sqlite' } });
    expect(c.nats).toEqual({ servers: ['nats://127.0.0.1:4222'], prefix: 'gamewire.7' });
    expect(c.store).toEqual({ type: 'sqlite', sqlite: '/tmp/m.sqlite', bucket: 'gamewire_gamewire_7', replicas: 1 });
    expect(parseConfig({ ...clone(), store: { memory: true } }).store.type).toBe('memory');
    expect(parseConfig({ ...clone(), store: { sqlite: ':memory:' } }).store.type).toBe('memory');
    expect(() => parseConfig({ ...clone(), store: { memory: true, sqlite: '/tmp/m.sqlite' } })).toThrow(/store\.sqlite/);
    expect(() => parseConfig({ ...clone(), store: { memory: true, type: 'nats-kv' } })).toThrow(/store\.type/);
    const k = parseConfig({ ...clone(), nats: { servers: 'nats://127.0.0.1:4222', prefix: 'blue.east' }, store: { type: 'nats-kv', replicas: 3 } });
    expect(k.store).toMatchObject({ type: 'nats-kv', bucket: 'gamewire_blue_east', replicas: 3 });
    expect(() => parseConfig({ ...clone(), store: { type: 'redis' } })).toThrow(/store\.type/);
    expect(() => parseConfig({ ...clone(), store: { bucket: 'a.b' } })).toThrow(/store\.bucket/);
    const d = parseConfig({ ...clone(), nats: { servers: ['nats://a:1', 'nats://b:2'], prefix: 'blue.east' } });
    expect(d.nats).toEqual({ servers: ['nats://a:1', 'nats://b:2'], prefix: 'blue.east' });
  });

  it('accepts JSON text', () => {
    expect(parseConfig(JSON.stringify(clone())).serverlist).toHaveLength(5);
    expect(refused('{ nope').field).toBe('(config)');
  });

  it('refuses a missing field, naming it', () => {
    const c = clone();
    delete c.serverlist[2]!.serverid;
    const e = refused(c);
    expect(e.field).toBe('serverlist[2].serverid');
    expect(e.message).toMatch(/^serverlist\[2\]\.serverid: /);

    const d = clone();
    delete (d as Record<string, unknown>).game_key;
    expect(refused(d).field).toBe('game_key');

    const m = clone();
    delete (m as Record<string, unknown>).master;
    expect(refused(m).field).toBe('master');

    const s = clone();
    delete s.servicelist[1]!.type;
    expect(refused(s).field).toBe('servicelist[1].type');

    const p = clone();
    delete p.serverlist[0]!.port;
    expect(refused(p).field).toBe('serverlist[0].port');
  });

  it('refuses wrong types and bad values, naming the field', () => {
    const c = clone();
    c.serverlist[1]!.max_players = -1;
    expect(refused(c).field).toBe('serverlist[1].max_players');
    const d = clone();
    d.serverlist[3]!.type = 'has space';
    expect(refused(d).field).toBe('serverlist[3].type');
    const e = clone();
    e.servicelist[0]!.module_names = 'ok,not ok';
    expect(refused(e).field).toBe('servicelist[0].module_names');
    const f = clone();
    (f as Record<string, unknown>).nats = { servers: 42 };
    expect(refused(f).field).toBe('nats.servers');
    const g = clone();
    g.serverlist[1]!.app_type = 'castle';
    expect(refused(g).field).toBe('serverlist[1].app_type');
  });

  it('refuses a duplicate server id, naming the second one', () => {
    const c = clone();
    c.serverlist[3]!.serverid = 4000;
    const e = refused(c);
    expect(e.field).toBe('serverlist[3].serverid');
    expect(e.message).toMatch(/duplicate server id 4000.*serverlist\[1\]\.serverid/);
    const d = clone();
    d.servicelist[2]!.serverid = 0;
    expect(refused(d).field).toBe('servicelist[2].serverid');
  });

  it('refuses a type used both by servers and services', () => {
    const c = clone();
    c.servicelist[0]!.type = 'lobby';
    expect(refused(c).field).toBe('serverlist[1].type');
  });

  it('refuses a mod that no defineMod defined, naming the node', () => {
    const c = clone();
    c.serverlist[2]!.mods = 'probe,nosuchmod';
    const e = refused(c);
    expect(e.field).toBe('serverlist[2].mods');
    expect(e.message).toMatch(/nosuchmod/);
    const d = clone();
    d.master.mods = 'ghost';
    expect(refused(d).field).toBe('master.mods');
  });

  it('Cluster.start refuses a bad config before starting anything', async () => {
    const c = clone();
    c.servicelist[1]!.mods = 'later';
    await expect(Cluster.start(c)).rejects.toThrow(/servicelist\[1\]\.mods/);
    // Once defined, the same config passes the check.
    defineMod('later', {});
    expect(() => checkMods(parseConfig(c))).not.toThrow();
  });

  it('Cluster.startNode needs the nats key', async () => {
    await expect(Cluster.startNode(clone(), 4000)).rejects.toMatchObject({ field: 'nats' });
    await expect(Cluster.startNode(clone(), 4242)).rejects.toMatchObject({ field: 'server-id' });
  });

  it('defineMod checks its entries', () => {
    expect(() => defineMod('', {})).toThrow();
    expect(() => defineMod('a,b', {})).toThrow();
    // @ts-expect-error: a system class is required
    expect(() => defineMod('broken', { server: [{ namespace: 'n', systemName: 's' }] })).toThrow(/system class/);
  });

  it('gateway.root_key that is missing or not a key: a ConfigError naming the field, the key file and the config file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gamewire-rootkey-'));
    try {
      const file = join(dir, 'cluster.json');
      const key = join(dir, 'keys', 'proxy.pem');
      writeFileSync(file, JSON.stringify({ game_key: 'k', master: { serverid: 0 }, serverlist: [{ serverid: 2000, type: 'proxy', ip: '127.0.0.1', port: 0 }], store: { memory: true }, gateway: { root_key: 'keys/proxy.pem' } }));
      const config = loadConfigFile(file);
      const refusedKey = (): ConfigError => {
        try {
          createGateway(config);
        } catch (err) {
          expect(err).toBeInstanceOf(ConfigError);
          return err as ConfigError;
        }
        throw new Error('the key was accepted');
      };
      let e = refusedKey();
      expect(e.field).toBe('gateway.root_key');
      expect(e.message).toContain(key);
      expect(e.message).toContain(file);
      await expect(Cluster.start(config, { logLevel: 'silent' })).rejects.toMatchObject({ code: 'ERR_CONFIG', field: 'gateway.root_key' });
      mkdirSync(join(dir, 'keys'));
      writeFileSync(key, 'not a key');
      e = refusedKey();
      expect(e.field).toBe('gateway.root_key');
      expect(e.message).toMatch(/is not a PEM private key/);
      expect(e.message).toContain(key);
      const real = PrivateKey.generate();
      writeFileSync(key, real.toPem());
      expect(createGateway(config).publicKey!.equals(real.publicKey())).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
