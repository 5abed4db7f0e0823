/**
 * Browser players against the real `UdpServer`: headless Chromium (Debian's `chromium` through
 * playwright-core) loads dist/browser and connects over WebTransport (the native addon's HTTP/3
 * endpoint, `io: 'thread'`) or over a WebSocket (native `io: 'thread'` and `io: 'dgram'`, and
 * WebAssembly), and raw clients send the server bytes no browser would: a `ws` client for the
 * WebSocket, the page's own WebTransport API (tapped under the BrowserClient) for WebTransport.
 *
 * Needs `node scripts/build.mjs browser` (run here when dist/browser is missing).
 */
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionStatus, PrivateKey, RetryMode, UdpClient, type BackendName, type ConnectionStats } from '../../ts/index.js';
import { BACKENDS } from '../helpers/backends.js';
import { until } from '../helpers/net.js';
import { drive, driveThrough, driveUntil, ManualClock } from '../helpers/manual-clock.js';
import { launchChromium, type Chromium } from './helpers/chromium.js';
import { exchange, expectExactlyOnce } from './helpers/exchange.js';
import { startProbeServer, type ProbeServer, type ProbeServerSetup } from './helpers/probe-server.js';
import type { WebSocket } from 'ws';
import { upgradeStatus, wsRelay } from './helpers/ws-relay.js';

let chromium: Chromium;
let page: Page;
const servers: ProbeServer[] = [];
const hasNative = BACKENDS.includes('native');

beforeAll(async () => {
  chromium = await launchChromium();
  page = await chromium.page();
}, 600_000);

afterAll(async () => {
  await chromium?.close();
});

afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

async function start(setup: ProbeServerSetup): Promise<ProbeServer> {
  const s = await startProbeServer(setup);
  servers.push(s);
  return s;
}

/** The WebSocket setups: native with either io, and WebAssembly; mounted on the router or on a port of its own. */
const WS_SETUPS: (ProbeServerSetup & { name: string })[] = [
  { name: 'native, io thread, own port', backend: 'native' as BackendName, io: 'thread' as const, websocket: 'own' as const },
  { name: 'native, io dgram, mounted on listenTcp', backend: 'native' as BackendName, io: 'dgram' as const, websocket: 'mounted' as const },
  { name: 'wasm, io dgram, own port', backend: 'wasm' as BackendName, io: 'dgram' as const, websocket: 'own' as const },
].filter((s) => BACKENDS.includes(s.backend));

const WT_SETUP: ProbeServerSetup = { backend: 'native', io: 'thread', webtransport: true, websocket: 'own' };

/** The server saw the exchange of `exchange()`: one client, 30 probes in the three modes, 30 reply callbacks once each, the disconnect. */
async function expectServerSide(s: ProbeServer, token: number, transport: string): Promise<void> {
  const h = s.handler;
  expect(h.connected).toEqual([{ token, transport, host: '127.0.0.1' }]);
  expect(h.received.map((m) => m.probe.mode).sort()).toEqual(
    [...Array(10).fill(RetryMode.RETRY_ON_TIMEOUT), ...Array(10).fill(RetryMode.NONE), ...Array(10).fill(RetryMode.BEST_EFFORT)].sort(),
  );
  expect(new Set(h.received.map((m) => m.probe.i)).size).toBe(30);
  await until(() => h.replyCallbacks.size === 30, 5000, 'the server reply callbacks');
  for (const [i, calls] of h.replyCallbacks) expect(calls, `server callback ${i}`).toEqual([true]);
  await until(() => h.disconnected.length === 1, 5000, 'the server to see the disconnect');
  expect(h.disconnected[0]).toEqual({ token, transport, status: ConnectionStatus.DISCONNECTED });
  await until(() => s.server.connectionCount === 0, 5000, 'the connection to be released');
}

/** In `p`: a BrowserClient that connects and stays connected (globalThis.held); resolves with its token. */
function connectHeld(p: Page, args: { url: unknown; pem: string; transport: string; hashes?: string[] }): Promise<{ token: number; transport: string }> {
  return p.evaluate(async ({ url, pem, transport, hashes }) => {
    type Client = { connect(u: unknown, o: unknown): Promise<void>; token: number; transport: string; on(e: string, f: (...a: unknown[]) => void): void };
    const g = globalThis as unknown as { gw: { BrowserClient: new (o: unknown) => Client }; held?: Client; heldEvents: unknown[][] };
    const client = new g.gw.BrowserClient({ rootPublicKey: pem });
    g.heldEvents = [];
    client.on('disconnected', (...a) => g.heldEvents.push(['disconnected', ...a]));
    await client.connect(url, { transport, serverCertificateHashes: hashes });
    g.held = client;
    return { token: client.token, transport: client.transport };
  }, args);
}

