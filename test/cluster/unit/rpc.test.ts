/** The request table without a cluster: exactly-once callbacks, deadlines on a clock the test drives, late and unknown answers. */
import { expect, it } from 'vitest';
import { RpcTable } from '../../../ts/cluster/core/rpc.js';
import { createLogger } from '../../../ts/log.js';
import { ManualClock } from '../../helpers/manual-clock.js';

const table = (clock: ManualClock) => new RpcTable(createLogger({ level: 'silent' }), 'request', clock);

it('an unanswered request calls back (false, null) once, at its deadline and not before', async () => {
  const clock = new ManualClock();
  const t = table(clock);
  const calls: Array<[boolean, unknown]> = [];
  const { callbackId, promise } = t.open(1.5, (ok, data) => calls.push([ok, data]));
  await clock.advance(1499);
  expect(calls).toEqual([]);
  expect(t.size).toBe(1);
  await clock.advance(1);
  expect(calls).toEqual([[false, null]]);
  expect(await promise).toEqual({ ok: false, data: null });
  expect(t.answer(callbackId, { late: true })).toBe('late');
  expect(calls).toHaveLength(1);
  expect(t.stats).toMatchObject({ sent: 1, timedOut: 1, late: 1, answered: 0 });
});

it('the first answer wins; a second is late; an id never issued is unknown; cancelAll ends the rest', async () => {
  const clock = new ManualClock();
  const t = table(clock);
  const calls: unknown[] = [];
  const a = t.open(2, (ok, d) => calls.push([ok, d]));
  expect(t.answer(a.callbackId, 1)).toBe('answered');
  expect(t.answer(a.callbackId, 2)).toBe('late');
  expect(t.answer(a.callbackId + 1000, 3)).toBe('unknown');
  const b = t.open(2, (ok, d) => calls.push([ok, d]));
  t.cancelAll();
  expect(await b.promise).toEqual({ ok: false, data: null });
  await clock.advance(5000);
  expect(calls).toEqual([
    [true, 1],
    [false, null],
  ]);
  expect(t.stats.cancelled).toBe(1);
});
