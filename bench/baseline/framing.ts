import { MAX_MESSAGES, MAX_PAYLOAD_SIZE } from './constants.js';
import { WireError } from './errors.js';

/**
 * Message framing inside a packet payload (wire spec §5):
 * - 0 messages: empty payload;
 * - 1 message: `msg_seq u16 ‖ data`, its type is the header type;
 * - n ≥ 2: n × (`data_len u16 ‖ msg_seq u16 ‖ type u8 ‖ data`).
 */

/** One message: its message seq, type id and data. */
export interface Message {
  seq: number;
  type: number;
  data: Buffer;
}

/** Payload bytes that `messages` take once framed. */
export function framedLength(messages: readonly { data: Uint8Array }[]): number {
  const n = messages.length;
  if (n === 0) return 0;
  if (n === 1) return 2 + messages[0].data.length;
  let total = 0;
  for (const m of messages) total += 5 + m.data.length;
  return total;
}

/** @throws WireError `ERR_TOO_LARGE` when the messages do not fit one packet. */
export function checkFits(count: number, payloadLength: number): void {
  if (count > MAX_MESSAGES) throw new WireError('ERR_TOO_LARGE', `${count} messages exceed ${MAX_MESSAGES} per packet`);
  if (payloadLength > MAX_PAYLOAD_SIZE) {
    throw new WireError('ERR_TOO_LARGE', `payload of ${payloadLength} bytes exceeds ${MAX_PAYLOAD_SIZE}`);
  }
}

/** Writes the framed messages at `offset`; returns the bytes written. */
export function writeMessages(buf: Buffer, offset: number, messages: readonly Message[]): number {
  const n = messages.length;
  if (n === 0) return 0;
  if (n === 1) {
    const m = messages[0];
    buf.writeUInt16BE(m.seq, offset);
    buf.set(m.data, offset + 2);
    return 2 + m.data.length;
  }
  let pos = offset;
  for (const m of messages) {
    buf.writeUInt16BE(m.data.length, pos);
    buf.writeUInt16BE(m.seq, pos + 2);
    buf.writeUInt8(m.type, pos + 4);
    buf.set(m.data, pos + 5);
    pos += 5 + m.data.length;
  }
  return pos - offset;
}

/**
 * Parses `count` framed messages out of `payload`. Message data are views into `payload` (no copy).
 * Stricter than mpgameserver (spec §5): a truncated entry is an error instead of truncated data.
 * @throws WireError `ERR_FRAMING`
 */
export function readMessages(payload: Buffer, count: number, headerType: number): Message[] {
  if (count === 0) return [];
  if (count === 1) {
    if (payload.length < 2) throw new WireError('ERR_FRAMING', 'payload too short for a message seq');
    return [{ seq: payload.readUInt16BE(0), type: headerType, data: payload.subarray(2) }];
  }
  const messages: Message[] = [];
  let pos = 0;
  for (let i = 0; i < count; i++) {
    if (pos + 5 > payload.length) throw new WireError('ERR_FRAMING', `message ${i} header runs past the payload`);
    const len = payload.readUInt16BE(pos);
    const end = pos + 5 + len;
    if (end > payload.length) throw new WireError('ERR_FRAMING', `message ${i} data runs past the payload`);
    messages.push({ seq: payload.readUInt16BE(pos + 2), type: payload.readUInt8(pos + 4), data: payload.subarray(pos + 5, end) });
    pos = end;
  }
  return messages;
}
