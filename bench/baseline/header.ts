import { HEADER_SIZE, MAGIC_TO_CLIENT, MAGIC_TO_SERVER } from './constants.js';
import { WireError } from './errors.js';
import type { WireHeader } from '../../ts/backend/types.js';

/** The 20-byte packet header (wire spec §3): the same fields the backends decode. */
export type PacketHeader = WireHeader;

/** Writes `h` as 20 big-endian bytes at `offset`. */
export function writeHeader(buf: Buffer, offset: number, h: PacketHeader): void {
  buf.writeUInt32BE(h.toServer ? MAGIC_TO_SERVER : MAGIC_TO_CLIENT, offset);
  buf.writeUInt32BE(h.ctime >>> 0, offset + 4);
  buf.writeUInt16BE(h.seq, offset + 8);
  buf.writeUInt16BE(h.ack, offset + 10);
  buf.writeUInt8(h.type, offset + 12);
  buf.writeUInt16BE(h.length, offset + 13);
  buf.writeUInt8(h.count, offset + 15);
  buf.writeUInt32BE(h.ackBits >>> 0, offset + 16);
}

/** Encodes a header into a new 20-byte Buffer. */
export function encodeHeader(h: PacketHeader): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_SIZE);
  writeHeader(buf, 0, h);
  return buf;
}

/**
 * Parses the header of the `length` bytes at `offset` as the server (`asServer`, accepts only
 * `FSOS`) or the client (only `FSOC`) would, with mpgameserver's checks in its order:
 * size, type 0..7, magic, direction.
 * @throws WireError
 */
export function readHeader(buf: Buffer, asServer: boolean, offset = 0, length = buf.length - offset): PacketHeader {
  if (length < HEADER_SIZE) throw new WireError('ERR_HEADER_TOO_SHORT', 'datagram shorter than the 20-byte header');
  const type = buf.readUInt8(offset + 12);
  if (type > 7) throw new WireError('ERR_HEADER_UNKNOWN_TYPE', `unknown packet type ${type}`);
  const magic = buf.readUInt32BE(offset);
  if (magic !== MAGIC_TO_SERVER && magic !== MAGIC_TO_CLIENT) {
    throw new WireError('ERR_HEADER_BAD_MAGIC', 'invalid magic number');
  }
  const toServer = magic === MAGIC_TO_SERVER;
  if (toServer !== asServer) throw new WireError('ERR_HEADER_WRONG_DIRECTION', 'direction error');
  return {
    toServer,
    ctime: buf.readUInt32BE(offset + 4),
    seq: buf.readUInt16BE(offset + 8),
    ack: buf.readUInt16BE(offset + 10),
    type,
    length: buf.readUInt16BE(offset + 13),
    count: buf.readUInt8(offset + 15),
    ackBits: buf.readUInt32BE(offset + 16),
  };
}
