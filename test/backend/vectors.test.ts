import { describe, expect, it } from 'vitest';
import { loadBackend } from '../../ts/backend/index.js';
import { BACKENDS, vector } from '../helpers/backends.js';
import { checkCrc, checkHeader, checkSeq, type CrcVectors, type HeaderVectors, type SeqVectors } from '../helpers/vector-checks.js';

const seq = vector<SeqVectors>('seqnum.json');
const crc = vector<CrcVectors>('crc32.json');
const header = vector<HeaderVectors>('header.json');

describe.each(BACKENDS)('mpgameserver vectors on the %s backend', (name) => {
  const backend = loadBackend({ backend: name });

  it('loads the backend it was asked for', () => {
    expect(backend.name).toBe(name);
  });

  it('seqnum.json: add, sub, diff, newer_than, invalid values', () => {
    expect(seq.diff.length).toBeGreaterThan(100);
    expect(checkSeq(backend, seq)).toEqual([]);
  });

  it('crc32.json', () => {
    expect(checkCrc(backend, crc)).toEqual([]);
  });

  it('header.json: encode, decode and every decode error', () => {
    expect(checkHeader(backend, header)).toEqual([]);
  });

  it('a deliberately wrong vector makes each check fail', () => {
    const wrongSeq = structuredClone(seq);
    wrongSeq.diff[0].diff += 1;
    expect(checkSeq(backend, wrongSeq)).toHaveLength(1);

    const wrongCrc = structuredClone(crc);
    wrongCrc.cases[1].crc32 = 'cbf43927';
    expect(checkCrc(backend, wrongCrc)).toHaveLength(1);

    const wrongHeader = structuredClone(header);
    wrongHeader.encode[0].bytes = wrongHeader.encode[0].bytes.replace(/^46534f53/, '46534f43');
    wrongHeader.decode[1].result = { error: 'PacketError', message: 'invalid magic number' };
    const found = checkHeader(backend, wrongHeader);
    expect(found, found.join("\n")).toHaveLength(2);
  });
});
