/**
 * The WebAssembly backend's engine adapter: the I/O buffers live in the module's memory and
 * JavaScript reads and writes them through typed-array views, so a datagram crosses the boundary
 * as one `set` into memory and nothing else. Views are rebuilt when the memory grows.
 */
import { LAYOUT } from './abi.generated.js';
import { keyOps, viaBinding } from './errors.js';
import type { Binding, Engine } from './types.js';

interface WasmEngine {
  setConfig(config: Float64Array): void;
  rootPublicSpki(): Uint8Array;
  inBufPtr(): number; inBufLen(): number; inMetaPtr(): number; inStatusPtr(): number; inCapacity(): number;
  processHandshakes(now: number, max: number): number;
  queuedHandshakes(): number;
  outBufPtr(): number; outBufLen(): number; outMetaPtr(): number; outMetaLen(): number;
  evBufPtr(): number; evBufLen(): number; statsPtr(): number;
  cmdBufPtr(): number; cmdBufLen(): number; resultsPtr(): number;
  sendBatch(now: number, count: number): number;
  handle(now: number, count: number): number;
  tick(now: number): void;
  transmit(now: number): number;
  events(): number;
  send(now: number, peer: number, data: Uint8Array, mode: number, callback: number): number;
  broadcast(now: number, peers: Uint32Array, data: Uint8Array, mode: number): number;
  connect(now: number, peer: number, pinned: Uint8Array, insecure: boolean): number;
  disconnect(now: number, peer: number): void;
  abort(now: number, peer: number): void;
  closeAll(now: number): void;
  abortAll(): void;
  status(peer: number): number;
  token(peer: number): number;
  latency(peer: number): number;
  connectionCount(): number;
  connectionStats(peer: number): boolean;
  stats(): boolean;
  countBlocked(bytes: number): void;
  nextTimeout(): number;
}

/** What the WebAssembly module exports beyond the common `Binding`. */
export interface WasmBinding extends Binding {
  wasmMemory(): WasmMemory;
  layout(): string;
  defaultConfig(): Float64Array;
  keyGenerate(): Uint8Array;
  keyFromPem(pem: string): Uint8Array;
  keyToPem(der: Uint8Array): string;
  keyPublic(der: Uint8Array): Uint8Array;
  publicKeyFromPem(pem: string): Uint8Array;
  publicKeyToPem(spki: Uint8Array): string;
  Engine: {
    server(config: Float64Array, root: Uint8Array, seed: Uint8Array): WasmEngine;
    client(config: Float64Array, seed: Uint8Array): WasmEngine;
  };
}

/** The part of `WebAssembly.Memory` the adapter needs. */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}

const EMPTY = new Uint8Array(0);

class WasmEngineAdapter implements Engine {
  readonly backend = 'wasm' as const;
  readonly inCapacity: number;
  private mem: ArrayBuffer | null = null;
  private vIn!: Uint8Array;
  private vInMeta!: Uint32Array;
  private vInStatus!: Uint8Array;
  private vOut!: Uint8Array;
  private vOutMeta!: Uint32Array;
  private vEv!: Uint8Array;
  private vStats!: Float64Array;
  private vCmd!: Uint8Array;
  private vCmdResults!: Int8Array;
  private evPtr = -1;

  private readonly e: WasmEngine;

  /** @param raw the binding's engine object (tests reach testing-build entry points through it) */
  constructor(readonly raw: WasmEngine, private readonly memory: WasmMemory, private readonly statsLen: number) {
    this.e = raw;
    this.inCapacity = raw.inCapacity();
    this.refresh();
  }

