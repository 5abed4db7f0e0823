import { BackendLoadError, DecodeError, type ErrorCode } from '../errors.js';
import { ABI_JSON, CONFIG_FIELDS, HEADER_ERRORS, STATS_FIELDS } from './abi.generated.js';
import { nativeEngines, type NativeBinding } from './native.js';
import type { Backend, BackendName, Binding, EngineLayout, WireHeader } from './types.js';
import { wasmEngines, type WasmBinding } from './wasm.js';

/**
 * Refuses a binding built from other tables than this TypeScript: every number that crosses the
 * boundary is defined once in Rust (`crates/abi/src/tables.rs`), generated into
 * `abi.generated.ts`, and reported by the binding's `layout()`; the two must be identical.
 */
function checkLayout(name: BackendName, path: string, json: string): EngineLayout {
  let same = false;
  try {
    same = JSON.stringify(JSON.parse(json)) === JSON.stringify(JSON.parse(ABI_JSON));
  } catch {
    same = false;
  }
  if (!same) {
    throw new BackendLoadError(
      `the ${name} backend at ${path} was built from other sources than this TypeScript (its tables of codes and layouts differ)`,
    );
  }
  return { config: CONFIG_FIELDS, stats: STATS_FIELDS };
}

/** Wraps the raw exports of either binding into the `Backend` API. */
export function createBackend(name: BackendName, path: string, binding: Binding): Backend {
  const fields = new Uint32Array(8);
  const raw = binding as Binding & { layout(): string };
  const layout = checkLayout(name, path, raw.layout());
  const fieldBytes = new Uint8Array(fields.buffer);
  const native = name === 'native' ? nativeEngines(binding as NativeBinding, layout.stats.length) : null;
  const engines = native ?? wasmEngines(binding as WasmBinding, layout.stats.length);
  return {
    layout,
    defaultConfig: engines.defaultConfig,
    createServer: engines.createServer,
    createClient: engines.createClient,
    keys: engines.keys,
    createThreadedServer: native?.createThreadedServer,
    name,
    path,
    binding,
    coreVersion: binding.coreVersion(),
    seq: {
      next: (a) => binding.seqNext(a),
      add: (a, n) => binding.seqAdd(a, n),
      sub: (a, n) => binding.seqSub(a, n),
      diff: (a, b) => binding.seqDiff(a, b),
      newerThan: (a, b) => binding.seqNewerThan(a, b),
    },
    crc32: (data) => binding.crc32(data) >>> 0,
    encodeHeader(h: WireHeader): Uint8Array {
      fields[0] = h.toServer ? 1 : 0;
      fields[1] = h.ctime;
      fields[2] = h.seq;
      fields[3] = h.ack;
      fields[4] = h.type;
      fields[5] = h.length;
      fields[6] = h.count;
      fields[7] = h.ackBits;
      const out = new Uint8Array(20);
      binding.encodeHeader(fields, out);
      return out;
    },
    decodeHeader(datagram: Uint8Array, side: 'server' | 'client'): WireHeader {
      const rc = binding.decodeHeader(datagram, side === 'server', fieldBytes);
      if (rc !== 0) {
        const [code, message] = HEADER_ERRORS[rc] ?? ['ERR_HEADER_BAD_MAGIC', `header error ${rc}`];
        throw new DecodeError(code as ErrorCode, message);
      }
      return {
        toServer: fields[0] === 1,
        ctime: fields[1],
        seq: fields[2],
        ack: fields[3],
        type: fields[4],
        length: fields[5],
        count: fields[6],
        ackBits: fields[7],
      };
    },
  };
}
