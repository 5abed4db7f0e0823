/**
 * Finds and loads a backend: the N-API addon (`native`) or the WebAssembly module (`wasm`).
 *
 * Choice: the `backend` option, else `GAMEWIRE_BACKEND`, else `auto`. `auto` tries native first
 * and falls back to WASM; it fails only when neither loads, with both attempts in `cause`. Any
 * other value is a `ConfigError` naming the option or the variable.
 *
 * The native addon is looked for, first found wins:
 *   1. `GAMEWIRE_NATIVE_PATH`, a `.node` file (when set, nothing else is tried);
 *   2. the platform package `@gamewire/<platform>-<arch>-<abi>` (`@gamewire/linux-x64-gnu`), an
 *      optional dependency of gamewire that npm installs only on matching machines;
 *   3. a local build in a repository checkout, `dist/native/gamewire.<triple>.node`.
 * The WebAssembly module ships inside this package (`dist/wasm`); `GAMEWIRE_WASM_PATH` overrides it.
 *
 * A backend that does not load is a `BackendLoadError` naming the platform, what was looked for,
 * the package that would serve it and the WebAssembly fallback; the repository's build commands
 * are suggested only when running from a checkout.
 */
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { BackendLoadError, ConfigError } from '../errors.js';
import { createBackend } from './backend.js';
import type { Backend, BackendChoice, BackendName, Binding } from './types.js';

const require = createRequire(import.meta.url);

/** The folder of the gamewire package: a checkout's root, or `node_modules/gamewire` when installed. */
export const packageRoot: string = fileURLToPath(new URL('../../', import.meta.url));

/** Options every gamewire class accepts to pick its backend. */
export interface BackendOptions {
  /** `native`, `wasm` or `auto` (default: `GAMEWIRE_BACKEND`, else `auto`). */
  backend?: BackendChoice;
}

interface Manifest {
  version: string;
  optionalDependencies?: Record<string, string>;
}

/** This package's package.json: the published one lists the platform packages as optional dependencies. */
const manifest = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as Manifest;

/** The scope of the platform packages (`@gamewire/linux-x64-gnu`, ...). */
const PLATFORM_SCOPE = '@gamewire/';

/** A repository checkout (where `npm run build:*` exists), as opposed to an installed package. */
function inCheckout(): boolean {
  return existsSync(join(packageRoot, 'Cargo.toml'));
}

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

/** The npm package that serves the native addon on this machine. */
function nativePackage(): string {
  return `${PLATFORM_SCOPE}${nativeTriple()}`;
}

/** Why a backend did not load (`reason`), and the file it was loaded from or looked for (`path`). */
class NotLoaded extends Error {
  constructor(
    readonly reason: string,
    readonly path: string,
    options?: ErrorOptions,
  ) {
    super(reason, options);
  }
}

const checkoutLocalBuild = (): string => join(packageRoot, 'dist', 'native', `gamewire.${nativeTriple()}.node`);

/** The installed platform package's addon, `null` when the package is not installed. */
function platformPackageAddon(): string | null {
  const pkg = nativePackage();
  let manifestPath: string;
  try {
    manifestPath = require.resolve(`${pkg}/package.json`);
  } catch {
    return null;
  }
  const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as { version: string; main?: string };
  const path = join(dirname(manifestPath), m.main ?? `gamewire.${nativeTriple()}.node`);
  if (m.version !== manifest.version) {
    throw new NotLoaded(
      `${pkg} ${m.version} is installed, but this gamewire is ${manifest.version}: \`npm install ${pkg}@${manifest.version}\``,
      path,
    );
  }
  return path;
}

/** Where the native addon is (see the order at the top), or why there is none. */
function locateNative(): string {
  const override = process.env.GAMEWIRE_NATIVE_PATH;
  if (override) {
    if (!existsSync(override)) throw new NotLoaded(`GAMEWIRE_NATIVE_PATH is ${override}, which does not exist`, override);
    return override;
  }
  const fromPackage = platformPackageAddon();
  if (fromPackage) return fromPackage;
  const local = checkoutLocalBuild();
  if (existsSync(local)) return local;
  const pkg = nativePackage();
  if (inCheckout()) {
    throw new NotLoaded(`it is not built: ${local} does not exist (build it with \`npm run build:native\`)`, local);
  }
  const published = Object.keys(manifest.optionalDependencies ?? {}).filter((name) => name.startsWith(PLATFORM_SCOPE));
  if (!published.includes(pkg)) {
    const list = published.map((name) => name.slice(PLATFORM_SCOPE.length)).join(', ') || 'none';
    throw new NotLoaded(`gamewire publishes no native addon for this platform (it does for ${list})`, pkg);
  }
  throw new NotLoaded(
    `its package ${pkg} is not installed: \`npm install ${pkg}@${manifest.version}\` (npm leaves it out under ` +
      '--omit=optional, and when package-lock.json was written on another platform: then remove node_modules and ' +
      'package-lock.json and install again)',
    pkg,
  );
}

