/**
 * The plain TypeScript baseline (bench/baseline/) against mpgameserver's own vectors: every
 * benchmark ratio is taken against it, and every other implementation is checked against its
 * output, so it has to be byte-exact.
 */
import { describe, expect, it } from 'vitest';
import {
  crc32,
  decodePacket,
  encodeHeader,
  encodePacket,
  open,
  PacketType,
  PlainConnection,
  readHeader,
  seal,
  seqAdd,
  seqDiff,
  seqNewerThan,
  seqNext,
  seqSub,
  SeqWindow,
  WireError,
  type Message,
  type WireErrorCode,
} from '../../bench/baseline/index.js';
import { vector } from '../helpers/backends.js';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const TYPE_IDS: Record<string, number> = PacketType;

interface VecMessage {
  msg_seq: number;
  type: string;
  type_id: number;
  payload: string;
}
interface VecDecoded {
  ctime: number;
  seq: number;
  ack: number;
  pkt_type_id: number;
  length: number;
  count: number;
  ack_bits: string;
  to_server: boolean;
  encrypted: boolean;
  payload_plain: string;
  messages: VecMessage[];
}
interface FramingVectors {
  cases: { case: string; sender_is_server: boolean; key: string | null; header: string; payload_plain: string; datagram: string; len: number; decoded: VecDecoded }[];
  decode_errors: { case: string; datagram: string; key: string | null; result: Partial<VecDecoded> & { error?: string; message?: string } }[];
}
interface HeaderVectors {
  encode: { sender_is_server: boolean; ctime: number; pkt_type: string; seq: number; ack: number; ack_bits: string; length: number; count: number; bytes: string }[];
  decode: { case: string; decoder_is_server: boolean; bytes: string; result: { ctime?: number; seq?: number; ack?: number; pkt_type_id?: number; length?: number; count?: number; ack_bits?: string; error?: string; message?: string } }[];
}
interface CryptoVectors {
  aes_gcm_packet_client_to_server: { key: string; header: string; 'plaintext(payload)': string; ciphertext: string; tag: string; datagram: string };
  aes_gcm_packet_server_to_client_same_fields: { datagram: string; nonce: string };
}
interface SeqVectors {
  add: { a: number; b: number; result?: number; error?: string }[];
  sub: { a: number; b: number; result?: number; error?: string }[];
  diff: { a: number; b: number; diff: number; a_newer_than_b: boolean }[];
}
interface BitfieldVectors {
  sequences: { nbits: number; steps: { op: 'insert' | 'contains' | 'set'; seq?: number; result?: string | boolean; current?: number; bits?: string }[] }[];
}
interface AckVectors {
  cases: { case: string; pending?: number[]; pending_sent_at?: Record<string, number>; now?: number; hdr_ack: number; hdr_ack_bits: string; acked: number[]; timed_out: number[]; still_pending: number[] }[];
  latency_ewma: { sent: number; acked_at: number; latency_after: number }[];
}

const framing = vector<FramingVectors>('framing.json');
const header = vector<HeaderVectors>('header.json');
const cryptoV = vector<CryptoVectors>('crypto.json');
const seqV = vector<SeqVectors>('seqnum.json');
const crcV = vector<{ cases: { data: string; crc32: string }[] }>('crc32.json');
const bitfield = vector<BitfieldVectors>('bitfield.json');
const ack = vector<AckVectors>('ack.json');

function wireCode(fn: () => unknown): WireErrorCode | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof WireError) return err.code;
    throw err;
  }
}

describe('baseline: header.json', () => {
  it.each(header.encode)('encodes $pkt_type seq=$seq', (c) => {
    const bytes = encodeHeader({
      toServer: !c.sender_is_server,
      ctime: c.ctime,
      seq: c.seq,
      ack: c.ack,
      type: TYPE_IDS[c.pkt_type],
      length: c.length,
      count: c.count,
      ackBits: parseInt(c.ack_bits, 16),
    });
    expect(bytes.toString('hex')).toBe(c.bytes);
  });

  const ERRORS: Record<string, WireErrorCode> = {
    'direction error': 'ERR_HEADER_WRONG_DIRECTION',
    'invalid magic number': 'ERR_HEADER_BAD_MAGIC',
    '8': 'ERR_HEADER_UNKNOWN_TYPE',
    'unpack requires a buffer of 20 bytes': 'ERR_HEADER_TOO_SHORT',
  };
  it.each(header.decode)('decodes: $case', (c) => {
    const buf = hex(c.bytes);
    if (c.result.error) {
      expect(wireCode(() => readHeader(buf, c.decoder_is_server))).toBe(ERRORS[c.result.message ?? '']);
      return;
    }
    const h = readHeader(buf, c.decoder_is_server);
    expect(h).toEqual({
      toServer: c.decoder_is_server,
      ctime: c.result.ctime,
      seq: c.result.seq,
      ack: c.result.ack,
      type: c.result.pkt_type_id,
      length: c.result.length,
      count: c.result.count,
      ackBits: parseInt(c.result.ack_bits ?? '0', 16),
    });
  });
});

