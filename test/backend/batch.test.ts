/**
 * Batched sends (ts/backend/batch.ts) over the real engines: messages cross in batches, arrive
 * complete and in order, are copied when queued, refusals come back with their callback ids, and
 * every other call sees the sends made before it.
 */
import { describe, expect, it } from 'vitest';
import { SendBatcher, type Backend, type Engine } from '../../ts/backend/index.js';
import { CODE, EV, LAYOUT } from '../../ts/backend/abi.generated.js';
import { dangerEstablish, loadTestingBackend } from '../../bench/lib/testing-backend.js';
import { BACKENDS } from '../helpers/backends.js';

const KEY = new Uint8Array(16).fill(0x5a);
const PEER = 3;

/** A server and a client engine sharing an established session (no handshake), no pacing. */
function pair(backend: Backend): { server: Engine; client: Engine } {
  const cfg = backend.defaultConfig();
  cfg[backend.layout.config.indexOf('sendInterval')] = 0;
  const server = backend.createServer(cfg, null, new Uint8Array(32).fill(1));
  const client = backend.createClient(cfg, new Uint8Array(32).fill(2));
  expect(dangerEstablish(server, 0, PEER, KEY, 77)).toBe(true);
  expect(dangerEstablish(client, 0, PEER, KEY, 77)).toBe(true);
  return { server, client };
}

/** Moves every due datagram from `from` to `to` and returns the messages `to` delivered. */
function deliver(from: Engine, to: Engine, now: number): Uint8Array[] {
  const got: Uint8Array[] = [];
  for (;;) {
    const n = from.transmit(now);
    if (n === 0) break;
    const out = from.outView();
    const meta = from.outMetaView();
    for (let i = 0; i < n; i += to.inCapacity) {
      const k = Math.min(to.inCapacity, n - i);
      const inBuf = to.inView();
      const inMeta = to.inMetaView();
      let at = 0;
      for (let j = 0; j < k; j++) {
        const off = meta[(i + j) * 3 + 1];
        const len = meta[(i + j) * 3 + 2];
        inBuf.set(out.subarray(off, off + len), at);
        inMeta.set([PEER, at, len, 0], j * LAYOUT.inMetaFields);
        at += len;
      }
      expect(to.handle(now, k)).toBe(k);
    }
  }
  for (;;) {
    const bytes = to.events();
    if (bytes === 0) break;
    const ev = to.eventView();
    const dv = new DataView(ev.buffer, ev.byteOffset, bytes);
    for (let p = 0; p < bytes; ) {
      const kind = dv.getUint32(p, true);
      const len = dv.getUint32(p + 12, true);
      // A copy (on the native backend the view is a Buffer, whose slice() would alias it).
      if (kind === EV.MESSAGE) got.push(Uint8Array.prototype.slice.call(ev, p + 16, p + 16 + len));
      p += 16 + ((len + 3) & ~3);
    }
  }
  return got;
}

describe.each(BACKENDS)('batched sends (%s)', (name) => {
  // The testing build: it keys connections without a handshake (dangerEstablish).
  const backend = loadTestingBackend(name);

  it('delivers many messages of mixed sizes complete and in order, in several batches', () => {
    const { server, client } = pair(backend);
    const refused: number[][] = [];
    const b = new SendBatcher(server, (...r) => refused.push(r));
    const sent: Uint8Array[] = [];
    const scratch = new Uint8Array(40_000);
    let now = 1;
    const received: Uint8Array[] = [];
    for (let i = 0; i < 1500; i++) {
      // Mostly small, some a packet long, a few larger than a batch's share (sent on their own).
      const len = i % 97 === 0 ? 20_000 + i : i % 7 === 0 ? 1100 : 1 + (i % 60);
      for (let j = 0; j < len; j++) scratch[j] = (i * 31 + j) & 0xff;
      const msg = scratch.subarray(0, len);
      sent.push(msg.slice());
      expect(b.send(now, PEER, msg, 1, 0)).toBe(0);
      scratch.fill(0xee, 0, len); // the caller reuses its buffer: the queued copy must not change
      if (i % 300 === 299) received.push(...deliver(b, client, (now += 1)));
    }
    received.push(...deliver(b, client, (now += 1)));
    expect(refused).toEqual([]);
    expect(b.sent).toBe(1500);
    expect(b.batches).toBeGreaterThan(4);
    expect(received.length).toBe(sent.length);
    for (let i = 0; i < sent.length; i++) expect(Buffer.compare(received[i], sent[i]), `message ${i}`).toBe(0);
  });

  it('reports a message the engine refuses at flush time, with its peer, code and callback id', () => {
    const { server } = pair(backend);
    const refused: number[][] = [];
    const b = new SendBatcher(server, (...r) => refused.push(r));
    expect(b.send(1, 99, new Uint8Array([1]), 0, 7)).toBe(0); // nobody
    expect(b.send(1, PEER, new Uint8Array([2]), 5, 8)).toBe(0); // no such retry mode
    expect(b.send(1, PEER, new Uint8Array([3]), -1, 9)).toBe(0); // fine
    expect(refused).toEqual([]); // nothing crossed yet
    expect(b.pending).toBe(3);
    b.transmit(2);
    expect(b.pending).toBe(0);
    expect(refused).toEqual([
      [99, CODE.UNKNOWN_CONNECTION, 7],
      [PEER, CODE.BAD_RETRY_MODE, 8],
    ]);
  });

  it('flushes before any other call, so the engine sees operations in the order they were made', () => {
    const { server } = pair(backend);
    const b = new SendBatcher(server, () => undefined);
    const pending = backend.layout.stats.indexOf('messagesPending');
    expect(b.send(1, PEER, new Uint8Array(10), -1, 0)).toBe(0);
    expect(b.send(1, PEER, new Uint8Array(10), -1, 0)).toBe(0);
    // Straight to the engine, past the batcher: the two messages have not reached it yet.
    expect(server.connectionStats(PEER)![pending]).toBe(0);
    expect(b.connectionStats(PEER)![pending]).toBe(2);
    // A send then a disconnect: the message is queued before the connection closes.
    expect(b.send(1, PEER, new Uint8Array(10), -1, 0)).toBe(0);
    b.disconnect(1, PEER);
    expect(b.pending).toBe(0);
    expect(b.sent).toBe(3);
    expect(b.batches).toBe(2);
  });
});