/** The page's `disconnected` events of its held client, once there is one. */
async function heldEvents(p: Page): Promise<unknown[][]> {
  await p.waitForFunction(() => (globalThis as unknown as { heldEvents: unknown[] }).heldEvents.length > 0, undefined, { timeout: 5000 });
  return p.evaluate(() => (globalThis as unknown as { heldEvents: unknown[][] }).heldEvents);
}

/**
 * The server ends browser clients: the handler's `client.disconnect()` ends one (its page hears
 * the server), then `stop()` ends the other; the handler sees both leave, nothing is left.
 */
async function expectServerEnds(s: ProbeServer, args: { url: string; transport: string; hashes?: string[] }): Promise<void> {
  const p1 = await chromium.page();
  const p2 = await chromium.page();
  const a = await connectHeld(p1, { ...args, pem: s.publicKeyPem });
  const b = await connectHeld(p2, { ...args, pem: s.publicKeyPem });
  await until(() => s.handler.clients.size === 2, 5000, 'both connected');
  s.handler.clients.get(a.token)!.disconnect();
  expect(await heldEvents(p1)).toEqual([['disconnected', ConnectionStatus.DISCONNECTING, 'peer']]);
  await until(() => s.handler.disconnected.length === 1, 5000, 'the handler to see the first leave');
  expect(s.handler.disconnected[0]).toEqual({ token: a.token, transport: args.transport, status: ConnectionStatus.DISCONNECTED });
  await s.stop();
  expect(await heldEvents(p2)).toEqual([['disconnected', ConnectionStatus.DISCONNECTING, 'peer']]);
  expect(s.handler.disconnected.map((d) => d.token)).toEqual([a.token, b.token]);
  expect(s.server.connectionCount).toBe(0);
  await p1.close();
  await p2.close();
}

/** In `p`: connects with a key that is not the server's; resolves with the error. */
function connectWrongKey(p: Page, args: { url: unknown; pem: string; transport: string; hashes?: string[] }) {
  return p.evaluate(async ({ url, pem, transport, hashes }) => {
    const gw = (globalThis as unknown as { gw: { BrowserClient: new (o: unknown) => { connect(u: unknown, o: unknown): Promise<void>; status: number } } }).gw;
    const client = new gw.BrowserClient({ rootPublicKey: pem });
    try {
      await client.connect(url, { transport, serverCertificateHashes: hashes, timeout: 3 });
      return { ok: true, message: '', code: '', status: client.status };
    } catch (err) {
      const e = err as { message: string; code: string };
      return { ok: false, message: e.message, code: e.code, status: client.status };
    }
  }, args);
}

