/**
 * The OpenSSL reference: `openssl speed -aead -evp aes-128-gcm`, the per-record time of a tight
 * AES-128-GCM loop (IV, AAD, encrypt, tag) on this machine, at the record sizes our datagrams have.
 */
import { spawnSync } from 'node:child_process';
import { opensslCliVersion } from './machine.js';

/** One record size. */
export interface OpensslRecord {
  /** Plaintext bytes per record. */
  bytes: number;
  nsPerRecord: number;
  recordsPerSec: number;
}

/** The reference measurement. */
export interface OpensslResult {
  /** The command run for each size (`{bytes}` stands for the size). */
  command: string;
  /** `openssl version`. */
  version: string | null;
  records: OpensslRecord[];
  /** Why some or all sizes could not be measured. */
  errors: string[];
}

/**
 * The plaintext sizes we compare with: one message of 64 or 1200 bytes plus its 2-byte framing,
 * i.e. what AES-GCM encrypts in a 64 B / 1200 B datagram.
 */
export const OPENSSL_SIZES = [66, 1202] as const;

/**
 * Parses `openssl speed -mr` output: `+R:<count>:<alg>:<seconds>` (one per size run, in order)
 * or, failing that, `+H:<sizes…>` with `+F:<n>:<alg>:<bytes/s…>`. Returns one record per size.
 */
export function parseSpeedOutput(text: string, sizes: readonly number[]): OpensslRecord[] {
  const out: OpensslRecord[] = [];
  const r = [...text.matchAll(/^\+R:(\d+):[^:]+:([\d.]+)\s*$/gm)];
  if (r.length === sizes.length) {
    r.forEach((m, i) => {
      const count = Number(m[1]);
      const seconds = Number(m[2]);
      if (count > 0 && seconds > 0) {
        out.push({ bytes: sizes[i], nsPerRecord: (seconds * 1e9) / count, recordsPerSec: count / seconds });
      }
    });
    return out;
  }
  const h = /^\+H:(.*)$/m.exec(text);
  const f = /^\+F:\d+:[^:]+:(.*)$/m.exec(text);
  if (h && f) {
    const hs = h[1].split(':').map(Number);
    const fs = f[1].split(':').map(Number);
    hs.forEach((bytes, i) => {
      if (sizes.includes(bytes) && fs[i] > 0) {
        const recordsPerSec = fs[i] / bytes;
        out.push({ bytes, nsPerRecord: 1e9 / recordsPerSec, recordsPerSec });
      }
    });
  }
  return out;
}

/**
 * Runs the reference for each size (`seconds` each; 1 is the shortest openssl allows). Uses
 * `-elapsed` so that, like our timings, it is wall-clock time. Never throws: a missing or old
 * openssl is reported in `errors`.
 */
export function measureOpenssl(seconds = 1, sizes: readonly number[] = OPENSSL_SIZES): OpensslResult {
  const base = ['speed', '-elapsed', '-aead', '-evp', 'aes-128-gcm', '-seconds', String(seconds), '-mr'];
  const result: OpensslResult = {
    command: `openssl ${base.join(' ')} -bytes {bytes}`,
    version: opensslCliVersion(),
    records: [],
    errors: [],
  };
  if (result.version === null) {
    result.errors.push('no openssl CLI on PATH');
    return result;
  }
  for (const bytes of sizes) {
    const p = spawnSync('openssl', [...base, '-bytes', String(bytes)], { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
    const text = `${p.stdout ?? ''}\n${p.stderr ?? ''}`;
    const rec = p.status === 0 ? parseSpeedOutput(text, [bytes]) : [];
    if (rec.length === 1) result.records.push(rec[0]);
    else result.errors.push(`${bytes} B: openssl exited ${p.status ?? p.signal ?? p.error?.message}: ${text.trim().split('\n').slice(-2).join(' | ')}`);
  }
  return result;
}

/** The reference's ns per record of `bytes`, if measured. */
export function opensslNs(o: OpensslResult | null, bytes: number): number | undefined {
  return o?.records.find((r) => r.bytes === bytes)?.nsPerRecord;
}
