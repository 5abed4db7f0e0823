/**
 * Drives an engine from node:dgram sockets: batches received datagrams into one `handle` call
 * per event-loop turn, sends what the engine produces, and dispatches its events.
 *
 * Output buffers: node:dgram may queue a send (EAGAIN) and read our bytes later, so datagrams are
 * copied from the engine in one block per batch into an arena that is not reused until the
 * sockets it was sent on have no send queued (`getSendQueueCount`).
 */
import type { Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import type { Engine } from '../backend/index.js';
import { CLOSE_REASONS, DATAGRAM_ROOM, EV, type CloseReason } from './constants.js';
import type { Logger } from './log.js';

/** Where a peer id sends to. */
export interface PeerRoute {
  socket: Socket;
  address: string;
  port: number;
}

/** What the driver reports. */
export interface DriverSink {
  connected(peer: number, token: number): void;
  message(peer: number, seq: number, data: Uint8Array): void;
  disconnected(peer: number, reason: CloseReason): void;
  released(peer: number): void;
}

const ARENA_BYTES = 256 * 1024;

interface BusyArena {
  arena: Buffer;
  sockets: Socket[];
}

/** Time on the engine's clock, milliseconds. */
export const clock = (): number => performance.now();

export class EngineDriver {
  private pending = 0;
  private inOffset = 0;
  private scheduled = false;
  private arena: Buffer = Buffer.allocUnsafe(ARENA_BYTES);
  private readonly spare: Buffer[] = [];
  private readonly busy: BusyArena[] = [];
  private readonly callbacks = new Map<number, (acked: boolean) => void>();
  private nextCallback = 1;
  private dispatching = false;
  /** Time spent in `handle`+dispatch and in transmit/send, ms (dashboard time profile). */
  readonly profile = { handleMs: 0, networkMs: 0 };
  closed = false;

  constructor(
    readonly engine: Engine,
    private readonly routes: (peer: number) => PeerRoute | undefined,
    private readonly sink: DriverSink,
    private readonly log: Logger,
  ) {}

  /** Queues a received datagram for the next batch. */
  receive(peer: number, msg: Buffer): void {
    if (this.closed) return;
    const e = this.engine;
    const meta = e.inMetaView();
    const i = this.pending * 3;
    if (msg.length > DATAGRAM_ROOM) {
      // Too large to copy: the engine counts it from the length alone.
      meta[i] = peer;
      meta[i + 1] = 0;
      meta[i + 2] = msg.length;
    } else {
      if (this.inOffset + msg.length > e.inView().length) this.flush();
      e.inView().set(msg, this.inOffset);
      meta[this.pending * 3] = peer;
      meta[this.pending * 3 + 1] = this.inOffset;
      meta[this.pending * 3 + 2] = msg.length;
      this.inOffset += msg.length;
    }
    this.pending++;
    if (this.pending >= e.inCapacity) {
      this.flush();
    } else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  /** Hands the queued datagrams to the engine, then sends and dispatches what follows. */
  flush(): void {
    if (this.pending === 0 || this.closed) return;
    const t0 = clock();
    const n = this.pending;
    this.pending = 0;
    this.inOffset = 0;
    this.engine.handle(t0, n);
    this.profile.handleMs += clock() - t0;
    this.pump();
  }

  /** Registers a send callback; returns its id (0 = none). */
  callbackId(cb: ((acked: boolean) => void) | undefined): number {
    if (!cb) return 0;
    const id = this.nextCallback;
    this.nextCallback = this.nextCallback >= 0xffff_fffe ? 1 : this.nextCallback + 1;
    this.callbacks.set(id, cb);
    return id;
  }

  /** Drops a callback registered for a message the engine refused. */
  forgetCallback(id: number): void {
    if (id) this.callbacks.delete(id);
  }

  /** Sends and dispatches until the engine is quiet. Safe to call from event handlers. */
  pump(): void {
    if (this.dispatching || this.closed) return;
    this.dispatching = true;
    try {
      for (let round = 0; round < 64; round++) {
        const sent = this.transmit();
        const got = this.dispatchEvents();
        if (!sent && !got) break;
      }
    } finally {
      this.dispatching = false;
    }
  }

  private takeArena(): void {
    for (let i = this.busy.length - 1; i >= 0; i--) {
      const b = this.busy[i];
      if (b.sockets.every((s) => safeQueueCount(s) === 0)) {
        this.spare.push(b.arena);
        this.busy.splice(i, 1);
      }
    }
    this.arena = this.spare.pop() ?? Buffer.allocUnsafe(ARENA_BYTES);
  }

  /** Sends what the engine has; returns true if anything went out. */
  private transmit(): boolean {
    const e = this.engine;
    const t0 = clock();
    let any = false;
    for (;;) {
      const n = e.transmit(t0);
      if (n === 0) break;
      any = true;
      const meta = e.outMetaView();
      const last = (n - 1) * 3;
      const used = meta[last + 1] + meta[last + 2];
      const out = e.outView();
      const arena = this.arena;
      arena.set(out.subarray(0, used), 0);
      const sockets: Socket[] = [];
      for (let i = 0; i < n; i++) {
        const peer = meta[i * 3];
        const off = meta[i * 3 + 1];
        const len = meta[i * 3 + 2];
        const r = this.routes(peer);
        if (!r) continue;
        try {
          r.socket.send(arena, off, len, r.port, r.address, onSendError);
        } catch (err) {
          // The socket was closed under us (teardown): the datagram is lost, as on any network.
          this.log.debug({ err, peer }, 'send on a closed socket');
          continue;
        }
        if (!sockets.includes(r.socket)) sockets.push(r.socket);
      }
      if (sockets.some((s) => safeQueueCount(s) > 0)) {
        this.busy.push({ arena, sockets });
        this.takeArena();
      }
      if (n < e.outMetaView().length / 3) break;
    }
    this.profile.networkMs += clock() - t0;
    return any;
  }

  /** Dispatches queued events; returns true if there were any. */
  private dispatchEvents(): boolean {
    const t0 = clock();
    const any = this.dispatchAll();
    this.profile.handleMs += clock() - t0;
    return any;
  }

  private dispatchAll(): boolean {
    const e = this.engine;
    let any = false;
    for (;;) {
      const bytes = e.events();
      if (bytes === 0) break;
      any = true;
      let view = e.eventView();
      let at = 0;
      while (at < bytes) {
        const dv = new DataView(view.buffer, view.byteOffset + at, 16);
        const kind = dv.getUint32(0, true);
        const peer = dv.getUint32(4, true);
        const a = dv.getUint32(8, true);
        const len = dv.getUint32(12, true);
        const dataAt = at + 16;
        at = dataAt + ((len + 3) & ~3);
        try {
          switch (kind) {
            case EV.CONNECTED:
              this.sink.connected(peer, a);
              break;
            case EV.MESSAGE:
              this.sink.message(peer, a, view.slice(dataAt, dataAt + len));
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
  }
}

function safeQueueCount(s: Socket): number {
  try {
    return s.getSendQueueCount();
  } catch {
    return 0;
  }
}

function onSendError(err: Error | null): void {
  // A failed send is a lost datagram, which the protocol recovers from; nothing to do.
  void err;
}
