/**
 * Enums and codes of the network layer. The numbers are defined once, in Rust
 * (`crates/abi/src/tables.rs`), and generated into `ts/backend/abi.generated.ts`; this module
 * re-exports what the network layer and its users need, with the few helpers built on them.
 */
import { CODE, ConnectionStatus, LAYOUT, type CloseReason } from '../backend/abi.generated.js';

export { CLOSE_REASONS, CODE, ConnectionStatus, EV, RetryMode, type CloseReason } from '../backend/abi.generated.js';

/** The status a connection ends in: DROPPED after a timeout, DISCONNECTED otherwise. */
export function finalStatus(reason: CloseReason): ConnectionStatus {
  return reason === 'timeout' ? ConnectionStatus.DROPPED : ConnectionStatus.DISCONNECTED;
}

/** The name of an engine result code (`QUEUE_FULL`…), for logs. */
export function codeName(code: number): string {
  for (const [name, value] of Object.entries(CODE)) if (value === code) return name;
  return `code ${code}`;
}

/** Largest message `send` accepts (mpgameserver's limit: 1024 × 8192 bytes). */
export const MAX_MESSAGE_SIZE = 1024 * 8192;
/** Bytes one received datagram may occupy in the engine's input buffer. */
export const DATAGRAM_ROOM = LAYOUT.datagramRoom;
