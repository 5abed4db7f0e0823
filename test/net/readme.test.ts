/** The README's example runs as written (extracted from README.md, run against the built package). */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { packageRoot } from '../../ts/backend/loader.js';

it('the README example echoes "hello"', async () => {
  const readme = readFileSync(join(packageRoot, 'README.md'), 'utf8');
  const code = /## Example\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code, 'README has an Example section with a ts block').toBeDefined();
  // Inside the package so that `import 'gamewire'` resolves to it; stop once the echo arrived.
  const dir = mkdtempSync(join(packageRoot, '.readme-'));
  try {
    const file = join(dir, 'example.ts');
    writeFileSync(file, `${code}\nsetTimeout(() => process.exit(3), 5000).unref();\nclient.on('message', async () => { await client.disconnect(); await server.stop(); process.exit(0); });\n`);
    const p = spawn(process.execPath, ['--import', 'tsx', file], { cwd: packageRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const code_ = await new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
    expect(code_).toBe(0);
    expect(out).toContain('hello');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 30_000);
