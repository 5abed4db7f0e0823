/**
 * pipeline: a datagram's whole send path (packet + message seqs, header with ack/ack_bits,
 * framing, AES-GCM seal, pending-packet record) and receive path (header decode, open, packet
 * window, ack processing over the pending packets, message parse, message de-dup), on established
 * connections, one connection per call and 64 per call, with one 64 B or 1200 B message per
 * datagram.
 *
 * One operation is one 60 Hz-style exchange on every connection of the batch: each client sends a
 * datagram, its server receives it, each server replies with one, its client receives it. So each
 * datagram is sent and received once, every header acknowledges the peer's latest packet, and the
 * pending sets stay small as in real traffic. One item = one datagram (sent and received): 2 per
 * connection per operation.
 *
 * Run alone: `node scripts/run-ts.mjs bench/pipeline.bench.ts [--quick]`.
 */
import { PacketType } from './baseline/index.js';
import { buildMessages, makeInMessages, makeSlots, range, readInMessages, slotCopies, testBytes, type InMessage } from './lib/buffers.js';
import { Status, type EndpointStats, type PipelineImpl } from './lib/impl.js';
import { isMain, runMain } from './lib/main.js';
import { batchKey, batchLabel, BENCH_KEY, sameBytes, SLOT } from './lib/packets.js';
import { expectThat, type BenchCase, type Suite } from './lib/suite.js';

const PAYLOADS = [64, 1200] as const;
const BATCHES = [1, 64] as const;
/** Simulated clock: starts at 2023-11-14 22:13:20 UTC, one exchange every 16 ms (~60 Hz). */
const START_MS = 1_700_000_000_000;
const TICK_MS = 16;

function statsRow(s: EndpointStats): Record<string, number> {
  return {
    packetsSent: s.packetsSent,
    packetsReceived: s.packetsReceived,
    dropped: s.dropped,
    duplicatePackets: s.duplicatePackets,
    duplicateMessages: s.duplicateMessages,
    messagesDelivered: s.messagesDelivered,
    acked: s.acked,
    timedOut: s.timedOut,
    pending: s.pending,
    ack: s.ack,
    ackBits: s.ackBits >>> 0,
    // the EWMA in f64; rounded so that an implementation keeping seconds instead of ms still agrees
    latencyMs: Math.round(s.latencyMs * 1e6) / 1e6,
  };
}

type ExchangeOutput = {
  up: Uint8Array[];
  down: Uint8Array[];
  statusAtServer: Uint8Array;
  statusAtClient: Uint8Array;
  atServer: InMessage[];
  atClient: InMessage[];
  client: Record<string, number>[];
  server: Record<string, number>[];
};

