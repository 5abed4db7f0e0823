/**
 * The `plain` implementation: the batch interfaces of `bench/lib/impl.ts` mapped onto the
 * idiomatic per-datagram baseline in `bench/baseline/`. The adapter only loops and translates
 * (rows → `Message` objects and back); all protocol work happens in the baseline, the way a Node
 * application would call it for each datagram.
 */
import { createSecretKey, type KeyObject } from 'node:crypto';
import {
  framedLength,
  HEADER_SIZE,
  openInto,
  PlainConnection,
  readPacket,
  sealInto,
  TAG_SIZE,
  WireError,
  writePacket,
  type Message,
  type PacketHeader,
  type WireErrorCode,
} from '../baseline/index.js';
import {
  HEADER_FIELDS,
  IN_MSG_FIELDS,
  OUT_MSG_FIELDS,
  Status,
  type AeadSession,
  type CodecImpl,
  type CryptoImpl,
  type EndpointStats,
  type Endpoints,
  type Implementation,
  type OutMessages,
  type PipelineImpl,
  type Slots,
  type StatusCode,
} from '../lib/impl.js';

const STATUS: Record<WireErrorCode | 'ERR_DUPLICATE', StatusCode> = {
  ERR_HEADER_TOO_SHORT: Status.HEADER_TOO_SHORT,
  ERR_HEADER_UNKNOWN_TYPE: Status.UNKNOWN_TYPE,
  ERR_HEADER_BAD_MAGIC: Status.BAD_MAGIC,
  ERR_HEADER_WRONG_DIRECTION: Status.WRONG_DIRECTION,
  ERR_LENGTH: Status.LENGTH,
  ERR_AUTH: Status.AUTH,
  ERR_FRAMING: Status.FRAMING,
  ERR_TOO_LARGE: Status.FRAMING,
  ERR_DUPLICATE: Status.DUPLICATE,
};

/** The arena as a Buffer (a view, no copy; the harness already passes Buffers). */
function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/**
 * Message objects for the packets of one {@link OutMessages} table, with the row values their
 * data views were made from.
 */
interface CachedMessages {
  data: Uint8Array;
  packets: { list: Message[]; views: Uint32Array }[];
}

/**
 * A Node application already holds its outgoing messages as objects, so the adapter makes them
 * once per table and then only keeps them in sync with its rows (type, seq, and a new data view
 * when a row's data moved); plain is not charged for re-creating them on every call.
 */
const messageCache = new WeakMap<OutMessages, CachedMessages>();

/** The cache of `msgs` (look it up once per batch). */
function cacheOf(msgs: OutMessages): CachedMessages {
  let cache = messageCache.get(msgs);
  if (cache === undefined || cache.data !== msgs.data) {
    cache = { data: msgs.data, packets: [] };
    messageCache.set(msgs, cache);
  }
  return cache;
}

/** Packet `i`'s messages as the objects the baseline takes (data are views into `data`). */
function messagesOf(cache: CachedMessages, msgs: OutMessages, data: Buffer, i: number): Message[] {
  const { rows, first } = msgs;
  const n = first[i + 1] - first[i];
  const cached = cache.packets[i];
  if (cached === undefined || cached.list.length !== n) {
    const list: Message[] = [];
    const views = new Uint32Array(2 * n);
    for (let k = 0; k < n; k++) {
      const b = (first[i] + k) * OUT_MSG_FIELDS;
      views[2 * k] = rows[b + 1];
      views[2 * k + 1] = rows[b + 2];
      list.push({ type: rows[b], seq: rows[b + 3], data: data.subarray(rows[b + 1], rows[b + 1] + rows[b + 2]) });
    }
    cache.packets[i] = { list, views };
    return list;
  }
  const { list, views } = cached;
  for (let k = 0; k < n; k++) {
    const b = (first[i] + k) * OUT_MSG_FIELDS;
    const m = list[k];
    m.type = rows[b];
    m.seq = rows[b + 3];
    if (views[2 * k] !== rows[b + 1] || views[2 * k + 1] !== rows[b + 2]) {
      views[2 * k] = rows[b + 1];
      views[2 * k + 1] = rows[b + 2];
      m.data = data.subarray(rows[b + 1], rows[b + 1] + rows[b + 2]);
    }
  }
  return list;
}

