/**
 * The daily sign-in example end to end (examples/daily-signin): a client logs in through a proxy; the lobby asks
 * the service over RPC whether the player signed in today and tells the client to open its UI;
 * the client signs in; the service records it; the lobby gets the answer and grants the reward;
 * a second sign-in the same day is refused. Per bus and per gateway.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { GameClient } from '../../../ts/cluster/index.js';
import {
  ClientSystemName,
  DailyClientSystem,
  DailyServerSystem,
  DailyServiceSystem,
  ModName,
  ServerSystemName,
  ServiceSystemName,
} from '../../../examples/daily-signin/mod.js';
import { dayOf } from '../../../examples/daily-signin/service.js';
import { BUSES, useCluster, type BusKind, type RawConfig } from '../helpers/cluster.js';
import { GATEWAY_NAMES, GATEWAYS } from '../helpers/gateways.js';
import exampleConfig from '../../../examples/daily-signin/cluster.json' with { type: 'json' };

// The example imports gamewire/cluster as user code does; here it gets the sources under test.
vi.mock('gamewire/cluster', async () => await import('../../../ts/cluster/index.js'));

const cases = BUSES.flatMap((bus) => GATEWAY_NAMES.map((gw) => [bus, gw] as [BusKind, string]));

describe.each(cases)('daily sign-in over the %s bus, %s gateway', (bus, gatewayName) => {
  /** The example's own deploy config, with free ports. */
  function config(): RawConfig {
    const c = structuredClone(exampleConfig) as unknown as RawConfig;
    for (const s of c.serverlist) s.port = 0;
    c.master.port = 0;
    return c;
  }
  const fx = useCluster({ bus, config, options: () => ({ gateway: GATEWAYS[gatewayName]!() }), client: { mods: ModName } });
  const realNow = DailyServiceSystem.now;

  afterEach(() => {
    DailyServiceSystem.now = realNow;
  });

  async function play(uid: number): Promise<{ client: GameClient; daily: DailyClientSystem }> {
    const client = await fx.login(uid);
    return { client, daily: client.getSystem<DailyClientSystem>(ModName, ClientSystemName)! };
  }

  it('runs the whole flow, and refuses a second sign-in the same day', async () => {
    const lobby = fx.cluster.getSystem<DailyServerSystem>(4000, ModName, ServerSystemName)!;
    const service = fx.cluster.getSystem<DailyServiceSystem>(8000, ModName, ServiceSystemName)!;
    const { client, daily } = await play(123);
    expect(client.serverId).toBe(4000);

    // 1-3: login → lobby asks the service → the client opens the UI with the data.
    await daily.until(() => daily.ui !== null);
    const today = dayOf(new Date());
    expect(daily.ui).toEqual({ validDate: today, signedToday: false, reward: { gold: 100 } });

    // 4-7: the player signs in → lobby → service records it → lobby grants the reward.
    daily.recv();
    await daily.until(() => daily.results.length === 1);
    expect(daily.results[0]).toEqual({ ok: true, reason: null, reward: { gold: 100 }, totalGold: 100 });
    expect(service.lastSignIn.get(123)).toBe(today);
    expect(lobby.gold.get(123)).toBe(100);
    expect(daily.ui!.signedToday).toBe(true);

    // A second sign-in the same day is refused; no second reward.
    daily.recv();
    await daily.until(() => daily.results.length === 2);
    expect(daily.results[1]).toEqual({ ok: false, reason: 'already-signed', reward: null, totalGold: 100 });
    expect(lobby.gold.get(123)).toBe(100);
  });

  it('a player back the same day sees it signed; the next day signs again', async () => {
    const first = await play(456);
    await first.daily.until(() => first.daily.ui !== null);
    first.daily.recv();
    await first.daily.until(() => first.daily.results.length === 1);
    expect(first.daily.results[0]!.ok).toBe(true);
    await first.client.close();

    const again = await play(456);
    await again.daily.until(() => again.daily.ui !== null);
    expect(again.daily.ui!.signedToday).toBe(true);

    // A UI opened yesterday cannot sign in today.
    const tomorrow = new Date(Date.now() + 24 * 3600 * 1000);
    DailyServiceSystem.now = () => tomorrow;
    again.daily.recv();
    await again.daily.until(() => again.daily.results.length === 1);
    expect(again.daily.results[0]).toMatchObject({ ok: false, reason: 'stale-date' });
    await again.client.close();

    const nextDay = await play(456);
    await nextDay.daily.until(() => nextDay.daily.ui !== null);
    expect(nextDay.daily.ui).toMatchObject({ validDate: dayOf(tomorrow), signedToday: false });
    nextDay.daily.recv();
    await nextDay.daily.until(() => nextDay.daily.results.length === 1);
    expect(nextDay.daily.results[0]).toEqual({ ok: true, reason: null, reward: { gold: 100 }, totalGold: 200 });
  });

  it('a client cannot sign in for someone else: the lobby uses the sender, not the payload', async () => {
    const a = await play(777);
    await a.daily.until(() => a.daily.ui !== null);
    // The payload names another player; the lobby uses __id__ (the sender).
    a.daily.notifyToServer('PlayerRecvEvent', { playerId: 'someone-else', valid: a.daily.ui!.validDate });
    await a.daily.until(() => a.daily.results.length === 1);
    const service = fx.cluster.getSystem<DailyServiceSystem>(8000, ModName, ServiceSystemName)!;
    expect(service.lastSignIn.has(777)).toBe(true);
  });
});
