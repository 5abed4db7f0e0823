#!/usr/bin/env node
// Builds gamewire: `node scripts/build.mjs [step ...] [--target=<t,...>] [--features=<f,...>] [--out=<dir>]`
// (native, wasm, ts, browser and testing when no step is named). One function per artifact:
//
//   native    the N-API addon, release, with @napi-rs/cli -> dist/native/gamewire.<triple>.node
//             for this machine, or for each --target (a platform or Rust triple from
//             scripts/targets.mjs, or `all`); other targets use the cross linker listed there
//   wasm      the WebAssembly module for Node              -> dist/wasm/gamewire_wasm{.js,_bg.wasm}
//   ts        the TypeScript, with declarations            -> dist/**/*.js, *.d.ts (and the
//             dashboard page's asset files beside them, and the daily sign-in example the demo
//             runs -> dist/cli/demo/daily-signin/)
//   browser   the browser entry and the WASM core for the web -> dist/browser/browser/index.js, ...
//   testing   both backends again with the cargo feature `testing` (entry points for tests and
//             the micro-benchmarks that the shipped builds leave out) -> target/testing/{native,wasm}/
//   npm-dirs  npm/<triple>/package.json and README.md for every target (after a version bump)
//   pack      the npm tarballs: gamewire and one @gamewire/<triple> per --target (`all` for a
//             release; without --target, per addon built) -> target/pack/*.tgz + packages.json
//
// --features passes cargo features to the native and wasm builds (none by default).
//
// WASM toolchain: rustup's wasm32-unknown-unknown target when installed (wasm-pack, or cargo +
// wasm-bindgen if wasm-pack is missing or refuses); otherwise Debian's rustc-web linked as the
// rustup toolchain `debweb`, building std from source (see docs/development.md). Set
// GAMEWIRE_WASM_ROUTE=rustup|debweb to force one.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { TARGETS, binaryOf, hostTarget, packageOf, selectTargets, tripleOf } from './targets.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));
const writeJson = (path, value) => writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);

function run(cmd, args, opts = {}) {
  const shown = [cmd, ...args].join(' ');
  process.stderr.write(`\x1b[2m$ ${shown}\x1b[0m\n`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts, env: { ...process.env, ...opts.env } });
  if (r.error) throw new Error(`${shown}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${shown}: exit ${r.status}`);
  return r;
}

function capture(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', ...opts });
  return r.status === 0 ? r.stdout : null;
}

// --- native --------------------------------------------------------------------------------------

/** Cargo's environment variable for a target's linker: CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER. */
const linkerVar = (rust) => `CARGO_TARGET_${rust.toUpperCase().replace(/-/g, '_')}_LINKER`;

/**
 * The addon for `target`; `outDir`, `noDefault` and `cargoTargetDir` serve the testing build (its
 * own cargo target directory: sharing one with the shipped build's features made each of the two
 * recompile the addon crate every time the other had run).
 */
function buildNative(target, { features, outDir = 'dist/native', noDefault = false, cargoTargetDir = null }) {
  const cross = target !== hostTarget();
  const env = {};
  if (cross && target.linker) {
    if (capture('which', [target.linker]) === null) {
      throw new Error(`the cross linker ${target.linker} is missing: run \`bash scripts/setup.sh\``);
    }
    env[linkerVar(target.rust)] = target.linker;
  }
  run(bin('napi'), [
    'build', '--platform', '--release',
    '--manifest-path', 'crates/napi/Cargo.toml',
    '--package-json-path', 'package.json',
    '--output-dir', outDir,
    '--no-js', '--dts', 'binding.d.ts', '--no-dts-header',
    ...(cross ? ['--target', target.rust] : []),
    ...(features.length ? ['--features', features.join(' ')] : []),
    ...(noDefault ? ['--no-default-features'] : []),
    ...(cargoTargetDir ? ['--target-dir', cargoTargetDir] : []),
  ], { env });
  const out = join(root, outDir, binaryOf(target));
  if (!existsSync(out)) throw new Error(`napi build wrote no ${out}`);
}

// --- wasm ----------------------------------------------------------------------------------------

function pinnedWasmBindgen() {
  const m = readFileSync(join(root, 'Cargo.toml'), 'utf8').match(/wasm-bindgen\s*=\s*"=([0-9.]+)"/);
  if (!m) throw new Error('Cargo.toml must pin wasm-bindgen with "=x.y.z"');
  return m[1];
}

