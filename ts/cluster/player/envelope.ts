/**
 * The player protocol: what a client and its proxy say to each other over a gateway.
 *
 * One message = one JSON object, UTF-8, at most `MAX_ENVELOPE_BYTES`:
 *
 *     { "v": 1, "n": <sequence number>, "t": "<type>", ...fields }
 *
 * `v` is the protocol version (a peer refuses another). `n` counts each direction's messages from
 * 1; the receiver delivers them in `n` order and drops duplicates, so the transport may reorder or
 * repeat (the UDP layer's RETRY_ON_TIMEOUT can).
 *
 * client → proxy
 * - `login`  `{ token: string, pv: number | null }`: the connect token (token.ts) and the client's
 *   protocol version (null: any). First message; nothing else is accepted before the answer.
 * - `ev`     `{ ns, sys, ev, data }`: an event for the lobby/game the player is on (notifyToServer).
 * - `sev`    `{ to: serviceId, ns, sys, ev, data }`: an event for a service (notifyToServiceNode).
 *
 * proxy → client
 * - `login_ok`   `{ uid, playerId, serverId, serverType }`
 * - `login_fail` `{ reason, text? }` (the proxy closes the connection after it); `text` is what the
 *   player should read, when there is one (a ban: its text)
 * - `ev`         `{ ns, sys, ev, data }`: an event from a lobby/game (notifyToClient) or a
 *   service (remoteNotifyToClient)
 * - `transfer`   `{ fromServerId, serverId, serverType }`: the player now is on another server
 * - `kick`       `{ reason, text? }` (the proxy closes the connection after it)
 */
import type { EventData } from '../core/events.js';

export const PLAYER_PROTOCOL_VERSION = 1;
/** The largest envelope either side sends or accepts. */
export const MAX_ENVELOPE_BYTES = 64 * 1024;
/** Out-of-order messages a receiver holds before it gives up on the connection. */
export const MAX_REORDER = 256;

export type ClientToProxy =
  | { t: 'login'; token: string; pv: number | null }
  | { t: 'ev'; ns: string; sys: string; ev: string; data: EventData }
  | { t: 'sev'; to: number; ns: string; sys: string; ev: string; data: EventData };

export type ProxyToClient =
  | { t: 'login_ok'; uid: number; playerId: string; serverId: number; serverType: string }
  | { t: 'login_fail'; reason: string; text?: string }
  | { t: 'ev'; ns: string; sys: string; ev: string; data: EventData }
  | { t: 'transfer'; fromServerId: number | null; serverId: number; serverType: string }
  | { t: 'kick'; reason: string; text?: string };

type Envelope<M> = M & { v: number; n: number };

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** Numbers outgoing messages of one direction of one connection. */
export class EnvelopeWriter {
  private n = 0;
  /** Encodes the next message. @throws RangeError when it would exceed MAX_ENVELOPE_BYTES. */
  encode(m: ClientToProxy | ProxyToClient): Uint8Array {
    const bytes = enc.encode(JSON.stringify({ v: PLAYER_PROTOCOL_VERSION, n: ++this.n, ...m }));
    if (bytes.length > MAX_ENVELOPE_BYTES) {
      this.n--;
      throw new RangeError(`player message of ${bytes.length} bytes exceeds ${MAX_ENVELOPE_BYTES}`);
    }
    return bytes;
  }
}

function parse(bytes: Uint8Array): Record<string, unknown> | null {
  if (bytes.length > MAX_ENVELOPE_BYTES) return null;
  try {
    const m: unknown = JSON.parse(dec.decode(bytes));
    return isObj(m) && m.v === PLAYER_PROTOCOL_VERSION && isInt(m.n) && m.n > 0 && isStr(m.t) ? m : null;
  } catch {
    return null;
  }
}

/** Decodes a client's message; null when malformed (count it and drop it). */
export function decodeClientMessage(bytes: Uint8Array): Envelope<ClientToProxy> | null {
  const m = parse(bytes);
  if (!m) return null;
  switch (m.t) {
    case 'login':
      return isStr(m.token) && (m.pv === null || m.pv === undefined || isInt(m.pv))
        ? { v: 1, n: m.n as number, t: 'login', token: m.token, pv: (m.pv as number | undefined) ?? null }
        : null;
    case 'ev':
      return isStr(m.ns) && isStr(m.sys) && isStr(m.ev) && isObj(m.data) ? (m as Envelope<ClientToProxy>) : null;
    case 'sev':
      return isInt(m.to) && isStr(m.ns) && isStr(m.sys) && isStr(m.ev) && isObj(m.data) ? (m as Envelope<ClientToProxy>) : null;
    default:
      return null;
  }
}

/** Decodes a proxy's message; null when malformed. */
export function decodeProxyMessage(bytes: Uint8Array): Envelope<ProxyToClient> | null {
  const m = parse(bytes);
  if (!m) return null;
  switch (m.t) {
    case 'login_ok':
      return isInt(m.uid) && isStr(m.playerId) && isInt(m.serverId) && isStr(m.serverType) ? (m as Envelope<ProxyToClient>) : null;
    case 'login_fail':
    case 'kick':
      return isStr(m.reason) && (m.text === undefined || isStr(m.text)) ? (m as Envelope<ProxyToClient>) : null;
    case 'ev':
      return isStr(m.ns) && isStr(m.sys) && isStr(m.ev) && isObj(m.data) ? (m as Envelope<ProxyToClient>) : null;
    case 'transfer':
      return isInt(m.serverId) && isStr(m.serverType) ? (m as Envelope<ProxyToClient>) : null;
    default:
      return null;
  }
}

/**
 * Puts one direction's messages back in order and drops duplicates.
 * `push` returns the messages now deliverable, in order, or 'overflow' when too many are waiting
 * for a gap to fill (the connection should be closed).
 */
export class InOrder<T extends { n: number }> {
  private expected = 1;
  private readonly held = new Map<number, T>();
  /** Duplicates dropped. */
  duplicates = 0;

  push(m: T): T[] | 'overflow' {
    if (m.n < this.expected || this.held.has(m.n)) {
      this.duplicates++;
      return [];
    }
    if (m.n !== this.expected) {
      if (this.held.size >= MAX_REORDER) return 'overflow';
      this.held.set(m.n, m);
      return [];
    }
    const out = [m];
    this.expected++;
    for (let next = this.held.get(this.expected); next; next = this.held.get(this.expected)) {
      this.held.delete(this.expected);
      out.push(next);
      this.expected++;
    }
    return out;
  }
}
