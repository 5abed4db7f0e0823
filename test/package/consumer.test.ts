/**
 * gamewire as a user gets it: the tarballs `npm run pack:all` makes, installed with npm into
 * empty projects with no Rust toolchain on PATH, on Node 20, 22 and 24.
 *
 *   - the tarballs carry what a user needs and nothing of the repository;
 *   - npm installs the platform package of this machine (from a local registry, chosen by
 *     os/cpu/libc) and `auto` runs on it; the README's example runs there on native and on WASM;
 *   - after `npm install --omit=optional`, `auto` runs on WASM and native by name explains itself;
 *   - a strict `moduleResolution: nodenext` TypeScript project compiles against the package, as
 *     ESM and as CommonJS, and the CommonJS build runs (`require('gamewire')`);
 *   - no installed package compiles native code at install time.
 *
 * GAMEWIRE_TARGETS=all (or a list of platform triples; `npm test` passes `all`) also packs and
 * verifies the cross-built platform packages, each on Node 22 for its CPU under qemu-user; alone,
 * the test takes this machine's. GAMEWIRE_PACKAGE_NODES narrows the Node versions (default
 * 20,22,24).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Consumer,
  REPO,
  codeBlock,
  consumerEnv,
  must,
  nodeBinary,
  pack,
  packPlaceholder,
  runnerFor,
  rustOnPath,
  startRegistry,
  targets,
  type Packed,
  type Target,
} from './harness.js';

const { TARGETS, tripleOf, packageOf, hostTarget } = targets;
const host = hostTarget();
const wanted = (process.env.GAMEWIRE_TARGETS ?? tripleOf(host)).split(',').map((s) => s.trim());
const platforms: Target[] = wanted.includes('all') ? TARGETS : TARGETS.filter((t) => wanted.includes(tripleOf(t)));
const emulated = platforms.filter((t) => t !== host);
const majors = (process.env.GAMEWIRE_PACKAGE_NODES ?? '20,22,24').split(',').map(Number);

/**
 * Documentation code compiled by the TypeScript consumer (strict, nodenext) into out/<name>.js,
 * which any consumer then runs with `c.run(compiledFile('<name>.js'), env)`. Each is the code as a
 * user would paste it, plus what ends the run once it has shown its result.
 */
const SNIPPETS = (): Record<string, string> => ({
  'example.ts': `${codeBlock(join(REPO, 'README.md'), '## Example')}
setTimeout(() => process.exit(3), Number(process.env.EXAMPLE_TIMEOUT_MS ?? 10_000)).unref();
client.on('message', async () => { await client.disconnect(); await server.stop(); process.exit(0); });
`,
  'cluster-quickstart.ts': `${codeBlock(join(REPO, 'docs', 'cluster.md'), '## Quick start')}
`,
});

const work = mkdtempSync(join(tmpdir(), 'gamewire-package-'));
const packDir = join(work, 'pack');
const unpacked = join(work, 'unpacked');
let packed: Packed[] = [];
let main: Packed;
let registry: Awaited<ReturnType<typeof startRegistry>>;
/** The TypeScript consumer's build: out/example.js (the README's example) and out/require.cjs. */
let compiled: { status: number | null; output: string; outDir: string };

beforeAll(async () => {
  packed = await pack(packDir, platforms.map(tripleOf));
  main = packed.find((p) => p.name === 'gamewire')!;
  // Every platform package is on the registry, so npm's choice by os/cpu/libc is what is tested:
  // those not built here as placeholders without their addon.
  const placeholders = await Promise.all(TARGETS.filter((t) => !platforms.includes(t)).map((t) => packPlaceholder(t, packDir)));
  registry = await startRegistry([...packed, ...placeholders], packDir);
  mkdirSync(unpacked, { recursive: true });
  for (const p of packed) {
    mkdirSync(join(unpacked, p.name), { recursive: true });
    await must('tar', ['-xzf', join(packDir, p.file), '-C', join(unpacked, p.name), '--strip-components=1']);
  }
});