describe('baseline: framing.json', () => {
  it.each(framing.cases)('encodes byte for byte: $case', (c) => {
    const d = c.decoded;
    const messages: Message[] = d.messages.map((m) => ({ seq: m.msg_seq, type: m.type_id, data: hex(m.payload) }));
    const datagram = encodePacket(
      { toServer: d.to_server, ctime: d.ctime, seq: d.seq, ack: d.ack, ackBits: parseInt(d.ack_bits, 16), type: d.pkt_type_id },
      messages,
      c.key === null ? null : hex(c.key),
    );
    expect(datagram.toString('hex')).toBe(c.datagram);
    expect(datagram.length).toBe(c.len);
    expect(datagram.subarray(0, 20).toString('hex')).toBe(c.header);
  });

  it.each(framing.cases)('decodes: $case', (c) => {
    const d = c.decoded;
    const p = decodePacket(hex(c.datagram), d.to_server, c.key === null ? null : hex(c.key));
    expect(p.encrypted).toBe(d.encrypted);
    expect(p.payload.toString('hex')).toBe(d.payload_plain);
    expect(p.header).toEqual({
      toServer: d.to_server,
      ctime: d.ctime,
      seq: d.seq,
      ack: d.ack,
      type: d.pkt_type_id,
      length: d.length,
      count: d.count,
      ackBits: parseInt(d.ack_bits, 16),
    });
    expect(p.messages.map((m) => ({ seq: m.seq, type: m.type, data: m.data.toString('hex') }))).toEqual(
      d.messages.map((m) => ({ seq: m.msg_seq, type: m.type_id, data: m.payload })),
    );
  });

  const EXPECTED: Record<string, WireErrorCode | 'ok'> = {
    'CRC datagram with flipped payload byte': 'ERR_AUTH',
    'CRC datagram truncated (CRC missing)': 'ERR_AUTH',
    'length field (bytes 13..14) larger than datagram': 'ERR_LENGTH',
    'encrypted datagram with flipped header byte (AAD)': 'ERR_AUTH',
    'encrypted datagram with flipped tag byte': 'ERR_AUTH',
    'encrypted datagram decoded without key (falls back to CRC check)': 'ERR_AUTH',
    'encrypted datagram + 3 trailing junk bytes (ignored)': 'ok',
  };
  it.each(framing.decode_errors)('decode error: $case', (c) => {
    expect(Object.keys(EXPECTED)).toContain(c.case);
    const key = c.key === null ? null : hex(c.key);
    expect(wireCode(() => decodePacket(hex(c.datagram), true, key))).toBe(EXPECTED[c.case]);
    if (!c.result.error) {
      const p = decodePacket(hex(c.datagram), true, key);
      expect(p.payload.toString('hex')).toBe(c.result.payload_plain);
      expect(p.messages.map((m) => m.data.toString('hex'))).toEqual((c.result.messages ?? []).map((m) => m.payload));
    }
  });
});

describe('baseline: crypto.json AES-128-GCM packet', () => {
  const v = cryptoV.aes_gcm_packet_client_to_server;
  const key = hex(v.key);

  it('seals to the vector datagram (nonce = header[0:12], AAD = header)', () => {
    const d = seal(key, hex(v.header), hex(v['plaintext(payload)']));
    expect(d.toString('hex')).toBe(v.datagram);
    expect(d.toString('hex')).toBe(v.header + v.ciphertext + v.tag);
  });

  it('the server-to-client packet with the same fields differs only by the direction byte', () => {
    const s2c = cryptoV.aes_gcm_packet_server_to_client_same_fields;
    const headerS2C = hex(v.header);
    headerS2C[3] = 0x43; // 'C'
    expect(headerS2C.subarray(0, 12).toString('hex')).toBe(s2c.nonce);
    expect(seal(key, headerS2C, hex(v['plaintext(payload)'])).toString('hex')).toBe(s2c.datagram);
  });

  it('opens the vector datagram and refuses a modified one', () => {
    expect(open(key, hex(v.datagram)).toString('hex')).toBe(v['plaintext(payload)']);
    const bad = hex(v.datagram);
    bad[bad.length - 1] ^= 1;
    expect(wireCode(() => open(key, bad))).toBe('ERR_AUTH');
  });
});