function wasmRoute() {
  const forced = process.env.GAMEWIRE_WASM_ROUTE;
  if (forced) return forced;
  if ((capture('rustup', ['target', 'list', '--installed']) ?? '').split('\n').includes('wasm32-unknown-unknown')) return 'rustup';
  if (/^debweb\b/m.test(capture('rustup', ['toolchain', 'list']) ?? '')) return 'debweb';
  throw new Error('no wasm32 toolchain: run `bash scripts/setup.sh` (it installs rustup\'s wasm32 target, or Debian\'s rustc-web)');
}

function wasmBindgen(wasmFile, outDir) {
  const want = pinnedWasmBindgen();
  const have = (capture('wasm-bindgen', ['--version']) ?? '').trim().split(' ')[1];
  if (have !== want) throw new Error(`wasm-bindgen ${want} is needed (found ${have ?? 'none'}): run \`bash scripts/setup.sh\``);
  run('wasm-bindgen', ['--target', 'nodejs', '--out-dir', outDir, '--out-name', 'gamewire_wasm', wasmFile]);
}

function buildWasm({ features, outDir = join(root, 'dist', 'wasm') }) {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const cargoFeatures = features.length ? ['--features', features.join(',')] : [];
  const route = wasmRoute();
  process.stderr.write(`wasm: toolchain route "${route}"\n`);
  if (route === 'rustup') {
    const hasWasmPack = capture('wasm-pack', ['--version']) !== null;
    let packed = false;
    if (hasWasmPack) {
      try {
        run('wasm-pack', ['build', 'crates/wasm', '--release', '--target', 'nodejs', '--no-pack',
          '--out-dir', outDir, '--out-name', 'gamewire_wasm', ...(cargoFeatures.length ? ['--', ...cargoFeatures] : [])], { env: { WASM_PACK_CACHE: join(root, '.cache', 'wasm-pack') } });
        packed = true;
      } catch (err) {
        process.stderr.write(`wasm-pack failed (${err.message}); falling back to cargo + wasm-bindgen\n`);
      }
    }
    if (!packed) {
      run('cargo', ['build', '--release', '-p', 'gamewire-wasm', '--target', 'wasm32-unknown-unknown', ...cargoFeatures]);
      wasmBindgen(join(root, 'target', 'wasm32-unknown-unknown', 'release', 'gamewire_wasm.wasm'), outDir);
    }
  } else if (route === 'debweb') {
    const targetDir = join(root, 'target', 'debweb');
    run('cargo', ['+debweb', 'build', '--release', '-p', 'gamewire-wasm', '--target', 'wasm32-unknown-unknown',
      '-Zbuild-std=std,panic_abort', '--target-dir', targetDir, ...cargoFeatures], { env: { RUSTC_BOOTSTRAP: '1' } });
    wasmBindgen(join(targetDir, 'wasm32-unknown-unknown', 'release', 'gamewire_wasm.wasm'), outDir);
  } else {
    throw new Error(`GAMEWIRE_WASM_ROUTE must be rustup or debweb, got ${route}`);
  }
  // wasm-pack writes a `.gitignore` of `*` into its output, and npm honours .gitignore files
  // inside the package: left there, it keeps the whole module out of the tarball.
  rmSync(join(outDir, '.gitignore'), { force: true });
  // wasm-bindgen's `nodejs` output is CommonJS; this package is ESM, so mark the folder.
  writeFileSync(join(outDir, 'package.json'), '{ "type": "commonjs" }\n');
  const wasmFile = join(outDir, 'gamewire_wasm_bg.wasm');
  if (existsSync(bin('wasm-opt'))) {
    // Exactly the features rustc and wasm-bindgen emit (externref tables, multi-value returns,
    // bulk memory, ...), all of which Node 20 runs; `--all-features` would let wasm-opt use
    // newer ones that Node 20's V8 cannot load.
    // `simd`: .cargo/config.toml builds wasm32 with +simd128.
    const wasmFeatures = ['bulk-memory', 'nontrapping-float-to-int', 'sign-ext', 'mutable-globals', 'reference-types', 'multivalue', 'simd'];
    run(bin('wasm-opt'), ['-O3', ...wasmFeatures.map((f) => `--enable-${f}`), wasmFile, '-o', wasmFile]);
  }
}

// --- ts ------------------------------------------------------------------------------------------

// Files the compiled code reads at run time, copied beside it: the dashboard page's assets.
const TS_ASSETS = ['net/dashboard/assets'];

