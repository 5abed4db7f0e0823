/**
 * `npm run bench`: every micro-benchmark suite (codec, crypto, pipeline) on every implementation
 * that loads, plus the OpenSSL reference; prints progress and tables, writes
 * `bench/results/<timestamp>.json` + `latest.json` and regenerates `docs/benchmarks.md`.
 * `--quick` (CI): a smoke run that checks agreement and writes `bench/results/quick-latest.json`.
 * Options: see `bench/lib/main.ts`.
 */
import { codecSuite } from './codec.bench.js';
import { cryptoSuite } from './crypto.bench.js';
import { runMain } from './lib/main.js';
import type { Suite } from './lib/suite.js';
import { pipelineSuite } from './pipeline.bench.js';

/** Every suite, in the order they run. */
export const SUITES: readonly Suite<unknown>[] = [codecSuite, cryptoSuite, pipelineSuite];

await runMain(SUITES, process.argv.slice(2), true);
