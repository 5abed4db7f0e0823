/**
 * Headless Chromium for browser tests and the browser benchmark: Debian's `chromium` through
 * playwright-core, launched and closed by its user, with pages that load dist/browser (the built
 * `gamewire/browser`) from a plain static server as `globalThis.gw`. Builds dist/browser first
 * when it is missing. (No vitest import: bench/browser uses it too.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { serveStatic, type StaticServer } from './static.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const DIST_BROWSER = join(ROOT, 'dist', 'browser');
export const CHROMIUM = process.env.GAMEWIRE_CHROMIUM ?? '/usr/bin/chromium';
/**
 * No QUIC flag is needed: Chromium opens WebTransport to 127.0.0.1 with `serverCertificateHashes`
 * alone (the dashboard test's `--disable-quic` would forbid it).
 */
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const PAGE = `import * as gw from '/pkg/browser/index.js'; globalThis.gw = gw; document.body.dataset.ready = '1';`;

/** Builds dist/browser if it is missing (pages load it as a web page would); throws without Chromium. */
export function ensureBrowserBuild(): void {
  if (!existsSync(join(DIST_BROWSER, 'browser', 'index.js'))) {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), 'browser'], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`node scripts/build.mjs browser failed (exit ${r.status})`);
  }
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is needed at ${CHROMIUM} (scripts/setup.sh installs Debian's chromium; GAMEWIRE_CHROMIUM overrides the path)`);
  }
}

export interface Chromium {
  context: BrowserContext;
  statics: StaticServer;
  /** Page errors and console errors of every page opened here. */
  problems: string[];
  /** A new page with `globalThis.gw` loaded. */
  page(): Promise<Page>;
  close(): Promise<void>;
}

/** Launches Chromium (a persistent context in a temporary profile) beside a static server. */
export async function launchChromium(): Promise<Chromium> {
  ensureBrowserBuild();
  const statics = await serveStatic(DIST_BROWSER, PAGE);
  const dataDir = mkdtempSync(join(tmpdir(), 'gamewire-chromium-'));
  const context = await chromium.launchPersistentContext(dataDir, { executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  const problems: string[] = [];
  let first: Page | undefined = context.pages()[0];
  return {
    context,
    statics,
    problems,
    async page() {
      const page = first ?? (await context.newPage());
      first = undefined;
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
      });
      await page.goto(`${statics.url}/`);
      await page.waitForSelector('body[data-ready="1"]', { state: 'attached', timeout: 10_000 });
      return page;
    },
    async close() {
      await context.close();
      await statics.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
