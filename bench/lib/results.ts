/** The JSON results of a run (`bench/results/*.json`) and where they are written. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ImplName } from './impl.js';
import type { MachineInfo } from './machine.js';
import type { OpensslResult } from './openssl.js';
import type { SuiteName } from './suite.js';
import type { TargetResult } from './targets.js';

/** Bumped when the layout changes incompatibly. */
export const RESULTS_SCHEMA = 1;

/** Timing of one implementation on one case. */
export interface ImplResult {
  /** Nanoseconds per operation: the median over rounds of each round's mean. */
  nsPerOp: number;
  /** 1e9 / nsPerOp. */
  opsPerSec: number;
  /** nsPerOp / itemsPerOp. */
  nsPerItem: number;
  /** Items per second. */
  itemsPerSec: number;
  /** Each round's mean ns per op. */
  roundsNsPerOp: number[];
  /** Median sample of the round used, ns per op. */
  p50NsPerOp: number;
  /** Relative margin of error of that round's mean, percent. */
  rmePercent: number;
  /** Samples over all rounds. */
  samples: number;
  /** Operations per sample (each sample times this many back-to-back calls). */
  opsPerSample: number;
}

/** Outcome of the agreement check of one case. */
export interface AgreementResult {
  /** Implementations whose outputs were compared (the first is the reference). */
  compared: ImplName[];
  /** Implementations that failed their own check or disagreed with the reference: not timed. */
  failed: Partial<Record<ImplName, string>>;
}

/** One case of a suite. */
export interface CaseResult {
  id: string;
  title: string;
  params: Record<string, number | string>;
  itemsPerOp: number;
  itemUnit: string;
  agreement: AgreementResult;
  results: Partial<Record<ImplName, ImplResult>>;
  /**
   * Speed-up over plain (2 = twice as fast): the median over rounds of plain's time / this
   * implementation's time in the same round.
   */
  ratios: Partial<Record<ImplName, number>>;
}

/** One suite. */
export interface SuiteResult {
  name: SuiteName;
  title: string;
  description: string;
  /** Implementations not measured in this suite, with the reason. */
  notMeasured: Partial<Record<ImplName, string>>;
  cases: CaseResult[];
}

/** An implementation as loaded for the run. */
export interface ImplInfo {
  name: ImplName;
  available: boolean;
  description?: string;
  /** Why it could not be loaded. */
  reason?: string;
  /** Parts it does not provide. */
  missing?: string;
}

/** How the timing was done. */
export interface RunSettings {
  /** Time budget per implementation per case per round, ms. */
  timeMs: number;
  warmupMs: number;
  rounds: number;
  /** Each sample lasts about this long (operations are repeated to get there), µs. */
  sampleTargetUs: number;
}

/** A whole run. */
export interface BenchResults {
  schema: number;
  /** `full`: every suite, unfiltered; `quick`: the CI smoke mode; `partial`: a filtered or single-suite run. */
  mode: 'full' | 'quick' | 'partial';
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  settings: RunSettings;
  machine: MachineInfo;
  implementations: ImplInfo[];
  openssl: OpensslResult | null;
  suites: SuiteResult[];
  targets: TargetResult[];
  /** Agreement failures and errored tasks; a run with any is a failed run. */
  failures: string[];
}

/** `bench/results/`. */
export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');

/**
 * Writes the results: a full run to `<timestamp>.json` and `latest.json` (both meant to be
 * committed), a quick run to `quick-latest.json`, a partial run to `partial-latest.json` (both
 * ignored by `bench/results/.gitignore`). Returns the paths written.
 */
export function writeResults(results: BenchResults, dir = RESULTS_DIR): string[] {
  mkdirSync(dir, { recursive: true });
  const json = `${JSON.stringify(results, null, 2)}\n`;
  const names =
    results.mode === 'full'
      ? [`${results.startedAt.replace(/\.\d+Z$/, 'Z').replace(/:/g, '-')}.json`, 'latest.json']
      : [`${results.mode}-latest.json`];
  const paths = names.map((n) => join(dir, n));
  for (const p of paths) writeFileSync(p, json);
  return paths;
}

/** Reads a results file (default: the latest full run). */
export function readResults(path = join(RESULTS_DIR, 'latest.json')): BenchResults {
  const r = JSON.parse(readFileSync(path, 'utf8')) as BenchResults;
  if (r.schema !== RESULTS_SCHEMA) throw new Error(`${path}: results schema ${r.schema}, this code reads ${RESULTS_SCHEMA}`);
  return r;
}
