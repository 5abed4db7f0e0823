/**
 * What ships carries no test or benchmark hook: the product builds of both backends leave out the
 * entry points of the cargo feature `testing`, and the package's public declarations name none of
 * gamewire's internals. The testing builds are checked to have them, so the test can fail.
 */
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backendPath, packageRoot } from '../../ts/backend/loader.js';
import { testingBackendPath } from '../../bench/lib/testing-backend.js';
import * as publicApi from '../../ts/index.js';

const require = createRequire(import.meta.url);
/** Entry points of the `testing` feature (bindings) and internals that must not be public (TypeScript). */
const HOOKS = ['dangerEstablish', 'codecEncode', 'codecDecode', 'AeadBatch', 'encodeSeal'];
const INTERNALS = ['SendBatcher', 'packageRoot', 'Binding', 'dangerEstablish', 'loadBackendFile', 'createBackend'];

/** Every name a loaded binding exposes, class prototypes included. */
function surface(binding: Record<string, unknown>): string[] {
  const names = new Set<string>();
  for (const [k, v] of Object.entries(binding)) {
    names.add(k);
    if (typeof v === 'function') {
      for (const p of Object.getOwnPropertyNames((v as { prototype?: object }).prototype ?? {})) names.add(p);
    }
  }
  return [...names];
}

describe.each(['native', 'wasm'] as const)('the %s build', (name) => {
  it('ships no testing entry point; the testing build has them', () => {
    const shipped = surface(require(backendPath(name)) as Record<string, unknown>);
    expect(shipped).toContain('Engine');
    expect(shipped.filter((n) => HOOKS.includes(n))).toEqual([]);
    const testing = surface(require(testingBackendPath(name)) as Record<string, unknown>);
    expect(testing).toEqual(expect.arrayContaining(HOOKS));
  });
});

describe('the public API', () => {
  it('exports an explicit list with no internals', () => {
    const names = Object.keys(publicApi);
    expect(names).toContain('UdpServer');
    expect(names.filter((n) => INTERNALS.includes(n))).toEqual([]);
  });

  it('declares no internals in dist/index.d.ts (when built)', () => {
    const dts = join(packageRoot, 'dist', 'index.d.ts');
    if (!existsSync(dts)) return;
    const text = readFileSync(dts, 'utf8');
    expect(text).not.toMatch(/export \*/);
    for (const n of INTERNALS) expect(text, n).not.toMatch(new RegExp(`\\b${n}\\b`));
  });
});

describe('the tables shared with Rust', () => {
  it('a binding whose tables differ from abi.generated.ts is refused at load', async () => {
    const { createBackend } = await import('../../ts/backend/backend.js');
    const real = require(backendPath('native')) as Record<string, unknown> & { layout(): string };
    const good = JSON.parse(real.layout()) as { code: [string, number, string][] };
    expect(() => createBackend('native', 'real', real as never)).not.toThrow();
    // One result code renumbered: a drift that would misreport results silently.
    good.code[1][1] = -99;
    const drifted = { ...real, layout: () => JSON.stringify(good) };
    expect(() => createBackend('native', 'drifted', drifted as never)).toThrow(/built from other sources/);
  });
});
