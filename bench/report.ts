/**
 * Regenerates `docs/benchmarks.md` from a results file (default `bench/results/latest.json`):
 * `node scripts/run-ts.mjs bench/report.ts [results.json]`.
 */
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeDocs } from './lib/report.js';
import { readResults, RESULTS_DIR } from './lib/results.js';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const file = resolve(process.argv[2] ?? `${RESULTS_DIR}/latest.json`);
const path = writeDocs(readResults(file), undefined, relative(root, file));
console.log(`wrote ${path} from ${file}`);
