/**
 * Batched sends and receives.
 *
 * Sends: every call from JavaScript into the native addon costs a few hundred nanoseconds
 * whatever it does (about 280 ns on the reference machine for a call that only reads a field;
 * `engine.send` 400 ns), more than queueing the message itself. `SendBatcher` copies each message
 * into the engine's command buffer instead, and the whole batch crosses in one `sendBatch` call.
 *
 * It wraps an `Engine` and flushes the batch before every other call, so the engine sees sends and
 * everything else (disconnect, tick, transmit, stats…) in the order the caller made them. A message
 * the engine refuses when the batch is flushed (queue full, connection gone) is reported to
 * `onRefused` with its callback id; `send` itself returns 0 for a queued message.
 *
 * Receives: `ReceiveBatch` gathers the datagrams that arrive within one event-loop turn into the
 * engine's input buffers, for one `handle` call.
 */
import { LAYOUT } from './abi.generated.js';
import type { BackendName, Engine } from './types.js';

/** A queued message the engine refused at flush time: its peer, the code, its callback id. */
export type SendRefused = (peer: number, code: number, callback: number) => void;

const HEAD = LAYOUT.sendHead;
const IN_META = LAYOUT.inMetaFields;
const ROOM = LAYOUT.datagramRoom;
const EMPTY = new Uint8Array(0);

/**
 * Received datagrams gathered for one `engine.handle(now, count)`: each is copied into the
 * engine's `inView()` and described by a (peer, offset, length, source) row of `inMetaView()`.
 * One longer than a datagram may be is not copied: the engine counts it as dropped from its length
 * alone. `flush` is the owner's: it calls `take()` and hands that many datagrams to `handle`; the
 * batch calls it itself before a datagram the input buffer has no room left for, and once it
 * holds `inCapacity` datagrams.
 */
export class ReceiveBatch {
  private count = 0;
  private offset = 0;

  constructor(private readonly flush: () => void) {}

  /** Datagrams waiting for `handle`. */
  get pending(): number {
    return this.count;
  }

  /** Adds `datagram` from `peer` (`source`: any stable number per sender address). */
  add(engine: Engine, peer: number, datagram: Uint8Array, source: number): void {
    const copied = datagram.length <= ROOM;
    if (copied && this.offset + datagram.length > engine.inView().length) this.flush();
    const meta = engine.inMetaView();
    const i = this.count * IN_META;
    meta[i] = peer;
    meta[i + 3] = source;
    if (copied) {
      engine.inView().set(datagram, this.offset);
      meta[i + 1] = this.offset;
      meta[i + 2] = datagram.length;
      this.offset += datagram.length;
    } else {
      meta[i + 1] = 0;
      meta[i + 2] = datagram.length;
    }
    this.count++;
    if (this.count >= engine.inCapacity) this.flush();
  }

  /** Ends the batch: returns how many datagrams to hand to `handle`; the next `add` starts anew. */
  take(): number {
    const n = this.count;
    this.count = 0;
    this.offset = 0;
    return n;
  }
}

export class SendBatcher implements Engine {
  readonly backend: BackendName;
  readonly inCapacity: number;
  /** The command buffer, fetched when a batch starts (it may move between batches on WebAssembly). */
  private buf: Uint8Array = EMPTY;
  private view: DataView = new DataView(new ArrayBuffer(0));
  /** Records in the current batch, and the byte offset where the next one goes. */
  private count = 0;
  private at = 0;
  private maxRecords = 0;
  /** Where each record of the batch starts (to find a refused record's peer and callback). */
  private starts = new Uint32Array(0);
  private lastNow = 0;
  /** Messages sent and batches flushed, for the metrics. */
  sent = 0;
  batches = 0;

  constructor(readonly inner: Engine, private readonly onRefused: SendRefused) {
    this.backend = inner.backend;
    this.inCapacity = inner.inCapacity;
  }

  /** Records waiting in the batch. */
  get pending(): number {
    return this.count;
  }

  /**
   * Queues a message: copied now (the caller may reuse `data`), handed to the engine at the next
   * flush. Returns 0, or a negative code for a message too large for a batch that the engine
   * refused at once.
   */
  send(now: number, peer: number, data: Uint8Array, mode: number, callback: number): number {
    this.lastNow = now;
    const need = HEAD + ((data.length + 3) & ~3);
    if (this.count === 0) this.startBatch();
    if (need > this.buf.length >> 2) {
      // Large messages (fragmented anyway) go on their own, in order.
      this.flush(now);
      this.sent++;
      return this.inner.send(now, peer, data, mode, callback);
    }
    if (this.at + need > this.buf.length || this.count === this.maxRecords) {
      this.flush(now);
      this.startBatch();
    }
    const at = this.at;
    const v = this.view;
    v.setUint32(at, peer, true);
    v.setInt32(at + 4, mode, true);
    v.setUint32(at + 8, callback, true);
    v.setUint32(at + 12, data.length, true);
    this.buf.set(data, at + HEAD);
    this.starts[this.count++] = at;
    this.at = at + need;
    this.sent++;
    return 0;
  }