describe.runIf(hasNative)('BrowserClient over WebTransport against UdpServer (native, io: thread)', () => {
  it('exchanges messages in all three retry modes both ways, callbacks once on both sides, and disconnects', async () => {
    chromium.problems.length = 0;
    const s = await start(WT_SETUP);
    expect(s.server.webtransport?.selfSigned).toBe(true);
    expect(s.wtHash).toMatch(/^[0-9a-f]{64}$/);
    const r = await exchange(page, { url: s.wtUrl, pem: s.publicKeyPem, transport: 'webtransport', hashes: [s.wtHash], big: 4000 });
    expect(r.transport).toBe('webtransport');
    expectExactlyOnce(r);
    // Fragments of full-size packets: larger than a WebTransport datagram, so over the overflow stream both ways.
    expect(new Map(r.replies).get(29)).toBeGreaterThan(4000);
    expect(r.events).toEqual([['connected'], ['disconnected', ConnectionStatus.DISCONNECTED, 'local']]);
    expect(r.statusAfter).toBe(ConnectionStatus.DISCONNECTED);
    await expectServerSide(s, r.token, 'webtransport');
    expect(chromium.problems).toEqual([]);
  });

  it('auto: WebTransport with the current certificate hash; a page pinned to a stale hash falls back to the WebSocket', async () => {
    const s = await start(WT_SETUP);
    const url = { webtransport: s.wtUrl, websocket: s.wsUrl };
    const current = await exchange(page, { url, pem: s.publicKeyPem, transport: 'auto', hashes: [s.wtHash], big: 10 });
    expect(current.transport).toBe('webtransport');
    expectExactlyOnce(current);
    const stale = await exchange(page, { url, pem: s.publicKeyPem, transport: 'auto', hashes: ['00'.repeat(32)], big: 10 });
    expect(stale.transport).toBe('websocket');
    expectExactlyOnce(stale);
    expect(s.handler.connected.map((c) => c.transport)).toEqual(['webtransport', 'websocket']);
  });

  it('refuses to connect to a server whose key is not the pinned one, and the server keeps nothing', async () => {
    const s = await start(WT_SETUP);
    const other = PrivateKey.generate({ backend: 'native' }).publicKey({ backend: 'native' }).toPem({ backend: 'native' });
    const r = await connectWrongKey(page, { url: s.wtUrl, pem: other, transport: 'webtransport', hashes: [s.wtHash] });
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/pinned root public key/);
    expect(r.code).toBe('ERR_TIMEOUT');
    expect(r.status).toBe(ConnectionStatus.DISCONNECTED);
    expect(s.handler.connected).toEqual([]);
    await until(() => s.server.connectionCount === 0, 5000, 'the half-open handshake to be released');
  });

  it('the server ends its clients: one by client.disconnect(), the other by stop()', async () => {
    const s = await start(WT_SETUP);
    await expectServerEnds(s, { url: s.wtUrl, transport: 'webtransport', hashes: [s.wtHash] });
  });

  it('a page closed abruptly: its session is released, the EventHandler sees the client dropped', async () => {
    const s = await start(WT_SETUP);
    const p = await chromium.page();
    const { token, transport } = await connectHeld(p, { url: s.wtUrl, pem: s.publicKeyPem, transport: 'webtransport', hashes: [s.wtHash] });
    expect(transport).toBe('webtransport');
    await until(() => s.handler.connected.length === 1, 5000, 'the server to see the connect');
    expect(s.server.connectionCount).toBe(1);
    await p.close();
    await until(() => s.handler.disconnected.length === 1, 10_000, 'the server to see the disconnect');
    expect(s.handler.disconnected[0]).toEqual({ token, transport: 'webtransport', status: ConnectionStatus.DROPPED });
    await until(() => s.server.connectionCount === 0, 5000, 'the connection count to return to 0');
    expect(s.server.clients()).toEqual([]);
  });
});

describe.each(WS_SETUPS)('BrowserClient over WebSocket against UdpServer ($name)', (setup) => {
  it('exchanges messages in all three retry modes both ways, callbacks once on both sides, and disconnects', async () => {
    chromium.problems.length = 0;
    const s = await start(setup);
    if (setup.websocket === 'mounted') expect(s.wsUrl).toBe(`ws://127.0.0.1:${s.httpPort}/gamewire`);
    const r = await exchange(page, { url: s.wsUrl, pem: s.publicKeyPem, transport: 'websocket', big: 5000 });
    expect(r.transport).toBe('websocket');
    expectExactlyOnce(r);
    expect(new Map(r.replies).get(29)).toBeGreaterThan(5000);
    expect(r.events).toEqual([['connected'], ['disconnected', ConnectionStatus.DISCONNECTED, 'local']]);
    await expectServerSide(s, r.token, 'websocket');
    expect(chromium.problems).toEqual([]);
  });

  it('refuses to connect to a server whose key is not the pinned one, and the server keeps nothing', async () => {
    const s = await start(setup);
    const other = PrivateKey.generate({ backend: setup.backend }).publicKey({ backend: setup.backend }).toPem({ backend: setup.backend });
    const r = await connectWrongKey(page, { url: s.wsUrl, pem: other, transport: 'websocket' });
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/pinned root public key/);
    expect(s.handler.connected).toEqual([]);
    await until(() => s.server.connectionCount === 0, 5000, 'the half-open handshake to be released');
    await until(() => wsConnCount(s) === 0, 5000, 'the server to forget the WebSocket');
  });

  it('the server ends its clients: one by client.disconnect(), the other by stop()', async () => {
    const s = await start(setup);
    await expectServerEnds(s, { url: s.wsUrl, transport: 'websocket' });
  });

  it('a page closed abruptly: its WebSocket is released, the EventHandler sees the client dropped', async () => {
    const s = await start(setup);
    const p = await chromium.page();
    const { token, transport } = await connectHeld(p, { url: s.wsUrl, pem: s.publicKeyPem, transport: 'websocket' });
    expect(transport).toBe('websocket');
    await until(() => s.handler.connected.length === 1, 5000, 'the server to see the connect');
    await p.close();
    await until(() => s.handler.disconnected.length === 1, 10_000, 'the server to see the disconnect');
    expect(s.handler.disconnected[0]).toEqual({ token, transport: 'websocket', status: ConnectionStatus.DROPPED });
    await until(() => s.server.connectionCount === 0, 5000, 'the connection count to return to 0');
    await until(() => wsConnCount(s) === 0, 5000, 'the server to forget the WebSocket');
  });
});

