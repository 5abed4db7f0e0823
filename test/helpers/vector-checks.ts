/**
 * Checks a backend against the mpgameserver vectors. Each check returns the list of mismatches
 * (empty = pass), so a test can also prove that a corrupted vector is caught.
 */
import type { Backend } from '../../ts/backend/index.js';
import { hex, toHex } from './backends.js';

const PACKET_TYPES: Record<string, number> = {
  UNKNOWN: 0, CLIENT_HELLO: 1, SERVER_HELLO: 2, CHALLENGE_RESP: 3, KEEP_ALIVE: 4, DISCONNECT: 5, APP: 6, APP_FRAGMENT: 7,
};

interface SeqOpCase { a: number; b: number; result?: number; error?: string }
interface SeqDiffCase { a: number; b: number; diff: number; a_newer_than_b: boolean }
export interface SeqVectors { add: SeqOpCase[]; sub: SeqOpCase[]; diff: SeqDiffCase[]; construct_invalid: { value: number }[] }

export function checkSeq(b: Backend, v: SeqVectors): string[] {
  const bad: string[] = [];
  const op = (name: 'add' | 'sub', c: SeqOpCase) => {
    let got: number | string;
    try {
      got = b.seq[name](c.a, c.b);
    } catch {
      got = 'error';
    }
    const want = c.error ? 'error' : c.result;
    if (got !== want) bad.push(`seq.${name}(${c.a}, ${c.b}) = ${got}, want ${want}`);
  };
  v.add.forEach((c) => op('add', c));
  v.sub.forEach((c) => op('sub', c));
  for (const c of v.diff) {
    const d = b.seq.diff(c.a, c.b);
    if (d !== c.diff) bad.push(`seq.diff(${c.a}, ${c.b}) = ${d}, want ${c.diff}`);
    const n = b.seq.newerThan(c.a, c.b);
    if (n !== c.a_newer_than_b) bad.push(`seq.newerThan(${c.a}, ${c.b}) = ${n}, want ${c.a_newer_than_b}`);
  }
  for (const c of v.construct_invalid) {
    let threw = false;
    try {
      b.seq.next(c.value);
    } catch {
      threw = true;
    }
    if (!threw) bad.push(`seq.next(${c.value}) accepted a value outside 0..65535`);
  }
  return bad;
}

export interface CrcVectors { cases: { data: string; crc32: string }[] }

export function checkCrc(b: Backend, v: CrcVectors): string[] {
  return v.cases
    .map((c) => ({ c, got: b.crc32(hex(c.data)).toString(16).padStart(8, '0') }))
    .filter(({ c, got }) => got !== c.crc32)
    .map(({ c, got }) => `crc32(${c.data}) = ${got}, want ${c.crc32}`);
}

interface HeaderFields { ctime: number; seq: number; ack: number; pkt_type: string; length: number; count: number; ack_bits: string }
interface HeaderEncodeCase extends HeaderFields { sender_is_server: boolean; bytes: string }
interface HeaderDecodeCase { case: string; decoder_is_server: boolean; bytes: string; result: Partial<HeaderFields> & { error?: string; message?: string } }
export interface HeaderVectors { encode: HeaderEncodeCase[]; decode: HeaderDecodeCase[] }

const ERROR_CODES: Record<string, string> = {
  'direction error': 'ERR_HEADER_WRONG_DIRECTION',
  'invalid magic number': 'ERR_HEADER_BAD_MAGIC',
  '8': 'ERR_HEADER_UNKNOWN_TYPE',
  'unpack requires a buffer of 20 bytes': 'ERR_HEADER_TOO_SHORT',
};

export function checkHeader(b: Backend, v: HeaderVectors): string[] {
  const bad: string[] = [];
  for (const c of v.encode) {
    const got = toHex(
      b.encodeHeader({
        toServer: !c.sender_is_server,
        ctime: c.ctime,
        seq: c.seq,
        ack: c.ack,
        type: PACKET_TYPES[c.pkt_type],
        length: c.length,
        count: c.count,
        ackBits: parseInt(c.ack_bits, 16),
      }),
    );
    if (got !== c.bytes) bad.push(`encode ${c.pkt_type} seq=${c.seq}: ${got}, want ${c.bytes}`);
  }
  for (const c of v.decode) {
    const side = c.decoder_is_server ? 'server' : 'client';
    let got: string;
    try {
      const h = b.decodeHeader(hex(c.bytes), side);
      got = JSON.stringify([h.ctime, h.seq, h.ack, h.type, h.length, h.count, h.ackBits.toString(16).padStart(8, '0')]);
    } catch (err) {
      got = `error ${(err as { code?: string }).code}`;
    }
    const r = c.result;
    const want = r.error
      ? `error ${ERROR_CODES[r.message ?? '']}`
      : JSON.stringify([r.ctime, r.seq, r.ack, PACKET_TYPES[r.pkt_type ?? ''], r.length, r.count, r.ack_bits]);
    if (got !== want) bad.push(`decode "${c.case}": ${got}, want ${want}`);
  }
  return bad;
}
