/**
 * Connect tokens: how a player proves its uid to a proxy.
 *
 * A token is `gw1.<payload>.<signature>`: `payload` is base64url of the JSON `{"uid":123,"exp":1700000000}`
 * (`exp` in Unix seconds), `signature` is base64url of HMAC-SHA256(game_key, "gw1." + payload).
 * Whoever holds `game_key` (a login/account service) issues tokens with `createConnectToken`; the
 * proxy checks them with `verifyConnectToken` (constant-time comparison of the signature) and
 * refuses forged, malformed and expired ones.
 *
 * Development only: with `dev_bare_uid_login: true` in the config (or the `devBareUidLogin`
 * option), a proxy also accepts a bare uid, the token `"123"`. Never enable it in production: any
 * client can then claim any uid.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const PREFIX = 'gw1';

/** A verified token. */
export interface ConnectTokenClaims {
  uid: number;
  /** Expiry, Unix seconds. */
  exp: number;
}

/** Why a token was refused. */
export type TokenRefusal = 'malformed' | 'bad-signature' | 'expired';

export type TokenCheck = { ok: true; claims: ConnectTokenClaims; bare: boolean } | { ok: false; reason: TokenRefusal };

function sign(gameKey: string, signed: string): Buffer {
  return createHmac('sha256', gameKey).update(signed).digest();
}

function isUid(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Issues a token for `uid`, valid `ttlSeconds` (default 300) from `now` (Unix ms, default now).
 */
export function createConnectToken(gameKey: string, uid: number, ttlSeconds = 300, now = Date.now()): string {
  if (!isUid(uid)) throw new TypeError(`uid must be a non-negative safe integer (got ${String(uid)})`);
  const exp = Math.floor(now / 1000) + Math.floor(ttlSeconds);
  const payload = Buffer.from(JSON.stringify({ uid, exp })).toString('base64url');
  const head = `${PREFIX}.${payload}`;
  return `${head}.${sign(gameKey, head).toString('base64url')}`;
}

/**
 * Checks a token. `allowBareUid` accepts `"123"` (development only, see the file comment).
 * @param now Unix ms
 */
export function verifyConnectToken(gameKey: string, token: string, opts: { allowBareUid?: boolean; now?: number } = {}): TokenCheck {
  if (typeof token !== 'string' || token.length > 1024) return { ok: false, reason: 'malformed' };
  const now = opts.now ?? Date.now();
  if (opts.allowBareUid && /^[0-9]{1,15}$/.test(token)) {
    return { ok: true, claims: { uid: Number(token), exp: Math.floor(now / 1000) + 1 }, bare: true };
  }
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) return { ok: false, reason: 'malformed' };
  const [, payload, sig] = parts as [string, string, string];
  const given = Buffer.from(sig, 'base64url');
  const want = sign(gameKey, `${PREFIX}.${payload}`);
  if (given.length !== want.length || !timingSafeEqual(given, want)) return { ok: false, reason: 'bad-signature' };
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (typeof claims !== 'object' || claims === null) return { ok: false, reason: 'malformed' };
  const { uid, exp } = claims as { uid?: unknown; exp?: unknown };
  if (!isUid(uid) || typeof exp !== 'number' || !Number.isFinite(exp)) return { ok: false, reason: 'malformed' };
  if (exp * 1000 <= now) return { ok: false, reason: 'expired' };
  return { ok: true, claims: { uid, exp }, bare: false };
}
