/**
 * The WebAssembly backend's engine adapter: the I/O buffers live in the module's memory and
 * JavaScript reads and writes them through typed-array views, so a datagram crosses the boundary
 * as one `set` into memory and nothing else. Views are rebuilt when the memory grows.
 */
import { LAYOUT } from './abi.generated.js';
import { EngineBase, type RawEngineCommon } from './engine-base.js';
import { keyOps, viaBinding, type KeyExports } from './errors.js';
import type { Binding, Engine } from './types.js';

/** The WebAssembly engine object: the common calls, and buffers inside the module's memory. */
interface WasmEngine extends RawEngineCommon {
  inBufPtr(): number; inBufLen(): number; inMetaPtr(): number; inStatusPtr(): number; inCapacity(): number;
  outBufPtr(): number; outBufLen(): number; outMetaPtr(): number; outMetaLen(): number;
  evBufPtr(): number; evBufLen(): number; statsPtr(): number;
  cmdBufPtr(): number; cmdBufLen(): number; resultsPtr(): number;
  sendBatch(now: number, count: number): number;
  handle(now: number, count: number): number;
  transmit(now: number): number;
  events(): number;
  connectionStats(peer: number): boolean;
  stats(): boolean;
}

/** What the WebAssembly module exports beyond the common `Binding`. */
export interface WasmBinding extends Binding, KeyExports {
  wasmMemory(): WasmMemory;
  layout(): string;
  defaultConfig(): Float64Array;
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

class WasmEngineAdapter extends EngineBase<WasmEngine> implements Engine {
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

  constructor(raw: WasmEngine, private readonly memory: WasmMemory, private readonly statsLen: number) {
    super(raw);
    this.inCapacity = raw.inCapacity();
    this.refresh();
  }

  /** Rebuilds the views if the memory grew (or the event buffer moved). */
  private refresh(): void {
    const buf = this.memory.buffer;
    const evPtr = this.raw.evBufPtr();
    if (buf === this.mem && evPtr === this.evPtr) return;
    this.mem = buf;
    this.evPtr = evPtr;
    this.vIn = new Uint8Array(buf, this.raw.inBufPtr(), this.raw.inBufLen());
    this.vInMeta = new Uint32Array(buf, this.raw.inMetaPtr(), this.inCapacity * LAYOUT.inMetaFields);
    this.vInStatus = new Uint8Array(buf, this.raw.inStatusPtr(), this.inCapacity);
    this.vOut = new Uint8Array(buf, this.raw.outBufPtr(), this.raw.outBufLen());
    this.vOutMeta = new Uint32Array(buf, this.raw.outMetaPtr(), this.raw.outMetaLen() / 4);
    this.vEv = new Uint8Array(buf, evPtr, this.raw.evBufLen());
    this.vStats = new Float64Array(buf, this.raw.statsPtr(), this.statsLen);
    const cmdLen = this.raw.cmdBufLen();
    this.vCmd = new Uint8Array(buf, this.raw.cmdBufPtr(), cmdLen);
    this.vCmdResults = new Int8Array(buf, this.raw.resultsPtr(), cmdLen / LAYOUT.sendHead);
  }

  inView(): Uint8Array { this.refresh(); return this.vIn; }
  inMetaView(): Uint32Array { this.refresh(); return this.vInMeta; }
  inStatusView(): Uint8Array { this.refresh(); return this.vInStatus; }
  outView(): Uint8Array { this.refresh(); return this.vOut; }
  outMetaView(): Uint32Array { this.refresh(); return this.vOutMeta; }
  eventView(): Uint8Array { this.refresh(); return this.vEv; }
  cmdView(): Uint8Array { this.refresh(); return this.vCmd; }
  cmdResultView(): Int8Array { this.refresh(); return this.vCmdResults; }
  sendBatch(now: number, count: number): number { return this.raw.sendBatch(now, count); }

  handle(now: number, count: number): number { return this.raw.handle(now, count); }
  transmit(now: number): number { return this.raw.transmit(now); }
  events(): number { return this.raw.events(); }
  connectionStats(peer: number): Float64Array | null {
    if (!this.raw.connectionStats(peer)) return null;
    this.refresh();
    return this.vStats.slice();
  }
  stats(): Float64Array {
    this.raw.stats();
    this.refresh();
    return this.vStats.slice();
  }
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