  /** Rebuilds the views if the memory grew (or the event buffer moved). */
  private refresh(): void {
    const buf = this.memory.buffer;
    const evPtr = this.e.evBufPtr();
    if (buf === this.mem && evPtr === this.evPtr) return;
    this.mem = buf;
    this.evPtr = evPtr;
    this.vIn = new Uint8Array(buf, this.e.inBufPtr(), this.e.inBufLen());
    this.vInMeta = new Uint32Array(buf, this.e.inMetaPtr(), this.inCapacity * LAYOUT.inMetaFields);
    this.vInStatus = new Uint8Array(buf, this.e.inStatusPtr(), this.inCapacity);
    this.vOut = new Uint8Array(buf, this.e.outBufPtr(), this.e.outBufLen());
    this.vOutMeta = new Uint32Array(buf, this.e.outMetaPtr(), this.e.outMetaLen() / 4);
    this.vEv = new Uint8Array(buf, evPtr, this.e.evBufLen());
    this.vStats = new Float64Array(buf, this.e.statsPtr(), this.statsLen);
    const cmdLen = this.e.cmdBufLen();
    this.vCmd = new Uint8Array(buf, this.e.cmdBufPtr(), cmdLen);
    this.vCmdResults = new Int8Array(buf, this.e.resultsPtr(), cmdLen / LAYOUT.sendHead);
  }

  inView(): Uint8Array { this.refresh(); return this.vIn; }
  inMetaView(): Uint32Array { this.refresh(); return this.vInMeta; }
  inStatusView(): Uint8Array { this.refresh(); return this.vInStatus; }
  outView(): Uint8Array { this.refresh(); return this.vOut; }
  outMetaView(): Uint32Array { this.refresh(); return this.vOutMeta; }
  eventView(): Uint8Array { this.refresh(); return this.vEv; }
  cmdView(): Uint8Array { this.refresh(); return this.vCmd; }
  cmdResultView(): Int8Array { this.refresh(); return this.vCmdResults; }
  sendBatch(now: number, count: number): number { return this.e.sendBatch(now, count); }

  handle(now: number, count: number): number { return this.e.handle(now, count); }
  processHandshakes(now: number, max: number): number { return this.e.processHandshakes(now, max); }
  queuedHandshakes(): number { return this.e.queuedHandshakes(); }
  tick(now: number): void { this.e.tick(now); }
  transmit(now: number): number { return this.e.transmit(now); }
  events(): number { return this.e.events(); }
  send(now: number, peer: number, data: Uint8Array, mode: number, callback: number): number {
    return this.e.send(now, peer, data, mode, callback);
  }
  broadcast(now: number, peers: Uint32Array, data: Uint8Array, mode: number): number {
    return this.e.broadcast(now, peers, data, mode);
  }
  connect(now: number, peer: number, pinned: Uint8Array | null, insecure: boolean): number {
    return this.e.connect(now, peer, pinned ?? EMPTY, insecure);
  }
  disconnect(now: number, peer: number): void { this.e.disconnect(now, peer); }
  abort(now: number, peer: number): void { this.e.abort(now, peer); }
  closeAll(now: number): void { this.e.closeAll(now); }
  abortAll(): void { this.e.abortAll(); }
  status(peer: number): number { return this.e.status(peer); }
  token(peer: number): number { return this.e.token(peer); }
  latency(peer: number): number { return this.e.latency(peer); }
  connectionCount(): number { return this.e.connectionCount(); }
  connectionStats(peer: number): Float64Array | null {
    if (!this.e.connectionStats(peer)) return null;
    this.refresh();
    return this.vStats.slice();
  }
  stats(): Float64Array {
    this.e.stats();
    this.refresh();
    return this.vStats.slice();
  }
  countBlocked(bytes: number): void { this.e.countBlocked(bytes); }
  nextTimeout(): number { return this.e.nextTimeout(); }
  setConfig(config: Float64Array): void { viaBinding(() => this.e.setConfig(config)); }
  rootPublicSpki(): Uint8Array { return this.e.rootPublicSpki(); }
}

export function wasmEngines(b: WasmBinding, statsLen: number) {
  const memory = b.wasmMemory();
  return {
    createServer: (config: Float64Array, root: Uint8Array | null, seed?: Uint8Array): Engine =>
      new WasmEngineAdapter(viaBinding(() => b.Engine.server(config, root ?? EMPTY, seed ?? EMPTY)), memory, statsLen),
    createClient: (config: Float64Array, seed?: Uint8Array): Engine =>
      new WasmEngineAdapter(viaBinding(() => b.Engine.client(config, seed ?? EMPTY)), memory, statsLen),
    defaultConfig: () => b.defaultConfig(),
    keys: keyOps(b),
  };
}
