import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BackendLoadError, ConfigError, DecodeError, PrivateKey, PublicKey, loadBackend, resolveBackendChoice } from '../../ts/index.js';
import { nativeTriple, packageRoot } from '../../ts/backend/loader.js';
import { BACKENDS } from '../helpers/backends.js';

const cli = join(packageRoot, 'bin', 'gamewire.js');
const triple = nativeTriple();
const addon = `gamewire.${triple}.node`;

type Info = { backend: string | null; error?: string; backends: Record<string, { available: boolean; path: string; error?: string }> };

/** `gamewire info` run from the package at `root`, with the given environment. */
function info(env: Record<string, string>, root = packageRoot) {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'gamewire.js'), 'info'], {
    env: { ...process.env, GAMEWIRE_NATIVE_PATH: '', GAMEWIRE_WASM_PATH: '', GAMEWIRE_BACKEND: '', ...env },
    encoding: 'utf8',
  });
  return { status: r.status, json: JSON.parse(r.stdout) as Info };
}

/** Sets environment variables for one test; `afterEach` puts them back. */
const savedEnv = new Map<string, string | undefined>();
function setEnv(name: string, value: string) {
  if (!savedEnv.has(name)) savedEnv.set(name, process.env[name]);
  process.env[name] = value;
}
afterEach(() => {
  for (const [name, value] of savedEnv) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  savedEnv.clear();
});

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
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

  it('refuses an unknown choice, naming the option', () => {
    expect(() => resolveBackendChoice('fast')).toThrow(ConfigError);
    expect(() => resolveBackendChoice('fast')).toThrow(/backend: must be "native", "wasm" or "auto"/);
  });

  it('refuses an unknown GAMEWIRE_BACKEND, naming the variable', () => {
    setEnv('GAMEWIRE_BACKEND', 'foo');
    const err = thrown(() => loadBackend());
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).field).toBe('GAMEWIRE_BACKEND');
    expect((err as Error).message).toContain('"foo"');
  });

  it('a named backend that is missing fails with its name, file and (in a checkout) build command', () => {
    setEnv('GAMEWIRE_WASM_PATH', '/nonexistent/gamewire_wasm.js');
    const err = thrown(() => loadBackend({ backend: 'wasm' }));
    expect(err).toBeInstanceOf(BackendLoadError);
    expect((err as BackendLoadError).code).toBe('ERR_BACKEND_UNAVAILABLE');
    expect((err as Error).message).toMatch(/^the wasm backend does not load: GAMEWIRE_WASM_PATH is \/nonexistent\/gamewire_wasm\.js, which does not exist/);
  });
});

describe('key operations surface a backend that does not load', () => {
  const pem = PrivateKey.generate({ backend: 'wasm' }).toPem({ backend: 'wasm' });

  it('a bad GAMEWIRE_BACKEND is a ConfigError, not a bad key', () => {
    setEnv('GAMEWIRE_BACKEND', 'foo');
    const err = thrown(() => PrivateKey.fromPem(pem));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).not.toBeInstanceOf(DecodeError);
  });

  it('a missing backend is a BackendLoadError, not a bad key', () => {
    setEnv('GAMEWIRE_WASM_PATH', '/nonexistent/gamewire_wasm.js');
    for (const f of [() => PrivateKey.fromPem(pem, { backend: 'wasm' }), () => PublicKey.fromPem('x', { backend: 'wasm' })]) {
      const err = thrown(f);
      expect(err).toBeInstanceOf(BackendLoadError);
      expect((err as Error).message).toContain('GAMEWIRE_WASM_PATH');
    }
  });

  it('bytes that are no key are still a DecodeError', () => {
    expect(thrown(() => PrivateKey.fromPem('not a key', { backend: 'wasm' }))).toBeInstanceOf(DecodeError);
  });
});

