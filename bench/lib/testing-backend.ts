/**
 * The testing builds of the two backends: the same sources compiled with the cargo feature
 * `testing`, which adds entry points the shipped builds leave out (`dangerEstablish`: a connection
 * keyed without a handshake; the batch codec and AES-GCM calls of the micro-benchmarks).
 * `node scripts/build.mjs testing` builds them into `target/testing/`; the micro-benchmarks and
 * the tests that need those entry points load them from there.
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { loadBackendFile, nativeTriple, packageRoot } from '../../ts/backend/loader.js';
import type { Backend, BackendName, Engine } from '../../ts/backend/index.js';

/** Where the testing build of a backend is. */
export function testingBackendPath(name: BackendName): string {
  return name === 'native'
    ? join(packageRoot, 'target', 'testing', 'native', `gamewire.${nativeTriple()}.node`)
    : join(packageRoot, 'target', 'testing', 'wasm', 'gamewire_wasm.js');
}

/** True when the testing build of `name` exists. */
export function hasTestingBackend(name: BackendName): boolean {
  return existsSync(testingBackendPath(name));
}

/** The testing build of `name`. */
export function loadTestingBackend(name: BackendName): Backend {
  return loadBackendFile(name, testingBackendPath(name));
}

interface TestingEngine {
  dangerEstablish(now: number, peer: number, key: Uint8Array, token: number): boolean;
}

/**
 * Adds a connection to `peer` already keyed with the 16-byte `key` (no handshake), on an engine
 * of a testing build.
 */
export function dangerEstablish(engine: Engine, now: number, peer: number, key: Uint8Array, token: number): boolean {
  const raw = (engine as Engine & { raw?: Partial<TestingEngine> }).raw;
  if (typeof raw?.dangerEstablish !== 'function') {
    throw new Error('dangerEstablish needs an engine of a testing build (loadTestingBackend)');
  }
  return raw.dangerEstablish(now, peer, key, token);
}
