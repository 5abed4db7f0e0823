/**
 * Runs suites: for every case, each implementation is prepared and run once (or `checkRuns`
 * times), its outputs are checked on their own (`verify`) and against the reference (`plain`),
 * and only the implementations that agree are then timed with tinybench, interleaved, over
 * several rounds.
 */
import { Bench } from 'tinybench';
import { firstDifference, type Comparable } from './agree.js';
import { IMPL_NAMES, type ImplName, type Implementation } from './impl.js';
import type { CaseResult, ImplResult, RunSettings, SuiteResult } from './results.js';
import { median } from './stats.js';
import type { BenchCase, Runner, Suite } from './suite.js';

/** Where progress lines go. */
export type Log = (line: string) => void;

/** Settings of the quick (CI smoke) and full modes. */
export const SETTINGS: Record<'quick' | 'full', RunSettings> = {
  quick: { timeMs: 10, warmupMs: 2, rounds: 1, sampleTargetUs: 50 },
  full: { timeMs: 200, warmupMs: 30, rounds: 5, sampleTargetUs: 200 },
};

/** An implementation's part for one suite. */
interface Participant<I> {
  name: ImplName;
  part: I;
}

/** The outcome of checking one case. */
export interface CheckOutcome {
  /** Runners of the implementations that passed, reference first, ready to be timed. */
  passed: { name: ImplName; runner: Runner }[];
  compared: ImplName[];
  failed: Partial<Record<ImplName, string>>;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The agreement check of one case: prepares each implementation, runs it `checkRuns` times,
 * verifies its outputs on their own, then compares them with the first implementation's (the
 * reference, `plain`). An implementation that throws, fails `verify` or disagrees is reported in
 * `failed` and not timed. If the reference itself fails, nothing is timed.
 */
export function checkCase<I>(c: BenchCase<I>, participants: readonly Participant<I>[]): CheckOutcome {
  const runs = c.checkRuns ?? 1;
  const failed: Partial<Record<ImplName, string>> = {};
  const outputs: { name: ImplName; runner: Runner; outs: Comparable[] }[] = [];
  for (const p of participants) {
    try {
      const runner = c.prepare(p.part);
      const outs: Comparable[] = [];
      for (let i = 0; i < runs; i++) {
        runner.run();
        outs.push(structuredClone(runner.output()));
      }
      c.verify?.(outs);
      outputs.push({ name: p.name, runner, outs });
    } catch (err) {
      failed[p.name] = `check failed: ${message(err)}`;
    }
  }
  const ref = outputs[0];
  if (!ref || ref.name !== participants[0]?.name) {
    for (const o of outputs) failed[o.name] ??= `not timed: the reference (${participants[0]?.name}) failed its check`;
    return { passed: [], compared: participants.map((p) => p.name), failed };
  }
  const passed = [{ name: ref.name, runner: ref.runner }];
  for (const o of outputs.slice(1)) {
    const diff = firstDifference(o.outs, ref.outs);
    if (diff) failed[o.name] = `disagrees with ${ref.name}: ${diff} (${o.name} vs ${ref.name})`;
    else passed.push({ name: o.name, runner: o.runner });
  }
  return { passed, compared: participants.map((p) => p.name), failed };
}

/** How many back-to-back operations make a sample of about `targetUs`. */
function opsPerSample(runner: Runner, targetUs: number): number {
  let ops = 0;
  const t0 = process.hrtime.bigint();
  let elapsed = 0;
  while (ops < 10_000 && (elapsed < 2e6 || ops < 3)) {
    runner.run();
    ops++;
    elapsed = Number(process.hrtime.bigint() - t0);
  }
  const nsPerOp = elapsed / ops;
  return Math.max(1, Math.min(1_000_000, Math.round((targetUs * 1000) / nsPerOp)));
}

/**
 * Times the runners: `rounds` tinybench runs, each with one task per implementation (order
 * reversed every other round). A task's sample is `opsPerSample` back-to-back `run()` calls,
 * recorded as their mean (`overriddenDuration`), so the timer's resolution and call cost do not
 * matter. Per implementation, the result is the median over rounds of each round's mean.
 */
export async function timeRunners(
  passed: readonly { name: ImplName; runner: Runner }[],
  itemsPerOp: number,
  settings: RunSettings,
): Promise<Partial<Record<ImplName, ImplResult>>> {
  const reps = new Map(passed.map((p) => [p.name, opsPerSample(p.runner, settings.sampleTargetUs)]));
  const rounds = new Map<ImplName, { mean: number; p50: number; rme: number; samples: number }[]>();
  for (let round = 0; round < settings.rounds; round++) {
    const bench = new Bench({
      time: settings.timeMs,
      warmupTime: settings.warmupMs,
      iterations: 3,
      warmupIterations: 1,
      throws: true,
    });
    const order = round % 2 === 0 ? passed : [...passed].reverse();
    for (const { name, runner } of order) {
      const n = reps.get(name) ?? 1;
      bench.add(name, () => {
        const t0 = bench.now();
        for (let i = 0; i < n; i++) runner.run();
        const t = bench.now() - t0;
        return { overriddenDuration: t / n, overriddenIterationCost: t };
      });
    }
    await bench.run();
    for (const task of bench.tasks) {
      const r = task.result;
      if (r.state !== 'completed') throw new Error(`task ${task.name} ended ${r.state}${'error' in r ? `: ${r.error.message}` : ''}`);
      const list = rounds.get(task.name as ImplName) ?? [];
      list.push({ mean: r.latency.mean * 1e6, p50: r.latency.p50 * 1e6, rme: r.latency.rme, samples: r.latency.samplesCount });
      rounds.set(task.name as ImplName, list);
    }
  }
  const out: Partial<Record<ImplName, ImplResult>> = {};
  for (const { name } of passed) {
    const list = rounds.get(name) ?? [];
    const nsPerOp = median(list.map((x) => x.mean));
    const chosen = list.reduce((best, x) => (Math.abs(x.mean - nsPerOp) < Math.abs(best.mean - nsPerOp) ? x : best), list[0]);
    out[name] = {
      nsPerOp,
      opsPerSec: 1e9 / nsPerOp,
      nsPerItem: nsPerOp / itemsPerOp,
      itemsPerSec: (1e9 / nsPerOp) * itemsPerOp,
      roundsNsPerOp: list.map((x) => x.mean),
      p50NsPerOp: chosen.p50,
      rmePercent: chosen.rme,
      samples: list.reduce((s, x) => s + x.samples, 0),
      opsPerSample: reps.get(name) ?? 1,
    };
  }
  return out;
}

