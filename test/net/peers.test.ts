/** Peer ids of the node:dgram path: generations, oldest-first reuse, UDP and WebSocket peers apart. */
import { describe, expect, it } from 'vitest';
import { PeerTable, sourceOf } from '../../ts/net/peers.js';

describe('PeerTable', () => {
  it('an id released while the application may still hold it never names the next peer', () => {
    const t = new PeerTable();
    const a = t.idOf('10.0.0.1', 5000, 'IPv4');
    const b = t.idOf('10.0.0.2', 5000, 'IPv4');
    t.release(a);
    t.release(b);
    // Freed slots come back oldest first, each with a new generation: a's slot, but not a's id.
    const c = t.idOf('10.0.0.3', 5000, 'IPv4');
    expect(c % 2 ** 20).toBe(a % 2 ** 20);
    expect(c).not.toBe(a);
    expect(t.get(a)).toBeUndefined();
    expect(t.get(c)?.host).toBe('10.0.0.3');
    const d = t.idOf('10.0.0.4', 5000, 'IPv4');
    expect(d % 2 ** 20).toBe(b % 2 ** 20);
    expect(t.size).toBe(2);
  });

  it('keeps UDP addresses and WebSocket connections apart, and forgets both on release', () => {
    const t = new PeerTable();
    const udp = t.idOf('127.0.0.1', 7, 'IPv4');
    const ws = t.idOfExternal(7, '127.0.0.1', 7);
    expect(ws).not.toBe(udp);
    expect(t.idOf('127.0.0.1', 7, 'IPv4')).toBe(udp);
    expect(t.idOfExternal(7, '127.0.0.1', 7)).toBe(ws);
    expect(t.get(ws)?.external).toBe(7);
    t.release(ws);
    expect(t.idOfExternal(7, '127.0.0.1', 7)).not.toBe(ws);
    expect(t.get(udp)?.external).toBeUndefined();
  });

  it('sources: an IPv4-mapped address is its IPv4 address; distinct addresses differ', () => {
    expect(sourceOf('::ffff:10.1.2.3')).toBe(sourceOf('10.1.2.3'));
    expect(sourceOf('10.1.2.3')).not.toBe(sourceOf('10.1.2.4'));
  });
});