function fieldsOf(headers: Uint32Array, i: number): { toServer: boolean; ctime: number; seq: number; ack: number; type: number; ackBits: number } {
  const b = i * HEADER_FIELDS;
  return { toServer: headers[b] === 1, ctime: headers[b + 1], seq: headers[b + 2], ack: headers[b + 3], type: headers[b + 4], ackBits: headers[b + 7] };
}

function writeHeaderRow(headers: Uint32Array, i: number, h: PacketHeader): void {
  const b = i * HEADER_FIELDS;
  headers[b] = h.toServer ? 1 : 0;
  headers[b + 1] = h.ctime;
  headers[b + 2] = h.seq;
  headers[b + 3] = h.ack;
  headers[b + 4] = h.type;
  headers[b + 5] = h.length;
  headers[b + 6] = h.count;
  headers[b + 7] = h.ackBits;
}

/** Appends message rows; returns the new row count, or -1 when `table` is full. */
function pushRows(table: Uint32Array, used: number, item: number, messages: readonly Message[], arena: Buffer): number {
  if ((used + messages.length) * IN_MSG_FIELDS > table.length) return -1;
  for (const m of messages) {
    const b = used * IN_MSG_FIELDS;
    table[b] = item;
    table[b + 1] = m.seq;
    table[b + 2] = m.type;
    table[b + 3] = m.data.byteOffset - arena.byteOffset;
    table[b + 4] = m.data.length;
    used++;
  }
  return used;
}

function checkRoom(needed: number, out: Slots, what: string): void {
  if (needed > out.capacity) throw new RangeError(`${what} needs ${needed} bytes, the slot has ${out.capacity}`);
}

const codec: CodecImpl = {
  encode(headers, msgs, count, out) {
    const data = asBuffer(msgs.data);
    const cache = cacheOf(msgs);
    const buf = asBuffer(out.buf);
    for (let i = 0; i < count; i++) {
      const messages = messagesOf(cache, msgs, data, i);
      checkRoom(HEADER_SIZE + framedLength(messages), out, 'packet');
      const h = writePacket(buf, out.offsets[i], fieldsOf(headers, i), messages);
      out.lengths[i] = HEADER_SIZE + h.length;
    }
  },

  decode(src, count, asServer, headers, status, msgs) {
    const buf = asBuffer(src.buf);
    let rows = 0;
    for (let i = 0; i < count; i++) {
      try {
        const p = readPacket(buf, src.offsets[i], src.lengths[i], asServer);
        const next = pushRows(msgs, rows, i, p.messages, buf);
        if (next < 0) {
          status[i] = Status.FRAMING;
          continue;
        }
        rows = next;
        writeHeaderRow(headers, i, p.header);
        status[i] = Status.OK;
      } catch (err) {
        if (!(err instanceof WireError)) throw err;
        status[i] = STATUS[err.code];
      }
    }
    return rows;
  },
};

class PlainAead implements AeadSession {
  private readonly key: KeyObject;

  constructor(key: Uint8Array) {
    this.key = createSecretKey(key);
  }

  seal(src: Slots, count: number, out: Slots): void {
    const s = asBuffer(src.buf);
    const d = asBuffer(out.buf);
    for (let i = 0; i < count; i++) {
      checkRoom(src.lengths[i] + TAG_SIZE, out, 'datagram');
      out.lengths[i] = sealInto(this.key, s, src.offsets[i], src.lengths[i] - HEADER_SIZE, d, out.offsets[i]);
    }
  }

