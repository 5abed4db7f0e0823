/**
 * The load benchmark's pieces that decide what its numbers mean, without timing: the Rust echo
 * floor really echoes (real UDP), the flood's CLIENT_HELLOs start real handshakes at a real server,
 * the flood's source addresses bind, `strace -c` summaries parse, and the targets read the right
 * runs. (`bench:load --quick` runs every scenario end to end; it asserts nothing about speed.)
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, describe, expect, it } from 'vitest';
import { buildFloor } from '../../bench/load/lib/floor.js';
import { makeHellos } from '../../bench/load/lib/hellos.js';
import { Child } from '../../bench/load/lib/proc.js';
import { gsoSummary, type CapacityResult, type GsoRun, type IdleRun, type TickRun } from '../../bench/load/lib/results.js';
import { evaluateLoadTargets } from '../../bench/load/lib/targets.js';
import { floodAddresses, parseStraceSummary } from '../../bench/load/scenarios.js';
import { EventHandler, PrivateKey, ServerContext, UdpServer } from '../../ts/index.js';

const sockets: Socket[] = [];
async function bound(host = '127.0.0.1'): Promise<Socket> {
  const s = createSocket('udp4');
  sockets.push(s);
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, host, () => resolve());
  });
  return s;
}
function nextMessage(s: Socket): Promise<Buffer> {
  return new Promise((resolve) => s.once('message', (m) => resolve(m)));
}
afterAll(() => {
  for (const s of sockets) s.close();
});

describe('the Rust echo floor (bench/floor)', () => {
  it('sends every datagram back to its own sender, byte for byte, and counts the pairs', async () => {
    const built = buildFloor();
    if ('error' in built) throw new Error(built.error);
    const floor = Child.spawnLines('floor', built.bin, ['--host', '127.0.0.1', '--port', '0']);
    try {
      const { port } = await floor.call<{ port: number }>('hello');
      const [a, b] = [await bound(), await bound()];
      const fromA = nextMessage(a);
      const fromB = nextMessage(b);
      a.send(Buffer.from('alpha-1'), port, '127.0.0.1');
      b.send(Buffer.alloc(1400, 0x5a), port, '127.0.0.1');
      expect((await fromA).toString()).toBe('alpha-1');
      expect(await fromB).toEqual(Buffer.alloc(1400, 0x5a));
      const s = await floor.call<{ datagramsIn: number; datagramsOut: number }>('sample');
      expect(s).toMatchObject({ datagramsIn: 2, datagramsOut: 2 });
      await expect(floor.call('nonsense')).rejects.toThrow(/unknown command nonsense/);
    } finally {
      await floor.close();
    }
  }, 300_000);
});

describe('the hello flood', () => {
  it('replays CLIENT_HELLOs that a real server answers with a SERVER_HELLO, one handshake per source', async () => {
    const key = PrivateKey.generate({ backend: 'native' });
    const ctx = new ServerContext(new (class extends EventHandler {})(), key, { backend: 'native' });
    const server = new UdpServer(ctx, { host: '127.0.0.1', port: 0 }, { backend: 'native', installSignals: false });
    const { port } = await server.listen();
    void server.run();
    try {
      const hellos = makeHellos(key.publicKey({ backend: 'native' }).spki, 3);
      expect(hellos).toHaveLength(3);
      expect(new Set(hellos.map((h) => h.toString('hex'))).size).toBe(3);
      for (const h of hellos) {
        expect(h.length).toBe(1438); // a CLIENT_HELLO padded to the MTU
        expect(h.subarray(0, 4).toString()).toBe('FSOS');
        expect(h[12]).toBe(1); // CLIENT_HELLO
      }
      // The same bytes from two sources: each starts its own handshake.
      const replies = await Promise.all([hellos[0], hellos[0], hellos[1]].map(async (h) => {
        const s = await bound();
        const reply = nextMessage(s);
        s.send(h, port, '127.0.0.1');
        return reply;
      }));
      for (const r of replies) {
        expect(r.subarray(0, 4).toString()).toBe('FSOC');
        expect(r[12]).toBe(2); // SERVER_HELLO
      }
      expect(server.stats.handshakesStarted).toBe(3);
      expect(server.stats.handshakesCompleted).toBe(0);
    } finally {
      await server.stop();
    }
  });

  it('comes from distinct loopback addresses clear of 127.0.0.1, which bind without configuration', async () => {
    const addrs = floodAddresses(3000);
    expect(new Set(addrs).size).toBe(3000);
    expect(addrs).not.toContain('127.0.0.1');
    for (const a of addrs) expect(a).toMatch(/^127\.0\.(\d+)\.(\d+)$/);
    for (const a of [addrs[0], addrs[1500], addrs[2999]]) {
      const s = await bound(a);
      expect(s.address().address).toBe(a);
    }
  });
});

describe('strace -c summaries', () => {
  it('reads calls, errors and seconds per system call, busiest first, without the total', () => {
    const text = [
      '% time     seconds  usecs/call     calls    errors syscall',
      '------ ----------- ----------- --------- --------- ----------------',
      ' 41.27    0.012406           4      2683           sendmmsg',
      ' 30.02    0.009023           2      3612       118 recvmmsg',
      ' 20.11    0.006045           6       901           ppoll',
      '  8.60    0.002585           3       711        12 futex',
      '------ ----------- ----------- --------- --------- ----------------',
      '100.00    0.030059           3      7907       130 total',
    ].join('\n');
    expect(parseStraceSummary(text)).toEqual([
      { name: 'recvmmsg', calls: 3612, errors: 118, seconds: 0.009023 },
      { name: 'sendmmsg', calls: 2683, errors: 0, seconds: 0.012406 },
      { name: 'ppoll', calls: 901, errors: 0, seconds: 0.006045 },
      { name: 'futex', calls: 711, errors: 12, seconds: 0.002585 },
    ]);
  });
});

describe('load targets', () => {
  const run = (server: TickRun['server'], clients: number, usPerMessage: number, p99 = 30): TickRun => ({
    server, generator: server === 'rust-echo' ? 'raw-sockets' : 'mpgameserver-clients', clients, rateHz: 60, connected: clients, windowSeconds: 10,
    serverCpuCores: 0.1, serverCpuUsPerDatagram: usPerMessage, serverCpuUsPerMessage: usPerMessage, datagramsInPerSec: 0, datagramsOutPerSec: 0,
    offeredPerSec: 0, messagesToServerPerSec: 0, echoesPerSec: 0, deliveredPerSec: 0, rttP50Ms: 10, rttP99Ms: p99, rttMeanMs: 10, sent: 1, echoed: 1, loss: 0,
    generatorStats: { processes: 2, cpuCores: 0.2, skipped: 0, dropped: 0, corrupt: 0 }, machineBusy: 0.5, udpRcvbufErrors: 0, serverSocketDrops: 0, notes: [],
  });
  const idle = (server: IdleRun['server'], clients: number, cpuCores: number): IdleRun => ({ server, clients, windowSeconds: 20, cpuCores, wakeupsPerSec: null, notificationsPerSec: null, datagramsInPerSec: 0, datagramsOutPerSec: 0, connected: clients });
  const cap = (server: CapacityResult['server'], capacity: number): CapacityResult => ({ server, generator: 'gamewire-bots', rateHz: 60, maxP99Ms: 50, capacity, firstFailing: capacity + 100, probes: [], notes: [] });
  const evaluate = (table: TickRun[], more: { idle?: IdleRun[]; capacity?: CapacityResult[] } = {}) =>
    Object.fromEntries(evaluateLoadTargets({ tick: [], table, idle: more.idle ?? [], helloFlood: [], flood: [], raw: null, capacity: more.capacity ?? [] }).map((t) => [t.id, t]));

  it('compare CPU per echoed message with mpgameserver and with the floor at the same N', () => {
    const t = evaluate([run('mpgameserver', 100, 48), run('gamewire-thread', 100, 6), run('rust-echo', 100, 4.5), run('gamewire-wasm', 100, 20), run('mpgameserver', 500, 40), run('gamewire-thread', 500, 5)]);
    expect(t['ratio-thread-100']).toMatchObject({ value: 8, status: 'achieved' });
    expect(t['floor-thread'].value).toBeCloseTo(6 / 4.5);
    expect(t['floor-thread'].status).toBe('achieved');
    expect(t['ratio-thread-500']).toMatchObject({ value: 8, status: 'missed' });
    expect(t['ratio-wasm-100']).toMatchObject({ value: 2.4, status: 'missed' });
    expect(evaluate([run('gamewire-thread', 100, 6)])['ratio-thread-100'].status).toBe('not measured');
    // mpgameserver lost its clients' messages: a high CPU per message it got is no comparison.
    const collapsed = { ...run('mpgameserver', 500, 100), loss: 1 };
    expect(evaluate([collapsed, run('gamewire-thread', 500, 5)])['ratio-thread-500']).toMatchObject({ value: 20, status: 'not measured' });
  });

  it('take a ratio within each round and report the median of the rounds', () => {
    const r = (server: TickRun['server'], us: number, round: number): TickRun => ({ ...run(server, 100, us), round });
    // The machine got busier in round 2: every server slowed down, the ratios within a round did not.
    const table = [
      r('mpgameserver', 40, 0), r('gamewire-thread', 10, 0), r('rust-echo', 5, 0),
      r('gamewire-thread', 20, 1), r('mpgameserver', 60, 1), r('rust-echo', 8, 1),
      r('mpgameserver', 44, 2), r('gamewire-thread', 11, 2), r('rust-echo', 5.5, 2),
    ];
    const t = evaluate(table);
    // Per round 4×, 3×, 4×: the median is 4×. Medians of each server apart (44 / 11) would also give 4×,
    // but the floor's would not: 11 / 5.5 = 2 per round twice and 2.5 once, median 2.
    expect(t['ratio-thread-100']).toMatchObject({ value: 4, status: 'missed' });
    expect(t['ratio-thread-100'].detail).toContain('median of 3 rounds (4.0×, 3.0×, 4.0×)');
    expect(t['floor-thread'].value).toBe(2);
    expect(t['floor-thread'].detail).toContain('10.0, 20.0, 11.0 µs per message');
    // The p99 target reads the median of the rounds' p99s (34 ms), not the first round's (40 ms).
    const p99s = [40, 33, 34];
    const p99 = evaluate(table.map((x) => (x.server === 'gamewire-thread' ? { ...x, rttP99Ms: p99s[x.round!] } : x)))['p99-thread'];
    // (Without the 1000-bot run the target stays unmeasured; 40 ms alone would have missed it.)
    expect(p99).toMatchObject({ value: 34, status: 'not measured' });
  });

  it('hold every server kind to the idle limits, and threads 2 to more clients than threads 1', () => {
    const t = evaluate([], { idle: [idle('gamewire-thread', 0, 0.001), idle('gamewire-wasm', 0, 0.003), idle('gamewire-thread', 100, 0.009)], capacity: [cap('gamewire-thread', 1000), cap('gamewire-thread-2', 1000)] });
    expect(t['idle-none']).toMatchObject({ value: 0.003, status: 'missed' });
    expect(t['idle-clients']).toMatchObject({ value: 0.009, status: 'achieved' });
    expect(t['threads-2']).toMatchObject({ status: 'missed', valueText: '1000 vs 1000' });
  });

  it('count the floors under the keep-alive datagrams as floors, not as gamewire servers', () => {
    const t = evaluate([], { idle: [idle('gamewire-thread', 100, 0.008), idle('rust-echo', 100, 0.009), idle('node-dgram-echo', 100, 0.015)] });
    expect(t['idle-clients']).toMatchObject({ value: 0.008, status: 'achieved' });
    expect(t['idle-clients'].detail).toContain('Rust echo 0.90%');
    expect(t['idle-clients'].detail).toContain('node:dgram echo 1.50%');
  });
});

describe('the UDP GSO scenario', () => {
  const run = (gso: boolean, round: number, us: number): GsoRun => ({ gso, round, burst: 32, messageBytes: 1100, windowSeconds: 5, datagramsPerSec: 40_000, serverCpuUsPerDatagram: us, datagramsPerSendMessage: gso ? 32 : 1 });
  it('pairs GSO on and off within each round and reports the medians', () => {
    // Rounds alternate their order; a round's ratio is off / on of that round, whatever the order.
    const s = gsoSummary([run(true, 0, 4), run(false, 0, 6), run(false, 1, 9), run(true, 1, 5), run(true, 2, 4.5), run(false, 2, 6.3)]);
    expect(s).not.toBeNull();
    expect(s!.on).toBe(4.5);
    expect(s!.off).toBe(6.3);
    expect(s!.each.map((x) => Number(x.toFixed(2)))).toEqual([1.5, 1.8, 1.4]);
  });
  it('says nothing when one side did not run or measured nothing', () => {
    expect(gsoSummary([run(true, 0, 4)])).toBeNull();
    expect(gsoSummary([run(true, 0, 4), run(false, 0, Number.NaN)])).toBeNull();
  });
});
