/**
 * The benchmark harness without timing: every suite's agreement check on every implementation that
 * loads (today: plain alone, checked by each case's `verify`), and the harness's own pieces.
 * This is the quick way to test a new native/WASM adapter: `npx vitest run test/bench`.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { codecSuite } from '../../bench/codec.bench.js';
import { cryptoSuite } from '../../bench/crypto.bench.js';
import { loadImplementations } from '../../bench/impls/index.js';
import { plainImplementation } from '../../bench/impls/plain.js';
import { firstDifference } from '../../bench/lib/agree.js';
import { buildHeaders, buildMessages, makeInMessages, makeSlots, readInMessages, slotCopies } from '../../bench/lib/buffers.js';
import { checkCase, pairedRatio, runSuite, SETTINGS } from '../../bench/lib/harness.js';
import { HEADER_FIELDS, Status, type CodecImpl, type Implementation } from '../../bench/lib/impl.js';
import { parseCli } from '../../bench/lib/main.js';
import { parseSpeedOutput } from '../../bench/lib/openssl.js';
import { consoleReport, markdownReport } from '../../bench/lib/report.js';
import { readResults, writeResults, type BenchResults } from '../../bench/lib/results.js';
import type { BenchCase, Suite } from '../../bench/lib/suite.js';
import { evaluateTargets } from '../../bench/lib/targets.js';
import { pipelineSuite } from '../../bench/pipeline.bench.js';
import { vector } from '../helpers/backends.js';

const SUITES: readonly Suite<unknown>[] = [codecSuite, cryptoSuite, pipelineSuite];
const loaded = await loadImplementations();

describe.each(SUITES.map((s) => [s.name, s] as const))('%s suite: agreement check', (_, suite) => {
  const participants = loaded.available.flatMap((impl) => {
    const part = suite.part(impl);
    return part === undefined ? [] : [{ name: impl.name, part }];
  });

  it('plain takes part', () => {
    expect(participants[0]?.name).toBe('plain');
  });

  it.each(suite.cases.map((c) => [c.id, c] as const))('%s', (_, c) => {
    const outcome = checkCase(c, participants);
    expect(outcome.failed).toEqual({});
    expect(outcome.passed.map((p) => p.name)).toEqual(participants.map((p) => p.name));
  });
});

describe('the plain adapter reproduces framing.json through the batch interfaces', () => {
  interface Case { key: string | null; datagram: string; decoded: { to_server: boolean; ctime: number; seq: number; ack: number; ack_bits: string; pkt_type_id: number; messages: { msg_seq: number; type_id: number; payload: string }[] } }
  const cases = vector<{ cases: Case[] }>('framing.json').cases.filter((c) => c.key !== null);
  const plain = plainImplementation();
  const key = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
  const headers = buildHeaders(cases.map((c) => ({ toServer: c.decoded.to_server, ctime: c.decoded.ctime, seq: c.decoded.seq, ack: c.decoded.ack, type: c.decoded.pkt_type_id, ackBits: parseInt(c.decoded.ack_bits, 16) })));
  const msgs = buildMessages(cases.map((c) => c.decoded.messages.map((m) => ({ type: m.type_id, seq: m.msg_seq, data: Buffer.from(m.payload, 'hex') }))));

  it('encodeSeal gives the vector datagrams; open and decode give the messages back', () => {
    const session = plain.crypto!.createSession(key);
    const out = makeSlots(cases.length, 1536);
    session.encodeSeal(headers, msgs, cases.length, out);
    expect(slotCopies(out, cases.length).map((d) => Buffer.from(d).toString('hex'))).toEqual(cases.map((c) => c.datagram));

    const plainSlots = makeSlots(cases.length, 1536);
    const status = new Uint8Array(cases.length);
    expect(session.open(out, cases.length, plainSlots, status)).toBe(cases.length);

    // decode each direction as its receiver would; the other direction is refused
    for (const toServer of [true, false]) {
      const decoded = new Uint32Array(cases.length * HEADER_FIELDS);
      const rows = makeInMessages(16);
      const n = plain.codec!.decode(plainSlots, cases.length, toServer, decoded, status, rows);
      const mine = cases.map((c) => c.decoded.to_server === toServer);
      expect(Array.from(status)).toEqual(mine.map((m) => (m ? Status.OK : Status.WRONG_DIRECTION)));
      expect(readInMessages(rows, n, plainSlots.buf).map((m) => [m.item, m.seq, m.type, Buffer.from(m.data).toString('hex')])).toEqual(
        cases.flatMap((c, i) => (mine[i] ? c.decoded.messages.map((m) => [i, m.msg_seq, m.type_id, m.payload]) : [])),
      );
    }
  });

  it('open reports a bad tag and a short length as statuses, not exceptions', () => {
    const session = plain.crypto!.createSession(key);
    const src = makeSlots(2, 1536);
    const d = Buffer.from(cases[1].datagram, 'hex');
    src.buf.set(d, src.offsets[0]);
    src.lengths[0] = d.length;
    src.buf[src.offsets[0] + d.length - 1] ^= 1;
    src.buf.set(d.subarray(0, 22), src.offsets[1]);
    src.lengths[1] = 22;
    const status = new Uint8Array(2);
    expect(session.open(src, 2, makeSlots(2, 1536), status)).toBe(0);
    expect(Array.from(status)).toEqual([Status.AUTH, Status.LENGTH]);
  });
});

describe('harness', () => {
  it('firstDifference names the first differing element', () => {
    expect(firstDifference({ a: [new Uint8Array([1, 2, 3])] }, { a: [new Uint8Array([1, 2, 3])] })).toBeNull();
    expect(firstDifference({ a: [new Uint8Array([1, 2, 3])] }, { a: [new Uint8Array([1, 9, 3])] })).toMatch(/^\$\.a\[0\]\[1\]: 2 vs 9/);
    expect(firstDifference([1, 2], [1, 2, 3])).toMatch(/2 entries vs 3/);
    expect(firstDifference(new Uint8Array(2), new Uint32Array(2))).not.toBeNull();
    expect(firstDifference({ x: 1 }, { y: 1 })).toMatch(/missing/);
  });

  it('an implementation that disagrees with plain is reported and not timed', () => {
    const codec = plainImplementation().codec!;
    const broken: CodecImpl = {
      encode(headers, msgs, count, out) {
        codec.encode(headers, msgs, count, out);
        out.buf[out.offsets[count - 1] + 8] ^= 1; // wrong seq byte in the last packet
      },
      decode: (...args) => codec.decode(...args),
    };
    // the suite's own case: its verify catches it
    const c = codecSuite.cases.find((x) => x.id === 'encode/64B/x64')!;
    const outcome = checkCase(c, [{ name: 'plain', part: codec }, { name: 'native', part: broken }]);
    expect(outcome.passed.map((p) => p.name)).toEqual(['plain']);
    expect(outcome.failed.native).toMatch(/check failed: packet 63 differs/);
    // the same case without verify: the comparison with plain catches it
    const unverified: BenchCase<CodecImpl> = { ...c, verify: undefined };
    const compared = checkCase(unverified, [{ name: 'plain', part: codec }, { name: 'native', part: broken }]);
    expect(compared.passed.map((p) => p.name)).toEqual(['plain']);
    expect(compared.failed.native).toMatch(/disagrees with plain: \$\[0\]\[63\]\[8\]: (\d+) vs (?!\1)\d+/);
  });

  it('a reference that fails its own check fails the case', () => {
    const c = codecSuite.cases.find((x) => x.id === 'decode/16x32B/x1')!;
    const lying: CodecImpl = { encode: () => undefined, decode: () => 0 };
    const outcome = checkCase(c, [{ name: 'plain', part: lying }]);
    expect(outcome.passed).toEqual([]);
    expect(outcome.failed.plain).toMatch(/check failed/);
  });

  it('ratios pair the rounds: a slow round hits both sides', () => {
    const r = (rounds: number[]) => ({ nsPerOp: 0, opsPerSec: 0, nsPerItem: 0, itemsPerSec: 0, roundsNsPerOp: rounds, p50NsPerOp: 0, rmePercent: 0, samples: 0, opsPerSample: 1 });
    // round 2 was slow for both; per-round ratios 10, 10, 10, 2, 10
    expect(pairedRatio(r([100, 300, 100, 100, 100]), r([10, 30, 10, 50, 10]))).toBe(10);
  });

  it('parses openssl speed -mr output', () => {
    const text = '+DT:AES-128-GCM:1:66\n+R:2595852:AES-128-GCM:0.990000\n+H:66\n+F:25:AES-128-GCM:168755733.33\n';
    const [r] = parseSpeedOutput(text, [66]);
    expect(r.bytes).toBe(66);
    expect(r.nsPerRecord).toBeCloseTo(0.99e9 / 2595852, 6);
    const [f] = parseSpeedOutput('+H:16:64\n+F:25:AES-128-GCM:100.00:6400000.00\n', [64]);
    expect(f.nsPerRecord).toBeCloseTo(10_000, 6);
  });

  it('parses the command line', () => {
    expect(parseCli(['--quick', '--impl', 'native', '--filter', 'pipeline/'])).toMatchObject({ quick: true, impls: ['native'], filter: 'pipeline/', openssl: true });
    expect(() => parseCli(['--impl', 'gpu'])).toThrow(/unknown gpu/);
    expect(() => parseCli(['--rounds', '0'])).toThrow(/positive integer/);
  });

  it('times a filtered suite, evaluates the targets and renders the reports', async () => {
    const impls: Implementation[] = [plainImplementation()];
    const lines: string[] = [];
    const suite = await runSuite(pipelineSuite, impls, { native: 'not built' }, { settings: { ...SETTINGS.quick, timeMs: 5, warmupMs: 1 }, filter: 'x64', log: (l) => lines.push(l) });
    expect(suite.cases.map((c) => c.id)).toEqual(['exchange/64B/x64', 'exchange/1200B/x64']);
    for (const c of suite.cases) {
      expect(c.results.plain?.nsPerOp).toBeGreaterThan(0);
      expect(c.ratios.plain).toBe(1);
      expect(c.results.plain?.nsPerItem).toBeCloseTo(c.results.plain!.nsPerOp / 128, 6);
    }
    const openssl = { command: 'openssl speed', version: 'OpenSSL 3', records: [{ bytes: 66, nsPerRecord: 400, recordsPerSec: 2.5e6 }], errors: [] };
    const targets = evaluateTargets([suite], openssl);
    expect(targets.find((t) => t.id === 'pipeline-native-64')).toMatchObject({ status: 'not measured', detail: 'native: not built' });

    // a fake native result 10× faster than plain achieves the 8× target
    const withNative = structuredClone(suite);
    const c64 = withNative.cases[0];
    c64.results.native = { ...c64.results.plain!, nsPerOp: c64.results.plain!.nsPerOp / 10 };
    c64.ratios.native = 10;
    expect(evaluateTargets([withNative], openssl).find((t) => t.id === 'pipeline-native-64')).toMatchObject({ status: 'achieved', value: 10 });

    const results: BenchResults = {
      schema: 1,
      mode: 'quick',
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:00:01.000Z',
      durationSeconds: 1,
      settings: SETTINGS.quick,
      machine: { cpuModel: 'Test CPU', cores: 2, availableParallelism: 2, cpuFlags: ['aes'], memoryGiB: 4, os: 'Linux', arch: 'x64', nodeVersion: 'v20', v8Version: '11', nodeOpenssl: '3.0', opensslCli: 'OpenSSL 3', loadAverage: { start: 0, end: 0 } },
      implementations: [{ name: 'plain', available: true, description: 'plain' }, { name: 'native', available: false, reason: 'not built' }],
      openssl,
      suites: [suite],
      targets,
      failures: [],
    };
    const dir = mkdtempSync(join(tmpdir(), 'gamewire-bench-'));
    const [path] = writeResults(results, dir);
    expect(path).toMatch(/quick-latest\.json$/);
    expect(readResults(path)).toEqual(results);
    const md = markdownReport(readResults(path));
    expect(md).toContain('## pipeline (per-connection send + receive)');
    expect(md).toContain('Test CPU');
    expect(md).toMatch(/native ≥ 8× plain \| — \| — not measured/);
    expect(consoleReport(results)).toContain('send+receive 1 × 64 B, 64 per call');
    expect(readFileSync(path, 'utf8')).toContain('"mode": "quick"');
  });
});
