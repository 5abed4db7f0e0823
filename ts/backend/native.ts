/**
 * The N-API backend's engine adapter: JavaScript owns the I/O buffers and passes them on each call
 * (napi reads them in place; nothing is copied).
 */
import { LAYOUT } from './abi.generated.js';
import { EngineBase, type RawEngineCommon } from './engine-base.js';
import { keyOps, viaBinding, type KeyExports } from './errors.js';
import type { Binding, Engine, KeyOps, ThreadedServer, ThreadedServerOptions, ThreadProfile, WebTransportEndpointOptions } from './types.js';

/** The N-API engine object: the common calls, and the caller's buffers passed on each call. */
interface NativeEngine extends RawEngineCommon {
  handle(now: number, buf: Uint8Array, meta: Uint32Array, count: number, status: Uint8Array): number;
  transmit(now: number, out: Uint8Array, meta: Uint8Array): number;
  events(out: Uint8Array): number;
  pendingEventSize(): number;
  sendBatch(now: number, cmds: Uint8Array, count: number, results: Uint8Array): number;
  connectionStats(peer: number, out: Uint8Array): boolean;
  stats(out: Uint8Array): boolean;
}

interface NativeSocketServer {
  localHost(): string;
  localPort(): number;
  threads(): number;
  now(): number;
  events(out: Uint8Array): number;
  pendingEventSize(): number;
  peerHost(peer: number): string | null;
  peerPort(peer: number): number;
  send(peer: number, data: Uint8Array, mode: number, callback: number): number;
  sendBatch(cmds: Uint8Array, count: number, results: Uint8Array): number;
  broadcast(peers: Uint32Array, data: Uint8Array, mode: number): number;
  disconnect(peer: number): void;
  closeAll(): void;
  transmitNow(): void;
  connectionCount(): number;
  status(peer: number): number;
  token(peer: number): number;
  latency(peer: number): number;
  connectionStats(peer: number, out: Uint8Array): boolean;
  stats(out: Uint8Array): boolean;
  setConfig(config: Float64Array): void;
  setBlockList(ips: string[]): void;
  profile(): number[];
  stop(): void;
  receiveExternal(key: number, host: string, port: number, datagram: Uint8Array): number;
  closeExternal(key: number): void;
  peerTransport(peer: number): number;
  webtransport(): { host: string; port: number; certificateHash: string; selfSigned: boolean } | null;
}

interface SocketServerOptions {
  recvBuffer: number;
  threads: number;
  notifyDelayUs: number;
  handshakeShare: number;
  webtransport?: WebTransportEndpointOptions;
}

/** What the N-API addon exports beyond the common `Binding`. */
export interface NativeBinding extends Binding, KeyExports {
  layout(): string;
  defaultConfig(): Float64Array;
  Engine: {
    server(config: Float64Array, root: Uint8Array, seed: Uint8Array): NativeEngine;
    client(config: Float64Array, seed: Uint8Array): NativeEngine;
  };
  NativeSocketServer: {
    start(host: string, port: number, config: Float64Array, root: Uint8Array, options: SocketServerOptions, onEvents: () => void): NativeSocketServer;
  };
}

const IN_DATAGRAMS = 256;
const OUT_DATAGRAMS = 128;
const ROOM = LAYOUT.datagramRoom;
/** The command buffer for batched sends (`sendBatch`). */
const CMD_BYTES = 64 * 1024;
const EMPTY = new Uint8Array(0);

/** What both native objects (an engine, the socket threads' server) write into a caller's buffers. */
interface BufferWriter {
  events(out: Uint8Array): number;
  pendingEventSize(): number;
  connectionStats(peer: number, out: Uint8Array): boolean;
  stats(out: Uint8Array): boolean;
}

/**
 * The buffers both native adapters lend their binding object: the event buffer (grown when the
 * next event does not fit), the send commands and their results, and the statistics.
 */
class NativeBuffers {
  evBuf: Buffer = Buffer.allocUnsafe(256 * 1024);
  readonly cmd = new Uint8Array(CMD_BYTES);
  readonly cmdResults = new Int8Array(CMD_BYTES / LAYOUT.sendHead);
  readonly cmdResultBytes = new Uint8Array(this.cmdResults.buffer);
  private readonly statsOut: Float64Array;
  private readonly statsBytes: Uint8Array;

