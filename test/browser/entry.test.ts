/**
 * The shape of the built browser entry (dist/browser): ES modules whose imports are all relative
 * and stay inside the folder (a static server can serve it, no Node module in the graph), and a
 * bundler takes it as it is.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const DIST = fileURLToPath(new URL('../../dist/browser/', import.meta.url));
const ENTRY = join(DIST, 'browser', 'index.js');

/** Every module reachable from `entry`, with the specifiers each imports. */
function graph(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    const src = readFileSync(file, 'utf8');
    // Compiled modules state their imports at the start of a line (doc comments start with ` *`).
    const specs = [...src.matchAll(/^(?:import|export)\s[^;'"]*?\bfrom\s*['"]([^'"]+)['"]|^import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm)]
      .map((m) => m[1] ?? m[2] ?? m[3]);
    seen.set(file, specs);
    for (const s of specs) if (s.startsWith('.')) visit(normalize(join(dirname(file), s)));
  };
  visit(entry);
  return seen;
}

describe('dist/browser', () => {
  it('imports only relative modules inside the folder, and nothing of Node', () => {
    expect(existsSync(ENTRY), 'build it with `node scripts/build.mjs browser`').toBe(true);
    const g = graph(ENTRY);
    expect(g.size).toBeGreaterThan(5);
    for (const [file, specs] of g) {
      for (const s of specs) {
        expect(s.startsWith('./') || s.startsWith('../'), `${relative(DIST, file)} imports ${s}`).toBe(true);
        const target = normalize(join(dirname(file), s));
        expect(target.startsWith(DIST), `${relative(DIST, file)} imports ${s}, outside dist/browser`).toBe(true);
        expect(existsSync(target), `${relative(DIST, file)} imports ${s}, which is missing`).toBe(true);
      }
      const src = readFileSync(file, 'utf8');
      expect(src, relative(DIST, file)).not.toMatch(/\bnode:|createRequire|\bprocess\.env\b|\brequire\(/);
    }
    expect(readFileSync(join(DIST, 'browser', 'engine.js'), 'utf8')).toContain("new URL('./gamewire_wasm_bg.wasm', import.meta.url)");
  });

  it('bundles with esbuild for the browser as it is', async () => {
    const out = await build({ entryPoints: [ENTRY], bundle: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent' });
    expect(out.errors).toEqual([]);
    const js = out.outputFiles[0].text;
    expect(js).toMatch(/BrowserClient = class extends Emitter/);
    expect(js).toContain('gamewire_wasm_bg.wasm');
  });
});