/**
 * Installs, in `p`, a WebSocket whose incoming messages the test can hold back and then deliver
 * all in one task (`globalThis.gwWsGate`: `held` an array while holding, `release()`).
 */
const WS_GATE = `(() => {
  if (globalThis.gwWsGate) return;
  const Real = globalThis.WebSocket;
  const onmessage = Object.getOwnPropertyDescriptor(Real.prototype, 'onmessage');
  const gate = { held: null, deliver: null };
  gate.release = () => {
    const held = gate.held;
    gate.held = null;
    for (const e of held) gate.deliver(e);
  };
  globalThis.gwWsGate = gate;
  globalThis.WebSocket = class extends Real {
    set onmessage(f) {
      gate.deliver = f;
      onmessage.set.call(this, (e) => (gate.held ? gate.held.push(e) : f(e)));
    }
    get onmessage() {
      return onmessage.get.call(this);
    }
  };
})()`;

interface GateView {
  gwWsGate: { held: unknown[] | null; release(): void };
  held: { on(e: string, f: (seq: number, msg: Uint8Array) => void): void; stats: ConnectionStats };
  gotLengths: number[];
}

describe.each(WS_SETUPS)('BrowserClient: datagrams that arrive together ($name)', (setup) => {
  it('are handed to the core in one batch, and every one of them is handled', async () => {
    const s = await start(setup);
    const p = await chromium.page();
    await p.evaluate(WS_GATE);
    const { token } = await connectHeld(p, { url: s.wsUrl, pem: s.publicKeyPem, transport: 'websocket' });
    await p.evaluate(() => {
      const g = globalThis as unknown as GateView;
      g.gotLengths = [];
      g.held.on('message', (_seq, msg) => g.gotLengths.push(msg.length));
      g.gwWsGate.held = [];
    });
    // Four messages of 1000 bytes, without retries: a datagram each, none sent again if lost.
    await until(() => s.handler.clients.has(token), 5000, 'the server to see the client');
    for (let i = 0; i < 4; i++) s.handler.clients.get(token)!.send(new Uint8Array(1000).fill(i), RetryMode.NONE);
    await p.waitForFunction(() => ((globalThis as unknown as GateView).gwWsGate.held?.length ?? 0) >= 4, undefined, { timeout: 5000 });
    const r = await p.evaluate(async () => {
      const g = globalThis as unknown as GateView;
      g.gwWsGate.release();
      for (let i = 0; i < 100 && g.gotLengths.length < 4; i++) await new Promise((r) => setTimeout(r, 10));
      const st = g.held.stats;
      return { got: g.gotLengths, dropped: st.dropMalformed + st.dropUnknownConnection + st.dropTooLarge };
    });
    expect(r).toEqual({ got: [1000, 1000, 1000, 1000], dropped: 0 });
    await p.close();
  });
});

/**
 * Every replayed datagram was dropped and counted: the data packets by the replay window, the
 * replayed handshake by the connection's keys (it was sealed before them).
 */
function expectAllDropped(before: ConnectionStats, after: ConnectionStats, replayed: number): void {
  const drops = (st: ConnectionStats) => DROPS.reduce((n, k) => n + st[k], 0);
  expect(drops(after) - drops(before)).toBe(replayed);
  expect(after.dropReplay - before.dropReplay).toBeGreaterThanOrEqual(1);
  expect(after.dropReplay - before.dropReplay + after.dropAuthFailed - before.dropAuthFailed).toBe(replayed);
}
const DROPS = ['dropMalformed', 'dropAuthFailed', 'dropReplay', 'dropBlocked', 'dropUnknownConnection', 'dropTooLarge', 'dropRateLimited', 'dropUnexpected'] as const;

