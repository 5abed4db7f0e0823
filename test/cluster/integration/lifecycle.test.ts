/**
 * serverManager's lifecycle on a real cluster, on both buses, players over the encrypted UDP
 * gateway: statuses and online counts, stopServerByServerId (1 and 2), resetServer, a rolling
 * close under load that loses no player, and a rolling update (new in-process nodes of a new
 * version, old ones retired) with every player still online and still served.
 */
import { describe, expect, it } from 'vitest';
import { EngineEvents, GameClient, ServerStatus, type ClientTransferEventData, type MasterSystem } from '../../../ts/cluster/index.js';
import { SERVER_ROLE } from '../../../ts/cluster/server/server-role.js';
import { BUSES, engineEvent, sleep, useCluster, waitFor, type RawConfig } from '../helpers/cluster.js';
import { GATEWAYS } from '../helpers/gateways.js';
import { PROBE, type ProbeClient, type ProbeMaster, type ProbeServer } from '../helpers/probe-mod.js';

function lifecycleConfig(): RawConfig {
  return {
    game_id: 'life',
    game_key: 'lifecycle-key',
    master: { serverid: 0, type: 'master', mods: PROBE },
    serverlist: [
      { serverid: 2000, type: 'proxy', ip: '127.0.0.1', port: 0, app_version: '1.0' },
      { serverid: 4000, type: 'lobby', ip: '127.0.0.1', port: 1, mods: PROBE, app_version: '1.0' },
      { serverid: 4001, type: 'lobby', ip: '127.0.0.1', port: 2, mods: PROBE, app_version: '1.0' },
      { serverid: 5000, type: 'battle', ip: '127.0.0.1', port: 3, mods: PROBE, app_version: '1.0' },
    ],
    servicelist: [{ serverid: 8000, type: 'rank', mods: PROBE }],
  };
}

/** A player (its client made by the fixture): pings its server, remembers transfers and how it was closed. */
class Bot {
  pongs = 0;
  readonly pongFrom = new Set<number>();
  readonly transfers: ClientTransferEventData[] = [];
  closedBy: string | null = null;
  private closingMyself = false;

  constructor(
    readonly uid: number,
    readonly client: GameClient,
  ) {
    const sys = this.sys;
    sys.listenForEvent(PROBE, 'server', 'ProbePong', (d: { by: number }) => {
      this.pongs++;
      this.pongFrom.add(d.by);
    });
    sys.listenForEvent(...engineEvent(EngineEvents.ClientTransferEvent), (d: ClientTransferEventData) => void this.transfers.push(d));
    void this.client.whenClosed().then((r) => {
      if (!this.closingMyself) this.closedBy = r;
    });
  }

  get sys(): ProbeClient {
    return this.client.getSystem<ProbeClient>(PROBE, 'client')!;
  }

  ping(): void {
    if (this.client.online) this.sys.notifyToServer('ProbePing', { uid: this.uid });
  }

  async close(): Promise<void> {
    this.closingMyself = true;
    await this.client.close();
  }
}