describe('baseline: crc32.json', () => {
  it.each(crcV.cases)('crc32($data)', (c) => {
    expect(crc32(hex(c.data)).toString(16).padStart(8, '0')).toBe(c.crc32);
  });
});

describe('baseline: seqnum.json', () => {
  it('add and sub fold once on the 1..65535 ring, and throw past it', () => {
    for (const [name, fn, cases] of [['add', seqAdd, seqV.add], ['sub', seqSub, seqV.sub]] as const) {
      for (const c of cases) {
        if (c.error) expect(() => fn(c.a, c.b), `${name}(${c.a}, ${c.b})`).toThrow(RangeError);
        else expect(fn(c.a, c.b), `${name}(${c.a}, ${c.b})`).toBe(c.result);
      }
    }
  });

  it('diff and newer_than', () => {
    expect(seqV.diff.length).toBeGreaterThan(100);
    for (const c of seqV.diff) {
      expect(seqDiff(c.a, c.b), `diff(${c.a}, ${c.b})`).toBe(c.diff);
      expect(seqNewerThan(c.a, c.b), `newer(${c.a}, ${c.b})`).toBe(c.a_newer_than_b);
    }
  });

  it('next skips 0', () => {
    expect([seqNext(0), seqNext(1), seqNext(65534), seqNext(65535)]).toEqual([1, 2, 65535, 1]);
  });
});

describe('baseline: bitfield.json (packet and message windows)', () => {
  it.each(bitfield.sequences.map((s, i) => [i, s] as const))('sequence %i', (_, s) => {
    const w = new SeqWindow(s.nbits);
    s.steps.forEach((step, k) => {
      const at = `step ${k}: ${step.op} ${step.seq ?? ''}`;
      if (step.op === 'set') {
        w.set(step.current ?? 0, step.bits ?? '0');
      } else if (step.op === 'insert') {
        expect(w.insert(step.seq ?? 0) ? 'ok' : 'duplicate', at).toBe(step.result);
        expect(w.current, at).toBe(step.current);
        expect(w.toHex(), at).toBe(step.bits);
      } else {
        expect(w.contains(step.seq ?? 0), at).toBe(step.result);
      }
    });
  });
});

describe('baseline: ack.json (ack processing over pending packets)', () => {
  it.each(ack.cases)('$case', (c) => {
    const conn = new PlainConnection({ key: new Uint8Array(16), isServer: true });
    const nowMs = (c.now ?? 0) * 1000;
    if (c.pending_sent_at) {
      for (const [seq, at] of Object.entries(c.pending_sent_at)) conn.trackPending(Number(seq), at * 1000);
    } else {
      for (const seq of c.pending ?? []) conn.trackPending(seq, nowMs);
    }
    const acked = conn.processAcks(c.hdr_ack, parseInt(c.hdr_ack_bits, 16), nowMs);
    expect([...acked].sort((a, b) => a - b)).toEqual([...c.acked].sort((a, b) => a - b));
    expect(conn.stats.timedOut).toBe(c.timed_out.length);
    expect(conn.pendingSeqs().sort((a, b) => a - b)).toEqual([...c.still_pending].sort((a, b) => a - b));
  });

  it('latency EWMA (α = 0.1 over rtt/2)', () => {
    const conn = new PlainConnection({ key: new Uint8Array(16), isServer: true });
    ack.latency_ewma.forEach((step, i) => {
      conn.trackPending(i + 1, step.sent * 1000);
      expect(conn.processAcks(i + 1, 0, step.acked_at * 1000)).toEqual([i + 1]);
      expect(conn.latency).toBeCloseTo(step.latency_after, 12);
    });
  });
});

