/**
 * Prometheus text exposition format 0.0.4 (what `/metrics` serves): `# HELP` and `# TYPE` lines,
 * then one `name{label="value"} number` line per sample.
 */
import { ArgumentError } from '../../errors.js';

/** The content type of the text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** One metric family: a name, its help text, its type and its samples (one per label set). */
export interface MetricFamily {
  /** `[a-zA-Z_:][a-zA-Z0-9_:]*`; counters should end in `_total`. */
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  samples: readonly MetricSample[];
}

/** One sample of a family. Label names are `[a-zA-Z_][a-zA-Z0-9_]*`. */
export interface MetricSample {
  labels?: Readonly<Record<string, string>>;
  value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const escapeHelp = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabel = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/**
 * Why `f` cannot be exposed, or null when it can: the metric name, the type, the help text, every
 * sample's value and label names (`__` prefixes are reserved), and no two samples with the same
 * label set.
 */
export function metricFamilyProblem(f: MetricFamily): string | null {
  if (typeof f !== 'object' || f === null) return 'is not a metric family object';
  if (typeof f.name !== 'string' || !NAME.test(f.name)) return `invalid metric name ${JSON.stringify(f.name)} (must match ${NAME.source})`;
  if (f.type !== 'counter' && f.type !== 'gauge') return `type must be "counter" or "gauge", got ${JSON.stringify(f.type)}`;
  if (typeof f.help !== 'string') return 'help must be a string';
  if (!Array.isArray(f.samples)) return 'samples must be an array';
  const sets = new Set<string>();
  for (const s of f.samples as readonly MetricSample[]) {
    if (typeof s?.value !== 'number') return `a sample's value must be a number, got ${JSON.stringify(s?.value)}`;
    const labels = Object.entries(s.labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [k, v] of labels) {
      if (!LABEL.test(k) || k.startsWith('__')) return `invalid label name ${JSON.stringify(k)} (must match ${LABEL.source}, no "__" prefix)`;
      if (typeof v !== 'string') return `label ${k} must have a string value, got ${JSON.stringify(v)}`;
    }
    const key = JSON.stringify(labels);
    if (sets.has(key)) return `two samples have the same labels ${key}`;
    sets.add(key);
  }
  return null;
}

/**
 * Formats metric families in the Prometheus text format. Throws an `ArgumentError` naming the
 * metric when a family is invalid (see {@link metricFamilyProblem}) or two have the same name.
 */
export function formatPrometheus(families: readonly MetricFamily[]): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const f of families) {
    const problem = metricFamilyProblem(f);
    if (problem) throw new ArgumentError(`metric ${JSON.stringify(f?.name)}: ${problem}`);
    if (seen.has(f.name)) throw new ArgumentError(`metric ${JSON.stringify(f.name)}: duplicate metric family`);
    seen.add(f.name);
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const labels = Object.entries(s.labels ?? {});
      const l = labels.length > 0 ? `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : '';
      out.push(`${f.name}${l} ${formatValue(s.value)}`);
    }
  }
  return out.join('\n') + '\n';
}
