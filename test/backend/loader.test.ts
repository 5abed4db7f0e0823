import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BackendLoadError, ConfigError, loadBackend, resolveBackendChoice } from '../../ts/index.js';
import { packageRoot } from '../../ts/backend/loader.js';
import { BACKENDS } from '../helpers/backends.js';

const cli = join(packageRoot, 'bin', 'gamewire.js');

function info(env: Record<string, string>, cwdRoot = packageRoot) {
  const r = spawnSync(process.execPath, [join(cwdRoot, 'bin', 'gamewire.js'), 'info'], {
    env: { ...process.env, GAMEWIRE_NATIVE_PATH: '', GAMEWIRE_WASM_PATH: '', ...env },
    encoding: 'utf8',
  });
  return { status: r.status, json: JSON.parse(r.stdout) as Record<string, unknown> & { backends: Record<string, { available: boolean; path: string }> } };
}

describe('loadBackend', () => {
  it.each(BACKENDS)('loads %s by name and reuses it', (name) => {
    const a = loadBackend({ backend: name });
    expect(a.name).toBe(name);
    expect(loadBackend({ backend: name })).toBe(a);
    expect(a.coreVersion).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('auto prefers native', () => {
    expect(loadBackend({ backend: 'auto' }).name).toBe('native');
  });

  it('refuses an unknown choice, naming the field', () => {
    expect(() => resolveBackendChoice('fast')).toThrow(ConfigError);
    expect(() => resolveBackendChoice('fast')).toThrow(/backend: must be "native", "wasm" or "auto"/);
  });

  it('a named backend that is missing fails with its name, file and build command', () => {
    const saved = process.env.GAMEWIRE_WASM_PATH;
    process.env.GAMEWIRE_WASM_PATH = '/nonexistent/gamewire_wasm.js';
    try {
      let err: unknown;
      try {
        loadBackend({ backend: 'wasm' });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(BackendLoadError);
      const msg = (err as Error).message;
      expect(msg).toContain('wasm backend');
      expect(msg).toContain('/nonexistent/gamewire_wasm.js');
      expect(msg).toContain('npm run build:wasm');
      expect((err as BackendLoadError).code).toBe('ERR_BACKEND_UNAVAILABLE');
    } finally {
      if (saved === undefined) delete process.env.GAMEWIRE_WASM_PATH;
      else process.env.GAMEWIRE_WASM_PATH = saved;
    }
  });
});

describe('gamewire info', () => {
  it('honours GAMEWIRE_BACKEND', () => {
    for (const name of BACKENDS) {
      const { status, json } = info({ GAMEWIRE_BACKEND: name });
      expect(status).toBe(0);
      expect(json.backend).toBe(name);
      expect(json.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(json.backends.native.available).toBe(true);
      expect(json.backends.wasm.available).toBe(true);
    }
  });

  describe('in a copy of the package without the .node file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gamewire-no-native-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    for (const p of ['package.json', 'bin', 'dist']) cpSync(join(packageRoot, p), join(dir, p), { recursive: true });
    rmSync(join(dir, 'dist', 'native'), { recursive: true, force: true });

    it('auto reports wasm', () => {
      const { status, json } = info({ GAMEWIRE_BACKEND: 'auto' }, dir);
      expect(status).toBe(0);
      expect(json.backend).toBe('wasm');
      expect(json.backends.native.available).toBe(false);
    });

    it('native by name fails, naming the file and the build command', () => {
      const { status, json } = info({ GAMEWIRE_BACKEND: 'native' }, dir);
      expect(status).toBe(1);
      expect(json.backend).toBeNull();
      expect(String(json.error)).toMatch(/native backend is not built: .*gamewire\.linux-x64-gnu\.node does not exist .*npm run build:native/);
    });
  });

  it('prints usage on an unknown command', () => {
    const r = spawnSync(process.execPath, [cli, 'bogus'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('unknown command "bogus"');
    void execFileSync;
  });
});
