/** Sizes and ids of the mpgameserver 0.2.4 wire format (wire spec §1-§2). */

/** Fixed header size (§3). */
export const HEADER_SIZE = 20;
/** AES-GCM nonce: header bytes [0, 12). */
export const NONCE_SIZE = 12;
/** AES-GCM tag appended after the ciphertext. */
export const TAG_SIZE = 16;
/** CRC-32 trailer in CRC mode. */
export const CRC_SIZE = 4;
/** Budget for message framing + data in one packet. */
export const MAX_PAYLOAD_SIZE = 1434;
/** Largest datagram the design allows (1500 - 28). */
export const MAX_DATAGRAM_SIZE = 1472;
/** At most this many messages per packet (the count field is a u8). */
export const MAX_MESSAGES = 255;

/** `FSOS`: to server. */
export const MAGIC_TO_SERVER = 0x46534f53;
/** `FSOC`: to client. */
export const MAGIC_TO_CLIENT = 0x46534f43;

/** Packet / message type ids (§2). */
export const PacketType = {
  UNKNOWN: 0,
  CLIENT_HELLO: 1,
  SERVER_HELLO: 2,
  CHALLENGE_RESP: 3,
  KEEP_ALIVE: 4,
  DISCONNECT: 5,
  APP: 6,
  APP_FRAGMENT: 7,
} as const;
export type PacketTypeId = (typeof PacketType)[keyof typeof PacketType];

/** Pending packets older than this (ms) time out when acks are processed (§8). */
export const ACK_TIMEOUT_MS = 1000;
