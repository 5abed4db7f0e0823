/**
 * codec: header + message framing, encode and decode of unprotected packets (no crypto), for one
 * message of 64, 512 and 1200 bytes and for 16 messages of 32 bytes, one packet per call and 64.
 *
 * Run alone: `node scripts/run-ts.mjs bench/codec.bench.ts [--quick]`.
 */
import { HEADER_SIZE } from './baseline/index.js';
import { makeInMessages, makeSlots, readInMessages, slotCopies, type InMessage } from './lib/buffers.js';
import { H, HEADER_FIELDS, Status, type CodecImpl } from './lib/impl.js';
import { isMain, runMain } from './lib/main.js';
import {
  batchKey,
  batchLabel,
  filledSlots,
  MULTI_16x32,
  packetBatch,
  sameBytes,
  SINGLE_1200,
  SINGLE_512,
  SINGLE_64,
  SLOT,
  type Shape,
} from './lib/packets.js';
import { expectThat, type BenchCase, type Suite } from './lib/suite.js';

const SHAPES: readonly Shape[] = [SINGLE_64, SINGLE_512, SINGLE_1200, MULTI_16x32];
const BATCHES = [1, 64] as const;

function encodeCase(shape: Shape, batch: number): BenchCase<CodecImpl> {
  const input = packetBatch(shape, batch);
  return {
    id: `encode/${shape.key}/${batchKey(batch)}`,
    title: `encode ${shape.label}, ${batchLabel(batch)}`,
    params: { op: 'encode', messages: shape.sizes.length, messageBytes: shape.sizes[0], batch },
    itemsPerOp: batch,
    itemUnit: 'packet',
    prepare(codec) {
      const out = makeSlots(batch, SLOT);
      return {
        run: () => codec.encode(input.headers, input.msgs, batch, out),
        output: () => slotCopies(out, batch),
      };
    },
    verify([packets]) {
      expectThat(Array.isArray(packets) && packets.length === batch, `expected ${batch} packets`);
      (packets as Uint8Array[]).forEach((p, i) => {
        expectThat(sameBytes(p, input.packets[i]), `packet ${i} differs from the expected framing`);
      });
    },
  };
}

function decodeCase(shape: Shape, batch: number): BenchCase<CodecImpl> {
  const input = packetBatch(shape, batch);
  const perPacket = shape.sizes.length;
  return {
    id: `decode/${shape.key}/${batchKey(batch)}`,
    title: `decode ${shape.label}, ${batchLabel(batch)}`,
    params: { op: 'decode', messages: perPacket, messageBytes: shape.sizes[0], batch },
    itemsPerOp: batch,
    itemUnit: 'packet',
    prepare(codec) {
      const src = filledSlots(input.packets);
      const headers = new Uint32Array(batch * HEADER_FIELDS);
      const status = new Uint8Array(batch);
      const rows = makeInMessages(batch * perPacket);
      let n = 0;
      return {
        run: () => {
          n = codec.decode(src, batch, true, headers, status, rows);
        },
        output: () => ({ status, headers, messages: readInMessages(rows, n, src.buf) }),
      };
    },
    verify([out]) {
      const o = out as { status: Uint8Array; headers: Uint32Array; messages: InMessage[] };
      expectThat(o.status.every((s) => s === Status.OK), `statuses ${Array.from(o.status).join(',')}`);
      expectThat(o.messages.length === batch * perPacket, `${o.messages.length} messages decoded, expected ${batch * perPacket}`);
      for (let i = 0; i < batch; i++) {
        const h = i * HEADER_FIELDS;
        expectThat(o.headers[h + H.SEQ] === i + 1, `packet ${i}: seq ${o.headers[h + H.SEQ]}`);
        expectThat(o.headers[h + H.COUNT] === perPacket, `packet ${i}: count ${o.headers[h + H.COUNT]}`);
        expectThat(o.headers[h + H.LENGTH] === input.packets[i].length - HEADER_SIZE, `packet ${i}: length ${o.headers[h + H.LENGTH]}`);
      }
      o.messages.forEach((m, k) => {
        const spec = input.specs[m.item][k % perPacket];
        expectThat(m.item === Math.floor(k / perPacket) && m.seq === spec.seq && m.type === spec.type, `message ${k}: ${m.item}/${m.seq}/${m.type}`);
        expectThat(sameBytes(m.data, spec.data), `message ${k}: data differ`);
      });
    },
  };
}

export const codecSuite: Suite<CodecImpl> = {
  name: 'codec',
  title: 'codec (header + framing, no crypto)',
  description:
    'Encoding and decoding of unprotected packets: the 20-byte header and the message framing (one message: seq ‖ data; ' +
    'several: len ‖ seq ‖ type ‖ data each). Decode runs the header checks as the server, the length check, and the framing ' +
    'parse, and reports message positions. One item = one packet.',
  part: (impl) => impl.codec,
  cases: SHAPES.flatMap((shape) => BATCHES.flatMap((batch) => [encodeCase(shape, batch), decodeCase(shape, batch)])),
};

if (isMain(import.meta.url)) await runMain([codecSuite], process.argv.slice(2));
