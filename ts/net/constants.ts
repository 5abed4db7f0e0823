/** Enums and codes shared by the network layer (values are mpgameserver's where it has them). */

/** Per-message reliability (mpgameserver's RetryMode). */
export enum RetryMode {
  /** Re-sent until acknowledged, for as long as the connection lives. */
  RETRY_ON_TIMEOUT = -1,
  /** Sent once. */
  NONE = 0,
  /** Re-sent every keep-alive interval until acknowledged or the message timeout passes. */
  BEST_EFFORT = 1,
}

/** Connection status (mpgameserver's ConnectionStatus). */
export enum ConnectionStatus {
  CONNECTING = 1,
  CONNECTED = 2,
  DISCONNECTING = 3,
  DISCONNECTED = 4,
  DROPPED = 5,
}

/** Why a connection ended (`gamewire_core::CloseReason` codes). */
export type CloseReason = 'local' | 'peer' | 'timeout' | 'connect-timeout' | 'bad-server-key';

export const CLOSE_REASONS: Record<number, CloseReason> = {
  1: 'local',
  2: 'peer',
  3: 'timeout',
  4: 'connect-timeout',
  5: 'bad-server-key',
};

/** The status a connection ends in: DROPPED after a timeout, DISCONNECTED otherwise. */
export function finalStatus(reason: CloseReason): ConnectionStatus {
  return reason === 'timeout' ? ConnectionStatus.DROPPED : ConnectionStatus.DISCONNECTED;
}

/** Event kinds of the engine's event stream. */
export const EV = { CONNECTED: 1, MESSAGE: 2, ACKED: 3, FAILED: 4, DISCONNECTED: 5, RELEASED: 6 } as const;

/** Engine result codes (`gamewire_core::abi::code`). */
export const CODE = {
  OK: 0,
  UNKNOWN_CONNECTION: -1,
  NOT_CONNECTED: -2,
  TOO_LARGE: -3,
  QUEUE_FULL: -4,
  NOT_A_CLIENT: -5,
  NO_PINNED_KEY: -6,
  ALREADY_CONNECTED: -7,
  TOO_MANY_CONNECTIONS: -8,
  BAD_RETRY_MODE: -9,
  BAD_KEY: -10,
} as const;

/** The name of an engine result code (`QUEUE_FULL`…), for logs. */
export function codeName(code: number): string {
  for (const [name, value] of Object.entries(CODE)) if (value === code) return name;
  return `code ${code}`;
}

/** Largest message `send` accepts (mpgameserver's limit: 1024 × 8192 bytes). */
export const MAX_MESSAGE_SIZE = 1024 * 8192;
/** Bytes one received datagram may occupy in the engine's input buffer. */
export const DATAGRAM_ROOM = 2048;
