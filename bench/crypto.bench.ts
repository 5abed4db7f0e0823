/**
 * crypto: AES-128-GCM per datagram (nonce = header[0:12], AAD = header, ciphertext ‖ tag), for
 * one message of 64 and 1200 bytes: seal, open, and encode+seal (a datagram's whole send-side
 * work without connection state, the number compared with `openssl speed`), one datagram per
 * call and 64.
 *
 * Run alone: `node scripts/run-ts.mjs bench/crypto.bench.ts [--quick]`.
 */
import { createCipheriv } from 'node:crypto';
import { HEADER_SIZE, TAG_SIZE } from './baseline/index.js';
import { makeSlots, slotCopies } from './lib/buffers.js';
import { Status, type CryptoImpl } from './lib/impl.js';
import { isMain, runMain } from './lib/main.js';
import {
  batchKey,
  batchLabel,
  BENCH_KEY,
  filledSlots,
  packetBatch,
  referenceOpen,
  sameBytes,
  SINGLE_1200,
  SINGLE_64,
  SLOT,
  type Shape,
} from './lib/packets.js';
import { expectThat, type BenchCase, type Suite } from './lib/suite.js';

const SHAPES: readonly Shape[] = [SINGLE_64, SINGLE_1200];
const BATCHES = [1, 64] as const;

/** Seals with node:crypto directly (reference input for the open cases). */
function referenceSeal(packet: Buffer): Buffer {
  const header = packet.subarray(0, HEADER_SIZE);
  const cipher = createCipheriv('aes-128-gcm', BENCH_KEY, header.subarray(0, 12), { authTagLength: TAG_SIZE });
  cipher.setAAD(header);
  return Buffer.concat([header, cipher.update(packet.subarray(HEADER_SIZE)), cipher.final(), cipher.getAuthTag()]);
}

function expectSealed(outs: readonly unknown[], packets: readonly Buffer[]): void {
  const datagrams = outs[0] as Uint8Array[];
  expectThat(datagrams.length === packets.length, `${datagrams.length} datagrams, expected ${packets.length}`);
  datagrams.forEach((d, i) => {
    expectThat(d.length === packets[i].length + TAG_SIZE, `datagram ${i}: ${d.length} bytes`);
    expectThat(sameBytes(referenceOpen(d), packets[i]), `datagram ${i} does not open to its packet`);
  });
}

function sealCase(shape: Shape, batch: number): BenchCase<CryptoImpl> {
  const input = packetBatch(shape, batch);
  return {
    id: `seal/${shape.key}/${batchKey(batch)}`,
    title: `seal ${shape.label}, ${batchLabel(batch)}`,
    params: { op: 'seal', plaintextBytes: input.packets[0].length - HEADER_SIZE, batch },
    itemsPerOp: batch,
    itemUnit: 'datagram',
    prepare(crypto) {
      const session = crypto.createSession(BENCH_KEY);
      const src = filledSlots(input.packets);
      const out = makeSlots(batch, SLOT);
      return { run: () => session.seal(src, batch, out), output: () => slotCopies(out, batch) };
    },
    verify: (outs) => expectSealed(outs, input.packets),
  };
}

function openCase(shape: Shape, batch: number): BenchCase<CryptoImpl> {
  const input = packetBatch(shape, batch);
  const datagrams = input.packets.map(referenceSeal);
  return {
    id: `open/${shape.key}/${batchKey(batch)}`,
    title: `open ${shape.label}, ${batchLabel(batch)}`,
    params: { op: 'open', plaintextBytes: input.packets[0].length - HEADER_SIZE, batch },
    itemsPerOp: batch,
    itemUnit: 'datagram',
    prepare(crypto) {
      const session = crypto.createSession(BENCH_KEY);
      const src = filledSlots(datagrams);
      const out = makeSlots(batch, SLOT);
      const status = new Uint8Array(batch);
      let opened = 0;
      return {
        run: () => {
          opened = session.open(src, batch, out, status);
        },
        output: () => ({ opened, status, plaintexts: slotCopies(out, batch) }),
      };
    },
    verify([out]) {
      const o = out as { opened: number; status: Uint8Array; plaintexts: Uint8Array[] };
      expectThat(o.opened === batch && o.status.every((s) => s === Status.OK), `opened ${o.opened}, statuses ${Array.from(o.status).join(',')}`);
      o.plaintexts.forEach((p, i) => expectThat(sameBytes(p, input.packets[i]), `plaintext ${i} differs`));
    },
  };
}

function encodeSealCase(shape: Shape, batch: number): BenchCase<CryptoImpl> {
  const input = packetBatch(shape, batch);
  return {
    id: `encode-seal/${shape.key}/${batchKey(batch)}`,
    title: `encode+seal ${shape.label}, ${batchLabel(batch)}`,
    params: { op: 'encode-seal', plaintextBytes: input.packets[0].length - HEADER_SIZE, batch },
    itemsPerOp: batch,
    itemUnit: 'datagram',
    prepare(crypto) {
      const session = crypto.createSession(BENCH_KEY);
      const out = makeSlots(batch, SLOT);
      return { run: () => session.encodeSeal(input.headers, input.msgs, batch, out), output: () => slotCopies(out, batch) };
    },
    verify: (outs) => expectSealed(outs, input.packets),
  };
}

export const cryptoSuite: Suite<CryptoImpl> = {
  name: 'crypto',
  title: 'crypto (AES-128-GCM per datagram)',
  description:
    'AES-128-GCM as the protocol uses it: nonce = header[0:12], AAD = the 20-byte header, output header ‖ ciphertext ‖ 16-byte tag. ' +
    '`seal` and `open` take a packet with one 64 B or 1200 B message (66 / 1202 plaintext bytes); `encode+seal` builds the header and ' +
    'framing and seals in one go, which is the per-datagram time compared with `openssl speed -aead` at the same plaintext size. ' +
    'The key is prepared once per session. One item = one datagram.',
  part: (impl) => impl.crypto,
  cases: SHAPES.flatMap((shape) =>
    BATCHES.flatMap((batch) => [sealCase(shape, batch), openCase(shape, batch), encodeSealCase(shape, batch)]),
  ),
};

if (isMain(import.meta.url)) await runMain([cryptoSuite], process.argv.slice(2));
