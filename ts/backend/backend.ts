import { BackendLoadError, DecodeError, type ErrorCode } from '../errors.js';
import { nativeEngines, type NativeBinding } from './native.js';
import type { Backend, BackendName, Binding, EngineLayout, WireHeader } from './types.js';
import { wasmEngines, type WasmBinding } from './wasm.js';

/** The layouts this TypeScript was written against; a binding built from other sources is refused. */
const EXPECTED_EVENT_HEAD = 16;
const EXPECTED_TRANSMIT_META = 12;
const EXPECTED_CONFIG = [
  'sendInterval', 'keepAliveInterval', 'messageTimeout', 'connectionTimeout', 'tempConnectionTimeout',
  'handshakeRetransmit', 'connectTimeout', 'maxDatagram', 'maxConnections', 'maxPendingHandshakes',
  'handshakesPerSecond', 'messageWindow', 'packetWindow', 'maxCtimeAge', 'maxMessageSize',
  'maxReassemblyBytesPerConnection', 'maxReassemblyBytesTotal', 'maxQueuedMessages', 'unixMillisAtZero',
];

function checkLayout(name: BackendName, path: string, json: string): EngineLayout {
  const layout = JSON.parse(json) as EngineLayout;
  const same =
    layout.eventHead === EXPECTED_EVENT_HEAD &&
    layout.transmitMeta === EXPECTED_TRANSMIT_META &&
    JSON.stringify(layout.config) === JSON.stringify(EXPECTED_CONFIG);
  if (!same) {
    throw new BackendLoadError(
      `the ${name} backend at ${path} was built from other sources than this TypeScript (flat layouts differ)`,
    );
  }
  return layout;
}

const HEADER_ERRORS: Record<number, [code: ErrorCode, message: string]> = {
  1: ['ERR_HEADER_TOO_SHORT', 'datagram shorter than the 20-byte header'],
  2: ['ERR_HEADER_UNKNOWN_TYPE', 'unknown packet type'],
  3: ['ERR_HEADER_BAD_MAGIC', 'invalid magic number'],
  4: ['ERR_HEADER_WRONG_DIRECTION', 'direction error'],
};

/** Wraps the raw exports of either binding into the `Backend` API. */
export function createBackend(name: BackendName, path: string, binding: Binding): Backend {
  const fields = new Uint32Array(8);
  const fieldBytes = new Uint8Array(fields.buffer);
  const raw = binding as Binding & { layout(): string };
  const layout = checkLayout(name, path, raw.layout());
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
        throw new DecodeError(code, message);
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
