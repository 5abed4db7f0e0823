import { createCipheriv, createDecipheriv, type KeyObject } from 'node:crypto';
import { CRC_SIZE, HEADER_SIZE, NONCE_SIZE, TAG_SIZE } from './constants.js';
import { crc32 } from './crc32.js';
import { WireError } from './errors.js';

/**
 * Datagram protection (wire spec §4), one node:crypto cipher per datagram:
 *   AEAD: header(20) ‖ AES-128-GCM(key, nonce = header[0:12], aad = header) = ciphertext ‖ tag(16)
 *   CRC : header(20) ‖ payload ‖ CRC-32(header ‖ payload) as u32 BE
 */

/** A session key as node:crypto takes it. */
export type AeadKey = KeyObject | Buffer;

const ALGORITHM = 'aes-128-gcm';
const GCM_OPTIONS = { authTagLength: TAG_SIZE } as const;

/**
 * Seals the plaintext packet `src[srcOffset, srcOffset + 20 + payloadLength)` (header ‖ payload)
 * into `dst` at `dstOffset` as header ‖ ciphertext ‖ tag. `dst` may be `src` at the same offset.
 * Returns the datagram length (20 + payloadLength + 16).
 */
export function sealInto(
  key: AeadKey,
  src: Buffer,
  srcOffset: number,
  payloadLength: number,
  dst: Buffer,
  dstOffset: number,
): number {
  const header = src.subarray(srcOffset, srcOffset + HEADER_SIZE);
  const payloadStart = srcOffset + HEADER_SIZE;
  const cipher = createCipheriv(ALGORITHM, key, header.subarray(0, NONCE_SIZE), GCM_OPTIONS);
  cipher.setAAD(header);
  const ciphertext = cipher.update(src.subarray(payloadStart, payloadStart + payloadLength));
  cipher.final();
  if (dst !== src || dstOffset !== srcOffset) header.copy(dst, dstOffset);
  ciphertext.copy(dst, dstOffset + HEADER_SIZE);
  cipher.getAuthTag().copy(dst, dstOffset + HEADER_SIZE + payloadLength);
  return HEADER_SIZE + payloadLength + TAG_SIZE;
}

/**
 * Opens the datagram `src[srcOffset, srcOffset + srcLength)`: checks the header's length field
 * against the datagram, authenticates, and writes header ‖ plaintext into `dst` at `dstOffset`
 * (`dst` may be `src` at the same offset). Bytes after the tag are ignored, as in mpgameserver.
 * Returns 20 + payload length.
 * @throws WireError `ERR_LENGTH` (length field past the datagram) or `ERR_AUTH` (bad tag)
 */
export function openInto(
  key: AeadKey,
  src: Buffer,
  srcOffset: number,
  srcLength: number,
  dst: Buffer,
  dstOffset: number,
): number {
  const length = src.readUInt16BE(srcOffset + 13);
  const payloadStart = srcOffset + HEADER_SIZE;
  if (HEADER_SIZE + length > srcLength) throw new WireError('ERR_LENGTH', 'length error');
  if (HEADER_SIZE + length + TAG_SIZE > srcLength) throw new WireError('ERR_AUTH', 'datagram too short for the tag');
  const header = src.subarray(srcOffset, payloadStart);
  const decipher = createDecipheriv(ALGORITHM, key, header.subarray(0, NONCE_SIZE), GCM_OPTIONS);
  decipher.setAAD(header);
  decipher.setAuthTag(src.subarray(payloadStart + length, payloadStart + length + TAG_SIZE));
  const plaintext = decipher.update(src.subarray(payloadStart, payloadStart + length));
  try {
    decipher.final();
  } catch {
    throw new WireError('ERR_AUTH', 'authentication failed');
  }
  if (dst !== src || dstOffset !== srcOffset) header.copy(dst, dstOffset);
  plaintext.copy(dst, dstOffset + HEADER_SIZE);
  return HEADER_SIZE + length;
}

/** Seals header ‖ payload into a new datagram Buffer. */
export function seal(key: AeadKey, header: Buffer, payload: Buffer): Buffer {
  const cipher = createCipheriv(ALGORITHM, key, header.subarray(0, NONCE_SIZE), GCM_OPTIONS);
  cipher.setAAD(header);
  const ciphertext = cipher.update(payload);
  cipher.final();
  return Buffer.concat([header, ciphertext, cipher.getAuthTag()]);
}

/**
 * Opens a datagram; returns the plaintext payload (a new Buffer).
 * @throws WireError `ERR_LENGTH` or `ERR_AUTH`
 */
export function open(key: AeadKey, datagram: Buffer): Buffer {
  const out = Buffer.allocUnsafe(datagram.length);
  const n = openInto(key, datagram, 0, datagram.length, out, 0);
  return out.subarray(HEADER_SIZE, n);
}

/**
 * CRC mode: appends CRC-32 of `buf[offset, offset + 20 + payloadLength)` after it.
 * Returns the datagram length (20 + payloadLength + 4).
 */
export function crcProtectInto(buf: Buffer, offset: number, payloadLength: number): number {
  const end = offset + HEADER_SIZE + payloadLength;
  buf.writeUInt32BE(crc32(buf.subarray(offset, end)), end);
  return HEADER_SIZE + payloadLength + CRC_SIZE;
}

/**
 * CRC mode: checks the length field and the CRC of the datagram `buf[offset, offset + length)`.
 * Returns 20 + payload length.
 * @throws WireError `ERR_LENGTH` or `ERR_AUTH` (CRC missing or wrong)
 */
export function crcCheck(buf: Buffer, offset: number, length: number): number {
  const payloadLength = buf.readUInt16BE(offset + 13);
  const end = offset + HEADER_SIZE + payloadLength;
  if (HEADER_SIZE + payloadLength > length) throw new WireError('ERR_LENGTH', 'length error');
  if (HEADER_SIZE + payloadLength + CRC_SIZE > length) throw new WireError('ERR_AUTH', 'CRC missing');
  if (crc32(buf.subarray(offset, end)) !== buf.readUInt32BE(end)) throw new WireError('ERR_AUTH', 'crc error');
  return HEADER_SIZE + payloadLength;
}