describe.each(BUSES)('serverManager lifecycle over the %s bus', (bus) => {
  const fx = useCluster({ bus, config: lifecycleConfig, options: () => ({ gateway: GATEWAYS[process.env.GAMEWIRE_TEST_GATEWAY ?? 'udp']!() }), client: { mods: PROBE } });
  const bots: Bot[] = [];
  const master = () => fx.cluster.getSystem<ProbeMaster>(0, PROBE, 'master')! as MasterSystem;
  const sm = () => master().serverManager;
  const server = (id: number) => fx.cluster.getSystem<ProbeServer>(id, PROBE, 'server')!;

  async function bot(uid: number): Promise<Bot> {
    const b = new Bot(uid, fx.client());
    bots.push(b);
    await fx.login(uid, b.client);
    return b;
  }
  async function closeAll(): Promise<void> {
    for (const b of bots.splice(0)) await b.close();
    await waitFor(() => sm().getTotalOnlineNum() === 0, 5000, 'everyone gone');
  }

  it('statuses and online counts: by server, by type, total; connected and valid', async () => {
    expect(sm().getAllServerStatus()).toEqual({ 2000: 2, 4000: 2, 4001: 2, 5000: 2, 8000: 2 });
    const b = await Promise.all([1, 2, 3, 4].map((uid) => bot(uid)));
    expect(sm().getAllServersOnlineNum()).toEqual({ 2000: 4, 4000: 2, 4001: 2, 5000: 0 });
    expect(sm().getOnlineNumByServerType('lobby')).toBe(4);
    expect(sm().getOnlineNumByServerType('proxy')).toBe(4);
    expect(sm().getOnlineNumByServerType('battle')).toBe(0);
    expect(sm().getOnlineNumByServerId(4000)).toBe(2);
    expect(sm().getTotalOnlineNum()).toBe(4);
    expect(sm().getConnectedLobbyAndGameIds().sort()).toEqual([4000, 4001, 5000]);
    expect(sm().isConnectedServer(4000)).toBe(true);
    expect(sm().isValidServer(4000)).toBe(true);
    expect(sm().isValidServer(9999)).toBe(false);
    expect(sm().getServerAppVersion(4000)).toBe('1.0');
    await b[0]!.close();
    await waitFor(() => sm().getTotalOnlineNum() === 3);
    await closeAll();
  });

  it('stopServerByServerId(id, 1): status 4, its players kicked, stopped, status 3; it can start again', async () => {
    const b = await bot(10);
    expect((await server(b.client.serverId!).transferToServer(b.client.playerId!, 5000)).ok).toBe(true);
    await waitFor(() => b.client.serverId === 5000);
    const stopping = sm().stopServerByServerId(5000, 1);
    expect(sm().getOneServerStatus(5000)).toBe(ServerStatus.GRACEFUL_SHUTDOWN);
    expect(sm().isValidServer(5000)).toBe(false);
    expect(sm().isConnectedServer(5000)).toBe(true);
    expect(await stopping).toBe(true);
    expect(await b.client.whenClosed()).toBe('server-stopping');
    expect(sm().getOneServerStatus(5000)).toBe(ServerStatus.SHUTDOWN);
    expect(sm().isConnectedServer(5000)).toBe(false);
    expect(fx.cluster.serverIds).not.toContain(5000);
    expect(await sm().stopServerByServerId(5000, 1)).toBe(false); // not running
    await fx.cluster.restartNode(5000);
    expect(sm().getOneServerStatus(5000)).toBe(ServerStatus.CONNECTED);
    bots.splice(0);
  });

  it('stopServerByServerId(id, 2): no new players while it waits for the last one to leave, then stopped', async () => {
    const b = await bot(11);
    const other = await bot(12);
    expect((await server(b.client.serverId!).transferToServer(b.client.playerId!, 5000)).ok).toBe(true);
    await waitFor(() => sm().getOnlineNumByServerId(5000) === 1);
    let done = false;
    const stopping = sm()
      .stopServerByServerId(5000, 2)
      .then((r) => {
        done = true;
        return r;
      });
    expect(sm().getOneServerStatus(5000)).toBe(ServerStatus.GRACEFUL_SHUTDOWN);
    // Nobody new gets in.
    expect(await server(other.client.serverId!).transferToServer(other.client.playerId!, 5000)).toMatchObject({ ok: false, reason: 'target-unavailable' });
    expect(b.client.online).toBe(true);
    b.ping();
    await waitFor(() => b.pongs === 1); // still served while it waits
    expect(done).toBe(false);
    expect(server(5000).destroyed).toBe(false);
    await b.close();
    expect(await stopping).toBe(true);
    expect(sm().getOneServerStatus(5000)).toBe(ServerStatus.SHUTDOWN);
    expect(other.closedBy).toBeNull();
    await fx.cluster.restartNode(5000);
    await closeAll();
  });

  it('resetServer: ResetGamesBeginEvent, systems rebuilt, ResetGamesEndEvent; listed as resetting and not valid meanwhile', async () => {
    const old = server(4001);
    let during: { resetting: number[]; valid: boolean } | null = null;
    old.listenForEvent(...engineEvent(EngineEvents.ResetGamesBeginEvent), () => {
      during = { resetting: sm().getAllResettingServers(), valid: sm().isValidServer(4001) };
    });
    const resetting = sm().resetServer(4001);
    expect(sm().getAllResettingServers()).toEqual([4001]);
    expect(sm().isValidServer(4001)).toBe(false);
    expect(await resetting).toBe(true);
    expect(during).toEqual({ resetting: [4001], valid: false });
    expect(old.resetEvents).toEqual(['begin']);
    expect(old.destroyed).toBe(true);
    const fresh = server(4001);
    expect(fresh).not.toBe(old);
    expect(fresh.resetEvents).toEqual(['end']);
    expect(sm().getAllResettingServers()).toEqual([]);
    expect(sm().isValidServer(4001)).toBe(true);
    expect(fx.cluster.node(4001).part(SERVER_ROLE)!.resets).toBe(1);
    expect(await sm().resetServer(2000)).toBe(false); // a proxy is not reset
    // The new systems serve players.
    const b = await bot(20);
    const c = await bot(21);
    const on4001 = [b, c].find((x) => x.client.serverId === 4001)!;
    on4001.ping();
    await waitFor(() => on4001.pongs === 1);
    await closeAll();
  });

  it('rollingCloseServers under load: no new player lands on the closing server, nobody is kicked, it stops once empty', async () => {
    const uids = Array.from({ length: 10 }, (_, i) => 100 + i);
    const live = new Map<number, Bot>();
    for (const uid of uids) live.set(uid, await bot(uid));
    expect(sm().getOnlineNumByServerId(4000)).toBeGreaterThan(0);
    let stop = false;
    let logins = 0;
    const landedOn: number[] = [];
    const errors: unknown[] = [];
    // Load: every bot pings; bots log out and in again (churn), which empties 4000 over time.
    const churn = (async () => {
      let i = 0;
      while (!stop) {
        for (const b of live.values()) b.ping();
        const uid = uids[i++ % uids.length]!;
        const old = live.get(uid)!;
        await old.close();
        try {
          const b = await bot(uid);
          live.set(uid, b);
          logins++;
          landedOn.push(b.client.serverId!);
        } catch (err) {
          errors.push(err);
        }
        await sleep(30);
      }
    })();
    await waitFor(() => logins > 0, 5000, 'the load running');
    const closing = sm().rollingCloseServers([4000]);
    const closedAt = landedOn.length;
    expect(sm().getOneServerStatus(4000)).toBe(ServerStatus.GRACEFUL_SHUTDOWN);
    expect(await closing).toBe(true);
    stop = true;
    await churn;
    expect(errors).toEqual([]);
    expect(sm().getOneServerStatus(4000)).toBe(ServerStatus.SHUTDOWN);
    expect(landedOn.slice(closedAt + 1).every((s) => s === 4001)).toBe(true);
    expect(logins).toBeGreaterThan(0);
    // Nobody was kicked or lost: every closed client closed itself; every bot is online on 4001.
    expect(bots.filter((b) => b.closedBy !== null)).toEqual([]);
    expect([...live.values()].every((b) => b.client.online && b.client.serverId === 4001)).toBe(true);
    await waitFor(() => sm().getOnlineNumByServerId(4001) === 10);
    for (const b of live.values()) b.ping();
    await waitFor(() => [...live.values()].every((b) => b.pongs > 0));
    await fx.cluster.restartNode(4000);
  }, 60_000);

  it('rollingCloseServers with transfer: the players are moved to another server of the type, none disconnected', async () => {
    const live = [...bots].filter((b) => b.client.online);
    expect(live.length).toBe(10);
    const closing = sm().rollingCloseServers([4001], { transfer: true });
    expect(await closing).toBe(true);
    expect(sm().getOneServerStatus(4001)).toBe(ServerStatus.SHUTDOWN);
    expect(live.every((b) => b.client.online && b.client.serverId === 4000 && b.transfers.length === 1)).toBe(true);
    expect(bots.filter((b) => b.closedBy !== null)).toEqual([]);
    for (const b of live) b.ping();
    await waitFor(() => live.every((b) => b.pongFrom.has(4000)));
    await fx.cluster.restartNode(4001);
    await closeAll();
  }, 30_000);

  it('rollingUpdateServers: new lobbies of the new version start in this process, the old ones retire (6, 7, then 1), every player stays online and served', async () => {
    const players = await Promise.all(Array.from({ length: 8 }, (_, i) => bot(200 + i)));
    expect(new Set(players.map((p) => p.client.serverId))).toEqual(new Set([4000, 4001]));
    const seen: Record<number, number[]> = { 4000: [], 4001: [] };
    for (const id of [4000, 4001]) {
      server(id).listenForEvent(...engineEvent(EngineEvents.DelServerPlayerEvent), () => void seen[id]!.push(sm().getOneServerStatus(id)!));
      server(id).onDestroy = () => void seen[id]!.push(sm().getOneServerStatus(id)!);
    }
    // Load while it runs.
    let stop = false;
    const load = (async () => {
      while (!stop) {
        for (const p of players) p.ping();
        await sleep(50);
      }
    })();
    const r = await sm().rollingUpdateServers('lobby', '2.0', '127.0.0.1', 0);
    stop = true;
    await load;
    expect(r).toEqual({ ok: true, reason: null, started: [4002, 4003], retired: [4000, 4001] });
    for (const id of [4000, 4001]) {
      expect(seen[id]!.includes(ServerStatus.ROLLING_UPDATE_BEGIN)).toBe(true);
      expect(seen[id]!.at(-1)).toBe(ServerStatus.ROLLING_UPDATE_END);
      expect(sm().getOneServerStatus(id)).toBe(ServerStatus.DISCONNECTED);
    }
    const lobbies = sm()
      .getConnectedLobbyAndGameIds()
      .filter((id) => master().netgameApi.getGameTypeByServerId(id) === 'lobby')
      .sort();
    expect(lobbies).toEqual([4002, 4003]);
    expect(lobbies.every((id) => sm().getServerAppVersion(id) === '2.0' && sm().isValidServer(id))).toBe(true);
    expect(master().netgameApi.getServerIdsByGameType('lobby')).toEqual([4000, 4001, 4002, 4003]);
    expect(fx.cluster.serverIds).toEqual(expect.arrayContaining([4002, 4003]));
    expect(fx.cluster.serverIds).not.toContain(4000);
    // Every player: still online, never disconnected, moved once, served by a new lobby.
    expect(players.every((p) => p.client.online && p.closedBy === null)).toBe(true);
    expect(players.every((p) => p.transfers.length === 1 && [4002, 4003].includes(p.client.serverId!))).toBe(true);
    expect(master().netgameApi.getOnlineUidList().sort()).toEqual(players.map((p) => p.uid));
    const before = players.map((p) => p.pongs);
    for (const p of players) p.ping();
    await waitFor(() => players.every((p, i) => p.pongs > before[i]!));
    expect(players.every((p) => [...p.pongFrom].some((id) => id === 4002 || id === 4003))).toBe(true);
    // A new login lands on a new lobby; an unknown type fails cleanly.
    const late = await bot(299);
    expect([4002, 4003]).toContain(late.client.serverId);
    expect(await sm().rollingUpdateServers('nope', '2.0', '127.0.0.1', 0)).toMatchObject({ ok: false, reason: 'bad-type' });
  }, 60_000);

  it('stopServerByServerId on a proxy: 1 kicks its players (proxy-stopping), then it stops (3); it can start again', async () => {
    const online = bots.filter((b) => b.client.online);
    expect(online.length).toBeGreaterThan(0);
    expect(await sm().stopServerByServerId(2000, 1)).toBe(true);
    for (const b of online) expect(await b.client.whenClosed()).toBe('proxy-stopping');
    expect(sm().getOneServerStatus(2000)).toBe(ServerStatus.SHUTDOWN);
    await waitFor(() => sm().getTotalOnlineNum() === 0, 5000, 'the proxy\'s players gone');
    await fx.cluster.restartNode(2000);
    expect(sm().getOneServerStatus(2000)).toBe(ServerStatus.CONNECTED);
    expect((await bot(500)).client.online).toBe(true);
  });
});