/** WebSocket connections the server still holds state for (its private maps: no public view of them). */
function wsConnCount(s: ProbeServer): number {
  const inner = s.server as unknown as { wsConns: Map<number, unknown>; wsByPeer: Map<number, number> };
  return inner.wsConns.size + inner.wsByPeer.size;
}

describe.each(WS_SETUPS)('bad input over a WebSocket ($name)', (setup) => {
  const stats = (s: ProbeServer) => s.server.stats;

  it('malformed datagrams are dropped and counted, and the connection still carries a client', async () => {
    const s = await start(setup);
    const relay = await wsRelay(s.wsUrl);
    const before = stats(s).dropMalformed;
    relay.sendRaw(Buffer.from('not a gamewire datagram'));
    relay.sendRaw(Buffer.alloc(1));
    relay.sendRaw(Buffer.alloc(2048, 0xaa));
    await until(() => stats(s).dropMalformed >= before + 3, 5000, 'three malformed datagrams counted');
    // The same connection then carries a real client (UdpClient through the relay).
    const c = new UdpClient({ backend: setup.backend, rootPublicKey: s.publicKeyPem });
    await c.connect('127.0.0.1', relay.port);
    expect(s.handler.connected).toEqual([{ token: c.token, transport: 'websocket', host: '127.0.0.1' }]);
    await c.disconnect();
    await relay.close();
    await until(() => wsConnCount(s) === 0, 5000, 'the server to forget the WebSocket');
  });

  it('replayed datagrams are dropped and counted; every message reaches the handler once', async () => {
    const s = await start(setup);
    const relay = await wsRelay(s.wsUrl);
    const c = new UdpClient({ backend: setup.backend, rootPublicKey: s.publicKeyPem });
    await c.connect('127.0.0.1', relay.port);
    const acked: boolean[] = [];
    for (let i = 0; i < 5; i++) c.send(Buffer.from(JSON.stringify({ i, mode: RetryMode.RETRY_ON_TIMEOUT })), RetryMode.RETRY_ON_TIMEOUT, (a) => acked.push(a));
    await until(() => acked.length === 5 && s.handler.received.length === 5, 5000, 'five messages acked');
    const before = stats(s);
    const replayed = relay.sent.slice();
    for (const d of replayed) relay.sendRaw(d);
    await until(() => stats(s).datagramsIn >= before.datagramsIn + replayed.length, 5000, 'the replayed datagrams to arrive');
    expectAllDropped(before, stats(s), replayed.length);
    expect(s.handler.received.length).toBe(5);
    expect(c.status).toBe(ConnectionStatus.CONNECTED);
    await c.disconnect();
    await relay.close();
  });

  it('a message larger than a datagram closes that connection (1009), and a text message (1003)', async () => {
    const s = await start(setup);
    const relay = await wsRelay(s.wsUrl);
    const c = new UdpClient({ backend: setup.backend, rootPublicKey: s.publicKeyPem });
    await c.connect('127.0.0.1', relay.port);
    await until(() => s.handler.connected.length === 1, 5000, 'connected');
    relay.sendRaw(Buffer.alloc(2049));
    await until(() => relay.closeCode !== null, 5000, 'the server to close the connection');
    expect(relay.closeCode).toBe(1009);
    // The client behind it is gone at once, not after a timeout.
    await until(() => s.handler.disconnected.length === 1, 5000, 'the server to see the disconnect');
    expect(s.handler.disconnected[0].status).toBe(ConnectionStatus.DROPPED);
    await until(() => s.server.connectionCount === 0, 5000, 'released');
    await c.disconnect();
    await relay.close();

    const text = await wsRelay(s.wsUrl);
    text.sendRaw('hello');
    await until(() => text.closeCode !== null, 5000, 'the server to close the text connection');
    expect(text.closeCode).toBe(1003);
    await until(() => wsConnCount(s) === 0, 5000, 'the server to forget both WebSockets');
  });

  it('a block list set while connected drops the connection\'s datagrams before parsing, counted', async () => {
    const s = await start(setup);
    const relay = await wsRelay(s.wsUrl);
    const c = new UdpClient({ backend: setup.backend, rootPublicKey: s.publicKeyPem });
    await c.connect('127.0.0.1', relay.port);
    const before = stats(s);
    s.server.ctx.setBlockList(['127.0.0.1']);
    relay.sendRaw(Buffer.from('not a gamewire datagram'));
    await until(() => stats(s).dropBlocked > before.dropBlocked, 5000, 'a blocked datagram counted');
    expect(stats(s).dropMalformed).toBe(before.dropMalformed);
    s.server.ctx.setBlockList([]);
    await c.disconnect();
    await relay.close();
  });

  it('a connection that carries no client by its join timeout is closed; one that carries a client stays', async () => {
    // Time is the test's: the join timeout (15 s by default) passes in a moment.
    const clock = new ManualClock();
    const s = await start({ ...setup, clock });
    const idle = await wsRelay(s.wsUrl);
    const opened = clock.now();
    idle.sendRaw(Buffer.from('not a gamewire datagram'));
    const relay = await wsRelay(s.wsUrl);
    // The client keeps the time of the server's engine: the test's under io dgram; under io thread
    // the socket threads keep real time and only the join timer follows the test's clock.
    const c = new UdpClient({ backend: setup.backend, rootPublicKey: s.publicKeyPem, ...(setup.io === 'dgram' ? { clock } : {}) });
    await driveThrough(clock, c.connect('127.0.0.1', relay.port), 5000, 'connect through the relay');
    await drive(clock, 14_800 - (clock.now() - opened), 100);
    expect(idle.closeCode).toBeNull();
    await driveUntil(clock, () => idle.closeCode !== null, 1000, 'the idle connection closed');
    expect(idle.closeCode).toBe(1001);
    expect(relay.closeCode).toBeNull();
    expect(c.status).toBe(ConnectionStatus.CONNECTED);
    await driveThrough(clock, c.disconnect(), 5000, 'disconnect');
    await relay.close();
  });

  it('at most 16 connections per source address (429 beyond), given back when they close', async () => {
    const s = await start(setup);
    const open: WebSocket[] = [];
    for (let i = 0; i < 16; i++) {
      const r = await upgradeStatus(s.wsUrl);
      expect(r.status, `connection ${i}`).toBe(101);
      open.push(r.ws!);
    }
    expect((await upgradeStatus(s.wsUrl)).status).toBe(429);
    await new Promise<void>((r) => {
      open[0].once('close', () => r());
      open[0].close();
    });
    let again = await upgradeStatus(s.wsUrl);
    for (let tries = 0; again.status !== 101 && tries < 50; tries++) {
      await new Promise((r) => setTimeout(r, 20));
      again = await upgradeStatus(s.wsUrl);
    }
    expect(again.status).toBe(101);
    for (const ws of [...open.slice(1), again.ws!]) ws.close();
  });

  it('the per-address limit is the server\'s websocket.maxPerAddress', async () => {
    const s = await start({ ...setup, wsMaxPerAddress: 2 });
    const a = await upgradeStatus(s.wsUrl);
    const b = await upgradeStatus(s.wsUrl);
    expect([a.status, b.status, (await upgradeStatus(s.wsUrl)).status]).toEqual([101, 101, 429]);
    a.ws!.close();
    b.ws!.close();
  });
});

