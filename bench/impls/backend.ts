/**
 * The `native` and `wasm` implementations: adapters from `bench/lib/impl.ts` onto the Rust core's
 * bindings, in their testing builds (the shipped ones, plus the entry points below; release
 * profile, same sources), loaded through `ts/backend` as users load theirs.
 *
 * - codec and crypto: the core's batch calls (`gamewire_abi::testing::batch`): one call per batch.
 *   The N-API binding reads and writes the caller's buffers in place; the WebAssembly binding
 *   copies the slices it is given in and out of the module's memory (wasm-bindgen's `&[u8]`),
 *   so the adapter passes only the part of each arena the batch uses.
 * - pipeline: the real engine (`Engine`, what UdpServer/UdpClient run), with connections that
 *   share the benchmark's key (`dangerEstablish`, no handshake) and pacing lifted, so that its
 *   datagrams can be compared byte for byte with plain's. Sends go through `SendBatcher`, as
 *   UdpServer's do: one call into the engine per batch of messages.
 *
 * Every part is checked against `plain` before it is timed (`npx vitest run test/bench` runs the
 * same checks without timing).
 */
import { SendBatcher, type Backend, type Engine } from '../../ts/backend/index.js';
import { LAYOUT } from '../../ts/backend/abi.generated.js';
import { dangerEstablish, loadTestingBackend } from '../lib/testing-backend.js';

const IN_META = LAYOUT.inMetaFields;
import {
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
  type UnavailableImplementation,
} from '../lib/impl.js';

interface Parts {
  codec?: CodecImpl;
  crypto?: CryptoImpl;
  pipeline?: PipelineImpl;
}

/** The batch exports of either binding (same names; the wasm ones copy their slices). */
interface BatchBinding {
  codecEncode(h: Uint32Array, data: Uint8Array, rows: Uint32Array, first: Uint32Array, count: number, out: Uint8Array, offsets: Uint32Array, lengths: Uint8Array | Uint32Array, capacity: number): void;
  codecDecode(src: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, asServer: boolean, headers: Uint8Array | Uint32Array, status: Uint8Array, msgs: Uint8Array | Uint32Array): number;
  AeadBatch: new (key: Uint8Array) => {
    seal(src: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, out: Uint8Array, outOffsets: Uint32Array, outLengths: Uint8Array | Uint32Array): void;
    open(src: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, out: Uint8Array, outOffsets: Uint32Array, outLengths: Uint8Array | Uint32Array, status: Uint8Array): number;
    encodeSeal(h: Uint32Array, data: Uint8Array, rows: Uint32Array, first: Uint32Array, count: number, out: Uint8Array, offsets: Uint32Array, lengths: Uint8Array | Uint32Array, capacity: number): void;
  };
}

/** N-API takes a Uint32Array output as its bytes; wasm-bindgen takes the Uint32Array itself. */
function words(name: string, a: Uint32Array): Uint8Array | Uint32Array {
  return name === 'native' ? new Uint8Array(a.buffer, a.byteOffset, a.byteLength) : a;
}

/** The part of an arena that slots `0..count-1` can touch (WASM copies what it is given). */
function usedEnd(s: Slots, count: number, room: (i: number) => number): number {
  let end = 0;
  for (let i = 0; i < count; i++) end = Math.max(end, s.offsets[i] + room(i));
  return Math.min(end, s.buf.length);
}

function codecOf(name: string, b: BatchBinding): CodecImpl {
  return {
    encode(headers, msgs, count, out) {
      const buf = name === 'wasm' ? out.buf.subarray(0, usedEnd(out, count, () => out.capacity)) : out.buf;
      b.codecEncode(headers, msgs.data, msgs.rows, msgs.first, count, buf, out.offsets, words(name, out.lengths), out.capacity);
    },
    decode(src, count, asServer, headers, status, msgs) {
      const buf = name === 'wasm' ? src.buf.subarray(0, usedEnd(src, count, (i) => src.lengths[i])) : src.buf;
      return b.codecDecode(buf, src.offsets, src.lengths, count, asServer, words(name, headers), status, words(name, msgs));
    },
  };
}

