/**
 * Messages between nodes on the bus: one JSON object per bus message, UTF-8.
 *
 * Every message has `k` (kind), `id` (unique: the sender's incarnation and a counter; receivers
 * drop an id they have seen, so nothing is delivered twice) and `from` (the sender's server id).
 *
 * | k       | what                                     | fields                                   |
 * |---------|------------------------------------------|------------------------------------------|
 * | `ev`    | an event from a system                   | `ns`, `sys`, `ev`, `data`                |
 * | `req`   | an RPC request (module or service type)  | `cb`, `ev`, `data`, `mod` (null: by type), `ttl` (s) |
 * | `res`   | an RPC response (`responseToServer`)     | `cb`, `data`                             |
 * | `op`    | an engine operation (login, heartbeat...) | `op`, `cb` (null: no reply wanted), `body` |
 * | `opres` | an engine operation's reply              | `cb`, `body`                             |
 */
import type { EventData } from './events.js';

export interface EvMessage {
  k: 'ev';
  id: string;
  from: number;
  ns: string;
  sys: string;
  ev: string;
  data: EventData;
}
export interface ReqMessage {
  k: 'req';
  id: string;
  from: number;
  cb: number;
  ev: string;
  data: unknown;
  mod: string | null;
  ttl: number;
}
export interface ResMessage {
  k: 'res';
  id: string;
  from: number;
  cb: number;
  data: unknown;
}
export interface OpMessage {
  k: 'op';
  id: string;
  from: number;
  op: string;
  cb: number | null;
  body: unknown;
}
export interface OpResMessage {
  k: 'opres';
  id: string;
  from: number;
  cb: number;
  body: unknown;
}
export type WireMessage = EvMessage | ReqMessage | ResMessage | OpMessage | OpResMessage;

/** The master's answer to a proxy's `login` and `transfer` operations. */
export interface LoginAnswer {
  ok: boolean;
  serverId: number | null;
  serverType: string | null;
  reason: string | null;
  /** For a refusal the player should read (a ban): the text to show. */
  text?: string | null;
}

/** A WireMessage before the sender stamps `id` and `from`. */
export type Unstamped<M extends WireMessage> = M extends unknown ? Omit<M, 'id' | 'from'> : never;

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeWire(m: WireMessage): Uint8Array {
  return enc.encode(JSON.stringify(m));
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** Decodes and checks the shape; null for anything malformed (the caller counts and drops it). */
export function decodeWire(bytes: Uint8Array): WireMessage | null {
  let m: unknown;
  try {
    m = JSON.parse(dec.decode(bytes));
  } catch {
    return null;
  }
  if (!isObj(m) || !isStr(m.id) || !isInt(m.from)) return null;
  switch (m.k) {
    case 'ev':
      return isStr(m.ns) && isStr(m.sys) && isStr(m.ev) && isObj(m.data) ? (m as unknown as EvMessage) : null;
    case 'req':
      return isInt(m.cb) && isStr(m.ev) && (m.mod === null || isStr(m.mod)) && typeof m.ttl === 'number' ? (m as unknown as ReqMessage) : null;
    case 'res':
      return isInt(m.cb) ? (m as unknown as ResMessage) : null;
    case 'op':
      return isStr(m.op) && (m.cb === null || isInt(m.cb)) ? (m as unknown as OpMessage) : null;
    case 'opres':
      return isInt(m.cb) ? (m as unknown as OpResMessage) : null;
    default:
      return null;
  }
}

/**
 * Remembers recently seen message ids (a bounded window) so a message delivered twice runs once.
 */
export class SeenIds {
  private readonly set = new Set<string>();
  private readonly order: string[] = [];
  private head = 0;
  constructor(private readonly capacity = 16384) {}

  /** True the first time an id is seen. */
  firstTime(id: string): boolean {
    if (this.set.has(id)) return false;
    this.set.add(id);
    this.order.push(id);
    if (this.order.length - this.head > this.capacity) {
      this.set.delete(this.order[this.head]!);
      this.head++;
      if (this.head > this.capacity) {
        this.order.splice(0, this.head);
        this.head = 0;
      }
    }
    return true;
  }
}
