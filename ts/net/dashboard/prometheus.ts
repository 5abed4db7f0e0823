/**
 * Prometheus text exposition format 0.0.4 (what `/metrics` serves): `# HELP` and `# TYPE` lines,
 * then one `name{label="value"} number` line per sample.
 */

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
 * Formats metric families in the Prometheus text format. Throws on an invalid metric or label
 * name, or on two families with the same name.
 */
export function formatPrometheus(families: readonly MetricFamily[]): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const f of families) {
    if (!NAME.test(f.name)) throw new Error(`invalid metric name ${JSON.stringify(f.name)}`);
    if (seen.has(f.name)) throw new Error(`duplicate metric family ${f.name}`);
    seen.add(f.name);
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const labels = Object.entries(s.labels ?? {});
      let l = '';
      if (labels.length > 0) {
        for (const [k] of labels) if (!LABEL.test(k) || k.startsWith('__')) throw new Error(`invalid label name ${JSON.stringify(k)} on ${f.name}`);
        l = `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
      }
      out.push(`${f.name}${l} ${formatValue(s.value)}`);
    }
  }
  return out.join('\n') + '\n';
}
