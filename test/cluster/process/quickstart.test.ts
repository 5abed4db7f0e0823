/**
 * docs/cluster.md's quick start is correct and complete: its code block, taken from the document
 * with `gamewire` and `gamewire/cluster` pointed at the sources, type-checks and runs: the player
 * logs in over UDP and reads the rank the lobby got from the service.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ArgumentError, GameClient } from '../../../ts/cluster/index.js';
import { ROOT } from '../helpers/child.js';

function quickStart(): string {
  const doc = readFileSync(join(ROOT, 'docs', 'cluster.md'), 'utf8');
  const code = /## Quick start\n[\s\S]*?```ts\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!code) throw new Error('docs/cluster.md has no Quick start section with a ts block');
  return code;
}

it('the quick start of docs/cluster.md type-checks and runs', async () => {
  // Inside the repository, so that the sources' own imports (zod, pino, ...) resolve.
  const dir = mkdtempSync(join(ROOT, 'test', '.quickstart-'));
  try {
    const file = join(dir, 'quickstart.ts');
    writeFileSync(file, quickStart().replaceAll("from 'gamewire/cluster'", "from '../../ts/cluster/index.js'").replaceAll("from 'gamewire'", "from '../../ts/index.js'"));
    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--skipLibCheck', '--types', 'node', '--verbatimModuleSyntax', file], { cwd: ROOT, encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
    const p = spawn(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GAMEWIRE_LOG_LEVEL: 'warn' } });
    let out = '';
    let err = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect(out).toContain('rank 1');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

it('a GameClient without its transport does not compile, and is refused at run time', () => {
  // @ts-expect-error a client needs { rootPublicKey }, { gateway } or { link }
  expect(() => new GameClient({ mods: [] })).toThrow(ArgumentError);
});