function exchangeCase(payload: number, batch: number): BenchCase<PipelineImpl> {
  const upData = Array.from({ length: batch }, (_, i) => testBytes(payload, 100 + i));
  const downData = Array.from({ length: batch }, (_, i) => testBytes(payload, 5000 + i));
  return {
    id: `exchange/${payload}B/${batchKey(batch)}`,
    title: `send+receive 1 × ${payload} B, ${batchLabel(batch)}`,
    params: { op: 'exchange', messageBytes: payload, connections: batch, batch },
    itemsPerOp: 2 * batch,
    itemUnit: 'datagram',
    checkRuns: 3,
    prepare(impl) {
      const client = impl.createEndpoints({ key: BENCH_KEY, isServer: false, count: batch });
      const server = impl.createEndpoints({ key: BENCH_KEY, isServer: true, count: batch });
      const conns = range(batch);
      const up = buildMessages(upData.map((data) => [{ type: PacketType.APP, data }]));
      const down = buildMessages(downData.map((data) => [{ type: PacketType.APP, data }]));
      const c2s = makeSlots(batch, SLOT);
      const s2c = makeSlots(batch, SLOT);
      const plainAtServer = makeSlots(batch, SLOT);
      const plainAtClient = makeSlots(batch, SLOT);
      const statusAtServer = new Uint8Array(batch);
      const statusAtClient = new Uint8Array(batch);
      const deliveredAtServer = makeInMessages(batch);
      const deliveredAtClient = makeInMessages(batch);
      let now = START_MS;
      let nServer = 0;
      let nClient = 0;
      return {
        run() {
          client.send(conns, batch, up, now, c2s);
          nServer = server.receive(conns, batch, c2s, now, plainAtServer, statusAtServer, deliveredAtServer);
          server.send(conns, batch, down, now, s2c);
          nClient = client.receive(conns, batch, s2c, now, plainAtClient, statusAtClient, deliveredAtClient);
          now += TICK_MS;
        },
        output(): ExchangeOutput {
          return {
            up: slotCopies(c2s, batch),
            down: slotCopies(s2c, batch),
            statusAtServer,
            statusAtClient,
            atServer: readInMessages(deliveredAtServer, nServer, plainAtServer.buf),
            atClient: readInMessages(deliveredAtClient, nClient, plainAtClient.buf),
            client: Array.from(conns, (i) => statsRow(client.stats(i))),
            server: Array.from(conns, (i) => statsRow(server.stats(i))),
          };
        },
      };
    },
    verify(outs) {
      outs.forEach((out, k) => {
        const o = out as ExchangeOutput;
        const exchange = `exchange ${k + 1}`;
        expectThat(o.statusAtServer.every((s) => s === Status.OK), `${exchange}: server statuses ${Array.from(o.statusAtServer).join(',')}`);
        expectThat(o.statusAtClient.every((s) => s === Status.OK), `${exchange}: client statuses ${Array.from(o.statusAtClient).join(',')}`);
        for (const [side, got, data] of [['server', o.atServer, upData], ['client', o.atClient, downData]] as const) {
          expectThat(got.length === batch, `${exchange}: ${got.length} messages delivered at the ${side}, expected ${batch}`);
          got.forEach((m, i) => {
            expectThat(m.item === i && m.seq === k + 1 && m.type === PacketType.APP, `${exchange}: ${side} message ${i} is ${m.item}/${m.seq}/${m.type}`);
            expectThat(sameBytes(m.data, data[i]), `${exchange}: ${side} message ${i}: data differ`);
          });
        }
        for (const c of o.client) {
          expectThat(c.acked === k + 1 && c.pending === 0 && c.packetsSent === k + 1 && c.ack === k + 1, `${exchange}: client ${JSON.stringify(c)}`);
        }
        for (const s of o.server) {
          expectThat(s.acked === k && s.pending === 1 && s.packetsReceived === k + 1 && s.ack === k + 1, `${exchange}: server ${JSON.stringify(s)}`);
        }
      });
    },
  };
}

export const pipelineSuite: Suite<PipelineImpl> = {
  name: 'pipeline',
  title: 'pipeline (per-connection send + receive)',
  description:
    'Established connections exchanging one APP message per datagram, like a 60 Hz game tick: per operation every client sends one ' +
    'datagram, its server receives it, replies with one, and the client receives that. The send path assigns the packet and message ' +
    'seqs, writes the header with ack/ack_bits from the packet window, frames, seals (AES-128-GCM) and records the packet as pending; ' +
    'the receive path decodes the header, opens, inserts into the packet window, processes acks over the pending packets (acks, ' +
    'timeouts, latency EWMA), parses the messages and de-duplicates them. "1 per call" uses one connection pair; "64 per call" 64 ' +
    'pairs, each call handling one datagram per connection. One item = one datagram sent and received.',
  part: (impl) => impl.pipeline,
  cases: PAYLOADS.flatMap((payload) => BATCHES.map((batch) => exchangeCase(payload, batch))),
};

if (isMain(import.meta.url)) await runMain([pipelineSuite], process.argv.slice(2));
