import { CRC_SIZE, HEADER_SIZE, PacketType, TAG_SIZE } from './constants.js';
import { WireError } from './errors.js';
import { checkFits, framedLength, readMessages, writeMessages, type Message } from './framing.js';
import { readHeader, writeHeader, type PacketHeader } from './header.js';
import { crcCheck, crcProtectInto, openInto, sealInto, type AeadKey } from './protect.js';

/** What a sender chooses; length and count follow from the messages. */
export interface PacketFields {
  toServer: boolean;
  ctime: number;
  seq: number;
  ack: number;
  ackBits: number;
  /** Header type; default: the first message's type, or KEEP_ALIVE when there are none. */
  type?: number;
}

/** A parsed packet: its header and its messages (views into the payload, no copies). */
export interface ParsedPacket {
  header: PacketHeader;
  messages: Message[];
}

/** A decoded datagram. */
export interface DecodedPacket extends ParsedPacket {
  /** True when it was AES-GCM protected, false for CRC. */
  encrypted: boolean;
  /** The plaintext payload. */
  payload: Buffer;
}

/** Sender rule (spec §4): AEAD when there is a key and the type is not SERVER_HELLO. */
export function senderUsesAead(key: AeadKey | null, type: number): key is AeadKey {
  return key !== null && type !== PacketType.SERVER_HELLO;
}

/** Receiver rule (spec §4): AEAD when there is a key and the type is not CLIENT_HELLO/SERVER_HELLO. */
export function receiverUsesAead(key: AeadKey | null, type: number): key is AeadKey {
  return key !== null && type !== PacketType.CLIENT_HELLO && type !== PacketType.SERVER_HELLO;
}

/**
 * Writes the unprotected packet, header ‖ framed messages, at `offset` and returns its header.
 * The packet takes `20 + header.length` bytes.
 * @throws WireError `ERR_TOO_LARGE` when the messages do not fit one packet
 */
export function writePacket(buf: Buffer, offset: number, fields: PacketFields, messages: readonly Message[]): PacketHeader {
  const length = framedLength(messages);
  checkFits(messages.length, length);
  const header: PacketHeader = {
    toServer: fields.toServer,
    ctime: fields.ctime,
    seq: fields.seq,
    ack: fields.ack,
    type: fields.type ?? (messages.length > 0 ? messages[0].type : PacketType.KEEP_ALIVE),
    length,
    count: messages.length,
    ackBits: fields.ackBits,
  };
  writeHeader(buf, offset, header);
  writeMessages(buf, offset + HEADER_SIZE, messages);
  return header;
}

/**
 * Parses an unprotected packet (header ‖ payload) of `length` bytes at `offset`, as the server
 * (`asServer`) or the client would: the header checks, the length field against the bytes there,
 * then the message framing. Message data are views into `buf`.
 * @throws WireError
 */
export function readPacket(buf: Buffer, offset: number, length: number, asServer: boolean): ParsedPacket {
  const header = readHeader(buf, asServer, offset, length);
  if (HEADER_SIZE + header.length > length) throw new WireError('ERR_LENGTH', 'length error');
  const start = offset + HEADER_SIZE;
  const messages = readMessages(buf.subarray(start, start + header.length), header.count, header.type);
  return { header, messages };
}

/** Builds a whole datagram: header, framing, and AEAD (with a key) or CRC protection. */
export function encodePacket(fields: PacketFields, messages: readonly Message[], key: AeadKey | null): Buffer {
  const length = framedLength(messages);
  const type = fields.type ?? (messages.length > 0 ? messages[0].type : PacketType.KEEP_ALIVE);
  const aead = senderUsesAead(key, type);
  const buf = Buffer.allocUnsafe(HEADER_SIZE + length + (aead ? TAG_SIZE : CRC_SIZE));
  writePacket(buf, 0, fields, messages);
  const n = aead ? sealInto(key, buf, 0, length, buf, 0) : crcProtectInto(buf, 0, length);
  return buf.subarray(0, n);
}

/**
 * Decodes a whole datagram as the server (`asServer`) or the client would: header, then AEAD or
 * CRC by the receiver rule, then the framing.
 * @throws WireError
 */
export function decodePacket(datagram: Buffer, asServer: boolean, key: AeadKey | null): DecodedPacket {
  const header = readHeader(datagram, asServer);
  const encrypted = receiverUsesAead(key, header.type);
  let end: number;
  let plain = datagram;
  if (encrypted) {
    plain = Buffer.allocUnsafe(datagram.length);
    end = openInto(key, datagram, 0, datagram.length, plain, 0);
  } else {
    end = crcCheck(datagram, 0, datagram.length);
  }
  const payload = plain.subarray(HEADER_SIZE, end);
  return { header, encrypted, payload, messages: readMessages(payload, header.count, header.type) };
}
