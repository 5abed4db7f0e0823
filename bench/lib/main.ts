/**
 * The command line of `bench/run.ts` and of each `bench/*.bench.ts` run alone.
 *
 *   --quick            CI smoke mode: tiny time budget, still checks agreement, writes quick-latest.json
 *   --filter <text>    only cases whose `suite/case-id` contains <text> (e.g. `pipeline/exchange/64B`)
 *   --impl <a,b>       only these implementations (plain always runs: it is the reference)
 *   --rounds <n>       rounds per case (default: 3, quick: 1)
 *   --time <ms>        time budget per implementation per case per round (default: 300, quick: 10)
 *   --no-openssl       skip the `openssl speed` reference
 *   --no-docs          do not rewrite docs/benchmarks.md after a full run
 *   --no-write         write no JSON
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadImplementations } from '../impls/index.js';
import { SETTINGS, runSuite, type Log } from './harness.js';
import { IMPL_NAMES, type ImplName } from './impl.js';
import { describeMachine, finishMachineInfo, machineInfo } from './machine.js';
import { measureOpenssl, type OpensslResult } from './openssl.js';
import { consoleReport, writeDocs } from './report.js';
import { RESULTS_SCHEMA, writeResults, type BenchResults, type RunSettings, type SuiteResult } from './results.js';
import type { Suite } from './suite.js';
import { evaluateTargets } from './targets.js';

/** True when the module at `url` is the script node was started with. */
export function isMain(url: string): boolean {
  return process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(url);
}

/** Parsed command line. */
export interface CliOptions {
  quick: boolean;
  filter?: string;
  impls?: ImplName[];
  rounds?: number;
  timeMs?: number;
  openssl: boolean;
  docs: boolean;
  write: boolean;
}

function positiveInt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} needs a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

/** Parses the arguments (see the top of this file). */
export function parseCli(argv: readonly string[]): CliOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      filter: { type: 'string' },
      impl: { type: 'string' },
      rounds: { type: 'string' },
      time: { type: 'string' },
      'no-openssl': { type: 'boolean', default: false },
      'no-docs': { type: 'boolean', default: false },
      'no-write': { type: 'boolean', default: false },
    },
    strict: true,
  });
  let impls: ImplName[] | undefined;
  if (values.impl !== undefined) {
    impls = values.impl.split(',').map((s) => s.trim()).filter(Boolean) as ImplName[];
    const bad = impls.filter((n) => !IMPL_NAMES.includes(n));
    if (bad.length) throw new Error(`--impl: unknown ${bad.join(', ')} (known: ${IMPL_NAMES.join(', ')})`);
  }
  return {
    quick: values.quick,
    filter: values.filter,
    impls,
    rounds: positiveInt('rounds', values.rounds),
    timeMs: positiveInt('time', values.time),
    openssl: !values['no-openssl'],
    docs: !values['no-docs'],
    write: !values['no-write'],
  };
}

/** Runs `suites` with the given options and returns the results (written and printed as asked). */
export async function runBenchmarks(
  suites: readonly Suite<unknown>[],
  opts: CliOptions,
  { complete, log = (l) => console.log(l) }: { complete: boolean; log?: Log },
): Promise<BenchResults> {
  const t0 = Date.now();
  const startedAt = new Date(t0).toISOString();
  const base = opts.quick ? SETTINGS.quick : SETTINGS.full;
  const settings: RunSettings = { ...base, rounds: opts.rounds ?? base.rounds, timeMs: opts.timeMs ?? base.timeMs };
  const mode = opts.quick ? 'quick' : complete && !opts.filter && !opts.impls ? 'full' : 'partial';
  const machine = machineInfo();
  log(`gamewire micro-benchmarks, ${mode} mode: ${settings.rounds} round(s) × ${settings.timeMs} ms per implementation and case`);
  log(`machine: ${describeMachine(machine)}`);

  const { available, unavailable } = await loadImplementations(opts.impls);
  for (const i of available) log(`  ${i.name}: ${i.description}${i.missing ? ` (${i.missing})` : ''}`);
  for (const u of unavailable) log(`  ${u.name}: not available (${u.reason})`);
  const unavailableReasons = Object.fromEntries(unavailable.map((u) => [u.name, `not available: ${u.reason}`]));

  let openssl: OpensslResult | null = null;
  if (opts.openssl && suites.some((s) => s.name === 'crypto')) {
    log('\nOpenSSL reference: openssl speed -aead -evp aes-128-gcm …');
    openssl = measureOpenssl(1);
    for (const r of openssl.records) log(`  ${r.bytes} B: ${r.nsPerRecord.toFixed(0)} ns/record`);
    for (const e of openssl.errors) log(`  not measured: ${e}`);
  }

  const suiteResults: SuiteResult[] = [];
  for (const suite of suites) {
    suiteResults.push(await runSuite(suite, available, unavailableReasons, { settings, filter: opts.filter, log }));
  }

  const failures: string[] = [];
  for (const s of suiteResults) {
    for (const c of s.cases) {
      for (const [name, why] of Object.entries(c.agreement.failed)) failures.push(`${s.name}/${c.id}: ${name}: ${why}`);
    }
  }
  finishMachineInfo(machine);
  const results: BenchResults = {
    schema: RESULTS_SCHEMA,
    mode,
    startedAt,
    finishedAt: new Date().toISOString(),
    durationSeconds: (Date.now() - t0) / 1000,
    settings,
    machine,
    implementations: [
      ...available.map((i) => ({ name: i.name, available: true, description: i.description, ...(i.missing ? { missing: i.missing } : {}) })),
      ...unavailable.map((u) => ({ name: u.name, available: false, reason: u.reason })),
    ],
    openssl,
    suites: suiteResults,
    targets: evaluateTargets(suiteResults, openssl),
    failures,
  };

  log(consoleReport(results));
  if (opts.write) for (const p of writeResults(results)) log(`\nwrote ${p}`);
  if (mode === 'full' && opts.write && opts.docs) log(`wrote ${writeDocs(results)}`);
  if (failures.length) {
    log(`\n${failures.length} failure(s):`);
    for (const f of failures) log(`  ${f}`);
  }
  log(`\ndone in ${results.durationSeconds.toFixed(1)} s`);
  return results;
}

/** Entry point of the bench scripts: parses `argv`, runs, sets the exit code (1 on any failure). */
export async function runMain(suites: readonly Suite<unknown>[], argv: readonly string[], complete = false): Promise<void> {
  let opts: CliOptions;
  try {
    opts = parseCli(argv);
  } catch (err) {
    console.error((err as Error).message);
    process.exitCode = 2;
    return;
  }
  const results = await runBenchmarks(suites, opts, { complete });
  if (results.failures.length) process.exitCode = 1;
}