/**
 * Speed-up of `r` over `plain`: the median over rounds of plain's time / r's time in the same
 * round. Pairing rounds compares measurements taken seconds apart, so a slow phase of a shared
 * machine affects both sides of most ratios.
 */
export function pairedRatio(plain: ImplResult, r: ImplResult): number {
  const n = Math.min(plain.roundsNsPerOp.length, r.roundsNsPerOp.length);
  if (n === 0) return plain.nsPerOp / r.nsPerOp;
  const ratios: number[] = [];
  for (let k = 0; k < n; k++) ratios.push(plain.roundsNsPerOp[k] / r.roundsNsPerOp[k]);
  return median(ratios);
}

/** Formats nanoseconds for progress lines and tables. */
export function formatNs(ns: number): string {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(ns >= 1e5 ? 0 : ns >= 1e4 ? 1 : 2)} µs`;
  return `${ns.toFixed(ns >= 100 ? 0 : 1)} ns`;
}

/** Options of {@link runSuite}. */
export interface RunSuiteOptions {
  settings: RunSettings;
  /** Only cases whose `suite/id` contains this. */
  filter?: string;
  log: Log;
}

/** Runs one suite on the implementations that provide its part. Failures are recorded, never thrown. */
export async function runSuite<I>(
  suite: Suite<I>,
  impls: readonly Implementation[],
  unavailable: Partial<Record<ImplName, string>>,
  opts: RunSuiteOptions,
): Promise<SuiteResult> {
  const participants: Participant<I>[] = [];
  const notMeasured: Partial<Record<ImplName, string>> = {};
  for (const name of IMPL_NAMES) {
    const impl = impls.find((i) => i.name === name);
    const part = impl && suite.part(impl);
    if (impl && part !== undefined) participants.push({ name, part });
    else if (impl) notMeasured[name] = impl.missing ?? `no ${suite.name} part`;
    else if (unavailable[name]) notMeasured[name] = unavailable[name];
  }
  const cases = suite.cases.filter((c) => !opts.filter || `${suite.name}/${c.id}`.includes(opts.filter));
  const result: SuiteResult = { name: suite.name, title: suite.title, description: suite.description, notMeasured, cases: [] };
  opts.log(`\n${suite.title}: ${cases.length} cases on ${participants.map((p) => p.name).join(', ') || 'nothing'}`);
  for (const [name, why] of Object.entries(notMeasured)) opts.log(`  (${name} not measured: ${why})`);
  for (const [i, c] of cases.entries()) {
    const tag = `  [${suite.name} ${i + 1}/${cases.length}] ${c.title}`;
    const check = checkCase(c, participants);
    const cr: CaseResult = {
      id: c.id,
      title: c.title,
      params: { ...c.params },
      itemsPerOp: c.itemsPerOp,
      itemUnit: c.itemUnit,
      agreement: { compared: check.compared, failed: check.failed },
      results: {},
      ratios: {},
    };
    for (const [name, why] of Object.entries(check.failed)) opts.log(`${tag}: ${name} ${why}`);
    if (check.passed.length > 0) {
      try {
        cr.results = await timeRunners(check.passed, c.itemsPerOp, opts.settings);
      } catch (err) {
        for (const p of check.passed) cr.agreement.failed[p.name] ??= `timing failed: ${message(err)}`;
        opts.log(`${tag}: timing failed: ${message(err)}`);
      }
    }
    const plain = cr.results.plain;
    const parts: string[] = [];
    for (const [name, r] of Object.entries(cr.results) as [ImplName, ImplResult][]) {
      if (plain) cr.ratios[name] = pairedRatio(plain, r);
      const ratio = name !== 'plain' && cr.ratios[name] !== undefined ? ` (${cr.ratios[name].toFixed(2)}×)` : '';
      parts.push(`${name} ${formatNs(r.nsPerOp)}/op${ratio}`);
    }
    const agreed = check.passed.length > 1 ? `, ${check.passed.map((p) => p.name).join(' = ')}` : '';
    opts.log(`${tag}: ${parts.join(', ') || 'not timed'}${parts.length ? agreed : ''}`);
    result.cases.push(cr);
  }
  return result;
}
