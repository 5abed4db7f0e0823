/**
 * Summarizes a V8 `.cpuprofile` (from `node --cpu-prof`, e.g. `bench/load/run.ts --profile`):
 * self time by function and inclusive time of the heaviest frames.
 *
 *   node scripts/run-ts.mjs bench/load/tools/cpuprofile.ts FILE.cpuprofile [--top 30]
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Self and inclusive time per function, microseconds, sorted by self time. */
export function summarize(p: CpuProfile): { total: number; rows: { name: string; selfUs: number; totalUs: number }[] } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfById = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0;
    selfById.set(p.samples[i], (selfById.get(p.samples[i]) ?? 0) + dt);
  }
  const label = (f: CallFrame): string => `${f.functionName || '(anonymous)'} ${f.url ? `${basename(f.url)}:${f.lineNumber + 1}` : ''}`.trim();
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfById) {
    total += us;
    const n = byId.get(id)!;
    const name = label(n.callFrame);
    self.set(name, (self.get(name) ?? 0) + us);
    // inclusive: count once per distinct function on the stack
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const nm = label(byId.get(cur)!.callFrame);
      if (seen.has(nm)) continue;
      seen.add(nm);
      incl.set(nm, (incl.get(nm) ?? 0) + us);
    }
  }
  const rows = [...incl.keys()].map((name) => ({ name, selfUs: self.get(name) ?? 0, totalUs: incl.get(name) ?? 0 }));
  rows.sort((a, b) => b.selfUs - a.selfUs);
  return { total, rows };
}

if (process.argv[1] && import.meta.url.endsWith(basename(process.argv[1]))) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' }, inclusive: { type: 'boolean', default: false } } });
  for (const file of positionals) {
    const { total, rows } = summarize(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
    const top = Number(values.top);
    const pct = (us: number): string => `${((us / total) * 100).toFixed(1).padStart(5)}%`;
    console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled`);
    const list = values.inclusive ? [...rows].sort((a, b) => b.totalUs - a.totalUs) : rows;
    for (const r of list.slice(0, top)) console.log(`  self ${pct(r.selfUs)}  total ${pct(r.totalUs)}  ${r.name}`);
  }
}