describe('gamewire info', () => {
  it('honours GAMEWIRE_BACKEND', () => {
    for (const name of BACKENDS) {
      const { status, json } = info({ GAMEWIRE_BACKEND: name });
      expect(status).toBe(0);
      expect(json.backend).toBe(name);
      expect(json.backends.native.available).toBe(true);
      expect(json.backends.wasm.available).toBe(true);
    }
  });

  it('prints usage on an unknown command', () => {
    const r = spawnSync(process.execPath, [cli, 'bogus'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown command "bogus"');
  });
});

/**
 * The layouts the loader meets: an installed package (node_modules/gamewire with the published
 * package.json, the platform package beside it or not) and a checkout without its local build.
 * The files are copies of this checkout's build; the consumer test in test/package does the same
 * with real tarballs and npm.
 */
describe('where the native addon comes from', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gamewire-loader-'));
  const modules = join(dir, 'node_modules');
  const installed = join(modules, 'gamewire');
  const platformDir = join(modules, '@gamewire', triple);
  const checkout = join(dir, 'checkout');
  let version = '';

  beforeAll(async () => {
    const build = (await import(pathToFileURL(join(packageRoot, 'scripts', 'build.mjs')).href)) as {
      publishedManifest(): Record<string, unknown> & { version: string };
    };
    const published = build.publishedManifest();
    version = published.version;
    for (const root of [installed, checkout]) {
      for (const p of ['package.json', 'bin', 'dist']) cpSync(join(packageRoot, p), join(root, p), { recursive: true });
      rmSync(join(root, 'dist', 'native'), { recursive: true, force: true });
    }
    writeFileSync(join(installed, 'package.json'), JSON.stringify(published));
    writeFileSync(join(checkout, 'Cargo.toml'), '');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function installPlatformPackage(v: string) {
    mkdirSync(platformDir, { recursive: true });
    writeFileSync(join(platformDir, 'package.json'), JSON.stringify({ name: `@gamewire/${triple}`, version: v, main: addon }));
    copyFileSync(join(packageRoot, 'dist', 'native', addon), join(platformDir, addon));
  }
  const removePlatformPackage = () => rmSync(join(modules, '@gamewire'), { recursive: true, force: true });

  it('the platform package, when installed', () => {
    installPlatformPackage(version);
    const { status, json } = info({ GAMEWIRE_BACKEND: 'native' }, installed);
    expect(status).toBe(0);
    expect(json.backends.native.path).toBe(join(platformDir, addon));
  });

  it('GAMEWIRE_NATIVE_PATH before the platform package', () => {
    installPlatformPackage(version);
    const override = join(packageRoot, 'dist', 'native', addon);
    const { json } = info({ GAMEWIRE_BACKEND: 'native', GAMEWIRE_NATIVE_PATH: override }, installed);
    expect(json.backend).toBe('native');
    expect(json.backends.native.path).toBe(override);
  });

  it('a platform package of another version is refused, naming both versions', () => {
    installPlatformPackage('0.0.1');
    const { status, json } = info({ GAMEWIRE_BACKEND: 'native' }, installed);
    expect(status).toBe(1);
    expect(json.error).toContain(`@gamewire/${triple} 0.0.1 is installed, but this gamewire is ${version}`);
    expect(json.error).toContain(`npm install @gamewire/${triple}@${version}`);
    removePlatformPackage();
  });

  it('without the platform package: auto runs on wasm', () => {
    removePlatformPackage();
    const { status, json } = info({ GAMEWIRE_BACKEND: 'auto' }, installed);
    expect(status).toBe(0);
    expect(json.backend).toBe('wasm');
    expect(json.backends.native.available).toBe(false);
  });

  it('without the platform package: native by name names the platform, the package and the fallback, no repository command', () => {
    removePlatformPackage();
    const { status, json } = info({ GAMEWIRE_BACKEND: 'native' }, installed);
    expect(status).toBe(1);
    expect(json.backend).toBeNull();
    expect(json.error).toContain(`the native backend does not load on ${triple}`);
    expect(json.error).toContain(`npm install @gamewire/${triple}@${version}`);
    expect(json.error).toContain('GAMEWIRE_BACKEND=wasm');
    expect(json.error).not.toContain('npm run build');
  });

  it('a platform gamewire publishes nothing for says so', () => {
    removePlatformPackage();
    const elsewhere = join(dir, 'elsewhere', 'node_modules', 'gamewire');
    cpSync(installed, elsewhere, { recursive: true });
    const published = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(elsewhere, 'package.json'), JSON.stringify({ ...published, optionalDependencies: { '@gamewire/plan9-mips-gnu': version } }));
    const { json } = info({ GAMEWIRE_BACKEND: 'native' }, elsewhere);
    expect(json.error).toContain(`the native backend does not load on ${triple}: gamewire publishes no native addon for this platform (it does for plan9-mips-gnu)`);
  });

  it('in a checkout without a local build: the build command', () => {
    const { status, json } = info({ GAMEWIRE_BACKEND: 'native' }, checkout);
    expect(status).toBe(1);
    expect(json.error).toMatch(new RegExp(`it is not built: .*dist/native/gamewire\\.${triple}\\.node does not exist \\(build it with \`npm run build:native\`\\)`));
  });

  it('a bad GAMEWIRE_BACKEND is reported as such', () => {
    const { status, json } = info({ GAMEWIRE_BACKEND: 'foo' }, installed);
    expect(status).toBe(1);
    expect(json.error).toBe('GAMEWIRE_BACKEND: must be "native", "wasm" or "auto", got "foo"');
  });
});