function locateWasm(): string {
  const override = process.env.GAMEWIRE_WASM_PATH;
  if (override) {
    if (!existsSync(override)) throw new NotLoaded(`GAMEWIRE_WASM_PATH is ${override}, which does not exist`, override);
    return override;
  }
  const path = join(packageRoot, 'dist', 'wasm', 'gamewire_wasm.js');
  if (existsSync(path)) return path;
  throw new NotLoaded(
    inCheckout()
      ? `it is not built: ${path} does not exist (build it with \`npm run build:wasm\`)`
      : `${path} is missing from this installation of gamewire: reinstall gamewire`,
    path,
  );
}

const LOCATE: Record<BackendName, () => string> = { native: locateNative, wasm: locateWasm };

/** Any failure while locating or loading, as a `NotLoaded`. */
function notLoaded(err: unknown): NotLoaded {
  return err instanceof NotLoaded ? err : new NotLoaded((err as Error).message, '', { cause: err });
}

/** The file each backend loads from, or (when it does not load) where it was looked for. */
export function backendPath(name: BackendName): string {
  try {
    return LOCATE[name]();
  } catch (err) {
    return notLoaded(err).path;
  }
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

/** Loads one backend, or throws `NotLoaded` saying why not. */
function tryLoad(name: BackendName): Backend {
  return loadFrom(name, LOCATE[name]());
}

/**
 * Loads the `name` backend from the binding file at `path` (cached per path), or throws
 * `NotLoaded`. `loadBackend` uses it with the product's files; the test suite and the
 * micro-benchmarks use it (through `loadBackendFile`) with the testing builds
 * (`target/testing/`), which carry entry points the shipped builds leave out.
 */
function loadFrom(name: BackendName, path: string): Backend {
  const cached = loaded.get(path);
  if (cached) return cached;
  let binding: Binding;
  try {
    binding = require(path) as Binding;
  } catch (err) {
    const rebuild = inCheckout() ? ` (rebuild it with \`npm run build:${name}\`)` : '';
    throw new NotLoaded(`${path} failed to load: ${(err as Error).message}${rebuild}`, path, { cause: err });
  }
  let backend: Backend;
  try {
    backend = createBackend(name, path, binding);
  } catch (err) {
    const fix = inCheckout() ? `rebuild it with \`npm run build:${name}\`` : 'reinstall gamewire';
    throw new NotLoaded(`${(err as Error).message}: ${fix}`, path, { cause: err });
  }
  loaded.set(path, backend);
  return backend;
}

/** `loadFrom` for a given file, throwing a `BackendLoadError` naming it. */
export function loadBackendFile(name: BackendName, path: string): Backend {
  try {
    return loadFrom(name, path);
  } catch (err) {
    throw new BackendLoadError(`the ${name} backend at ${path} does not load: ${notLoaded(err).reason}`, { cause: err });
  }
}

const WASM_FALLBACK =
  "The WebAssembly backend runs the same API without native code: backend 'auto' (the default) falls back to it, " +
  'or choose it with GAMEWIRE_BACKEND=wasm.';

function loadByName(name: BackendName): Backend {
  try {
    return tryLoad(name);
  } catch (err) {
    const { reason } = notLoaded(err);
    const message =
      name === 'native'
        ? `the native backend does not load on ${nativeTriple()}: ${reason}. ${WASM_FALLBACK}`
        : `the wasm backend does not load: ${reason}`;
    throw new BackendLoadError(message, { cause: err });
  }
}

/**
 * Loads the backend the options (or `GAMEWIRE_BACKEND`) ask for. Backends are loaded once per
 * process and shared.
 * @throws ConfigError when the choice is not `native`, `wasm` or `auto`.
 * @throws BackendLoadError when the named backend, or under `auto` every backend, fails to load.
 */
export function loadBackend(opts: BackendOptions = {}): Backend {
  const choice = resolveBackendChoice(opts.backend);
  if (choice !== 'auto') return loadByName(choice);
  const errors: NotLoaded[] = [];
  for (const name of ['native', 'wasm'] as const) {
    try {
      return tryLoad(name);
    } catch (err) {
      errors.push(notLoaded(err));
    }
  }
  const [native, wasm] = errors;
  throw new BackendLoadError(
    `no backend loads on ${nativeTriple()}: native: ${native!.reason}; wasm: ${wasm!.reason}`,
    { cause: new AggregateError(errors) },
  );
}

/** Whether each backend loads here, and from where. */
export interface BackendAvailability {
  available: boolean;
  /** The file it loads from, or where it was looked for. */
  path: string;
  error?: string;
}

/** Tries both backends and reports which load. */
export function probeBackends(): Record<BackendName, BackendAvailability> {
  const probe = (name: BackendName): BackendAvailability => {
    try {
      return { available: true, path: tryLoad(name).path };
    } catch (err) {
      const { path, reason } = notLoaded(err);
      return { available: false, path, error: reason };
    }
  };
  return { native: probe('native'), wasm: probe('wasm') };
}