function cryptoOf(name: string, b: BatchBinding): CryptoImpl {
  return {
    createSession(key: Uint8Array): AeadSession {
      const s = new b.AeadBatch(key);
      return {
        seal(src, count, out) {
          const sb = name === 'wasm' ? src.buf.subarray(0, usedEnd(src, count, (i) => src.lengths[i])) : src.buf;
          const ob = name === 'wasm' ? out.buf.subarray(0, usedEnd(out, count, (i) => src.lengths[i] + 16)) : out.buf;
          s.seal(sb, src.offsets, src.lengths, count, ob, out.offsets, words(name, out.lengths));
        },
        open(src, count, out, status) {
          const sb = name === 'wasm' ? src.buf.subarray(0, usedEnd(src, count, (i) => src.lengths[i])) : src.buf;
          const ob = name === 'wasm' ? out.buf.subarray(0, usedEnd(out, count, (i) => src.lengths[i])) : out.buf;
          return s.open(sb, src.offsets, src.lengths, count, ob, out.offsets, words(name, out.lengths), status);
        },
        encodeSeal(headers: Uint32Array, msgs: OutMessages, count: number, out: Slots) {
          const ob = name === 'wasm' ? out.buf.subarray(0, usedEnd(out, count, () => out.capacity)) : out.buf;
          s.encodeSeal(headers, msgs.data, msgs.rows, msgs.first, count, ob, out.offsets, words(name, out.lengths), out.capacity);
        },
      };
    },
  };
}

/** Engine result codes → the suites' status codes. */
const ENGINE_STATUS: Record<number, StatusCode> = {
  0: Status.OK,
  1: Status.FRAMING,
  2: Status.AUTH,
  3: Status.DUPLICATE,
  6: Status.LENGTH,
};

const APP = 6;

class EngineEndpoints implements Endpoints {
  readonly count: number;
  private readonly engine: Engine;
  private readonly msgSeq: Uint16Array;
  private readonly slotOf: Int32Array;
  private readonly stats_: readonly string[];

  constructor(backend: Backend, key: Uint8Array, isServer: boolean, count: number) {
    this.count = count;
    const cfg = backend.defaultConfig();
    const names = backend.layout.config;
    cfg[names.indexOf('sendInterval')] = 0; // the suite, not pacing, decides when packets go
    cfg[names.indexOf('unixMillisAtZero')] = 0; // ctime = floor(now / 1000), as plain computes it
    this.engine = isServer ? backend.createServer(cfg, null, new Uint8Array(32).fill(1)) : backend.createClient(cfg, new Uint8Array(32).fill(2));
    for (let i = 0; i < count; i++) dangerEstablish(this.engine, 0, i, key, 0x4000_0000 + i);
    this.engine = new SendBatcher(this.engine, (peer, code) => {
      throw new Error(`engine refused a message on connection ${peer} (code ${code})`);
    });
    this.msgSeq = new Uint16Array(count);
    this.slotOf = new Int32Array(count).fill(-1);
    this.stats_ = backend.layout.stats;
  }

  send(conns: Uint32Array, n: number, msgs: OutMessages, nowMs: number, out: Slots): void {
    const e = this.engine;
    const { rows, first, data } = msgs;
    for (let i = 0; i < n; i++) {
      const c = conns[i];
      this.slotOf[c] = i;
      for (let r = first[i]; r < first[i + 1]; r++) {
        const b = r * OUT_MSG_FIELDS;
        if (e.send(nowMs, c, data.subarray(rows[b + 1], rows[b + 1] + rows[b + 2]), 0, 0) !== 0) {
          throw new Error(`engine refused a message on connection ${c}`);
        }
        const s = this.msgSeq[c] === 65535 ? 1 : this.msgSeq[c] + 1;
        this.msgSeq[c] = s;
        rows[b + 3] = s;
      }
    }
    let got = 0;
    while (got < n) {
      const k = e.transmit(nowMs);
      if (k === 0) break;
      const meta = e.outMetaView();
      const bytes = e.outView();
      for (let j = 0; j < k; j++) {
        const slot = this.slotOf[meta[j * 3]];
        const off = meta[j * 3 + 1];
        const len = meta[j * 3 + 2];
        out.buf.set(bytes.subarray(off, off + len), out.offsets[slot]);
        out.lengths[slot] = len;
        got++;
      }
    }
    if (got !== n) throw new Error(`engine produced ${got} datagrams for ${n} packets`);
  }