afterAll(async () => {
  await registry?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('the tarballs', () => {
  it('gamewire carries the build outputs, WASM included, and nothing of the repository', () => {
    const files = new Set(main.files);
    for (const f of ['LICENSE', 'README.md', 'package.json', 'bin/gamewire.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cluster/index.js',
      'dist/cluster/index.d.ts', 'dist/wasm/gamewire_wasm.js', 'dist/wasm/gamewire_wasm_bg.wasm', 'dist/wasm/package.json', 'docs/api.md', 'dist/browser/browser/index.js', 'dist/browser/browser/gamewire_wasm_bg.wasm', 'dist/net/dashboard/assets/index.html']) {
      expect(files, f).toContain(f);
    }
    const unwanted = main.files.filter((f) => /\.(map|tsbuildinfo|node|ts)$/.test(f) && !f.endsWith('.d.ts'))
      .concat(main.files.filter((f) => /^(ts|test|crates|bench|scripts|examples|npm|dist\/native)\//.test(f)));
    expect(unwanted).toEqual([]);
  });

  it('gamewire publishes a manifest with its platform packages, license and repository, and no development fields', () => {
    const m = main.manifest as unknown as { optionalDependencies: Record<string, string>; repository: { url: string }; license: string };
    expect(m.optionalDependencies).toEqual(Object.fromEntries(TARGETS.map((t) => [packageOf(t), main.version])));
    expect(m.license).toBe('MIT');
    expect(m.repository.url).toMatch(/^git\+https:\/\/github\.com\//);
    for (const field of ['scripts', 'devDependencies', 'overrides']) expect(m, field).not.toHaveProperty(field);
    expect(readFileSync(join(unpacked, 'gamewire', 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
  });

  it('each platform package holds just its addon, for its os, cpu and libc, at gamewire\'s version', () => {
    for (const t of platforms) {
      const p = packed.find((x) => x.name === packageOf(t));
      expect(p, packageOf(t)).toBeDefined();
      const addon = `gamewire.${tripleOf(t)}.node`;
      expect(p!.files.sort()).toEqual(['LICENSE', 'README.md', addon, 'package.json']);
      expect(p!.manifest).toMatchObject({ version: main.version, os: [t.os], cpu: [t.cpu], libc: [t.libc], main: addon });
    }
  });

  it('npm/<triple>/package.json of every target is in step with package.json and scripts/targets.mjs', async () => {
    const build = (await import(pathToFileURL(join(REPO, 'scripts', 'build.mjs')).href)) as { platformManifest(t: Target): unknown };
    for (const t of TARGETS) {
      const committed: unknown = JSON.parse(readFileSync(join(REPO, 'npm', tripleOf(t), 'package.json'), 'utf8'));
      expect(committed, `npm/${tripleOf(t)}/package.json (node scripts/build.mjs npm-dirs rewrites it)`).toEqual(build.platformManifest(t));
    }
  });

  it('every relative link in the shipped Markdown points to a shipped file', () => {
    const files = new Set(main.files);
    const broken: string[] = [];
    for (const md of main.files.filter((f) => f.endsWith('.md'))) {
      const text = readFileSync(join(unpacked, 'gamewire', md), 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^([a-z]+:|#)/i.test(target!)) continue;
        const path = posix.normalize(posix.join(posix.dirname(md), target!.split('#')[0]!));
        if (!files.has(path)) broken.push(`${md}: ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('the declarations carry no notes for the project\'s developers (beyond the known ones)', () => {
    const internal = main.files.filter((f) => {
      if (!f.endsWith('.d.ts')) return false;
      const text = readFileSync(join(unpacked, 'gamewire', f), 'utf8');
      return /@internal|(^|[\s(`])test\/[\w./-]+|\bseed \d{3}\b/.test(text);
    });
    expect(internal, 'internal notes in shipped .d.ts files').toEqual([]);
  });
});

describe('a strict TypeScript consumer', () => {
  let ts: Consumer;

  beforeAll(async () => {
    const repoDev = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    const runner = await runnerFor(host, Number(process.versions.node.split('.')[0]));
    ts = await Consumer.install(join(work, 'typescript'), {
      packDir, main, registry: registry.url, runner,
      extra: ['typescript', '@types/node'].map((n) => `${n}@${repoDev.devDependencies[n]}`),
    });
    for (const f of ['tsconfig.json', 'api.ts', 'require.cts']) {
      writeFileSync(join(ts.dir, f), readFileSync(join(REPO, 'test', 'package', 'consumer', f)));
    }
    for (const [file, source] of Object.entries(SNIPPETS())) writeFileSync(join(ts.dir, file), source);
    const r = await ts.run(join(ts.dir, 'node_modules', 'typescript', 'bin', 'tsc'), {}, 120_000);
    compiled = { status: r.status, output: r.stdout + r.stderr, outDir: join(ts.dir, 'out') };
  });

  it('compiles (ESM and CommonJS, moduleResolution nodenext, strict, declarations checked)', () => {
    const errors = compiled.output.split('\n').filter(Boolean);
    expect(errors, 'type errors').toEqual([]);
  });

  it('runs the cluster quick start of docs/cluster.md as written, from the package', async () => {
    const r = await ts.run(compiledFile('cluster-quickstart.js'), { GAMEWIRE_LOG_LEVEL: 'warn' }, 60_000);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('rank 1');
  });

  it('no installed package compiles native code at install (the cluster\'s SQLite and NATS are optional peers)', () => {
    expect([...ts.scripts().keys()]).toEqual([]);
  });
});

/** A file of the TypeScript consumer's build (tsc emits it even when it reports errors). */
const compiledFile = (name: string) => {
  const file = join(compiled?.outDir ?? '', name);
  if (!existsSync(file)) throw new Error(`the TypeScript consumer did not build ${name}:\n${compiled?.output}`);
  return file;
};

/** The checks every installed consumer passes on its backend(s). */
function runsTheExample(consumer: () => Consumer, backends: string[]) {
  for (const backend of backends) {
    it(`runs the README example on ${backend}`, async () => {
      const r = await consumer().run(compiledFile('example.js'), { GAMEWIRE_BACKEND: backend, EXAMPLE_TIMEOUT_MS: '30000' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('hello');
    });
  }
}


for (const target of [host, ...emulated]) {
  const triple = tripleOf(target);
  const pkg = packageOf(target);
  const nodes = target === host ? majors : [22];
  for (const major of nodes) {
    describe(`${triple}, Node ${major}${target === host ? '' : ' (emulated)'}`, () => {
      let c: Consumer;
      beforeAll(async () => {
        const runner = await runnerFor(target, major);
        expect(rustOnPath(consumerEnv(runner.node)), 'a Rust toolchain on the consumer\'s PATH').toBeNull();
        c = await Consumer.install(join(work, `${triple}-node${major}`), {
          packDir, main, registry: registry.url, runner, ...(target === host ? {} : { as: target }),
        });
      });

      it(`npm installs ${pkg} and no other platform package`, () => {
        expect(c.installed('@gamewire')).toEqual([pkg]);
      });

      it(`auto loads the native addon from ${pkg}`, async () => {
        const { status, json } = await c.info();
        expect(status).toBe(0);
        expect(json.backend).toBe('native');
        expect(json.backends.native.path).toBe(join(c.dir, 'node_modules', pkg, `gamewire.${triple}.node`));
        expect(json.backends.wasm.available).toBe(true);
      });

      runsTheExample(() => c, ['native', 'wasm']);

      it('require() from CommonJS gets the same module as import', async () => {
        const r = await c.run(compiledFile('require.cjs'));
        expect(r.status, r.stderr).toBe(0);
        expect(JSON.parse(r.stdout)).toEqual({ backend: 'native', sameModule: true, publicPem: true });
      });
    });
  }
}

describe(`npm install --omit=optional (${tripleOf(host)}, Node ${process.versions.node})`, () => {
  let c: Consumer;
  beforeAll(async () => {
    c = await Consumer.install(join(work, 'omit-optional'), {
      packDir, main, registry: registry.url, runner: { node: await nodeBinary(Number(process.versions.node.split('.')[0])), prefix: [] }, omitOptional: true,
    });
  });

  it('installs no platform package, and auto runs on WASM', async () => {
    expect(c.installed('@gamewire')).toEqual([]);
    const { status, json } = await c.info();
    expect(status).toBe(0);
    expect(json.backend).toBe('wasm');
  });

  runsTheExample(() => c, ['auto']);

  it('native by name is a BackendLoadError naming the platform, the package and the WASM fallback', async () => {
    const { status, json } = await c.info({ GAMEWIRE_BACKEND: 'native' });
    expect(status).toBe(1);
    expect(json.error).toContain(`the native backend does not load on ${tripleOf(host)}`);
    expect(json.error).toContain(`npm install ${packageOf(host)}@${main.version}`);
    expect(json.error).toContain('GAMEWIRE_BACKEND=wasm');
    expect(json.error).not.toContain('npm run');
  });

  it('a key operation with a bad GAMEWIRE_BACKEND is a ConfigError naming the variable', async () => {
    const snippet = join(c.dir, 'bad-backend.mjs');
    writeFileSync(snippet, `import { PrivateKey } from 'gamewire';
try { PrivateKey.fromPem('-----BEGIN PRIVATE KEY-----\\n-----END PRIVATE KEY-----\\n'); } catch (err) { console.log(JSON.stringify({ name: err.name, code: err.code, field: err.field })); }
`);
    const r = await c.run(snippet, { GAMEWIRE_BACKEND: 'foo' });
    expect(JSON.parse(r.stdout)).toEqual({ name: 'ConfigError', code: 'ERR_CONFIG', field: 'GAMEWIRE_BACKEND' });
  });
});
