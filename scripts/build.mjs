#!/usr/bin/env node
// Builds gamewire: `node scripts/build.mjs [native|wasm|ts ...]` (all three when none is named).
//
//   native  the N-API addon, release, with @napi-rs/cli   -> dist/native/gamewire.<triple>.node
//   wasm    the WebAssembly module for Node                -> dist/wasm/gamewire_wasm{.js,_bg.wasm}
//   ts      the TypeScript, with declarations              -> dist/**/*.js, *.d.ts
//   testing both backends again with the cargo feature `testing` (entry points for tests and the
//           micro-benchmarks that the shipped builds leave out) -> target/testing/{native,wasm}/
//   browser the browser entry and the WASM core for the web -> dist/browser/browser/index.js, ...
//
// WASM toolchain: rustup's wasm32-unknown-unknown target when installed (wasm-pack, or cargo +
// wasm-bindgen if wasm-pack is missing or refuses); otherwise Debian's rustc-web linked as the
// rustup toolchain `debweb`, building std from source (see docs/development.md). Set
// GAMEWIRE_WASM_ROUTE=rustup|debweb to force one.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);

function run(cmd, args, opts = {}) {
  const shown = [cmd, ...args].join(' ');
  process.stderr.write(`\x1b[2m$ ${shown}\x1b[0m\n`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts, env: { ...process.env, ...opts.env } });
  if (r.error) throw new Error(`${shown}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${shown}: exit ${r.status}`);
}

function capture(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8' });
  return r.status === 0 ? r.stdout : null;
}

/** The N-API addon; `features` add cargo features (the testing build). */
function buildNative({ outDir = 'dist/native', features = [], noDefault = false } = {}) {
  run(bin('napi'), [
    'build', '--platform', '--release',
    '--manifest-path', 'crates/napi/Cargo.toml',
    '--package-json-path', 'package.json',
    '--output-dir', outDir,
    '--no-js', '--dts', 'binding.d.ts', '--no-dts-header',
    ...(features.length ? ['--features', features.join(',')] : []),
    ...(noDefault ? ['--no-default-features'] : []),
  ]);
}

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

/** The WebAssembly module for Node; `features` add cargo features (the testing build). */
function buildWasm({ outDir = join(root, 'dist', 'wasm'), features = [] } = {}) {
  const featureArgs = features.length ? ['--features', features.join(',')] : [];
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const route = wasmRoute();
  process.stderr.write(`wasm: toolchain route "${route}"\n`);
  if (route === 'rustup') {
    const hasWasmPack = capture('wasm-pack', ['--version']) !== null;
    let packed = false;
    if (hasWasmPack && features.length === 0) {
      try {
        run('wasm-pack', ['build', 'crates/wasm', '--release', '--target', 'nodejs', '--no-pack',
          '--out-dir', outDir, '--out-name', 'gamewire_wasm'], { env: { WASM_PACK_CACHE: join(root, '.cache', 'wasm-pack') } });
        packed = true;
      } catch (err) {
        process.stderr.write(`wasm-pack failed (${err.message}); falling back to cargo + wasm-bindgen\n`);
      }
    }
    if (!packed) {
      run('cargo', ['build', '--release', '-p', 'gamewire-wasm', '--target', 'wasm32-unknown-unknown', ...featureArgs]);
      wasmBindgen(join(root, 'target', 'wasm32-unknown-unknown', 'release', 'gamewire_wasm.wasm'), outDir);
    }
  } else if (route === 'debweb') {
    const targetDir = join(root, 'target', 'debweb');
    run('cargo', ['+debweb', 'build', '--release', '-p', 'gamewire-wasm', '--target', 'wasm32-unknown-unknown',
      '-Zbuild-std=std,panic_abort', '--target-dir', targetDir, ...featureArgs], { env: { RUSTC_BOOTSTRAP: '1' } });
    wasmBindgen(join(targetDir, 'wasm32-unknown-unknown', 'release', 'gamewire_wasm.wasm'), outDir);
  } else {
    throw new Error(`GAMEWIRE_WASM_ROUTE must be rustup or debweb, got ${route}`);
  }
  // wasm-bindgen's `nodejs` output is CommonJS; this package is ESM, so mark the folder.
  writeFileSync(join(outDir, 'package.json'), '{ "type": "commonjs" }\n');
  const wasmFile = join(outDir, 'gamewire_wasm_bg.wasm');
  if (existsSync(bin('wasm-opt'))) {
    // Exactly the features rustc and wasm-bindgen emit (externref tables, multi-value returns,
    // bulk memory, ...), all of which Node 20 runs; `--all-features` would let wasm-opt use
    // newer ones that Node 20's V8 cannot load.
    // `simd`: .cargo/config.toml builds wasm32 with +simd128.
    const features = ['bulk-memory', 'nontrapping-float-to-int', 'sign-ext', 'mutable-globals', 'reference-types', 'multivalue', 'simd'];
    run(bin('wasm-opt'), ['-O3', ...features.map((f) => `--enable-${f}`), wasmFile, '-o', wasmFile]);
  }
}

// Files the compiled code reads at run time, copied beside it: the dashboard page's assets.
const TS_ASSETS = ['net/dashboard/assets'];

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

function buildTs() {
  run(bin('tsc'), ['-p', 'tsconfig.build.json']);
  for (const dir of TS_ASSETS) {
    const to = join(root, 'dist', dir);
    rmSync(to, { recursive: true, force: true });
    cpSync(join(root, 'ts', dir), to, { recursive: true });
  }
}

/** Both backends with the `testing` feature, beside the shipped ones (never packed). */
function buildTesting() {
  // Without the default `webtransport` feature: the suites that need the testing entry points do
  // not need the WebTransport endpoint, and leaving it out keeps this build quick.
  buildNative({ outDir: 'target/testing/native', features: ['testing'], noDefault: true });
  buildWasm({ outDir: join(root, 'target', 'testing', 'wasm'), features: ['testing'] });
}

const steps = { native: () => buildNative(), wasm: () => buildWasm(), ts: buildTs, browser: buildBrowser, testing: buildTesting };
const wanted = process.argv.slice(2);
for (const name of wanted.length ? wanted : ['native', 'wasm', 'ts', 'browser', 'testing']) {
  const step = steps[name];
  if (!step) {
    process.stderr.write(`build: unknown step ${name} (native, wasm, ts, browser, testing)\n`);
    process.exit(2);
  }
  try {
    step();
  } catch (err) {
    process.stderr.write(`build ${name} failed: ${err.message}\n`);
    process.exit(1);
  }
}
