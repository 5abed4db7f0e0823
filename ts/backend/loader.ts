/**
 * Finds and loads a backend: the N-API addon (`native`) or the WebAssembly module (`wasm`).
 *
 * Choice: the `backend` option, else `GAMEWIRE_BACKEND`, else `auto`. `auto` tries native first
 * and falls back to WASM; it fails only when neither loads, with both attempts in `cause`.
 * A backend asked for by name that does not load throws a `BackendLoadError` naming it, the file
 * it looked for, and the command that builds it.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { BackendLoadError, ConfigError } from '../errors.js';
import { createBackend } from './backend.js';
import type { Backend, BackendChoice, BackendName, Binding } from './types.js';

const require = createRequire(import.meta.url);

/** The package root: this file is `ts/backend/loader.ts` in a checkout, `dist/backend/loader.js` when built. */
export const packageRoot: string = fileURLToPath(new URL('../../', import.meta.url));

/** Options every gamewire class accepts to pick its backend. */
export interface BackendOptions {
  /** `native`, `wasm` or `auto` (default: `GAMEWIRE_BACKEND`, else `auto`). */
  backend?: BackendChoice;
}

const BUILD_COMMAND: Record<BackendName, string> = {
  native: 'npm run build:native',
  wasm: 'npm run build:wasm',
};

let triple: string | undefined;

/** The `<platform>-<arch>[-<abi>]` suffix napi-rs gives the addon for this machine (computed once). */
export function nativeTriple(): string {
  triple ??= computeTriple();
  return triple;
}

function computeTriple(): string {
  const { platform, arch } = process;
  if (platform === 'linux') return `linux-${arch}-${isMusl() ? 'musl' : 'gnu'}`;
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

/**
 * glibc or musl. Node's report says which, but building a report walks every open handle and
 * resolves each socket's address (blocking on DNS): network details are excluded, and the answer
 * is computed once.
 */
function isMusl(): boolean {
  // `excludeNetwork` exists since Node 20.13; @types/node 20 does not list it.
  const report = process.report as (NodeJS.ProcessReport & { excludeNetwork?: boolean }) | undefined;
  if (!report) return false;
  const saved = report.excludeNetwork;
  report.excludeNetwork = true;
  try {
    const r = report.getReport() as { header?: { glibcVersionRuntime?: string } };
    return !r.header?.glibcVersionRuntime;
  } finally {
    report.excludeNetwork = saved;
  }
}

/** The file each backend is loaded from (`GAMEWIRE_NATIVE_PATH` / `GAMEWIRE_WASM_PATH` override). */
export function backendPath(name: BackendName): string {
  if (name === 'native') {
    return process.env.GAMEWIRE_NATIVE_PATH || join(packageRoot, 'dist', 'native', `gamewire.${nativeTriple()}.node`);
  }
  return process.env.GAMEWIRE_WASM_PATH || join(packageRoot, 'dist', 'wasm', 'gamewire_wasm.js');
}

/** Validates a backend choice; `undefined` means: the environment, else `auto`. */
export function resolveBackendChoice(choice?: string): BackendChoice {
  const fromEnv = choice === undefined;
  const value = choice ?? process.env.GAMEWIRE_BACKEND ?? 'auto';
  if (value === '' && fromEnv) return 'auto';
  if (value === 'native' || value === 'wasm' || value === 'auto') return value;
  throw new ConfigError(
    fromEnv ? 'GAMEWIRE_BACKEND' : 'backend',
    `must be "native", "wasm" or "auto", got ${JSON.stringify(value)}`,
  );
}

const loaded = new Map<string, Backend>();

function loadByName(name: BackendName): Backend {
  return loadBackendFile(name, backendPath(name));
}

/**
 * Loads the `name` backend from the binding file at `path` (cached per path). `loadBackend` uses
 * it with the product's files; the test suite and the micro-benchmarks use it with the testing
 * builds (`target/testing/`), which carry entry points the shipped builds leave out.
 */
export function loadBackendFile(name: BackendName, path: string): Backend {
  const cached = loaded.get(path);
  if (cached) return cached;
  if (!existsSync(path)) {
    throw new BackendLoadError(
      `the ${name} backend is not built: ${path} does not exist (build it with \`${BUILD_COMMAND[name]}\`)`,
    );
  }
  let binding: Binding;
  try {
    binding = require(path) as Binding;
  } catch (err) {
    throw new BackendLoadError(
      `the ${name} backend at ${path} failed to load: ${(err as Error).message} (rebuild it with \`${BUILD_COMMAND[name]}\`)`,
      { cause: err },
    );
  }
  const backend = createBackend(name, path, binding);
  loaded.set(path, backend);
  return backend;
}

/**
 * Loads the backend the options (or `GAMEWIRE_BACKEND`) ask for. Backends are loaded once per
 * process and shared.
 * @throws BackendLoadError when the named backend, or under `auto` every backend, fails to load.
 */
export function loadBackend(opts: BackendOptions = {}): Backend {
  const choice = resolveBackendChoice(opts.backend);
  if (choice !== 'auto') return loadByName(choice);
  const errors: Error[] = [];
  for (const name of ['native', 'wasm'] as const) {
    try {
      return loadByName(name);
    } catch (err) {
      errors.push(err as Error);
    }
  }
  throw new BackendLoadError(
    `no backend loads (tried native, then wasm): ${errors.map((e) => e.message).join('; ')} (build both with \`npm run build\`)`,
    { cause: new AggregateError(errors) },
  );
}

/** Whether each backend loads here, and from where. */
export interface BackendAvailability {
  available: boolean;
  path: string;
  error?: string;
}

/** Tries both backends and reports which load. */
export function probeBackends(): Record<BackendName, BackendAvailability> {
  const probe = (name: BackendName): BackendAvailability => {
    try {
      return { available: true, path: loadByName(name).path };
    } catch (err) {
      return { available: false, path: backendPath(name), error: (err as Error).message };
    }
  };
  return { native: probe('native'), wasm: probe('wasm') };
}
