/**
 * The dashboard page, built from the asset files beside this module (`assets/index.html`,
 * `assets/dashboard.css`, `assets/dashboard.js`; the build copies them next to the compiled code).
 * The HTML links its style and script like any page; when served, the two are inlined into it so
 * that the page is one self-contained document, and its Content-Security-Policy allows exactly
 * those two by hash and nothing else but requests to its own routes.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { StateError } from '../../errors.js';

/** The page as served: the HTML and its Content-Security-Policy. */
export interface DashboardPage {
  html: string;
  csp: string;
}

/** The folder of the asset files. */
export const ASSETS_DIR = fileURLToPath(new URL('./assets/', import.meta.url));

const STYLE_TAG = '<link rel="stylesheet" href="dashboard.css">';
const SCRIPT_TAG = '<script src="dashboard.js"></script>';

const sha256 = (s: string): string => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

function asset(name: string): string {
  const path = `${ASSETS_DIR}${name}`;
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new StateError(`the dashboard's asset ${path} cannot be read (is the package complete?): ${(err as Error).message}`, { cause: err });
  }
}

/** Inlines `style` and `script` into `html` (in place of their link and script tags) and hashes them for the CSP. */
export function buildPage(html: string, style: string, script: string): DashboardPage {
  for (const tag of [STYLE_TAG, SCRIPT_TAG]) {
    if (html.split(tag).length !== 2) throw new StateError(`the dashboard's index.html must contain ${tag} exactly once`);
  }
  // A function replacement: `$` sequences in the assets stay as they are.
  const page = html.replace(STYLE_TAG, () => `<style>${style}</style>`).replace(SCRIPT_TAG, () => `<script>${script}</script>`);
  const csp = [
    "default-src 'none'",
    `script-src ${sha256(script)}`,
    `style-src ${sha256(style)}`,
    "connect-src 'self'",
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html: page, csp };
}

let cached: DashboardPage | null = null;

/** The page, read from the asset files on first use. */
export function dashboardPage(): DashboardPage {
  cached ??= buildPage(asset('index.html'), asset('dashboard.css'), asset('dashboard.js'));
  return cached;
}
