import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BackendName } from '../../ts/backend/index.js';

/**
 * The backends every backend-facing suite runs on: both, unless GAMEWIRE_TEST_BACKENDS narrows
 * them (e.g. `GAMEWIRE_TEST_BACKENDS=wasm` while debugging).
 */
export const BACKENDS: BackendName[] = (process.env.GAMEWIRE_TEST_BACKENDS ?? 'native,wasm')
  .split(',')
  .map((s) => s.trim())
  .filter((s): s is BackendName => s === 'native' || s === 'wasm');

/** Reads a vector file from test/vectors/. */
export function vector<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(fileURLToPath(new URL(`../vectors/${name}`, import.meta.url)), 'utf8')) as T;
}

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
