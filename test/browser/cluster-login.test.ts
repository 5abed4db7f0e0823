/**
 * Browser players in a cluster: a proxy whose config gives it browser ports accepts players from
 * headless Chromium over WebSocket and WebTransport through the same login flow as UDP players
 * (a connect token, placement on a lobby, events from the lobby), and the master counts them online.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateKey } from '../../ts/index.js';
import {
  Cluster,
  createConnectToken,
  createUdpGateway,
  defineMod,
  ENGINE_NAMESPACE,
  ENGINE_SYSTEM_NAME,
  EngineEvents,
  ServerSystem,
  type AddServerPlayerEventData,
} from '../../ts/cluster/index.js';
import { BACKENDS } from '../helpers/backends.js';
import { serveStatic, type StaticServer } from './helpers/static.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIST = join(ROOT, 'dist', 'browser');
const CHROMIUM = process.env.GAMEWIRE_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const PAGE = `import * as gw from '/pkg/browser/index.js'; globalThis.gw = gw; document.body.dataset.ready = '1';`;

class Lobby extends ServerSystem {
  constructor(namespace: string, systemName: string) {
    super(namespace, systemName);
    this.listenForEvent(ENGINE_NAMESPACE, ENGINE_SYSTEM_NAME, EngineEvents.AddServerPlayerEvent, (p: AddServerPlayerEventData) => {
      this.notifyToClient(p.playerId, 'Welcome', { uid: p.uid, lobby: this.serverId });
    });
  }
}
defineMod('browserlogin', { server: [{ namespace: 'browserlogin', systemName: 'lobby', system: Lobby }] });

let statics: StaticServer;
let context: BrowserContext;
let page: Page;
let dataDir: string;

beforeAll(async () => {
  if (!existsSync(join(DIST, 'browser', 'index.js'))) {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), 'browser'], { cwd: ROOT, stdio: 'inherit' });
    expect(r.status, 'node scripts/build.mjs browser').toBe(0);
  }
  statics = await serveStatic(DIST, PAGE);
  dataDir = mkdtempSync(join(tmpdir(), 'gamewire-chromium-'));
  context = await chromium.launchPersistentContext(dataDir, { executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`${statics.url}/`);
  await page.waitForSelector('body[data-ready="1"]', { state: 'attached', timeout: 10_000 });
}, 600_000);

afterAll(async () => {
  await context?.close();
  await statics?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** In the page: connect, log in with the player protocol's envelopes, wait for the lobby's event. */
function login(args: { url: string; pem: string; transport: string; hashes?: string[]; token: string }) {
  return page.evaluate(async ({ url, pem, transport, hashes, token }) => {
    type Client = {
      on(e: string, f: (...a: never[]) => void): void;
      connect(u: unknown, o: unknown): Promise<void>;
      sendGuaranteed(b: Uint8Array): void;
      disconnect(): Promise<void>;
      transport: string;
    };
    const gw = (globalThis as unknown as { gw: { BrowserClient: new (o: unknown) => Client } }).gw;
    const client = new gw.BrowserClient({ rootPublicKey: pem });
    const got: Record<string, unknown>[] = [];
    client.on('message', (_seq: never, bytes: never) => got.push(JSON.parse(new TextDecoder().decode(bytes as Uint8Array)) as Record<string, unknown>));
    await client.connect(url, { transport, serverCertificateHashes: hashes });
    client.sendGuaranteed(new TextEncoder().encode(JSON.stringify({ v: 1, n: 1, t: 'login', token, pv: null })));
    const t0 = performance.now();
    while (!got.some((m) => m.t === 'ev') && performance.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 10));
    const kind = client.transport;
    await client.disconnect();
    return { transport: kind, got };
  }, args);
}

describe.each(BACKENDS)('a cluster proxy with browser ports (%s)', (backend) => {
  it('takes a browser player through the login flow over WebSocket, and over WebTransport on native', async () => {
    const rootKey = PrivateKey.generate({ backend });
    const config = {
      game_key: 'browser-login-test',
      master: { serverid: 0 },
      serverlist: [
        { serverid: 2000, type: 'proxy', ip: '127.0.0.1', port: 0, websocket_port: 0, ...(backend === 'native' ? { webtransport_port: 0 } : {}) },
        { serverid: 4000, type: 'lobby', ip: '127.0.0.1', port: 0, mods: 'browserlogin' },
      ],
      store: { memory: true },
      gateway: { backend },
    };
    const cluster = await Cluster.start(config, { gateway: createUdpGateway({ rootKey, backend }), logLevel: 'silent' });
    try {
      const where = cluster.proxyBrowserAddress(2000)!;
      expect(where.websocket).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/gamewire$/);
      const pem = rootKey.publicKey({ backend }).toPem({ backend });
      const transports: [string, string, string[] | undefined][] = [['websocket', where.websocket!, undefined]];
      if (backend === 'native') {
        expect(where.certificateHash).toMatch(/^[0-9a-f]{64}$/);
        transports.push(['webtransport', where.webtransport!, [where.certificateHash!]]);
      }
      let uid = 7000;
      for (const [transport, url, hashes] of transports) {
        uid++;
        const r = await login({ url, pem, transport, hashes, token: createConnectToken(config.game_key, uid) });
        expect(r.transport).toBe(transport);
        const ok = r.got.find((m) => m.t === 'login_ok');
        expect(ok, JSON.stringify(r.got)).toMatchObject({ uid, serverId: 4000, serverType: 'lobby' });
        expect(r.got.find((m) => m.t === 'ev')).toMatchObject({ ev: 'Welcome', data: { uid, lobby: 4000 } });
      }
    } finally {
      await cluster.stop();
    }
  }, 60_000);
});
