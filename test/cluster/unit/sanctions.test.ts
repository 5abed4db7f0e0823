/** Ban and mute rules without a cluster: the login text and when a timed one ends, on a clock the test drives. */
import { describe, expect, it } from 'vitest';
import { banLoginText } from '../../../ts/cluster/index.js';
import { Sanctions } from '../../../ts/cluster/master/sanctions.js';
import { MemoryStore } from '../../../ts/cluster/master/store/memory-store.js';
import { createLogger } from '../../../ts/log.js';
import { ManualClock } from '../../helpers/manual-clock.js';

describe('banLoginText', () => {
  it('rounds the remaining time up to the minute and spells days, hours and minutes as the seed does', () => {
    const rec = { banTime: 90061, banTimestamp: 1000, reason: 'r', combineReason: true };
    expect(banLoginText(rec, 1000)).toContain('remaining ban time: 1 days 1 hours 2 minutes, ban reason: r.');
    expect(banLoginText(rec, 1000 + 90061 - 59)).toContain('remaining ban time: 0 days 0 hours 1 minutes');
    expect(banLoginText(rec, 1000 + 90061)).toContain('remaining ban time: 0 days 0 hours 1 minutes'); // its last second
    expect(banLoginText({ ...rec, combineReason: false }, 1000)).toBe('r');
    expect(banLoginText({ ...rec, banTime: -1 }, 5)).toBe(
      'Your account has been permanently banned, ban reason: r. If you have any questions, please go to the customer service area to give feedback',
    );
  });
});

describe('Sanctions', () => {
  it('a timed ban lasts at least banTime seconds and at most one more; -1 never ends', async () => {
    const clock = new ManualClock();
    await clock.advance(1000 - (clock.now() % 1000)); // on a whole second
    const s = new Sanctions(new MemoryStore(), createLogger({ level: 'silent' }), clock);
    expect(await s.set('ban', 1, 2, 'short', true)).toBe(true);
    expect(await s.set('ban', 2, -1, 'forever', false)).toBe(true);
    await clock.advance(2999);
    expect(await s.active('ban', 1)).toMatchObject({ banTime: 2 });
    await clock.advance(1);
    expect(await s.active('ban', 1)).toBeNull();
    expect(await s.info('ban', 1)).toEqual({});
    await clock.advance(10 * 365 * 86400 * 1000);
    expect(await s.info('ban', 2)).toMatchObject({ banTime: -1, reason: 'forever' });
    expect((await s.listActive('ban')).map((r) => r.uid)).toEqual([2]);
  });

  it('bad arguments store nothing; a store that fails gives false and null', async () => {
    const store = new MemoryStore();
    const s = new Sanctions(store, createLogger({ level: 'silent' }), new ManualClock());
    expect(await s.set('mute', 1, 0, 'x', false)).toBe(false);
    expect(await s.set('mute', 1.5, 10, 'x', false)).toBe(false);
    expect(await s.listActive('mute')).toEqual([]);
    await store.close();
    expect(await s.set('mute', 1, 10, 'x', false)).toBe(false);
    expect(await s.info('mute', 1)).toBeNull();
    expect(s.stats.storeErrors).toBe(2);
  });
});
