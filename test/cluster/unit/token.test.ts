/** Connect tokens (uid + expiry, HMAC-SHA256 with game_key) and the player envelope. */
import { describe, expect, it } from 'vitest';
import { createConnectToken, verifyConnectToken } from '../../../ts/cluster/index.js';
import { decodeClientMessage, decodeProxyMessage, EnvelopeWriter, InOrder, MAX_ENVELOPE_BYTES } from '../../../ts/cluster/player/envelope.js';

const KEY = 'secret';

describe('connect tokens', () => {
  it('round-trips uid and expiry', () => {
    const now = 1_700_000_000_000;
    const t = createConnectToken(KEY, 123456, 60, now);
    expect(t).toMatch(/^gw1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(verifyConnectToken(KEY, t, { now })).toEqual({ ok: true, claims: { uid: 123456, exp: 1_700_000_060 }, bare: false });
  });

  it('refuses an expired token', () => {
    const now = 1_700_000_000_000;
    const t = createConnectToken(KEY, 1, 60, now);
    expect(verifyConnectToken(KEY, t, { now: now + 60_000 })).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses a forged token: other key, edited payload, edited signature', () => {
    const t = createConnectToken(KEY, 1);
    expect(verifyConnectToken('other', t)).toEqual({ ok: false, reason: 'bad-signature' });
    const [p, payload, sig] = t.split('.') as [string, string, string];
    const forged = Buffer.from(JSON.stringify({ uid: 2, exp: 9_999_999_999 })).toString('base64url');
    expect(verifyConnectToken(KEY, `${p}.${forged}.${sig}`)).toEqual({ ok: false, reason: 'bad-signature' });
    const flipped = sig.slice(0, -2) + (sig.endsWith('AA') ? 'BB' : 'AA');
    expect(verifyConnectToken(KEY, `${p}.${payload}.${flipped}`)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifyConnectToken(KEY, `${p}.${payload}`)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses garbage', () => {
    for (const t of ['', 'x', 'gw1..', 'gw2.a.b', '123', 'a'.repeat(5000)]) expect(verifyConnectToken(KEY, t).ok).toBe(false);
  });

  it('accepts a bare uid only with the dev flag', () => {
    expect(verifyConnectToken(KEY, '123')).toEqual({ ok: false, reason: 'malformed' });
    const r = verifyConnectToken(KEY, '123', { allowBareUid: true });
    expect(r.ok && r.claims.uid === 123 && r.bare).toBe(true);
  });

  it('refuses bad uids at creation', () => {
    expect(() => createConnectToken(KEY, -1)).toThrow();
    expect(() => createConnectToken(KEY, 1.5)).toThrow();
  });
});

describe('player envelope', () => {
  it('numbers messages and decodes them', () => {
    const w = new EnvelopeWriter();
    const a = decodeClientMessage(w.encode({ t: 'login', token: 'x', pv: 3 }));
    const b = decodeClientMessage(w.encode({ t: 'ev', ns: 'n', sys: 's', ev: 'E', data: { a: 1 } }));
    expect(a).toEqual({ v: 1, n: 1, t: 'login', token: 'x', pv: 3 });
    expect(b).toMatchObject({ n: 2, t: 'ev', data: { a: 1 } });
    const k = decodeProxyMessage(new EnvelopeWriter().encode({ t: 'kick', reason: 'bye' }));
    expect(k).toEqual({ v: 1, n: 1, t: 'kick', reason: 'bye' });
  });

  it('drops malformed, wrong-version and oversized messages', () => {
    const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
    expect(decodeClientMessage(new Uint8Array([0xff, 0xfe]))).toBeNull();
    expect(decodeClientMessage(enc({ v: 2, n: 1, t: 'login', token: 'x' }))).toBeNull();
    expect(decodeClientMessage(enc({ v: 1, n: 1, t: 'ev', ns: 'n', sys: 's', ev: 'E', data: [1] }))).toBeNull();
    expect(decodeClientMessage(enc({ v: 1, n: 0, t: 'login', token: 'x' }))).toBeNull();
    expect(decodeClientMessage(enc({ v: 1, n: 1, t: 'what' }))).toBeNull();
    expect(() => new EnvelopeWriter().encode({ t: 'ev', ns: 'n', sys: 's', ev: 'E', data: { big: 'x'.repeat(MAX_ENVELOPE_BYTES) } })).toThrow(RangeError);
  });

  it('puts messages back in order and drops duplicates', () => {
    const r = new InOrder<{ n: number }>();
    expect(r.push({ n: 2 })).toEqual([]);
    expect(r.push({ n: 3 })).toEqual([]);
    expect(r.push({ n: 2 })).toEqual([]);
    expect(r.push({ n: 1 })).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(r.push({ n: 1 })).toEqual([]);
    expect(r.push({ n: 4 })).toEqual([{ n: 4 }]);
    expect(r.duplicates).toBe(2);
  });
});