  constructor(
    private readonly src: BufferWriter,
    statsLen: number,
  ) {
    this.statsOut = new Float64Array(statsLen);
    this.statsBytes = new Uint8Array(this.statsOut.buffer);
  }

  /** Events into `evBuf`; when nothing fit, once more into a buffer grown to the next record's size (a power of two). */
  events(): number {
    const n = this.src.events(this.evBuf);
    if (n !== 0) return n;
    const need = this.src.pendingEventSize();
    if (need <= this.evBuf.length) return 0;
    this.evBuf = Buffer.allocUnsafe(2 ** Math.ceil(Math.log2(need)));
    return this.src.events(this.evBuf);
  }

  connectionStats(peer: number): Float64Array | null {
    return this.src.connectionStats(peer, this.statsBytes) ? this.statsOut.slice() : null;
  }

  stats(): Float64Array {
    this.src.stats(this.statsBytes);
    return this.statsOut.slice();
  }
}

class NativeEngineAdapter extends EngineBase<NativeEngine> implements Engine {
  readonly backend = 'native' as const;
  readonly inCapacity = IN_DATAGRAMS;
  private readonly inBuf = Buffer.allocUnsafe(IN_DATAGRAMS * ROOM);
  private readonly inMeta = new Uint32Array(IN_DATAGRAMS * LAYOUT.inMetaFields);
  private readonly inStatus = new Uint8Array(IN_DATAGRAMS);
  private readonly outBuf = Buffer.allocUnsafe(OUT_DATAGRAMS * ROOM);
  private readonly outMeta = new Uint32Array(OUT_DATAGRAMS * 3);
  private readonly outMetaBytes = new Uint8Array(this.outMeta.buffer);
  private readonly bufs: NativeBuffers;

  constructor(raw: NativeEngine, statsLen: number) {
    super(raw);
    this.bufs = new NativeBuffers(raw, statsLen);
  }

  inView(): Uint8Array { return this.inBuf; }
  inMetaView(): Uint32Array { return this.inMeta; }
  inStatusView(): Uint8Array { return this.inStatus; }
  outView(): Uint8Array { return this.outBuf; }
  outMetaView(): Uint32Array { return this.outMeta; }
  eventView(): Uint8Array { return this.bufs.evBuf; }
  cmdView(): Uint8Array { return this.bufs.cmd; }
  cmdResultView(): Int8Array { return this.bufs.cmdResults; }
  sendBatch(now: number, count: number): number {
    return this.raw.sendBatch(now, this.bufs.cmd, count, this.bufs.cmdResultBytes);
  }

  handle(now: number, count: number): number {
    return this.raw.handle(now, this.inBuf, this.inMeta, count, this.inStatus);
  }
  transmit(now: number): number { return this.raw.transmit(now, this.outBuf, this.outMetaBytes); }
  events(): number { return this.bufs.events(); }
  connectionStats(peer: number): Float64Array | null { return this.bufs.connectionStats(peer); }
  stats(): Float64Array { return this.bufs.stats(); }
}

/** `Engine` over the threaded socket server: see `ThreadedServer` in types.ts. */
class ThreadedServerAdapter implements ThreadedServer {
  readonly backend = 'native' as const;
  readonly inCapacity = 0;
  readonly localAddress: { host: string; port: number; family: 'IPv4' | 'IPv6' };
  readonly threads: number;
  private readonly bufs: NativeBuffers;

  constructor(private readonly s: NativeSocketServer, statsLen: number) {
    const host = s.localHost();
    this.localAddress = { host, port: s.localPort(), family: host.includes(':') ? 'IPv6' : 'IPv4' };
    this.threads = s.threads();
    this.bufs = new NativeBuffers(s, statsLen);
  }