/** Outputs of other steps that live in dist/ too; everything else there is the TypeScript's. */
const NOT_TS = new Set(['native', 'wasm', 'browser']);

function buildTs() {
  // Start from nothing, so that no file of a moved or deleted module stays behind (and ships).
  if (existsSync(join(root, 'dist'))) {
    for (const entry of readdirSync(join(root, 'dist'))) {
      if (!NOT_TS.has(entry)) rmSync(join(root, 'dist', entry), { recursive: true, force: true });
    }
  }
  run(bin('tsc'), ['-p', 'tsconfig.build.json']);
  for (const dir of TS_ASSETS) {
    const to = join(root, 'dist', dir);
    rmSync(to, { recursive: true, force: true });
    cpSync(join(root, 'ts', dir), to, { recursive: true });
  }
  // The daily sign-in example, compiled into the CLI for `gamewire demo` (it imports gamewire/cluster).
  run(bin('tsc'), ['-p', 'examples/daily-signin/tsconfig.build.json']);
}

// --- browser -------------------------------------------------------------------------------------

// The browser entry (gamewire/browser): the same crates/wasm built for the web
// (`wasm-bindgen --target web`) beside ts/browser compiled on its own (DOM types, no Node), into
// dist/browser/: browser/index.js is the entry, every import relative, the .wasm fetched relative
// to it. Uses the wasm step's toolchain routes.
function buildBrowser() {
  const outDir = join(root, 'dist', 'browser');
  rmSync(outDir, { recursive: true, force: true });
  const route = wasmRoute();
  let wasmFile;
  if (route === 'debweb') {
    const targetDir = join(root, 'target', 'debweb');
    run('cargo', ['+debweb', 'build', '--release', '-p', 'gamewire-wasm', '--target', 'wasm32-unknown-unknown',
      '-Zbuild-std=std,panic_abort', '--target-dir', targetDir], { env: { RUSTC_BOOTSTRAP: '1' } });
    wasmFile = join(targetDir, 'wasm32-unknown-unknown', 'release', 'gamewire_wasm.wasm');
  } else {
    run('cargo', ['build', '--release', '-p', 'gamewire-wasm', '--target', 'wasm32-unknown-unknown']);
    wasmFile = join(root, 'target', 'wasm32-unknown-unknown', 'release', 'gamewire_wasm.wasm');
  }
  const want = pinnedWasmBindgen();
  const have = (capture('wasm-bindgen', ['--version']) ?? '').trim().split(' ')[1];
  if (have !== want) throw new Error(`wasm-bindgen ${want} is needed (found ${have ?? 'none'}): run \`bash scripts/setup.sh\``);
  const entryDir = join(outDir, 'browser');
  run('wasm-bindgen', ['--target', 'web', '--out-dir', entryDir, '--out-name', 'gamewire_wasm', wasmFile]);
  const bg = join(entryDir, 'gamewire_wasm_bg.wasm');
  if (existsSync(bin('wasm-opt'))) {
    // The features rustc and wasm-bindgen emit (see buildWasm); every current browser runs them.
    const features = ['bulk-memory', 'nontrapping-float-to-int', 'sign-ext', 'mutable-globals', 'reference-types', 'multivalue', 'simd'];
    run(bin('wasm-opt'), ['-O3', ...features.map((f) => `--enable-${f}`), bg, '-o', bg]);
  }
  run(bin('tsc'), ['-p', 'tsconfig.browser.json']);
  // Marks the folder as ES modules for tools that look (Node, bundlers); browsers ignore it.
  writeFileSync(join(outDir, 'package.json'), '{ "type": "module" }\n');
}

// --- testing -------------------------------------------------------------------------------------

/** Both backends for this machine with the `testing` feature, beside the shipped ones (never packed). */
function buildTesting() {
  // Without the default `webtransport` feature: the suites that need the testing entry points do
  // not need the WebTransport endpoint, and leaving it out keeps this build quick.
  buildNative(hostTarget(), { features: ['testing'], outDir: 'target/testing/native', noDefault: true, cargoTargetDir: join(root, 'target', 'testing', 'cargo') });
  buildWasm({ features: ['testing'], outDir: join(root, 'target', 'testing', 'wasm') });
}

// --- npm-dirs ------------------------------------------------------------------------------------

const rootManifest = () => readJson(join(root, 'package.json'));

