/**
 * The error table of docs/api.md#errors agrees with `ERROR_CODES`: every code is documented once
 * (cluster-only codes may be in docs/cluster.md#errors instead), no documented code is unknown,
 * and every class the table names is an exported subclass of `GamewireError`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as net from '../../ts/index.js';
import * as cluster from '../../ts/cluster/index.js';
import { ERROR_CODES, GamewireError } from '../../ts/index.js';

interface Row {
  codes: string[];
  className: string;
  line: string;
}

/** The table rows of the `## Errors` section of a Markdown file (up to the next `## ` heading). */
function errorRows(file: string): Row[] {
  const text = readFileSync(new URL(`../../docs/${file}`, import.meta.url), 'utf8');
  const start = text.search(/^## Errors$/m);
  if (start < 0) return [];
  const rest = text.slice(start + 1);
  const end = rest.search(/^## /m);
  const section = end < 0 ? rest : rest.slice(0, end);
  const rows: Row[] = [];
  for (const line of section.split('\n')) {
    if (!line.startsWith('| `')) continue;
    const cells = line.split(' | ');
    const codes = [...cells[0].matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]);
    const className = /`([A-Za-z]+)`/.exec(cells[1] ?? '')?.[1] ?? '';
    rows.push({ codes, className, line });
  }
  return rows;
}

describe('docs/api.md#errors', () => {
  const api = errorRows('api.md');
  const apiCodes = api.flatMap((r) => r.codes);
  const known = new Set<string>(ERROR_CODES);

  it('lists every error code once, and no code that does not exist', () => {
    expect(api.length).toBeGreaterThan(10);
    const unknown = apiCodes.filter((c) => !known.has(c));
    expect(unknown, 'documented codes missing from ERROR_CODES').toEqual([]);
    const twice = apiCodes.filter((c, i) => apiCodes.indexOf(c) !== i);
    expect(twice, 'codes documented twice').toEqual([]);
    // Cluster-only codes may be documented in cluster.md's Errors table instead.
    const elsewhere = new Set(errorRows('cluster.md').flatMap((r) => r.codes));
    const missing = ERROR_CODES.filter((c) => !apiCodes.includes(c) && !elsewhere.has(c));
    expect(missing, 'codes of ERROR_CODES that no errors table lists').toEqual([]);
  });

  it('names exported GamewireError classes', () => {
    const exported: Record<string, unknown> = { ...net, ...cluster };
    for (const row of api) {
      const cls = exported[row.className];
      expect(typeof cls, `${row.className} (${row.line}) is exported`).toBe('function');
      const ctor = cls as new (...args: never[]) => unknown;
      expect(ctor === GamewireError || ctor.prototype instanceof GamewireError, `${row.className} is a GamewireError`).toBe(true);
    }
  });
});
