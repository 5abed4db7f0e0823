/**
 * gamewire/browser in headless Chromium (Debian's `chromium`, through playwright-core): the page
 * loads dist/browser from a plain static server (no bundler); the client's own choices (transport
 * fallback, argument checks) against a `UdpServer`, and WebTransport against the Rust endpoint
 * alone (crates/webtransport's `wt_echo` example, which runs the gamewire protocol itself).
 * server.test.ts proves the client against `UdpServer` on every transport.
 *
 * Needs `node scripts/build.mjs browser` (run here when dist/browser is missing) and cargo.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateKey } from '../../ts/net/keys.js';
import { BACKENDS } from '../helpers/backends.js';
import { until } from '../helpers/net.js';
import { launchChromium, ROOT, type Chromium } from './helpers/chromium.js';
import { startProbeServer } from './helpers/probe-server.js';
import { exchange as pageExchange, expectExactlyOnce, type ExchangeArgs } from './helpers/exchange.js';

let chromium: Chromium;
let page: Page;
let problems: string[];

beforeAll(async () => {
  chromium = await launchChromium();
  problems = chromium.problems;
  page = await chromium.page();
}, 600_000);

afterAll(async () => {
  await chromium?.close();
});

const exchange = (args: ExchangeArgs) => pageExchange(page, args);

describe('BrowserClient transport choice', () => {
  it('auto falls back to the WebSocket when WebTransport does not open', async () => {
    const backend = BACKENDS[0];
    const server = await startProbeServer({ backend, io: backend === 'native' ? 'thread' : 'dgram', websocket: 'own' });
    try {
      // A UDP port nothing listens on: the QUIC handshake fails.
      const probe = createSocket('udp4');
      await new Promise<void>((r) => probe.bind(0, '127.0.0.1', () => r()));
      const closedPort = probe.address().port;
      await new Promise<void>((r) => probe.close(() => r()));
      const r = await exchange({
        url: { webtransport: `https://127.0.0.1:${closedPort}/gamewire`, websocket: server.wsUrl },
        pem: server.publicKeyPem,
        transport: 'auto',
        big: 10,
      });
      expect(r.transport).toBe('websocket');
      expectExactlyOnce(r);
      // Chromium logs the failed WebTransport attempt; that one is expected.
      const expected = problems.filter((p) => p.includes(`https://127.0.0.1:${closedPort}/gamewire`));
      expect(expected.length).toBeGreaterThan(0);
      problems.splice(0, problems.length, ...problems.filter((p) => !expected.includes(p)));
    } finally {
      await server.stop();
    }
  });

  it('refuses bad arguments in the page with a clear error', async () => {
    const errors = await page.evaluate(async () => {
      const gw = (globalThis as unknown as { gw: { BrowserClient: new (o: unknown) => { connect(u: unknown, o: unknown): Promise<void> } } }).gw;
      const out: string[] = [];
      const attempt = async (f: () => unknown) => {
        try {
          await f();
          out.push('no error');
        } catch (err) {
          out.push(`${(err as { code: string }).code} ${(err as Error).message}`);
        }
      };
      await attempt(() => new gw.BrowserClient({}));
      const c = new gw.BrowserClient({ insecureAcceptAnyKey: true });
      await attempt(() => c.connect('http://127.0.0.1:1/', {}));
      await attempt(() => c.connect('ws://127.0.0.1:1/', { transport: 'webtransport' }));
      await attempt(() => c.connect('https://127.0.0.1:1/', { serverCertificateHashes: ['abc'] }));
      return out;
    });
    expect(errors[0]).toMatch(/^ERR_CONFIG rootPublicKey: is required/);
    expect(errors[1]).toMatch(/^ERR_CONFIG url: must be https/);
    expect(errors[2]).toMatch(/^ERR_CONFIG url: transport "webtransport" needs an https/);
    expect(errors[3]).toMatch(/^ERR_INVALID_ARG serverCertificateHashes/);
  });
});

/** The Rust WebTransport echo server (`wt_echo`), built with cargo, its JSON lines readable. */
async function startWtEcho(args: string[]) {
  const proc: ChildProcessWithoutNullStreams = spawn(join(ROOT, 'target', 'debug', 'examples', 'wt_echo'), args, { cwd: ROOT });
  const lines: Record<string, unknown>[] = [];
  createInterface({ input: proc.stdout }).on('line', (l) => lines.push(JSON.parse(l) as Record<string, unknown>));
  proc.stderr.on('data', (d: Buffer) => problems.push(`wt_echo: ${d.toString()}`));
  await until(() => lines.length > 0, 10_000, 'wt_echo to start');
  const { port, certificateHash } = lines[0] as { port: number; certificateHash: string };
  return {
    url: `https://127.0.0.1:${port}/gamewire`,
    hash: certificateHash,
    lines,
    stop: () => new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.stdin.end();
    }),
  };
}