/** npm/<triple>/package.json for a target, from the root package.json and scripts/targets.mjs. */
export function platformManifest(target, main = rootManifest()) {
  const triple = tripleOf(target);
  return {
    name: packageOf(target),
    version: main.version,
    description: `gamewire's native addon for ${triple} (${target.rust}). Installed by gamewire as an optional dependency on matching machines; not used directly.`,
    license: main.license,
    repository: { ...main.repository, directory: `npm/${triple}` },
    os: [target.os],
    cpu: [target.cpu],
    libc: [target.libc],
    main: binaryOf(target),
    files: [binaryOf(target)],
    engines: main.engines,
  };
}

function writeNpmDirs() {
  const main = rootManifest();
  for (const t of TARGETS) {
    const dir = join(root, 'npm', tripleOf(t));
    mkdirSync(dir, { recursive: true });
    writeJson(join(dir, 'package.json'), platformManifest(t, main));
    writeFileSync(join(dir, 'README.md'), [
      `# \`${packageOf(t)}\``,
      '',
      `The native addon (N-API) of [gamewire](https://www.npmjs.com/package/gamewire) for ${tripleOf(t)},`,
      `built for the Rust target \`${t.rust}\`.`,
      '',
      'Install `gamewire`, not this package: npm installs this one as an optional dependency on',
      `matching machines (os ${t.os}, cpu ${t.cpu}, libc ${t.libc}). Elsewhere gamewire runs on its`,
      'WebAssembly backend, which ships inside the main package.',
      '',
    ].join('\n'));
  }
}

// --- pack ----------------------------------------------------------------------------------------

/** The manifest npm publishes for gamewire: the repository's, with the platform packages as optional dependencies. */
export function publishedManifest(main = rootManifest()) {
  // Development-only fields stay in the repository. The optional dependencies are added here and
  // not kept in the repository's package.json: there `npm ci` would fetch published binaries
  // that shadow the local build (and fail before the first release).
  const { scripts: _s, devDependencies: _d, overrides: _o, napi: _n, ...published } = main;
  published.optionalDependencies = Object.fromEntries(TARGETS.map((t) => [packageOf(t), main.version]));
  return published;
}

/** `https://github.com/owner/name` from package.json's repository field. */
function repositoryWebUrl(main) {
  const url = typeof main.repository === 'string' ? main.repository : main.repository?.url;
  const m = /github\.com[/:]([^/]+\/[^/.]+)/.exec(url ?? '');
  if (!m) throw new Error('package.json: repository must name a GitHub repository');
  return `https://github.com/${m[1]}`;
}

/**
 * Rewrites relative Markdown links that point at files the package does not ship (benchmarks,
 * examples, sources) into links to the repository at this version's tag. Links to shipped files
 * and anchors stay as they are.
 */