/** Installs, in `p`, a WebTransport whose datagrams the test can see and add to (`globalThis.gwTap`). */
const TAP = `(() => {
  if (globalThis.gwTap) return;
  const Real = globalThis.WebTransport;
  const get = Object.getOwnPropertyDescriptor(Real.prototype, 'datagrams').get;
  const tap = { sent: [], before: [], writer: null, open: null, rawStream: null };
  globalThis.gwTap = tap;
  globalThis.WebTransport = class extends Real {
    constructor(url, opts) {
      super(url, opts);
      const real = get.call(this);
      const writer = real.writable.getWriter();
      tap.writer = writer;
      tap.sent = [];
      const before = tap.before.splice(0);
      // Raw datagrams first (as soon as the session is ready), then, once the test opens the gate
      // (when raw datagrams were queued), the client's own.
      const gate = before.length ? new Promise((r) => (tap.open = r)) : null;
      const ready = this.ready.then(async () => { for (const b of before) await writer.write(b); await gate; }, () => undefined);
      const writable = new WritableStream({
        async write(chunk) { await ready; tap.sent.push(chunk.slice()); await writer.write(chunk); },
      });
      const datagrams = { readable: real.readable, writable, get maxDatagramSize() { return real.maxDatagramSize; } };
      Object.defineProperty(this, 'datagrams', { value: datagrams });
      // The overflow stream waits for the gate too (the handshake's first packet, padded to full
      // size, is larger than a WebTransport datagram: it takes the stream).
      const open = () => Real.prototype.createUnidirectionalStream.call(this);
      Object.defineProperty(this, 'createUnidirectionalStream', { value: () => ready.then(open) });
      tap.rawStream = open;
    }
  };
})()`;