describe('baseline: the connection pipeline', () => {
  const key = hex('000102030405060708090a0b0c0d0e0f');
  const T0 = 1_700_000_000_000;
  const msg = (text: string): Message => ({ seq: 0, type: PacketType.APP, data: Buffer.from(text) });
  const texts = (r: ReturnType<PlainConnection['receive']>): string[] => (r.ok ? r.messages.map((m) => m.data.toString()) : []);

  it('a round trip delivers each message once and acks the packets that carried them', () => {
    const client = new PlainConnection({ key, isServer: false });
    const server = new PlainConnection({ key, isServer: true });

    const d1 = client.send([msg('hello'), msg('world')], T0);
    expect(d1.subarray(0, 4).toString()).toBe('FSOS');
    const r1 = server.receive(d1, T0 + 5);
    expect(r1.ok && r1.header).toMatchObject({ seq: 1, ack: 0, count: 2, type: PacketType.APP });
    expect(texts(r1)).toEqual(['hello', 'world']);
    expect(r1.ok && r1.messages.map((m) => m.seq)).toEqual([1, 2]);

    const d2 = server.send([msg('echo')], T0 + 10);
    expect(d2.subarray(0, 4).toString()).toBe('FSOC');
    const r2 = client.receive(d2, T0 + 20);
    expect(r2.ok && r2.header).toMatchObject({ seq: 1, ack: 1, ackBits: 0 });
    expect(texts(r2)).toEqual(['echo']);
    expect(client.pendingCount).toBe(0);
    expect(client.stats.acked).toBe(1);
    expect(client.latency).toBeCloseTo(0.1 * (0.02 / 2), 12);

    // the client's next packet (a keep-alive) acks the server's
    const d3 = client.send([], T0 + 30);
    const r3 = server.receive(d3, T0 + 31);
    expect(r3.ok && r3.header).toMatchObject({ seq: 2, ack: 1, type: PacketType.KEEP_ALIVE, count: 0, length: 0 });
    expect(d3.length).toBe(36);
    expect(server.pendingCount).toBe(0);
    expect(server.packetWindow.current).toBe(2);
    expect(server.packetWindow.bits32).toBe(0x80000000);
  });

  it('drops a replayed datagram and de-duplicates a re-sent message', () => {
    const client = new PlainConnection({ key, isServer: false });
    const server = new PlainConnection({ key, isServer: true });
    const m = msg('once');
    const d1 = client.send([m], T0);
    expect(texts(server.receive(d1, T0))).toEqual(['once']);
    expect(server.receive(d1, T0)).toEqual({ ok: false, code: 'ERR_DUPLICATE' });

    // re-send of the same message seq in a new packet (what RETRY_ON_TIMEOUT does)
    const resend = Buffer.alloc(PlainConnection.datagramLength([m]));
    const before = client.messageSeq;
    client.messageSeq = m.seq - 1;
    client.sendInto([m], T0 + 100, resend);
    client.messageSeq = before;
    const r = server.receive(resend, T0 + 100);
    expect(r.ok && r.header.seq).toBe(2);
    expect(texts(r)).toEqual([]);
    expect(server.stats).toMatchObject({ duplicatePackets: 1, duplicateMessages: 1, messagesDelivered: 1, packetsReceived: 2 });
  });

  it('drops forged, truncated and wrong-direction datagrams without changing state', () => {
    const client = new PlainConnection({ key, isServer: false });
    const server = new PlainConnection({ key, isServer: true });
    const d = client.send([msg('x')], T0);
    const forged = Buffer.from(d);
    forged[25] ^= 0x80;
    expect(server.receive(forged, T0)).toEqual({ ok: false, code: 'ERR_AUTH' });
    expect(server.receive(d.subarray(0, d.length - 1), T0)).toEqual({ ok: false, code: 'ERR_AUTH' });
    expect(server.receive(d.subarray(0, 19), T0)).toEqual({ ok: false, code: 'ERR_HEADER_TOO_SHORT' });
    expect(client.receive(d, T0)).toEqual({ ok: false, code: 'ERR_HEADER_WRONG_DIRECTION' });
    expect(server.packetWindow.current).toBe(0);
    expect(server.stats.dropped).toBe(3);
    expect(texts(server.receive(d, T0))).toEqual(['x']);
  });

  it('times out a pending packet after 1 s at ack-processing time', () => {
    const client = new PlainConnection({ key, isServer: false });
    const server = new PlainConnection({ key, isServer: true });
    client.send([msg('lost')], T0); // never delivered
    const d = server.send([], T0 + 1500); // acks nothing of the client's
    client.receive(d, T0 + 1500);
    expect(client.stats).toMatchObject({ timedOut: 1, acked: 0 });
    expect(client.pendingCount).toBe(0);
  });

  it('refuses a packet over the 1434-byte budget and 256 messages', () => {
    const c = new PlainConnection({ key, isServer: false });
    expect(wireCode(() => c.send([{ seq: 0, type: PacketType.APP, data: Buffer.alloc(1433) }], T0))).toBe('ERR_TOO_LARGE');
    expect(wireCode(() => c.send(Array.from({ length: 256 }, () => msg('')), T0))).toBe('ERR_TOO_LARGE');
    expect(c.packetSeq).toBe(0);
    expect(wireCode(() => c.send([{ seq: 0, type: PacketType.APP, data: Buffer.alloc(1432) }], T0))).toBe('ok');
  });
});
