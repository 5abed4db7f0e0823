/**
 * Where the master keeps its bans and mutes when the config names no store: a SQLite file in the
 * data directory (`GAMEWIRE_DATA_DIR`, else `$XDG_DATA_HOME/gamewire`, else
 * `~/.local/share/gamewire`), one file per cluster and master id, logged at start; never the
 * working directory.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Cluster, defaultDataDir } from '../../../ts/cluster/index.js';
import { capturingLogger, FAST } from '../helpers/cluster.js';

const saved = { cwd: process.cwd(), data: process.env.GAMEWIRE_DATA_DIR, xdg: process.env.XDG_DATA_HOME };
const dirs: string[] = [];
const tmp = (name: string) => {
  const d = mkdtempSync(join(tmpdir(), `gamewire-${name}-`));
  dirs.push(d);
  return d;
};
const restore = (k: 'GAMEWIRE_DATA_DIR' | 'XDG_DATA_HOME', v: string | undefined) => {
  if (v === undefined) delete process.env[k];
  else process.env[k] = v;
};

afterEach(() => {
  process.chdir(saved.cwd);
  restore('GAMEWIRE_DATA_DIR', saved.data);
  restore('XDG_DATA_HOME', saved.xdg);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('the default store location', () => {
  it('is GAMEWIRE_DATA_DIR, else $XDG_DATA_HOME/gamewire, else ~/.local/share/gamewire', () => {
    process.env.GAMEWIRE_DATA_DIR = '/srv/gw';
    process.env.XDG_DATA_HOME = '/home/x/.data';
    expect(defaultDataDir()).toBe('/srv/gw');
    delete process.env.GAMEWIRE_DATA_DIR;
    expect(defaultDataDir()).toBe('/home/x/.data/gamewire');
    delete process.env.XDG_DATA_HOME;
    expect(defaultDataDir()).toBe(join(homedir(), '.local', 'share', 'gamewire'));
  });

  it('a config without "store": the SQLite file goes to the data directory (logged), nothing to the working directory', async () => {
    const cwd = tmp('cwd');
    const data = tmp('data');
    process.chdir(cwd);
    process.env.GAMEWIRE_DATA_DIR = data;
    const { logger, lines } = capturingLogger('info');
    const cluster = await Cluster.start({ game_id: 'loc', game_key: 'k', master: { serverid: 3 }, serverlist: [] }, { logger, ...FAST });
    await cluster.stop();
    expect(readdirSync(cwd)).toEqual([]);
    const file = join(data, 'gamewire.loc.master-3.sqlite');
    expect(readdirSync(data)).toContain('gamewire.loc.master-3.sqlite');
    expect(lines.find((l) => l.msg === 'master store open')).toMatchObject({ store: 'sqlite', path: file });
  });

  it('{ "memory": true } and ":memory:" keep the state in memory: no file anywhere', async () => {
    const cwd = tmp('cwd');
    const data = tmp('data');
    process.chdir(cwd);
    process.env.GAMEWIRE_DATA_DIR = data;
    for (const store of [{ memory: true }, { sqlite: ':memory:' }]) {
      const { logger, lines } = capturingLogger('info');
      const cluster = await Cluster.start({ game_key: 'k', master: { serverid: 0 }, serverlist: [], store }, { logger, ...FAST });
      await cluster.stop();
      expect(lines.find((l) => l.msg === 'master store open')).toMatchObject({ store: 'memory' });
    }
    expect(readdirSync(cwd)).toEqual([]);
    expect(readdirSync(data)).toEqual([]);
  });
});