interface TapView {
  gwTap: { sent: Uint8Array[]; before: Uint8Array[]; open(): void; writer: { write(b: Uint8Array): Promise<void> }; rawStream(): Promise<{ getWriter(): { write(b: Uint8Array): Promise<void> } }> };
  held: { send(b: Uint8Array, m: number, cb: (a: boolean) => void): void };
  heldEvents: unknown[][];
}

describe.runIf(hasNative)('bad input over WebTransport (the page\'s raw WebTransport API)', () => {
  it('malformed datagrams are dropped and counted, and the same session then carries the client', async () => {
    const s = await start(WT_SETUP);
    const p = await chromium.page();
    await p.evaluate(TAP);
    await p.evaluate(() => {
      const tap = (globalThis as unknown as TapView).gwTap;
      tap.before.push(new TextEncoder().encode('not a gamewire datagram'), new Uint8Array(1), new Uint8Array(1000).fill(0xaa));
    });
    const before = s.server.stats.dropMalformed;
    const connecting = connectHeld(p, { url: s.wtUrl, pem: s.publicKeyPem, transport: 'webtransport', hashes: [s.wtHash] });
    // The raw datagrams reach the server first, on their own; a release of their peer id still pending when the hello arrives is withheld by the engine.
    await until(() => s.server.stats.dropMalformed >= before + 3, 5000, 'three malformed datagrams counted');
    await p.evaluate(() => (globalThis as unknown as TapView).gwTap.open());
    const { token } = await connecting;
    expect(s.handler.connected).toEqual([{ token, transport: 'webtransport', host: '127.0.0.1' }]);
    await p.close();
  });

  it('replayed datagrams are dropped and counted; every message reaches the handler once', async () => {
    const s = await start(WT_SETUP);
    const p = await chromium.page();
    await p.evaluate(TAP);
    await connectHeld(p, { url: s.wtUrl, pem: s.publicKeyPem, transport: 'webtransport', hashes: [s.wtHash] });
    const acked = await p.evaluate(async () => {
      const g = globalThis as unknown as TapView;
      const results: boolean[] = [];
      await new Promise<void>((resolve) => {
        for (let i = 0; i < 5; i++) {
          g.held.send(new TextEncoder().encode(JSON.stringify({ i, mode: -1 })), -1, (a) => {
            results.push(a);
            if (results.length === 5) resolve();
          });
        }
      });
      return results;
    });
    expect(acked).toEqual([true, true, true, true, true]);
    await until(() => s.handler.received.length === 5, 5000, 'five messages');
    const before = s.server.stats;
    const replayed = await p.evaluate(async () => {
      const tap = (globalThis as unknown as TapView).gwTap;
      const all = tap.sent.slice();
      for (const d of all) await tap.writer.write(d);
      return all.length;
    });
    await until(() => s.server.stats.datagramsIn >= before.datagramsIn + replayed, 5000, 'the replayed datagrams to arrive');
    expectAllDropped(before, s.server.stats, replayed);
    expect(s.handler.received.length).toBe(5);
    expect(s.handler.disconnected).toEqual([]);
    await p.close();
  });

  it('a frame larger than a datagram on a stream closes the session; the server releases its client', async () => {
    const s = await start(WT_SETUP);
    const p = await chromium.page();
    await p.evaluate(TAP);
    const { token } = await connectHeld(p, { url: s.wtUrl, pem: s.publicKeyPem, transport: 'webtransport', hashes: [s.wtHash] });
    await p.evaluate(async () => {
      const tap = (globalThis as unknown as TapView).gwTap;
      const stream = await tap.rawStream();
      const frame = new Uint8Array(3002);
      frame[0] = 3000 >> 8;
      frame[1] = 3000 & 0xff;
      await stream.getWriter().write(frame);
    });
    await until(() => s.handler.disconnected.length === 1, 5000, 'the server to see the disconnect');
    expect(s.handler.disconnected[0]).toEqual({ token, transport: 'webtransport', status: ConnectionStatus.DROPPED });
    await until(() => s.server.connectionCount === 0, 5000, 'released');
    // The page saw its session end underneath.
    const events = await p.evaluate(async () => {
      const g = globalThis as unknown as TapView;
      for (let i = 0; i < 200 && g.heldEvents.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      return g.heldEvents;
    });
    expect(events).toEqual([['disconnected', ConnectionStatus.DROPPED, 'transport-closed']]);
    await p.close();
  });

  it('a block list set while connected drops the session\'s datagrams before parsing, counted', async () => {
    const s = await start(WT_SETUP);
    const p = await chromium.page();
    await p.evaluate(TAP);
    await connectHeld(p, { url: s.wtUrl, pem: s.publicKeyPem, transport: 'webtransport', hashes: [s.wtHash] });
    const before = s.server.stats;
    s.server.ctx.setBlockList(['127.0.0.1']);
    await p.evaluate(() => (globalThis as unknown as TapView).gwTap.writer.write(new TextEncoder().encode('not a gamewire datagram')));
    await until(() => s.server.stats.dropBlocked > before.dropBlocked, 5000, 'a blocked datagram counted');
    expect(s.server.stats.dropMalformed).toBe(before.dropMalformed);
    s.server.ctx.setBlockList([]);
    await p.close();
  });

  it('a session that carries no client by its join timeout is closed; one that carries a client stays', async () => {
    const s = await start({ ...WT_SETUP, joinTimeout: 1 });
    const p = await chromium.page();
    // A client on one session...
    const { token } = await connectHeld(p, { url: s.wtUrl, pem: s.publicKeyPem, transport: 'webtransport', hashes: [s.wtHash] });
    // ...and, beside it, a raw session that sends garbage every 100 ms (a silent one QUIC ends).
    const closedAfter = await p.evaluate(async ({ url, hash }) => {
      const value = new Uint8Array(hash.match(/../g)!.map((h) => parseInt(h, 16)));
      type Session = { ready: Promise<void>; closed: Promise<unknown>; datagrams: { writable: WritableStream<Uint8Array> } };
      const WT = (globalThis as unknown as { WebTransport: new (u: string, o: unknown) => Session }).WebTransport;
      const wt = new WT(url, { serverCertificateHashes: [{ algorithm: 'sha-256', value }] });
      await wt.ready;
      const opened = performance.now();
      const writer = wt.datagrams.writable.getWriter();
      const garbage = setInterval(() => void writer.write(new Uint8Array(40).fill(0xff)).catch(() => undefined), 100);
      await wt.closed.catch(() => undefined);
      clearInterval(garbage);
      return performance.now() - opened;
    }, { url: s.wtUrl, hash: s.wtHash });
    // Closed by the server at its join timeout (swept once a second), long before QUIC's idle timeout.
    expect(closedAfter).toBeGreaterThanOrEqual(1000);
    expect(closedAfter).toBeLessThan(10_000);
    expect(s.server.stats.dropMalformed).toBeGreaterThan(0);
    // The client's session, as old, is still up.
    expect(s.server.clients().map((c) => c.token)).toEqual([token]);
    expect(s.handler.disconnected).toEqual([]);
    await p.close();
  });

  it('at most 16 sessions per source address; the 17th is refused', async () => {
    const s = await start(WT_SETUP);
    const r = await page.evaluate(async ({ url, hash }) => {
      const value = new Uint8Array(hash.match(/../g)!.map((h) => parseInt(h, 16)));
      type Session = { ready: Promise<void>; closed: Promise<unknown>; close(): void };
      const WT = (globalThis as unknown as { WebTransport: new (u: string, o: unknown) => Session }).WebTransport;
      const open = (): Promise<Session | null> => {
        const wt = new WT(url, { serverCertificateHashes: [{ algorithm: 'sha-256', value }] });
        wt.closed.catch(() => undefined);
        return wt.ready.then(() => wt, () => null);
      };
      const sessions: (Session | null)[] = [];
      for (let i = 0; i < 16; i++) sessions.push(await open());
      const extra = await open();
      const opened = sessions.filter((x) => x !== null).length;
      for (const x of sessions) x?.close();
      extra?.close();
      return { opened, extra: extra !== null };
    }, { url: s.wtUrl, hash: s.wtHash });
    expect(r).toEqual({ opened: 16, extra: false });
  });
});