  receive(conns: Uint32Array, n: number, src: Slots, nowMs: number, plain: Slots, status: Uint8Array, delivered: Uint32Array): number {
    const e = this.engine;
    let done = 0;
    let rows = 0;
    while (done < n) {
      const batch = Math.min(n - done, e.inCapacity);
      const inBuf = e.inView();
      const meta = e.inMetaView();
      let at = 0;
      for (let j = 0; j < batch; j++) {
        const i = done + j;
        const len = src.lengths[i];
        inBuf.set(src.buf.subarray(src.offsets[i], src.offsets[i] + len), at);
        meta[j * IN_META] = conns[i];
        meta[j * IN_META + 1] = at;
        meta[j * IN_META + 2] = len;
        meta[j * IN_META + 3] = 0;
        this.slotOf[conns[i]] = i;
        plain.lengths[i] = 0;
        at += len;
      }
      e.handle(nowMs, batch);
      const st = e.inStatusView();
      for (let j = 0; j < batch; j++) status[done + j] = ENGINE_STATUS[st[j]] ?? Status.FRAMING;
      // Delivered messages come back as events: copy each into its datagram's plain slot.
      for (;;) {
        const bytes = e.events();
        if (bytes === 0) break;
        const ev = e.eventView();
        const dv = new DataView(ev.buffer, ev.byteOffset, bytes);
        let p = 0;
        while (p < bytes) {
          const kind = dv.getUint32(p, true);
          const peer = dv.getUint32(p + 4, true);
          const a = dv.getUint32(p + 8, true);
          const len = dv.getUint32(p + 12, true);
          if (kind === 2) {
            const i = this.slotOf[peer];
            const dst = plain.offsets[i] + plain.lengths[i];
            plain.buf.set(ev.subarray(p + 16, p + 16 + len), dst);
            plain.lengths[i] += len;
            const b = rows * IN_MSG_FIELDS;
            delivered[b] = i;
            delivered[b + 1] = a;
            delivered[b + 2] = APP;
            delivered[b + 3] = dst;
            delivered[b + 4] = len;
            rows++;
          }
          p += 16 + ((len + 3) & ~3);
        }
      }
      done += batch;
    }
    return rows;
  }

  stats(conn: number): EndpointStats {
    const f = this.engine.connectionStats(conn);
    const v = (name: string) => (f ? f[this.stats_.indexOf(name)] : 0);
    const dropped = v('dropMalformed') + v('dropAuthFailed') + v('dropUnexpected') + v('dropTooLarge');
    return {
      packetsSent: v('datagramsOut'),
      packetsReceived: v('datagramsIn') - dropped - v('dropReplay'),
      dropped,
      duplicatePackets: v('dropReplay'),
      duplicateMessages: v('duplicateMessages'),
      messagesDelivered: v('messagesReceived'),
      acked: v('packetsAcked'),
      timedOut: v('packetsTimedOut'),
      pending: v('packetsInFlight'),
      ack: v('recvAck'),
      ackBits: v('recvAckBits'),
      latencyMs: v('latency') * 1000,
    };
  }
}

function pipelineOf(backend: Backend): PipelineImpl {
  return { createEndpoints: ({ key, isServer, count }) => new EngineEndpoints(backend, key, isServer, count) };
}

/** Maps a loaded backend's binding onto the suite interfaces. */
function adapt(backend: Backend): Parts {
  const b = backend.binding as unknown as BatchBinding;
  return {
    codec: codecOf(backend.name, b),
    crypto: cryptoOf(backend.name, b),
    pipeline: pipelineOf(backend),
  };
}

/** Loads the `native` or `wasm` backend and adapts it, or says why it cannot be used. */
export async function backendImplementation(name: 'native' | 'wasm'): Promise<Implementation | UnavailableImplementation> {
  let backend: Backend;
  try {
    // The testing build: the same core, plus the batch and no-handshake entry points the suites drive.
    backend = loadTestingBackend(name);
  } catch (err) {
    return { name, reason: (err as Error).message };
  }
  return {
    name,
    description: `${name} backend, gamewire-core ${backend.coreVersion} (${backend.path})`,
    ...adapt(backend),
  };
}