export function rewriteLinks(markdown, mdPath, shipped, baseUrl) {
  const fix = (target) => {
    if (/^([a-z]+:|#|\/)/i.test(target)) return target;
    const [path, fragment = ''] = target.split(/(?=#)/);
    const resolved = posix.normalize(posix.join(posix.dirname(mdPath), path)).replace(/\/$/, '');
    if (shipped.has(resolved)) return target;
    return `${baseUrl}/${resolved}${fragment}`;
  };
  return markdown
    .replace(/(\]\()([^)\s]+)(\))/g, (_, a, target, b) => `${a}${fix(target)}${b}`)
    .replace(/^(\s*\[[^\]]+\]:\s+)(\S+)/gm, (_, a, target) => `${a}${fix(target)}`);
}

function npmPack(dir, outDir) {
  const r = run('npm', ['pack', dir, '--pack-destination', outDir, '--json', '--ignore-scripts'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [info] = JSON.parse(r.stdout.toString());
  return {
    name: info.name, version: info.version, file: info.filename, integrity: info.integrity, shasum: info.shasum,
    size: info.size, unpackedSize: info.unpackedSize, files: info.files.map((f) => f.path),
    manifest: readJson(join(dir, 'package.json')),
  };
}

function stageMain(stage) {
  const main = rootManifest();
  for (const required of ['dist/index.js', 'dist/index.d.ts', 'dist/wasm/gamewire_wasm.js', 'dist/wasm/gamewire_wasm_bg.wasm']) {
    if (!existsSync(join(root, required))) throw new Error(`${required} is missing: run \`node scripts/build.mjs\` first`);
  }
  // The files npm takes for `npm pack` here (package.json "files"), copied as they are ...
  const listed = JSON.parse(capture('npm', ['pack', '--dry-run', '--json', '--ignore-scripts']) ?? 'null');
  if (!listed) throw new Error('npm pack --dry-run failed');
  const files = listed[0].files.map((f) => f.path).filter((p) => p !== 'package.json');
  const shipped = new Set(files);
  for (const f of files) for (let d = posix.dirname(f); d !== '.'; d = posix.dirname(d)) shipped.add(d);
  const baseUrl = `${repositoryWebUrl(main)}/blob/v${main.version}`;
  for (const f of files) {
    mkdirSync(dirname(join(stage, f)), { recursive: true });
    if (f.endsWith('.md')) {
      writeFileSync(join(stage, f), rewriteLinks(readFileSync(join(root, f), 'utf8'), f, shipped, baseUrl));
    } else {
      copyFileSync(join(root, f), join(stage, f));
    }
  }
  // ... and the manifest npm publishes.
  writeJson(join(stage, 'package.json'), publishedManifest(main));
}

function stagePlatform(target, stage) {
  const from = join(root, 'npm', tripleOf(target));
  const manifest = readJson(join(from, 'package.json'));
  const want = platformManifest(target);
  if (JSON.stringify(manifest) !== JSON.stringify(want)) {
    throw new Error(`npm/${tripleOf(target)}/package.json is out of date: run \`node scripts/build.mjs npm-dirs\``);
  }
  mkdirSync(stage, { recursive: true });
  for (const f of ['package.json', 'README.md']) copyFileSync(join(from, f), join(stage, f));
  copyFileSync(join(root, 'LICENSE'), join(stage, 'LICENSE'));
  copyFileSync(join(root, 'dist', 'native', binaryOf(target)), join(stage, binaryOf(target)));
}

/**
 * Packs gamewire and one platform package per addon built in dist/native (every --target named
 * must be built) into `out`, with `packages.json` listing each tarball (name, version, file,
 * integrity) for whoever serves or installs them.
 */
function pack({ targets, out }) {
  const outDir = out ?? join(root, 'target', 'pack');
  mkdirSync(outDir, { recursive: true });
  for (const f of readdirSync(outDir)) if (f.endsWith('.tgz')) rmSync(join(outDir, f));
  const stageRoot = mkdtempSync(join(tmpdir(), 'gamewire-pack-'));
  const packed = [];
  try {
    stageMain(join(stageRoot, 'gamewire'));
    packed.push(npmPack(join(stageRoot, 'gamewire'), outDir));
    for (const t of targets ?? TARGETS) {
      if (!existsSync(join(root, 'dist', 'native', binaryOf(t)))) {
        if (targets) throw new Error(`dist/native/${binaryOf(t)} is not built: run \`node scripts/build.mjs native --target=${tripleOf(t)}\``);
        process.stderr.write(`pack: ${packageOf(t)} skipped (dist/native/${binaryOf(t)} is not built)\n`);
        continue;
      }
      const stage = join(stageRoot, tripleOf(t));
      stagePlatform(t, stage);
      packed.push(npmPack(stage, outDir));
    }
  } finally {
    rmSync(stageRoot, { recursive: true, force: true });
  }
  writeJson(join(outDir, 'packages.json'), packed);
  for (const p of packed) process.stderr.write(`pack: ${p.file} (${(p.size / 1024).toFixed(0)} KiB, ${p.files.length} files)\n`);
}

// --- command line --------------------------------------------------------------------------------

const STEPS = {
  native: (o) => { for (const t of selectTargets(o.targets)) buildNative(t, o); },
  wasm: (o) => buildWasm(o),
  ts: () => buildTs(),
  browser: () => buildBrowser(),
  testing: () => buildTesting(),
  'npm-dirs': () => writeNpmDirs(),
  pack: (o) => pack({ targets: o.targets.length ? selectTargets(o.targets) : undefined, out: o.out }),
};

function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { target: { type: 'string' }, features: { type: 'string' }, out: { type: 'string' } },
  });
  const list = (s) => (s ? s.split(',').map((x) => x.trim()).filter(Boolean) : []);
  const opts = { targets: list(values.target), features: list(values.features), out: values.out };
  for (const name of positionals.length ? positionals : ['native', 'wasm', 'ts', 'browser', 'testing']) {
    const step = STEPS[name];
    if (!step) {
      process.stderr.write(`build: unknown step ${name} (${Object.keys(STEPS).join(', ')})\n`);
      return 2;
    }
    try {
      step(opts);
    } catch (err) {
      process.stderr.write(`build ${name} failed: ${err.message}\n`);
      return 1;
    }
  }
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main();
