/** What a benchmark suite is: a name and cases, each runnable on any implementation of its part. */
import type { Comparable } from './agree.js';
import type { Implementation } from './impl.js';

/** The suites there are; each lives in `bench/<name>.bench.ts`. */
export type SuiteName = 'codec' | 'crypto' | 'pipeline';

/** One implementation's prepared state for one case. */
export interface Runner {
  /** One timed operation (e.g. one batch of 64 datagrams). Must not allocate on behalf of the harness. */
  run(): void;
  /**
   * What `run()` produced, read right after it. The harness copies it (structuredClone), so views
   * into the runner's buffers are fine.
   */
  output(): Comparable;
}

/** One measured operation. */
export interface BenchCase<I> {
  /** Stable id, used in the results and by the targets (`op/size/batch`). */
  readonly id: string;
  /** Human title. */
  readonly title: string;
  /** Parameters for the results (payload bytes, batch size, …). */
  readonly params: Readonly<Record<string, number | string>>;
  /** Items (datagrams, packets) one `run()` handles: ns per item = ns per op / itemsPerOp. */
  readonly itemsPerOp: number;
  /** What an item is, for the tables ("datagram"). */
  readonly itemUnit: string;
  /** How many times the agreement check runs the case, collecting one output each time (default 1). */
  readonly checkRuns?: number;
  /** Builds everything one implementation needs (buffers, keys, connections): allocation goes here. */
  prepare(impl: I): Runner;
  /**
   * Checks one implementation's outputs of the agreement runs on their own (so the check means
   * something even when `plain` runs alone). Throws an Error naming what is wrong.
   */
  verify?(outputs: readonly Comparable[]): void;
}

/** A named list of cases over one part of an implementation. */
export interface Suite<I> {
  readonly name: SuiteName;
  readonly title: string;
  /** A paragraph for the docs: what is measured and how. */
  readonly description: string;
  /** The part of an implementation this suite measures, if it has one. */
  part(impl: Implementation): I | undefined;
  readonly cases: readonly BenchCase<I>[];
}

/** Throws `message` unless `cond`. For `verify`. */
export function expectThat(cond: boolean, message: string): asserts cond {
  if (!cond) throw new Error(message);
}
