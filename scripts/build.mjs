#!/usr/bin/env node
// Builds gamewire: `node scripts/build.mjs [native|wasm|ts ...]` (all three when none is named).
//
//   native  the N-API addon, release, with @napi-rs/cli   -> dist/native/gamewire.<triple>.node
//   wasm    the WebAssembly module for Node                -> dist/wasm/gamewire_wasm{.js,_bg.wasm}
//   ts      the TypeScript, with declarations              -> dist/**/*.js, *.d.ts
//           and the daily sign-in example the demo runs    -> dist/cli/demo/daily-signin/
//
// WASM toolchain: rustup's wasm32-unknown-unknown target when installed (wasm-pack, or cargo +
// wasm-bindgen if wasm-pack is missing or refuses); otherwise Debian's rustc-web linked as the
// rustup toolchain `debweb`, building std from source (see docs/development.md). Set
// GAMEWIRE_WASM_ROUTE=rustup|debweb to force one.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

function buildNative() {
  run(bin('napi'), [
    'build', '--platform', '--release',
    '--manifest-path', 'crates/napi/Cargo.toml',
    '--package-json-path', 'package.json',
    '--output-dir', 'dist/native',
    '--no-js', '--dts', 'binding.d.ts', '--no-dts-header',
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

function buildWasm() {
  const outDir = join(root, 'dist', 'wasm');
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const route = wasmRoute();
  process.stderr.write(`wasm: toolchain route "${route}"\n`);
  if (route === 'rustup') {
    const hasWasmPack = capture('wasm-pack', ['--version']) !== null;
    let packed = false;
    if (hasWasmPack) {
      try {
        run('wasm-pack', ['build', 'crates/wasm', '--release', '--target', 'nodejs', '--no-pack',
          '--out-dir', outDir, '--out-name', 'gamewire_wasm'], { env: { WASM_PACK_CACHE: join(root, '.cache', 'wasm-pack') } });
        packed = true;
      } catch (err) {
        process.stderr.write(`wasm-pack failed (${err.message}); falling back to cargo + wasm-bindgen\n`);
      }
    }
    if (!packed) {
      run('cargo', ['build', '--release', '-p', 'gamewire-wasm', '--target', 'wasm32-unknown-unknown']);
      wasmBindgen(join(root, 'target', 'wasm32-unknown-unknown', 'release', 'gamewire_wasm.wasm'), outDir);
    }
  } else if (route === 'debweb') {
    const targetDir = join(root, 'target', 'debweb');
    run('cargo', ['+debweb', 'build', '--release', '-p', 'gamewire-wasm', '--target', 'wasm32-unknown-unknown',
      '-Zbuild-std=std,panic_abort', '--target-dir', targetDir], { env: { RUSTC_BOOTSTRAP: '1' } });
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

function buildTs() {
  run(bin('tsc'), ['-p', 'tsconfig.build.json']);
  // The daily sign-in example, compiled into the CLI for `gamewire demo` (it imports gamewire/cluster).
  run(bin('tsc'), ['-p', 'examples/daily-signin/tsconfig.build.json']);
}

const steps = { native: buildNative, wasm: buildWasm, ts: buildTs };
const wanted = process.argv.slice(2);
for (const name of wanted.length ? wanted : ['native', 'wasm', 'ts']) {
  const step = steps[name];
  if (!step) {
    process.stderr.write(`build: unknown step ${name} (native, wasm, ts)\n`);
    process.exit(2);
  }
  try {
    step();
  } catch (err) {
    process.stderr.write(`build ${name} failed: ${err.message}\n`);
    process.exit(1);
  }
}
