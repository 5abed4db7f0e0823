/**
 * Interop over real loopback UDP with mpgameserver 0.2.4 from PyPI, unmodified: its client against
 * our UdpServer, our UdpClient against its server, in all three retry modes both ways, with
 * fragmented messages, pre-shared root keys in PEM, and clean disconnects.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConnectionStatus, PrivateKey, PublicKey, RetryMode, UdpClient } from '../../ts/index.js';
import { BACKENDS } from '../helpers/backends.js';
import { startServer, until } from '../helpers/net.js';
import { ConventionHandler, MODES, pattern, PyPeer } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'gamewire-interop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(BACKENDS)('mpgameserver 0.2.4 interop (%s)', (backend) => {
  it('its client talks to our UdpServer in all three retry modes, with fragments, and disconnects cleanly', async () => {
    const handler = new ConventionHandler();
    const s = await startServer(backend, handler);
    try {
      // Our key, in our PEM, loaded by mpgameserver's EllipticCurvePublicKey.fromPEM.
      const pub = join(dir, `ours-${backend}.pub.pem`);
      writeFileSync(pub, s.publicKey.toPem({ backend }));
      const count = 15;
      const py = PyPeer.start('mpgs_client.py', [
        '--host', '127.0.0.1', '--port', String(s.port), '--pub', pub, '--count', String(count),
        '--modes', 'NONE,BEST_EFFORT,RETRY_ON_TIMEOUT', '--large', '--no-data', '--quiet-sends', '--timeout', '40',
      ]);
      const code = await py.exited;
      const summary = py.of('summary')[0] as unknown as {
        ok: boolean;
        failure: unknown;
        totals: { sent: number; echoed: number; missing: number; duplicates: number; corrupt: number };
        close: { initiator: string; status: string };
      };
      expect(summary, py.stderr.join('')).toBeDefined();
      expect(summary.failure).toBeNull();
      expect(code).toBe(0);
      expect(summary.ok).toBe(true);
      expect(summary.totals).toMatchObject({ sent: 3 * (count + 1), echoed: 3 * (count + 1), missing: 0, duplicates: 0, corrupt: 0 });
      expect(summary.close).toMatchObject({ initiator: 'client', status: 'DISCONNECTED' });
      // Our side: one connect, one disconnect, every message delivered once (RETRY_ON_TIMEOUT
      // copies from Python were de-duplicated), every reply callback exactly once.
      await until(() => handler.disconnects.length === 1, 5000, 'disconnect event');
      expect(handler.connects).toHaveLength(1);
      expect(handler.disconnects).toEqual(handler.connects);
      expect(handler.errors).toBe(0);
      expect(handler.received).toHaveLength(3 * (count + 1));
      expect(new Set(handler.received).size).toBe(3 * (count + 1));
      await until(() => handler.callbacks.size === 3 * (count + 1), 5000, 'reply callbacks');
      for (const [id, outcomes] of handler.callbacks) {
        expect(outcomes, id).toHaveLength(1);
        if (id.startsWith('RETRY_ON_TIMEOUT')) expect(outcomes, id).toEqual([true]);
      }
      const st = s.server.stats;
      expect(st.handshakesCompleted).toBe(1);
      expect(st.dropMalformed + st.dropAuthFailed).toBe(0);
    } finally {
      await s.server.stop();
    }
  }, 60_000);

  it('our UdpClient talks to its server in all three retry modes, with fragments, and disconnects cleanly', async () => {
    // A key made by mpgameserver's own genkey, read by our PEM loader.
    const keyDir = join(dir, `py-${backend}`);
    const gen = PyPeer.start('keys.py', ['genkey', '--out', keyDir]);
    expect(await gen.exited).toBe(0);
    const pub = PublicKey.fromFile(join(keyDir, 'root.pub.pem'), { backend });
    expect(PrivateKey.fromFile(join(keyDir, 'root.pem'), { backend }).publicKey({ backend }).equals(pub)).toBe(true);

    const server = PyPeer.start('mpgs_server.py', ['--host', '127.0.0.1', '--port', '0', '--key', join(keyDir, 'root.pem'), '--no-data']);
    try {
      const listening = await server.wait((e) => e.event === 'listening');
      const client = new UdpClient({ backend, rootPublicKey: pub });
      const echoes = new Map<string, number>();
      const bad: string[] = [];
      const want = new Map<string, Buffer>();
      client.on('message', (_seq, msg) => {
        const b = Buffer.from(msg);
        const [, mode, id] = b.subarray(0, 64).toString('latin1').split(':');
        const key = `${mode}:${id}`;
        echoes.set(key, (echoes.get(key) ?? 0) + 1);
        if (!want.get(key)?.equals(b)) bad.push(key);
      });
      await client.connect('127.0.0.1', Number(listening.port));
      expect(client.status).toBe(ConnectionStatus.CONNECTED);
      const connect = await server.wait((e) => e.event === 'connect');
      expect(connect.token).toBe(client.token);

      const callbacks = new Map<string, boolean[]>();
      const sizes = [24, 200, 800, 1432];
      let n = 0;
      for (const mode of Object.keys(MODES)) {
        const ids = [...Array(12).keys()].map(String).concat('L');
        for (const id of ids) {
          const size = id === 'L' ? 3000 : sizes[n++ % sizes.length];
          const prefix = `echo:${mode}:${id}:`;
          const body = pattern(`${mode}.${id}|`, size - prefix.length);
          want.set(`${mode}:${id}`, Buffer.concat([Buffer.from(`re:${mode}:${id}:`), body]));
          client.send(Buffer.concat([Buffer.from(prefix), body]), MODES[mode], (acked) => {
            const l = callbacks.get(`${mode}:${id}`) ?? [];
            l.push(acked);
            callbacks.set(`${mode}:${id}`, l);
          });
        }
      }
      // `big` replies: fragmented answers from mpgameserver, reassembled by us.
      want.set('RETRY_ON_TIMEOUT:B', Buffer.concat([Buffer.from('re:RETRY_ON_TIMEOUT:B:'), pattern('RETRY_ON_TIMEOUT.B|', 5000 - 're:RETRY_ON_TIMEOUT:B:'.length)]));
      client.send(Buffer.from('big:RETRY_ON_TIMEOUT:B:5000'), RetryMode.RETRY_ON_TIMEOUT);
      await until(() => echoes.size === 40 && callbacks.size === 39, 30_000, 'all echoes and callbacks');
      expect(bad).toEqual([]);
      expect([...echoes.values()].every((v) => v === 1)).toBe(true);
      for (const [id, outcomes] of callbacks) {
        expect(outcomes, id).toHaveLength(1); // exactly once, although Python acks per copy
        if (id.startsWith('RETRY')) expect(outcomes, id).toEqual([true]);
      }
      const st = client.stats;
      expect(st.messagesReassembled).toBeGreaterThanOrEqual(4);
      expect(st.dropAuthFailed + st.dropMalformed).toBe(0);

      await client.disconnect();
      expect(client.status).toBe(ConnectionStatus.DISCONNECTED);
      const gone = await server.wait((e) => e.event === 'disconnect');
      expect(gone.reason).toBe('client');
      expect(gone.token).toBe(client.token);
    } finally {
      server.proc.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    }
  }, 60_000);
});
