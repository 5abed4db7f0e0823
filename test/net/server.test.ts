/**
 * The game server API of seed 003 over real loopback UDP: events in order, timeouts, keep-alives,
 * block list, access log, IPv6, port 0, exceptions in user code, configuration errors, and a load
 * of 200 clients.
 */
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  ConnectionStatus,
  EventHandler,
  PrivateKey,
  RetryMode,
  ServerContext,
  TimeoutError,
  UdpClient,
  UdpServer,
  type ClientHandle,
} from '../../ts/index.js';
import { BACKENDS, hex, vector } from '../helpers/backends.js';
import { captureLogs } from '../helpers/logs.js';
import { EchoHandler, sleep, startServer, until } from '../helpers/net.js';
import { drive, driveThrough, driveUntil, ManualClock } from '../helpers/manual-clock.js';

const dir = mkdtempSync(join(tmpdir(), 'gamewire-server-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(BACKENDS)('UdpServer and UdpClient (%s)', (backend) => {
  it('200 clients exchange 100 guaranteed messages each, exactly once, and the counters agree', async () => {
    const h = new EchoHandler(RetryMode.RETRY_ON_TIMEOUT);
    const s = await startServer(backend, h);
    const clients: UdpClient[] = [];
    try {
      clients.push(...Array.from({ length: 200 }, () => s.client()));
      await Promise.all(clients.map((c) => c.connect('127.0.0.1', s.port)));
      await until(() => h.connected.size === 200, 10_000, '200 connects');
      const got = clients.map(() => new Map<string, number>());
      const acked = clients.map(() => 0);
      clients.forEach((c, i) => c.on('message', (_seq, msg) => {
        const k = Buffer.from(msg).toString();
        got[i].set(k, (got[i].get(k) ?? 0) + 1);
      }));
      clients.forEach((c, i) => {
        for (let m = 0; m < 100; m++) c.sendGuaranteed(Buffer.from(`c${i}:m${m}`), (ok) => ok && acked[i]++);
      });
      await until(() => got.every((g) => g.size === 100) && acked.every((a) => a === 100), 60_000, 'all echoes');
      for (let i = 0; i < 200; i++) {
        for (let m = 0; m < 100; m++) expect(got[i].get(`re:c${i}:m${m}`)).toBe(1);
      }
      // Every message reached the server once; the handler saw 20 000 messages.
      expect(h.messages).toHaveLength(20_000);
      // The last echoes' acks travel back with the clients' next keep-alives.
      await until(() => s.server.stats.messagesAcked === 20_000, 5000, 'server-side acks');
      const st = s.server.stats;
      const sent = clients.reduce((n, c) => n + c.stats.messagesSent, 0);
      const received = clients.reduce((n, c) => n + c.stats.messagesReceived, 0);
      expect(sent).toBe(20_000);
      expect(st.messagesReceived).toBe(sent);
      expect(received).toBe(st.messagesSent);
      expect(st.messagesAcked).toBe(20_000);
      expect(clients.reduce((n, c) => n + c.stats.messagesAcked, 0)).toBe(20_000);
      expect(st.handshakesCompleted).toBe(200);
      await Promise.all(clients.map((c) => c.disconnect()));
      await until(() => h.disconnected.length === 200, 10_000, '200 disconnects');
      expect(new Set(h.disconnected.map((c) => c.token)).size).toBe(200);
      expect(h.disconnected.every((c) => c.status === ConnectionStatus.DISCONNECTED)).toBe(true);
      await until(() => s.server.connectionCount === 0, 5000, 'linger over');
    } finally {
      await Promise.all(clients.map((c) => c.disconnect()));
      await s.server.stop();
    }
  }, 120_000);

  it('events come in order: starting, connect, messages, update every tick, disconnect once, shutdown last', async () => {
    const order: string[] = [];
    let updates = 0;
    let lastDt = 0;
    class Ordered extends EventHandler {
      override starting() { order.push('starting'); }
      override connect(c: ClientHandle) { order.push(`connect ${c.status}`); }
      override handleMessage(_c: ClientHandle, _s: number, m: Uint8Array) { order.push(`msg ${Buffer.from(m)}`); }
      override update(dt: number) { updates++; lastDt = dt; }
      override disconnect(c: ClientHandle) { order.push(`disconnect ${c.status}`); }
      override async shutdown() { await sleep(5); order.push('shutdown'); }
    }
    // Time is the test's: the ticks are counted exactly.
    const clock = new ManualClock();
    const s = await startServer(backend, new Ordered(), (ctx) => ctx.setInterval(0.02), { io: 'dgram', clock });
    const c = s.client({ clock });
    await driveThrough(clock, c.connect('127.0.0.1', s.port), 2000, 'connect');
    c.send(Buffer.from('a'), RetryMode.RETRY_ON_TIMEOUT);
    c.send(Buffer.from('b'), RetryMode.RETRY_ON_TIMEOUT);
    await driveUntil(clock, () => order.length >= 4, 2000, 'two messages');
    const u0 = updates;
    await drive(clock, 400);
    expect(updates - u0).toBe(20);
    expect(lastDt).toBeCloseTo(0.02, 6);
    await driveThrough(clock, c.disconnect(), 2000, 'disconnect');
    await driveThrough(clock, s.server.stop(), 5000, 'stop');
    await s.running;
    expect(order).toEqual(['starting', `connect ${ConnectionStatus.CONNECTED}`, 'msg a', 'msg b', `disconnect ${ConnectionStatus.DISCONNECTED}`, 'shutdown']);
  });

  it('drops a silent client after the connection timeout (disconnect once, DROPPED); keep-alives hold an idle one', async () => {
    const h = new EchoHandler();
    const clock = new ManualClock();
    const s = await startServer(backend, h, (ctx) => ctx.setConnectionTimeout(1), { io: 'dgram', clock });
    try {
      const silent = s.client({ clock });
      const idle = s.client({ clock });
      await driveThrough(clock, Promise.all([silent.connect('127.0.0.1', s.port), idle.connect('127.0.0.1', s.port)]), 2000, 'connect');
      // Silence one client: its socket stops sending and receiving, the server hears nothing.
      (silent as unknown as { socket: { close(): void } }).socket.close();
      const silencedAt = clock.now();
      await drive(clock, 700);
      expect(h.disconnected).toHaveLength(0);
      await driveUntil(clock, () => h.disconnected.length === 1, 1000, 'drop');
      // Dropped one connection timeout after the last thing it heard (within a keep-alive).
      expect(clock.now() - silencedAt).toBeGreaterThanOrEqual(750);
      expect(clock.now() - silencedAt).toBeLessThanOrEqual(1020);
      expect(h.disconnected[0].token).toBe(silent.token);
      expect(h.disconnected[0].status).toBe(ConnectionStatus.DROPPED);
      // The idle client sends nothing of its own, yet stays connected at 3× the timeout.
      await drive(clock, 3000);
      expect(h.disconnected).toHaveLength(1);
      expect(idle.status).toBe(ConnectionStatus.CONNECTED);
      expect(s.server.clients().map((c) => c.token)).toEqual([idle.token]);
      expect(s.server.stats.connectionsTimedOut).toBe(1);
      await driveThrough(clock, idle.disconnect(), 2000, 'disconnect');
    } finally {
      await driveThrough(clock, s.server.stop(), 5000, 'stop');
    }
  });

  it('forgets a handshake that never finishes after the temp-connection timeout', async () => {
    const h = new EchoHandler();
    // mpgameserver's own CLIENT_HELLO, from a socket that never answers the SERVER_HELLO.
    const clock = new ManualClock();
    const s = await startServer(backend, h, (ctx) => ctx.setTempConnectionTimeout(0.5), { io: 'dgram', clock });
    const raw = createSocket('udp4');
    try {
      const hello = hex(vector<{ client_hello: { datagram: string } }>('handshake.json').client_hello.datagram);
      await new Promise<void>((r) => raw.send(hello, s.port, '127.0.0.1', () => r()));
      await until(() => s.server.connectionCount === 1, 2000, 'half-open');
      // Clock time stood still until now: the half-open connection is forgotten 0.5 s later.
      await drive(clock, 490);
      expect(s.server.connectionCount).toBe(1);
      await drive(clock, 20);
      expect(s.server.connectionCount).toBe(0);
      expect(h.connected.size).toBe(0);
      expect(s.server.stats.handshakesFailed).toBe(1);
    } finally {
      raw.close();
      await s.server.stop();
    }
  });

  it('block list: a blocked address is dropped before parsing, counted, and never connects', async () => {
    const h = new EchoHandler();
    const s = await startServer(backend, h, (ctx) => ctx.setBlockList(new Set(['127.0.0.1'])));
    try {
      const c = s.client({ net: { connectTimeout: 0.6, handshakeRetransmit: 0.2 } });
      await expect(c.connect('127.0.0.1', s.port)).rejects.toBeInstanceOf(TimeoutError);
      const st = s.server.stats;
      expect(st.dropBlocked).toBeGreaterThanOrEqual(2);
      expect(st.handshakesStarted).toBe(0);
      expect(h.connected.size).toBe(0);
      // Unblocked at run time: the next attempt connects.
      s.ctx.setBlockList([]);
      const c2 = s.client();
      await c2.connect('127.0.0.1', s.port);
      expect(c2.status).toBe(ConnectionStatus.CONNECTED);
      await c2.disconnect();
    } finally {
      await s.server.stop();
    }
  });

  it('access log: one line per new connection (time, address, token); null turns it off', async () => {
    const path = join(dir, `access-${backend}.log`);
    const h = new EchoHandler();
    const s = await startServer(backend, h, (ctx) => ctx.enableAccessLogs(path));
    try {
      const a = s.client();
      const b = s.client();
      await a.connect('127.0.0.1', s.port);
      await b.connect('127.0.0.1', s.port);
      await until(() => h.connected.size === 2);
      s.ctx.enableAccessLogs(null);
      const c = s.client();
      await c.connect('127.0.0.1', s.port);
      await until(() => h.connected.size === 3);
      await sleep(50);
      const lines = readFileSync(path, 'utf8').trim().split('\n');
      expect(lines).toHaveLength(2);
      for (const [line, client] of [[lines[0], a], [lines[1], b]] as const) {
        const [time, host, port, token] = line.split(' ');
        expect(Number.isNaN(Date.parse(time))).toBe(false);
        expect(host).toBe('127.0.0.1');
        expect(Number(port)).toBe(client.localAddress?.port);
        expect(Number(token)).toBe(client.token);
      }
      await Promise.all([a.disconnect(), b.disconnect(), c.disconnect()]);
    } finally {
      await s.server.stop();
    }
  });

  it('IPv6 and port 0', async () => {
    const key = PrivateKey.generate({ backend });
    const h = new EchoHandler();
    const server = new UdpServer(new ServerContext(h, key, { backend }), { host: '::1', port: 0 }, { installSignals: false, backend });
    const addr = await server.listen();
    expect(addr.family).toBe('IPv6');
    expect(addr.port).toBeGreaterThan(0);
    void server.run();
    try {
      const c = new UdpClient({ backend, rootPublicKey: key.publicKey({ backend }) });
      const echoed = new Promise<string>((r) => c.on('message', (_s, m) => r(Buffer.from(m).toString())));
      await c.connect('::1', addr.port);
      c.send(Buffer.from('over v6'));
      expect(await echoed).toBe('re:over v6');
      expect(h.connected.values().next().value?.addr.host).toBe('::1');
      await c.disconnect();
    } finally {
      await server.stop();
    }
  });

  it('an exception in any handler method is logged with context and the server goes on', async () => {
    const { logger, records } = captureLogs();
    let msgs = 0;
    class Thrower extends EventHandler {
      override starting() { throw new Error('boom:starting'); }
      override connect() { throw new Error('boom:connect'); }
      override handleMessage(c: ClientHandle, _s: number, m: Uint8Array) {
        msgs++;
        if (Buffer.from(m).toString() === 'throw') throw new Error('boom:handleMessage');
        c.send(m, RetryMode.RETRY_ON_TIMEOUT);
      }
      override update() { throw new Error('boom:update'); }
      override disconnect() { throw new Error('boom:disconnect'); }
      override async shutdown() { throw new Error('boom:shutdown'); }
    }
    const key = PrivateKey.generate({ backend });
    const server = new UdpServer(new ServerContext(new Thrower(), key, { backend }), { host: '127.0.0.1', port: 0 }, { installSignals: false, backend, logger });
    const running = server.run();
    await until(() => records.some((r) => String(r.msg).includes('starting')));
    const c = new UdpClient({ backend, rootPublicKey: key.publicKey({ backend }) });
    const back: string[] = [];
    c.on('message', (_s, m) => back.push(Buffer.from(m).toString()));
    await c.connect('127.0.0.1', server.address.port);
    c.send(Buffer.from('throw'));
    c.send(Buffer.from('after'));
    await until(() => back.includes('after'), 5000, 'server goes on after handleMessage threw');
    expect(msgs).toBe(2);
    await c.disconnect();
    await server.stop();
    await running;
    const byMethod = new Map(records.filter((r) => r.method).map((r) => [r.method, r]));
    for (const m of ['starting', 'connect', 'handleMessage', 'update', 'disconnect', 'shutdown']) {
      const r = byMethod.get(m);
      expect(r, m).toBeDefined();
      expect((r!.err as { message: string }).message).toBe(`boom:${m}`);
    }
    // Client context on the per-client events.
    for (const m of ['connect', 'handleMessage', 'disconnect']) expect(byMethod.get(m)!.client).toBe(c.token);
    expect(byMethod.get('handleMessage')!.seq).toBeTypeOf('number');
  });

  it('a send the engine refuses (queue full) gets callback(false), is counted and logged, and the rest go through', async () => {
    const { logger, records } = captureLogs();
    const results: boolean[] = [];
    class Burst extends EventHandler {
      override handleMessage(c: ClientHandle) {
        // 10 guaranteed sends in one handler: the batch reaches the engine after the handler,
        // which takes 4 (maxQueuedMessages) and refuses 6.
        for (let i = 0; i < 10; i++) c.send(Buffer.from(`burst ${i}`), RetryMode.RETRY_ON_TIMEOUT, (ok) => results.push(ok));
      }
    }
    const key = PrivateKey.generate({ backend });
    const ctx = new ServerContext(new Burst(), key, { backend, net: { maxQueuedMessages: 4 } });
    const server = new UdpServer(ctx, { host: '127.0.0.1', port: 0 }, { installSignals: false, backend, logger });
    const running = server.run();
    await until(() => (server as unknown as { state: string }).state === 'running', 5000, 'server running');
    const c = new UdpClient({ backend, rootPublicKey: key.publicKey({ backend }) });
    const got: string[] = [];
    c.on('message', (_s, m) => got.push(Buffer.from(m).toString()));
    try {
      await c.connect('127.0.0.1', server.address.port);
      c.send(Buffer.from('go'), RetryMode.RETRY_ON_TIMEOUT);
      await until(() => results.length === 10 && got.length === 4, 5000, 'ten results, four messages');
      expect(got).toEqual(['burst 0', 'burst 1', 'burst 2', 'burst 3']);
      expect(results.filter((r) => r === false)).toHaveLength(6);
      expect(server.metrics.messagesRefused).toBe(6);
      const dash = await server.enableDashboard({ host: '127.0.0.1', port: 0 });
      const prom = await (await fetch(`http://127.0.0.1:${dash.port}/metrics`)).text();
      expect(prom).toMatch(/^gamewire_messages_refused_total 6$/m);
      const warn = records.find((r) => String(r.msg).includes('refused'));
      expect(warn?.code).toBe('QUEUE_FULL');
      expect(warn?.token).toBe(c.token);
      // The server goes on: the next burst is accepted once the first four are acked.
      results.length = 0;
      c.send(Buffer.from('again'), RetryMode.RETRY_ON_TIMEOUT);
      await until(() => got.length === 8, 5000, 'a second burst');
      expect(got.slice(4)).toEqual(['burst 0', 'burst 1', 'burst 2', 'burst 3']);
    } finally {
      await c.disconnect();
      await server.stop();
      await running;
    }
  });

  it('a message larger than the 256 KiB event buffer arrives whole, and its echo too', async () => {
    const h = new EchoHandler(RetryMode.RETRY_ON_TIMEOUT);
    const fast = { sendInterval: 0 };
    const s = await startServer(backend, h, (ctx) => Object.assign(ctx.net, fast));
    const c = s.client({ net: fast });
    try {
      await c.connect('127.0.0.1', s.port);
      const big = Buffer.alloc(300 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 10)) & 0xff;
      const back: Buffer[] = [];
      c.on('message', (_seq, m) => back.push(Buffer.from(m)));
      c.sendGuaranteed(big);
      await until(() => back.length === 1, 20_000, 'the echo');
      expect(h.messages).toHaveLength(1);
      expect(h.messages[0].data.equals(big)).toBe(true);
      expect(back[0].equals(Buffer.concat([Buffer.from('re:'), big]))).toBe(true);
    } finally {
      await c.disconnect();
      await s.server.stop();
    }
  }, 30_000);

  it('refuses bad configuration with a message naming the field', () => {
    const ctx = new ServerContext(new EchoHandler(), PrivateKey.generate({ backend }), { backend });
    expect(() => ctx.setConnectionTimeout(-1)).toThrow(ConfigError);
    expect(() => ctx.setConnectionTimeout(-1)).toThrow(/connectionTimeout/);
    expect(() => ctx.setInterval(0)).toThrow(/interval/);
    expect(() => ctx.setKeepAliveInterval(Number.NaN)).toThrow(/keepAliveInterval/);
    expect(() => ctx.setMessageTimeout('1' as unknown as number)).toThrow(/messageTimeout/);
    expect(() => ctx.setTempConnectionTimeout(-0.5)).toThrow(/tempConnectionTimeout/);
    expect(() => ctx.setBlockList([1 as unknown as string])).toThrow(/blocklist/);
    expect(() => new UdpServer(ctx, { host: '127.0.0.1', port: 70000 })).toThrow(/addr.port/);
    const opts = (o: Record<string, unknown>) => () => new UdpServer(ctx, { host: '127.0.0.1', port: 0 }, o);
    expect(opts({ threads: 0 })).toThrow(/threads/);
    expect(opts({ notifyDelay: 2 })).toThrow(/notifyDelay/);
    expect(opts({ webtransport: { port: -1 } })).toThrow(/webtransport.port/);
    expect(opts({ webtransport: { port: 0, joinTimeout: 0 } })).toThrow(/webtransport.joinTimeout/);
    expect(opts({ websocket: { port: 1.5 } })).toThrow(/websocket.port/);
    expect(opts({ websocket: { maxPerAddress: 0 } })).toThrow(/websocket.maxPerAddress/);
    expect(opts({ websocket: { maxConnections: 'many' } })).toThrow(/websocket.maxConnections/);
    expect(opts({ websocket: { joinTimeout: -1 } })).toThrow(/websocket.joinTimeout/);
    expect(opts({ websocket: null })).toThrow(/websocket/);
    expect(() => new UdpClient({ backend })).toThrow(/rootPublicKey/);
    expect(() => new UdpClient({ backend, insecureAcceptAnyServerKey: true })).not.toThrow();
    // Defaults are mpgameserver's.
    expect([ctx.interval, ctx.connectionTimeout, ctx.keepAliveInterval, ctx.messageTimeout, ctx.tempConnectionTimeout]).toEqual([1 / 60, 5, 0.1, 1, 2]);
  });

  it('engine options given in net are the ones the engine gets; the setters change them later', () => {
    const key = PrivateKey.generate({ backend });
    const ctx = new ServerContext(new EchoHandler(), key, { backend, net: { keepAliveInterval: 0.5, connectionTimeout: 9, messageTimeout: 2, tempConnectionTimeout: 3 } });
    expect(ctx.netOptions()).toMatchObject({ keepAliveInterval: 0.5, connectionTimeout: 9, messageTimeout: 2, tempConnectionTimeout: 3 });
    ctx.setKeepAliveInterval(0.25);
    expect(ctx.netOptions().keepAliveInterval).toBe(0.25);
    expect(() => new ServerContext(new EchoHandler(), key, { backend, net: { keepAliveInterval: -1 } })).toThrow(/keepAliveInterval/);
  });

  it('client: disconnect() during connect() aborts it; a closed connection frees its socket', async () => {
    const h = new EchoHandler();
    const s = await startServer(backend, h);
    try {
      const c = s.client();
      const connecting = c.connect('127.0.0.1', s.port);
      await c.disconnect();
      await expect(connecting).rejects.toThrow(/disconnect|connect failed/);
      expect(c.status).toBe(ConnectionStatus.DISCONNECTED);
      expect(c.localAddress).toBeNull();
      // Closed by the server: the client is told and its socket is released by itself.
      const k = s.client();
      await k.connect('127.0.0.1', s.port);
      await until(() => h.connected.size === 1);
      h.connected.get(k.token)!.disconnect();
      await until(() => k.status === ConnectionStatus.DISCONNECTING, 3000, 'told');
      await until(() => k.localAddress === null, 3000, 'socket released');
      await k.connect('127.0.0.1', s.port);
      expect(k.status).toBe(ConnectionStatus.CONNECTED);
      await k.disconnect();
    } finally {
      await s.server.stop();
    }
  });

  it('client: connect timeout, latency and stats, reconnect with a new token after a drop', async () => {
    // Nothing listens on this port: the connect times out at the given timeout.
    const probe = createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, '127.0.0.1', () => r()));
    const deadPort = probe.address().port;
    probe.close();
    const lone = new UdpClient({ backend, rootPublicKey: PrivateKey.generate({ backend }).publicKey({ backend }) });
    const t0 = Date.now();
    await expect(lone.connect('127.0.0.1', deadPort, { timeout: 0.5 })).rejects.toThrow(/timed out/);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(lone.status).toBe(ConnectionStatus.DISCONNECTED);

    const h = new EchoHandler();
    const s = await startServer(backend, h, (ctx) => ctx.setConnectionTimeout(1));
    try {
      const c = s.client({ net: { connectionTimeout: 1 } });
      const statuses: ConnectionStatus[] = [];
      c.on('disconnected', (st) => statuses.push(st));
      await c.connect('127.0.0.1', s.port);
      const first = c.token;
      for (let i = 0; i < 20; i++) {
        c.send(Buffer.from(`x${i}`));
        await sleep(20);
      }
      await until(() => c.stats.messagesReceived === 20);
      expect(c.latency).toBeGreaterThan(0);
      expect(c.stats.packetsAcked).toBeGreaterThan(0);
      // The server stops hearing the client: it drops it after its timeout (sending nothing),
      // then the client, hearing nothing either, drops after its own; then it reconnects.
      s.ctx.setBlockList(['127.0.0.1']);
      await until(() => h.disconnected.length === 1, 4000, 'server side drop');
      await until(() => c.status === ConnectionStatus.DROPPED, 4000, 'client drop');
      expect(statuses).toEqual([ConnectionStatus.DROPPED]);
      s.ctx.setBlockList([]);
      await c.connect('127.0.0.1', s.port);
      expect(c.status).toBe(ConnectionStatus.CONNECTED);
      expect(c.token).not.toBe(first);
      await c.disconnect();
    } finally {
      await s.server.stop();
    }
  }, 20_000);
});
