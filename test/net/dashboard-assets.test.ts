/**
 * The dashboard page's asset files: the browser script passes ESLint with the dashboard's config
 * (which forbids building markup from data), and the built package ships the three files next to
 * the compiled code that serves them.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../ts/backend/loader.js';

const CONFIG = join(packageRoot, 'ts/net/dashboard/eslint.config.mjs');
const ASSETS = fileURLToPath(new URL('../../ts/net/dashboard/assets/', import.meta.url));
const FILES = ['index.html', 'dashboard.css', 'dashboard.js'];

const eslint = () => new ESLint({ cwd: packageRoot, overrideConfigFile: CONFIG });

describe('dashboard assets', () => {
  it('the browser script passes ESLint', async () => {
    const results = await eslint().lintFiles([ASSETS]);
    expect(results.map((r) => r.filePath)).toEqual([join(ASSETS, 'dashboard.js')]);
    const problems = results.flatMap((r) => r.messages.map((m) => `${r.filePath}:${m.line}:${m.column} ${m.ruleId}: ${m.message}`));
    expect(problems).toEqual([]);
  });

  it('the lint config refuses markup built from data, string evaluation and undeclared globals', async () => {
    const lint = async (code: string) => {
      const [r] = await eslint().lintText(`'use strict';\n${code}\n`, { filePath: join(ASSETS, 'probe.js') });
      return r.messages.map((m) => m.ruleId);
    };
    expect(await lint('document.body.innerHTML = location.hash;')).toEqual(['no-restricted-properties']);
    expect(await lint("document.body.insertAdjacentHTML('beforeend', location.hash);")).toEqual(['no-restricted-properties']);
    expect(await lint('document.write(location.hash);')).toEqual(['no-restricted-properties']);
    expect(await lint('eval(location.hash);')).toEqual(['no-eval']);
    expect(await lint("setTimeout('render()', 1);")).toEqual(['no-implied-eval']);
    expect(await lint('undeclared.x = 1;')).toEqual(['no-undef']);
    expect(await lint('document.body.textContent = location.hash;')).toEqual([]);
  });

  it('the built package ships the three files beside the code that serves them', async () => {
    const dist = join(packageRoot, 'dist/net/dashboard');
    expect(existsSync(join(dist, 'page.js')), 'dist is built (node scripts/build.mjs ts)').toBe(true);
    for (const f of FILES) {
      expect(readFileSync(join(dist, 'assets', f), 'utf8'), `dist has the current ${f}`).toBe(readFileSync(join(ASSETS, f), 'utf8'));
    }
    const page = (await import(pathToFileURL(join(dist, 'page.js')).href)) as { dashboardPage(): { html: string; csp: string } };
    expect(page.dashboardPage().html).toContain('id="profile-chart"');
    const pack = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: packageRoot, encoding: 'utf8' });
    expect(pack.status, pack.stderr).toBe(0);
    const files = (JSON.parse(pack.stdout) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
    for (const f of FILES) expect(files).toContain(`dist/net/dashboard/assets/${f}`);
  });
});
