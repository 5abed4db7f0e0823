/**
 * Round-trip histograms: logarithmic buckets of 2% width over microseconds, mergeable across
 * processes (TypeScript bots, Python bots: `python/bench_common.py` uses the same buckets).
 */

/** Bucket width: each bucket's upper bound is GROWTH times its lower bound. */
export const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);

/** Sparse histogram: bucket index → count. */
export type Histogram = Map<number, number>;

/** Serialized form: [bucket, count] pairs. */
export type HistogramJson = [number, number][];

/** The bucket of a value in microseconds. */
export function bucketOf(us: number): number {
  return us < 1 ? 0 : Math.floor(Math.log(us) / LOG_GROWTH);
}

/** A representative value of a bucket (geometric middle), microseconds. */
export function bucketValue(b: number): number {
  return GROWTH ** (b + 0.5);
}

export function record(h: Histogram, us: number): void {
  const b = bucketOf(us);
  h.set(b, (h.get(b) ?? 0) + 1);
}

export function toJson(h: Histogram): HistogramJson {
  return [...h.entries()].sort((a, b) => a[0] - b[0]);
}

export function merge(into: Histogram, from: HistogramJson | Histogram): Histogram {
  for (const [b, n] of from) into.set(b, (into.get(b) ?? 0) + n);
  return into;
}

export function count(h: Histogram): number {
  let n = 0;
  for (const c of h.values()) n += c;
  return n;
}

/** The p-quantile (0..1) in microseconds, or null for an empty histogram. */
export function quantile(h: Histogram, p: number): number | null {
  const total = count(h);
  if (total === 0) return null;
  const want = Math.max(1, Math.ceil(total * p));
  let seen = 0;
  for (const [b, n] of toJson(h)) {
    seen += n;
    if (seen >= want) return bucketValue(b);
  }
  return null;
}

/** Mean in microseconds (from bucket values). */
export function mean(h: Histogram): number | null {
  let n = 0;
  let sum = 0;
  for (const [b, c] of h) {
    n += c;
    sum += c * bucketValue(b);
  }
  return n === 0 ? null : sum / n;
}