  inView(): Uint8Array { return EMPTY; }
  inMetaView(): Uint32Array { return new Uint32Array(0); }
  inStatusView(): Uint8Array { return EMPTY; }
  outView(): Uint8Array { return EMPTY; }
  outMetaView(): Uint32Array { return new Uint32Array(0); }
  eventView(): Uint8Array { return this.bufs.evBuf; }
  cmdView(): Uint8Array { return this.bufs.cmd; }
  cmdResultView(): Int8Array { return this.bufs.cmdResults; }
  /** Under one lock of the thread's state; the caller's `transmit` sends what is due. */
  sendBatch(_now: number, count: number): number {
    return this.s.sendBatch(this.bufs.cmd, count, this.bufs.cmdResultBytes);
  }
  handle(): number { return 0; }
  /** The socket thread answers handshakes itself, within its own time budget. */
  processHandshakes(): number { return 0; }
  queuedHandshakes(): number { return 0; }
  tick(): void {}
  /**
   * Sends what is due from this thread, in `sendmmsg` batches, instead of waking a socket thread
   * to do it (a wake-up and a context switch per handler round); a thread is woken only when the
   * engine wants it back sooner than it planned.
   */
  transmit(): number {
    this.s.transmitNow();
    return 0;
  }
  events(): number { return this.bufs.events(); }
  send(_now: number, peer: number, data: Uint8Array, mode: number, callback: number): number {
    return this.s.send(peer, data, mode, callback);
  }
  broadcast(_now: number, peers: Uint32Array, data: Uint8Array, mode: number): number {
    return this.s.broadcast(peers, data, mode);
  }
  connect(): number { return -5; }
  disconnect(_now: number, peer: number): void { this.s.disconnect(peer); }
  /** Only peers of JavaScript transports are aborted from here (`closeExternal`). */
  abort(): void {}
  closeAll(): void { this.s.closeAll(); }
  abortAll(): void { this.s.stop(); }
  status(peer: number): number { return this.s.status(peer); }
  token(peer: number): number { return this.s.token(peer); }
  latency(peer: number): number { return this.s.latency(peer); }
  connectionCount(): number { return this.s.connectionCount(); }
  connectionStats(peer: number): Float64Array | null { return this.bufs.connectionStats(peer); }
  stats(): Float64Array { return this.bufs.stats(); }
  countBlocked(): void {}
  nextTimeout(): number { return -1; }
  setConfig(config: Float64Array): void { viaBinding(() => this.s.setConfig(config)); }
  rootPublicSpki(): Uint8Array { return EMPTY; }
  peerAddress(peer: number): { host: string; port: number } | null {
    const host = this.s.peerHost(peer);
    return host === null ? null : { host, port: this.s.peerPort(peer) };
  }
  setBlockList(ips: readonly string[]): void { this.s.setBlockList([...ips]); }
  threadProfile(): ThreadProfile {
    const [handleMs, networkMs, idleMs, wakeups, notifications, datagramsSent, sendMessages] = this.s.profile();
    return { handleMs, networkMs, idleMs, wakeups, notifications, datagramsSent, sendMessages };
  }
  stop(): void { this.s.stop(); }
  receiveExternal(key: number, host: string, port: number, datagram: Uint8Array): number {
    return this.s.receiveExternal(key, host, port, datagram);
  }
  closeExternal(key: number): void { this.s.closeExternal(key); }
  peerTransport(peer: number): number { return this.s.peerTransport(peer); }
  webtransport(): { host: string; port: number; certificateHash: string; selfSigned: boolean } | null {
    return this.s.webtransport();
  }
}

export function nativeEngines(b: NativeBinding, statsLen: number) {
  return {
    createThreadedServer: (o: ThreadedServerOptions): ThreadedServer =>
      new ThreadedServerAdapter(
        viaBinding(() =>
          b.NativeSocketServer.start(
            o.host,
            o.port,
            o.config,
            o.rootPkcs8 ?? EMPTY,
            {
              recvBuffer: o.recvBufferSize ?? 0,
              threads: o.threads ?? 1,
              notifyDelayUs: Math.round((o.notifyDelayMs ?? 0) * 1000),
              handshakeShare: o.handshakeShare ?? 0.5,
              webtransport: o.webtransport,
            },
            o.onEvents,
          ),
        ),
        statsLen,
      ),
    createServer: (config: Float64Array, root: Uint8Array | null, seed?: Uint8Array): Engine =>
      new NativeEngineAdapter(viaBinding(() => b.Engine.server(config, root ?? EMPTY, seed ?? EMPTY)), statsLen),
    createClient: (config: Float64Array, seed?: Uint8Array): Engine =>
      new NativeEngineAdapter(viaBinding(() => b.Engine.client(config, seed ?? EMPTY)), statsLen),
    defaultConfig: () => b.defaultConfig(),
    keys: keyOps(b),
  };
}
