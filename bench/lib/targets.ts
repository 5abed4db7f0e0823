/**
 * The performance targets of the benchmark issue, evaluated from one run's results. Every target
 * is a ratio of two numbers measured in the same run (the machine is shared and noisy, so absolute
 * numbers from different runs are not comparable).
 */
import type { ImplName } from './impl.js';
import { opensslNs, type OpensslResult } from './openssl.js';
import type { SuiteResult } from './results.js';

export type TargetStatus = 'achieved' | 'missed' | 'not measured';

/** One target, evaluated. */
export interface TargetResult {
  id: string;
  description: string;
  impl: ImplName;
  /** `speedup`: value = plain ns / impl ns, must be ≥ threshold. `vs-openssl`: value = impl ns / OpenSSL ns, must be ≤ threshold. */
  kind: 'speedup' | 'vs-openssl';
  threshold: number;
  value: number | null;
  status: TargetStatus;
  /** What was compared, or why it was not measured. */
  detail: string;
}

interface SpeedupTarget {
  id: string;
  description: string;
  kind: 'speedup';
  impl: ImplName;
  suite: 'pipeline';
  caseId: string;
  threshold: number;
}

interface OpensslTarget {
  id: string;
  description: string;
  kind: 'vs-openssl';
  impl: ImplName;
  suite: 'crypto';
  caseId: string;
  opensslBytes: number;
  threshold: number;
}

/** The targets (issue: "Targets"). */
export const TARGETS: readonly (SpeedupTarget | OpensslTarget)[] = [
  { id: 'pipeline-native-64', description: 'pipeline, batched (64 per call), 64 B: native ≥ 8× plain', kind: 'speedup', impl: 'native', suite: 'pipeline', caseId: 'exchange/64B/x64', threshold: 8 },
  { id: 'pipeline-native-1200', description: 'pipeline, batched (64 per call), 1200 B: native ≥ 8× plain', kind: 'speedup', impl: 'native', suite: 'pipeline', caseId: 'exchange/1200B/x64', threshold: 8 },
  { id: 'seal-native-openssl-64', description: "a datagram's seal with framing (64 B message, batched), native: within 2× of OpenSSL's per-record time (66 B)", kind: 'vs-openssl', impl: 'native', suite: 'crypto', caseId: 'encode-seal/64B/x64', opensslBytes: 66, threshold: 2 },
  { id: 'seal-native-openssl-1200', description: "a datagram's seal with framing (1200 B message, batched), native: within 2× of OpenSSL's per-record time (1202 B)", kind: 'vs-openssl', impl: 'native', suite: 'crypto', caseId: 'encode-seal/1200B/x64', opensslBytes: 1202, threshold: 2 },
  { id: 'pipeline-wasm-64', description: 'pipeline, batched (64 per call), 64 B: WASM ≥ 2× plain', kind: 'speedup', impl: 'wasm', suite: 'pipeline', caseId: 'exchange/64B/x64', threshold: 2 },
  { id: 'pipeline-wasm-1200', description: 'pipeline, batched (64 per call), 1200 B: WASM not slower than plain (≥ 1×)', kind: 'speedup', impl: 'wasm', suite: 'pipeline', caseId: 'exchange/1200B/x64', threshold: 1 },
];

const fmt = (x: number, digits = 2): string => x.toFixed(digits);

/** Evaluates every target against one run's suites and OpenSSL reference. */
export function evaluateTargets(suites: readonly SuiteResult[], openssl: OpensslResult | null): TargetResult[] {
  return TARGETS.map((t): TargetResult => {
    const base = { id: t.id, description: t.description, impl: t.impl, kind: t.kind, threshold: t.threshold };
    const suite = suites.find((s) => s.name === t.suite);
    const c = suite?.cases.find((x) => x.id === t.caseId);
    const notMeasured = (why: string): TargetResult => ({ ...base, value: null, status: 'not measured', detail: why });
    if (!suite || !c) return notMeasured(`case ${t.suite} ${t.caseId} was not run`);
    const r = c.results[t.impl];
    if (!r) {
      const why = c.agreement.failed[t.impl] ?? suite.notMeasured[t.impl] ?? 'not available';
      return notMeasured(`${t.impl}: ${why}`);
    }
    if (t.kind === 'speedup') {
      const ratio = c.ratios[t.impl];
      const plain = c.results.plain;
      if (ratio === undefined || !plain) return notMeasured('plain was not measured');
      return {
        ...base,
        value: ratio,
        status: ratio >= t.threshold ? 'achieved' : 'missed',
        detail: `${t.impl} ${fmt(r.nsPerItem, 0)} ns/${c.itemUnit} vs plain ${fmt(plain.nsPerItem, 0)} ns/${c.itemUnit}: ${fmt(ratio)}×`,
      };
    }
    const ref = opensslNs(openssl, t.opensslBytes);
    if (ref === undefined) return notMeasured(`no OpenSSL reference for ${t.opensslBytes} B${openssl?.errors.length ? ` (${openssl.errors.join('; ')})` : ''}`);
    const value = r.nsPerItem / ref;
    return {
      ...base,
      value,
      status: value <= t.threshold ? 'achieved' : 'missed',
      detail: `${t.impl} ${fmt(r.nsPerItem, 0)} ns/${c.itemUnit} vs OpenSSL ${fmt(ref, 0)} ns/record: ${fmt(value)}× OpenSSL's time`,
    };
  });
}