  /** Hands the batch to the engine (a no-op when it is empty). */
  flush(now: number = this.lastNow): void {
    const n = this.count;
    if (n === 0) return;
    this.count = 0;
    this.at = 0;
    this.batches++;
    const read = this.inner.sendBatch(now, n);
    const results = this.inner.cmdResultView();
    let cmd: DataView | null = null;
    for (let i = 0; i < n; i++) {
      // A record the engine did not read (it never happens with well-formed records) is refused.
      const code = i < read ? results[i] : -1;
      if (code === 0) continue;
      if (!cmd) {
        const b = this.inner.cmdView();
        cmd = new DataView(b.buffer, b.byteOffset, b.byteLength);
      }
      this.onRefused(cmd.getUint32(this.starts[i], true), code, cmd.getUint32(this.starts[i] + 8, true));
    }
  }

  private startBatch(): void {
    const b = this.inner.cmdView();
    if (b !== this.buf) {
      this.buf = b;
      this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
      this.maxRecords = Math.min(this.inner.cmdResultView().length, b.length / HEAD) | 0;
      if (this.starts.length < this.maxRecords) this.starts = new Uint32Array(this.maxRecords);
    }
    this.at = 0;
  }

  // Everything else: flush, then delegate.
  inView(): Uint8Array { this.flush(); return this.inner.inView(); }
  inMetaView(): Uint32Array { return this.inner.inMetaView(); }
  handle(now: number, count: number): number { this.flush(now); return this.inner.handle(now, count); }
  processHandshakes(now: number, max: number): number { this.flush(now); return this.inner.processHandshakes(now, max); }
  queuedHandshakes(): number { return this.inner.queuedHandshakes(); }
  inStatusView(): Uint8Array { return this.inner.inStatusView(); }
  tick(now: number): void { this.flush(now); this.inner.tick(now); }
  transmit(now: number): number { this.flush(now); return this.inner.transmit(now); }
  outView(): Uint8Array { return this.inner.outView(); }
  outMetaView(): Uint32Array { return this.inner.outMetaView(); }
  events(): number { this.flush(); return this.inner.events(); }
  eventView(): Uint8Array { return this.inner.eventView(); }
  cmdView(): Uint8Array { this.flush(); return this.inner.cmdView(); }
  cmdResultView(): Int8Array { return this.inner.cmdResultView(); }
  sendBatch(now: number, count: number): number { this.flush(now); return this.inner.sendBatch(now, count); }
  broadcast(now: number, peers: Uint32Array, data: Uint8Array, mode: number): number {
    this.flush(now);
    return this.inner.broadcast(now, peers, data, mode);
  }
  connect(now: number, peer: number, pinnedSpki: Uint8Array | null, insecure: boolean): number {
    this.flush(now);
    return this.inner.connect(now, peer, pinnedSpki, insecure);
  }
  disconnect(now: number, peer: number): void { this.flush(now); this.inner.disconnect(now, peer); }
  abort(now: number, peer: number): void { this.flush(now); this.inner.abort(now, peer); }
  closeAll(now: number): void { this.flush(now); this.inner.closeAll(now); }
  abortAll(): void { this.flush(); this.inner.abortAll(); }
  status(peer: number): number { this.flush(); return this.inner.status(peer); }
  token(peer: number): number { return this.inner.token(peer); }
  latency(peer: number): number { return this.inner.latency(peer); }
  connectionCount(): number { this.flush(); return this.inner.connectionCount(); }
  connectionStats(peer: number): Float64Array | null { this.flush(); return this.inner.connectionStats(peer); }
  stats(): Float64Array { this.flush(); return this.inner.stats(); }
  countBlocked(bytes: number): void { this.inner.countBlocked(bytes); }
  nextTimeout(): number { this.flush(); return this.inner.nextTimeout(); }
  setConfig(config: Float64Array): void { this.flush(); this.inner.setConfig(config); }
  rootPublicSpki(): Uint8Array { return this.inner.rootPublicSpki(); }
}