describe('BrowserClient over WebTransport (Rust endpoint)', () => {
  beforeAll(() => {
    const r = spawnSync('cargo', ['build', '-p', 'gamewire-webtransport', '--example', 'wt_echo'], { cwd: ROOT, stdio: 'inherit' });
    expect(r.status, 'cargo build --example wt_echo').toBe(0);
  }, 600_000);

  it('carries raw WebTransport datagrams between Chromium and the endpoint', async () => {
    const echo = await startWtEcho(['raw']);
    try {
      const r = await page.evaluate(async ({ url, hash }) => {
        const value = new Uint8Array(hash.match(/../g)!.map((h) => parseInt(h, 16)));
        // Typed here: this file is compiled without the DOM library.
        type Stream<T> = { getWriter(): { write(v: T): Promise<void> }; getReader(): { read(): Promise<{ value?: T }> } };
        type Session = { ready: Promise<void>; close(): void; datagrams: { writable: Stream<Uint8Array>; readable: Stream<Uint8Array>; maxDatagramSize: number } };
        const WT = (globalThis as unknown as { WebTransport: new (u: string, o: unknown) => Session }).WebTransport;
        const wt = new WT(url, { serverCertificateHashes: [{ algorithm: 'sha-256', value }] });
        await wt.ready;
        const w = wt.datagrams.writable.getWriter();
        const rd = wt.datagrams.readable.getReader();
        const t0 = performance.now();
        let echoed = 0;
        for (let i = 0; i < 100; i++) {
          await w.write(new Uint8Array([i, 1, 2, 3]));
          const { value: back } = await rd.read();
          if (back && back[0] === i && back.length === 4) echoed++;
        }
        const ms = performance.now() - t0;
        const maxDatagramSize = wt.datagrams.maxDatagramSize;
        wt.close();
        return { echoed, ms, maxDatagramSize };
      }, { url: echo.url, hash: echo.hash });
      expect(r.echoed).toBe(100);
      console.log(`WebTransport raw echo: 100 datagrams in ${r.ms.toFixed(0)} ms; Chromium maxDatagramSize ${r.maxDatagramSize}`);
      await until(() => echo.lines.some((l) => l.event === 'closed'), 5000, 'the session to close');
    } finally {
      await echo.stop();
    }
  });

  it('runs the gamewire protocol: handshake with the pinned key, all retry modes, fragments over the overflow stream, disconnect', async () => {
    const key = PrivateKey.generate({ backend: 'wasm' });
    const dir = mkdtempSync(join(tmpdir(), 'gamewire-wt-'));
    const keyFile = join(dir, 'root.pem');
    writeFileSync(keyFile, key.toPem({ backend: 'wasm' }));
    const echo = await startWtEcho(['gamewire', keyFile]);
    try {
      const r = await exchange({
        url: echo.url,
        pem: key.publicKey({ backend: 'wasm' }).toPem({ backend: 'wasm' }),
        transport: 'webtransport',
        hashes: [echo.hash],
        big: 4000,
      });
      expect(r.transport).toBe('webtransport');
      expectExactlyOnce(r);
      expect(new Map(r.replies).get(29)).toBeGreaterThan(4000);
      expect(r.events).toEqual([['connected'], ['disconnected', 4, 'local']]);
      const connected = echo.lines.find((l) => l.event === 'connected');
      expect(connected?.token).toBe(r.token);
      expect(echo.lines.filter((l) => l.event === 'message')).toHaveLength(30);
      await until(() => echo.lines.some((l) => l.event === 'disconnected'), 5000, 'the server to see the disconnect');
      expect(echo.lines.find((l) => l.event === 'disconnected')?.reason).toBe('Peer');
      const opened = echo.lines.find((l) => l.event === 'opened');
      console.log(`WebTransport session: server-side max datagram ${String(opened?.maxDatagram)} bytes`);
    } finally {
      await echo.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(problems).toEqual([]);
  });
});