  open(src: Slots, count: number, out: Slots, status: Uint8Array): number {
    const s = asBuffer(src.buf);
    const d = asBuffer(out.buf);
    let opened = 0;
    for (let i = 0; i < count; i++) {
      checkRoom(src.lengths[i], out, 'plaintext');
      try {
        out.lengths[i] = openInto(this.key, s, src.offsets[i], src.lengths[i], d, out.offsets[i]);
        status[i] = Status.OK;
        opened++;
      } catch (err) {
        if (!(err instanceof WireError)) throw err;
        out.lengths[i] = 0;
        status[i] = STATUS[err.code];
      }
    }
    return opened;
  }

  encodeSeal(headers: Uint32Array, msgs: OutMessages, count: number, out: Slots): void {
    const data = asBuffer(msgs.data);
    const cache = cacheOf(msgs);
    const d = asBuffer(out.buf);
    for (let i = 0; i < count; i++) {
      const messages = messagesOf(cache, msgs, data, i);
      const off = out.offsets[i];
      checkRoom(HEADER_SIZE + framedLength(messages) + TAG_SIZE, out, 'datagram');
      const h = writePacket(d, off, fieldsOf(headers, i), messages);
      out.lengths[i] = sealInto(this.key, d, off, h.length, d, off);
    }
  }
}

const crypto: CryptoImpl = {
  createSession: (key) => new PlainAead(key),
};

class PlainEndpoints implements Endpoints {
  readonly count: number;
  private readonly conns: PlainConnection[] = [];

  constructor(key: Uint8Array, isServer: boolean, count: number) {
    this.count = count;
    for (let i = 0; i < count; i++) this.conns.push(new PlainConnection({ key, isServer }));
  }

  send(conns: Uint32Array, n: number, msgs: OutMessages, nowMs: number, out: Slots): void {
    const data = asBuffer(msgs.data);
    const cache = cacheOf(msgs);
    const d = asBuffer(out.buf);
    const { rows, first } = msgs;
    for (let i = 0; i < n; i++) {
      const messages = messagesOf(cache, msgs, data, i);
      checkRoom(PlainConnection.datagramLength(messages), out, 'datagram');
      out.lengths[i] = this.conns[conns[i]].sendInto(messages, nowMs, d, out.offsets[i]);
      for (let k = 0; k < messages.length; k++) rows[(first[i] + k) * OUT_MSG_FIELDS + 3] = messages[k].seq;
    }
  }

  receive(conns: Uint32Array, n: number, src: Slots, nowMs: number, plain: Slots, status: Uint8Array, delivered: Uint32Array): number {
    const s = asBuffer(src.buf);
    const p = asBuffer(plain.buf);
    let rows = 0;
    for (let i = 0; i < n; i++) {
      checkRoom(src.lengths[i], plain, 'plaintext');
      const r = this.conns[conns[i]].receiveInto(s, src.offsets[i], src.lengths[i], nowMs, p, plain.offsets[i]);
      if (!r.ok) {
        status[i] = STATUS[r.code];
        plain.lengths[i] = 0;
        continue;
      }
      status[i] = Status.OK;
      plain.lengths[i] = HEADER_SIZE + r.header.length;
      const next = pushRows(delivered, rows, i, r.messages, p);
      if (next < 0) throw new RangeError(`the delivered table has room for ${delivered.length / IN_MSG_FIELDS} messages`);
      rows = next;
    }
    return rows;
  }

  stats(conn: number): EndpointStats {
    const c = this.conns[conn];
    return {
      ...c.stats,
      pending: c.pendingCount,
      ack: c.packetWindow.current,
      ackBits: c.packetWindow.bits32,
      latencyMs: c.latency * 1000,
    };
  }
}

const pipeline: PipelineImpl = {
  createEndpoints: ({ key, isServer, count }) => new PlainEndpoints(key, isServer, count),
};

/** The plain TypeScript implementation over node:crypto. */
export function plainImplementation(): Implementation {
  return {
    name: 'plain',
    description: `plain TypeScript over node:crypto (Node ${process.version}, OpenSSL ${process.versions.openssl}), bench/baseline/`,
    codec,
    crypto,
    pipeline,
  };
}
