/**
 * No import cycles anywhere in ts/: the layers point one way (cli -> cluster -> net -> backend),
 * and inside a layer no two modules need each other. Type-only and dynamic imports count too.
 */
import { join } from 'node:path';
import madge from 'madge';
import { expect, it } from 'vitest';
import { packageRoot } from '../../ts/backend/loader.js';

it('ts/ has no import cycles', async () => {
  const graph = await madge(join(packageRoot, 'ts'), {
    fileExtensions: ['ts'],
    tsConfig: join(packageRoot, 'tsconfig.json'),
    detectiveOptions: { ts: { skipTypeImports: false } },
  });
  expect(Object.keys(graph.obj()).length).toBeGreaterThan(50);
  expect(graph.circular()).toEqual([]);
});

it('the cluster layer never imports the CLI, and the network layer never imports the cluster', async () => {
  const graph = await madge(join(packageRoot, 'ts'), { fileExtensions: ['ts'], tsConfig: join(packageRoot, 'tsconfig.json') });
  const wrong: string[] = [];
  for (const [file, deps] of Object.entries(graph.obj())) {
    for (const dep of deps) {
      if (file.startsWith('cluster/') && dep.startsWith('cli/')) wrong.push(`${file} -> ${dep}`);
      if ((file.startsWith('net/') || file.startsWith('backend/')) && (dep.startsWith('cluster/') || dep.startsWith('cli/'))) wrong.push(`${file} -> ${dep}`);
      if (file.startsWith('cluster/core/') && /^cluster\/(master|proxy|server|service|player)\//.test(dep)) wrong.push(`${file} -> ${dep}`);
    }
  }
  expect(wrong).toEqual([]);
});
