/**
 * The child processes run as plain JavaScript bundles, not under tsx: tsx compiles with esbuild's
 * `keepNames`, which wraps every function created at run time in `__name(fn, "…")` (an
 * `Object.defineProperty` on the function, turning it into a dictionary-mode object). Code that
 * makes a closure per message (the server's handler dispatch does) then pays a V8 runtime call per
 * closure that compiled code (`dist/`, tsc) never pays: in a first profile of the flood receiver
 * the property machinery was about a fifth of its CPU. So each child entry (`procs/*.ts`, with
 * `ts/` inlined) is bundled once per run with esbuild, without `keepNames`, into
 * `<root>/.cache/bench-load/` (two levels below the root, so `ts/backend/loader.ts` finds `dist/`
 * as usual and packages resolve from `node_modules`). `ts/version.ts` reads `../package.json`
 * relative to itself, so the bundles get the version inlined instead.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const OUT = join(ROOT, '.cache', 'bench-load');

/** The child entry points, by name. */
export const PROC_ENTRIES = ['server', 'bots', 'flood', 'raw', 'rawbots', 'hello'] as const;
export type ProcName = (typeof PROC_ENTRIES)[number];

/** Bundles every child entry; returns name → .mjs path, or the reason it could not. */
export async function bundleProcs(): Promise<{ files: Record<ProcName, string> } | { error: string }> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch (err) {
    return { error: `esbuild is not importable (${(err as Error).message.split('\n')[0]})` };
  }
  mkdirSync(OUT, { recursive: true });
  const entryPoints = Object.fromEntries(PROC_ENTRIES.map((n) => [n, fileURLToPath(new URL(`../procs/${n}.ts`, import.meta.url))]));
  try {
    await esbuild.build({
      entryPoints,
      outdir: OUT,
      outExtension: { '.js': '.mjs' },
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: `node${process.versions.node.split('.')[0]}`,
      packages: 'external',
      sourcemap: 'linked',
      keepNames: false,
      logLevel: 'silent',
      plugins: [
        {
          name: 'inline-version',
          setup(b) {
            const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
            b.onLoad({ filter: /[\\/]ts[\\/]version\.ts$/ }, () => ({ contents: `export const VERSION = ${JSON.stringify(version)};`, loader: 'ts' }));
          },
        },
      ],
    });
  } catch (err) {
    return { error: `esbuild failed: ${(err as Error).message.split('\n')[0]}` };
  }
  return { files: Object.fromEntries(PROC_ENTRIES.map((n) => [n, join(OUT, `${n}.mjs`)])) as Record<ProcName, string> };
}
