/** Two clusters on one nats-server, with the same server ids, do not hear each other. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from '../../../ts/cluster/index.js';
import { connect } from '@nats-io/transport-node';
import { baseConfig, drained, startCluster, waitFor } from '../helpers/cluster.js';
import { createLoopbackGateway } from '../helpers/loopback-gateway.js';
import { NatsServer } from '../helpers/nats-server.js';
import { PROBE, ProbeMaster, ProbeServer, ProbeService, record } from '../helpers/probe-mod.js';

describe('subjects are namespaced per cluster', () => {
  let nats: NatsServer;
  let blue: Cluster;
  let green: Cluster;

  beforeAll(async () => {
    nats = await NatsServer.start();
    blue = await startCluster({ ...baseConfig(), game_id: 'blue', nats: { servers: nats.url } }, { gateway: createLoopbackGateway() });
    green = await startCluster({ ...baseConfig(), game_id: 'green', nats: { servers: nats.url } }, { gateway: createLoopbackGateway() });
  });
  afterAll(async () => {
    await blue?.stop();
    await green?.stop();
    await nats?.stop();
  });

  it('derives the prefix from game_id and keeps events and requests apart', async () => {
    expect(blue.config.nats!.prefix).toBe('gamewire.blue');
    expect(green.config.nats!.prefix).toBe('gamewire.green');
    const ids = [4000, 4001, 5000, 5001];
    const blueGot = record(ids.map((id) => blue.getSystem<ProbeServer>(id, PROBE, 'server')!), PROBE, 'service', 'News');
    const greenGot = record(ids.map((id) => green.getSystem<ProbeServer>(id, PROBE, 'server')!), PROBE, 'service', 'News');
    // A spy on every subject of the nats-server sees, in order, all that blue's nodes publish.
    const spy = await connect({ servers: nats.url });
    const seen: Array<{ subject: string; ev: unknown; from: unknown }> = [];
    spy.subscribe('>', {
      callback: (_err, msg) => {
        try {
          const m = JSON.parse(new TextDecoder().decode(msg.data)) as { ev?: unknown; from?: unknown };
          seen.push({ subject: msg.subject, ev: m.ev, from: m.from });
        } catch {
          /* not a cluster message */
        }
      },
    });
    await spy.flush();
    blue.getSystem<ProbeService>(8000, PROBE, 'service')!.broadcastToServerByType('lobby', 'News', { c: 'blue' });
    blue.getSystem<ProbeMaster>(0, PROBE, 'master')!.notifyToServerNode(5000, 'News', { c: 'blue' });
    await waitFor(() => blueGot.length === 2);
    // Markers from the same two nodes: once the spy has them, it has everything they sent before.
    await drained(blue, 8000, [blue.getSystem<ProbeServer>(4000, PROBE, 'server')!]);
    await drained(blue, 0, [blue.getSystem<ProbeServer>(4000, PROBE, 'server')!]);
    await waitFor(() => seen.filter((m) => typeof m.ev === 'string' && m.ev.startsWith('Drained')).length === 2);
    await spy.close();
    const news = seen.filter((m) => m.ev === 'News');
    expect(news.map((m) => m.subject).sort()).toEqual(['gamewire.blue.node.5000', 'gamewire.blue.type.lobby']);
    expect(greenGot).toEqual([]);
    for (const [c, name] of [
      [blue, 'blue'],
      [green, 'green'],
    ] as const) {
      const s = c.getSystem<ProbeService>(8002, PROBE, 'service')!;
      s.registerRpcMethodForMod('Who', (sid, cb) => s.responseToServer(sid, cb, { name }));
    }
    const r = await Promise.all(Array.from({ length: 10 }, () => green.getSystem<ProbeServer>(4000, PROBE, 'server')!.requestToServiceMod<{ name: string }>('rank', 'Who')));
    expect(r.every((x) => x.ok && x.data!.name === 'green')).toBe(true);
    // Each master counts only its own nodes.
    expect(green.getSystem<ProbeMaster>(0, PROBE, 'master')!.serverManager.getConnectedLobbyAndGameIds().sort()).toEqual(ids);
  });
});
