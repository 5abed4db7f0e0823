/**
 * Drives an engine from node:dgram sockets: batches received datagrams into one `handle` call
 * per event-loop turn, sends what the engine produces, and dispatches its events.
 *
 * Output buffers: node:dgram reads our bytes later than `send` returns (on the next tick, after
 * its address lookup, or later still when the send is queued on EAGAIN), so datagrams are copied
 * from the engine in one block per batch and appended to an arena; an arena is written from its
 * start again only once every send from it has completed (its send callbacks counted it back to
 * zero).
 */
import type { Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { ReceiveBatch, type Engine } from '../backend/index.js';
import { CLOSE_REASONS, EV, type CloseReason } from './constants.js';
import { HandshakeBudget } from './handshake-budget.js';
import { monotonicClock, type Clock } from '../clock.js';
import type { Logger } from './log.js';

/** Where a peer id sends to. */
export type PeerRoute = UdpRoute | TransportRoute;

/** A UDP address, over a node:dgram socket. */
export interface UdpRoute {
  socket: Socket;
  address: string;
  port: number;
}

/** A connection of another datagram transport (WebSocket): `send` copies the bytes. */
export interface TransportRoute {
  send(bytes: Uint8Array): boolean;
}

/** What the driver reports. */
export interface DriverSink {
  connected(peer: number, token: number): void;
  message(peer: number, seq: number, data: Uint8Array): void;
  disconnected(peer: number, reason: CloseReason): void;
  released(peer: number): void;
  /** A datagram for a peer of a transport the host runs (`key`); valid only during the call. */
  transmit?(peer: number, key: number, data: Uint8Array): void;
}

const ARENA_BYTES = 256 * 1024;

/** Output memory handed to node:dgram: datagrams are appended until every send from it completed. */
interface Arena {
  buf: Buffer;
  /** Bytes in use since the arena was last empty. */
  used: number;
  /** Sends from it whose callback has not run yet. */
  pending: number;
  /** The send callback: counts one completion (a failed send is a lost datagram, nothing more). */
  done: () => void;
}

function newArena(bytes: number): Arena {
  const a: Arena = {
    buf: Buffer.allocUnsafe(bytes),
    used: 0,
    pending: 0,
    done: () => {
      if (--a.pending === 0) a.used = 0;
    },
  };
  return a;
}

/**
 * Event batches (each up to the engine's event buffer) one pump takes before the event loop gets
 * a turn: enough for any normal load in one go, a bound under overload.
 */
const MAX_BATCHES_PER_PUMP = 32;

/** The default protocol time, milliseconds (`monotonicClock`). */
export const clock = (): number => monotonicClock.now();

/** Optional parts of an {@link EngineDriver}. */
export interface EngineDriverOptions {
  /**
   * Runs after every pump (datagrams handled, handlers run, sends made): where a driver without a
   * thread of its own re-arms its timer for the engine's next deadline.
   */
  afterPump?: () => void;
  /** The protocol's time (default `monotonicClock`); the time profile stays on real time. */
  clock?: Clock;
}

export class EngineDriver {
  private readonly received = new ReceiveBatch(() => this.flush());
  private scheduled = false;
  private arena: Arena = newArena(ARENA_BYTES);
  /** Every arena, the current one included. */
  private readonly arenas: Arena[] = [this.arena];
  private readonly callbacks = new Map<number, (acked: boolean) => void>();
  private nextCallback = 1;
  private dispatching = false;
  /** Event batches this pump may still take before it yields to the event loop. */
  private batchesLeft = 0;
  private repumpQueued = false;
  /** Time spent in `handle`+dispatch and in transmit/send, ms (dashboard time profile). */
  readonly profile = { handleMs: 0, networkMs: 0 };
  /** The time handshakes may take (server engines; a client's queue is always empty). */
  readonly handshakes = new HandshakeBudget();
  private handshakeTimer: NodeJS.Timeout | null = null;
  closed = false;

  private readonly afterPump: (() => void) | undefined;
  /** Protocol time, ms. */
  private readonly now: () => number;

  constructor(
    readonly engine: Engine,
    private readonly routes: (peer: number) => PeerRoute | undefined,
    private readonly sink: DriverSink,
    private readonly log: Logger,
    opts: EngineDriverOptions = {},
  ) {
    this.afterPump = opts.afterPump;
    const time = opts.clock ?? monotonicClock;
    this.now = () => time.now();
  }

  /**
   * Queues a received datagram for the next batch. `source` names the sender's IP address (any
   * stable number per address): queued handshakes are shared out between sources.
   */
  receive(peer: number, msg: Uint8Array, source = 0): void {
    if (this.closed) return;
    this.received.add(this.engine, peer, msg, source);
    if (this.received.pending > 0 && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  /** Hands the queued datagrams to the engine, then sends and dispatches what follows. */
  flush(): void {
    if (this.received.pending === 0 || this.closed) return;
    const t0 = performance.now();
    this.engine.handle(this.now(), this.received.take());
    this.profile.handleMs += performance.now() - t0;
    // Established traffic first: its replies go out before any handshake work.
    this.pump();
    this.runHandshakes();
  }

  /** Answers queued hellos within the handshake budget; re-arms itself while some remain. */
  runHandshakes(): void {
    if (this.closed || this.engine.queuedHandshakes() === 0) return;
    const t0 = performance.now();
    const again = this.handshakes.run(this.engine, this.now);
    this.profile.handleMs += performance.now() - t0;
    this.pump();
    if (again >= 0 && !this.handshakeTimer) {
      this.handshakeTimer = setTimeout(() => {
        this.handshakeTimer = null;
        this.runHandshakes();
      }, again);
    }
  }

  /** Registers a send callback; returns its id (0 = none). */
  callbackId(cb: ((acked: boolean) => void) | undefined): number {
    if (!cb) return 0;
    const id = this.nextCallback;
    this.nextCallback = this.nextCallback >= 0xffff_fffe ? 1 : this.nextCallback + 1;
    this.callbacks.set(id, cb);
    return id;
  }

  /** Takes back the callback of a message the engine refused (undefined if none). */
  takeCallback(id: number): ((acked: boolean) => void) | undefined {
    if (!id) return undefined;
    const cb = this.callbacks.get(id);
    this.callbacks.delete(id);
    return cb;
  }

  /** True while `pump` runs: whatever a handler queues now goes out in its next round. */
  get pumping(): boolean {
    return this.dispatching;
  }

  /** Sends and dispatches until the engine is quiet. Safe to call from event handlers. */
  pump(): void {
    if (this.dispatching || this.closed) return;
    this.dispatching = true;
    this.batchesLeft = MAX_BATCHES_PER_PUMP;
    let more = false;
    try {
      for (let round = 0; round < 64; round++) {
        this.transmit();
        // transmit() drains the engine; only a handler (run by dispatchEvents) can queue more. With
        // no event dispatched there is nothing left to send: stop without another pair of calls
        // into the engine.
        if (!this.dispatchEvents()) break;
        if (this.batchesLeft <= 0) {
          // Socket threads can fill the queue as fast as handlers empty it: under overload the
          // event loop yields here (timers, I/O, other servers) and comes back on its next turn.
          this.transmit();
          more = true;
          break;
        }
      }
    } finally {
      this.dispatching = false;
    }
    if (more && !this.repumpQueued) {
      this.repumpQueued = true;
      setImmediate(() => {
        this.repumpQueued = false;
        this.pump();
      });
    }
    this.afterPump?.();
  }

  /** An arena with room for `bytes` more: the current one, an idle one, or a new one. */
  private arenaFor(bytes: number): Arena {
    const cur = this.arena;
    if (cur.used + bytes <= cur.buf.length) return cur;
    let a = this.arenas.find((x) => x.pending === 0 && x.buf.length >= bytes);
    if (!a) {
      a = newArena(Math.max(ARENA_BYTES, bytes));
      this.arenas.push(a);
    }
    this.arena = a;
    return a;
  }

  /** Sends what the engine has; returns true if anything went out. */
  private transmit(): boolean {
    const e = this.engine;
    const t0 = performance.now();
    const now = this.now();
    let any = false;
    for (;;) {
      const n = e.transmit(now);
      if (n === 0) break;
      any = true;
      const meta = e.outMetaView();
      const last = (n - 1) * 3;
      const used = meta[last + 1] + meta[last + 2];
      const a = this.arenaFor(used);
      const base = a.used;
      a.buf.set(e.outView().subarray(0, used), base);
      a.used += used;
      for (let i = 0; i < n; i++) {
        const peer = meta[i * 3];
        const off = meta[i * 3 + 1];
        const len = meta[i * 3 + 2];
        const r = this.routes(peer);
        if (!r) continue;
        if (!('socket' in r)) {
          r.send(a.buf.subarray(base + off, base + off + len));
          continue;
        }
        a.pending++;
        try {
          r.socket.send(a.buf, base + off, len, r.port, r.address, a.done);
        } catch (err) {
          // The socket was closed under us (teardown): the datagram is lost, as on any network.
          a.pending--;
          this.log.debug({ err, peer }, 'send on a closed socket');
        }
      }
      if (a.pending === 0) a.used = 0;
      if (n < e.outMetaView().length / 3) break;
    }
    this.profile.networkMs += performance.now() - t0;
    return any;
  }

  /** Dispatches queued events; returns true if there were any. */
  private dispatchEvents(): boolean {
    const t0 = performance.now();
    const any = this.dispatchAll();
    this.profile.handleMs += performance.now() - t0;
    return any;
  }

  private dispatchAll(): boolean {
    const e = this.engine;
    let any = false;
    while (this.batchesLeft-- > 0) {
      const bytes = e.events();
      if (bytes === 0) break;
      any = true;
      let view = e.eventView();
      let at = 0;
      while (at < bytes) {
        const kind = u32le(view, at);
        const peer = u32le(view, at + 4);
        const a = u32le(view, at + 8);
        const len = u32le(view, at + 12);
        const dataAt = at + 16;
        at = dataAt + ((len + 3) & ~3);
        try {
          switch (kind) {
            case EV.CONNECTED:
              this.sink.connected(peer, a);
              break;
            case EV.MESSAGE:
              // A copy the handler may keep: on native the event buffer is a Buffer, whose own
              // slice() is a view that the next events() call would overwrite.
              this.sink.message(peer, a, Uint8Array.prototype.slice.call(view, dataAt, dataAt + len));
              break;
            case EV.ACKED:
            case EV.FAILED: {
              const cb = this.callbacks.get(a);
              if (cb) {
                this.callbacks.delete(a);
                cb(kind === EV.ACKED);
              }
              break;
            }
            case EV.DISCONNECTED:
              this.sink.disconnected(peer, CLOSE_REASONS[a] ?? 'local');
              break;
            case EV.RELEASED:
              this.sink.released(peer);
              break;
            case EV.TRANSMIT:
              this.sink.transmit?.(peer, a, view.subarray(dataAt, dataAt + len));
              break;
          }
        } catch (err) {
          this.log.error({ err, peer, event: kind }, 'exception in an event handler');
        }
        // Handlers may have called into the engine: WebAssembly memory may have moved.
        view = e.eventView();
      }
    }
    return any;
  }

  /** Stops dispatching; pending callbacks are dropped. */
  close(): void {
    this.closed = true;
    this.callbacks.clear();
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
  }
}

/** The little-endian u32 at `i` (no DataView per event record: this runs once per message). */
function u32le(v: Uint8Array, i: number): number {
  return (v[i] | (v[i + 1] << 8) | (v[i + 2] << 16)) + v[i + 3] * 0x1000000;
}
