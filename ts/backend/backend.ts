import { DecodeError } from '../errors.js';
import type { Backend, BackendName, Binding, WireHeader } from './types.js';

const HEADER_ERRORS: Record<number, [code: string, message: string]> = {
  1: ['ERR_HEADER_TOO_SHORT', 'datagram shorter than the 20-byte header'],
  2: ['ERR_HEADER_UNKNOWN_TYPE', 'unknown packet type'],
  3: ['ERR_HEADER_BAD_MAGIC', 'invalid magic number'],
  4: ['ERR_HEADER_WRONG_DIRECTION', 'direction error'],
};

/** Wraps the raw exports of either binding into the `Backend` API. */
export function createBackend(name: BackendName, path: string, binding: Binding): Backend {
  const fields = new Uint32Array(8);
  const fieldBytes = new Uint8Array(fields.buffer);
  return {
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
        const [code, message] = HEADER_ERRORS[rc] ?? ['ERR_HEADER', `header error ${rc}`];
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
