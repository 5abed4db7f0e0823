import { crc32 as zlibCrc32 } from 'node:zlib';

/**
 * CRC-32 (IEEE / zlib) of `data`. Node ≥ 20.15 ships `zlib.crc32`, which is what a Node developer
 * reaches for; it covers the CRC-mode trailer (wire spec §4).
 */
export function crc32(data: Uint8Array): number {
  return zlibCrc32(data) >>> 0;
}
