/**
 * The Rust echo floor (`bench/floor`, the workspace package `gamewire-bench-floor`): built with
 * cargo (release) before a run; a build already there is used when cargo is missing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Builds the floor; returns its binary's path, or why there is none. */
export function buildFloor(): { bin: string } | { error: string } {
  const target = process.env.CARGO_TARGET_DIR || join(ROOT, 'target');
  const bin = join(target, 'release', 'gamewire-bench-floor');
  const cargo = process.env.CARGO || 'cargo';
  const r = spawnSync(cargo, ['build', '--release', '--quiet', '-p', 'gamewire-bench-floor'], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
  if (r.status === 0 && existsSync(bin)) return { bin };
  if (existsSync(bin)) return { bin };
  const why = r.error ? r.error.message : `exit ${r.status}: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' ')}`;
  return { error: `cargo build -p gamewire-bench-floor failed (${why})` };
}
