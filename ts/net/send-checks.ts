/**
 * The checks a send makes before it reaches the engine, and the errors of a send the engine
 * refused: the same for the server's clients, UdpClient and the browser's client (no Node.js
 * imports: the browser build uses them too).
 */
import { GamewireError } from '../errors.js';
import { CODE, MAX_MESSAGE_SIZE, RetryMode } from './constants.js';

export function checkPayload(payload: Uint8Array): void {
  if (!(payload instanceof Uint8Array)) {
    throw new GamewireError('ERR_INVALID_ARG', 'payload must be a Uint8Array');
  }
  if (payload.length > MAX_MESSAGE_SIZE) {
    throw new GamewireError('ERR_MESSAGE_TOO_LARGE', `message of ${payload.length} bytes exceeds the maximum of ${MAX_MESSAGE_SIZE}`);
  }
}

export function checkRetry(retry: number): RetryMode {
  if (retry !== RetryMode.NONE && retry !== RetryMode.BEST_EFFORT && retry !== RetryMode.RETRY_ON_TIMEOUT) {
    throw new GamewireError('ERR_INVALID_ARG', `retry must be a RetryMode (-1, 0 or 1), got ${String(retry)}`);
  }
  return retry;
}

/** The error for a client's message the engine refused with `code` (queue full, or not connected). */
export function sendRefused(code: number): GamewireError {
  return code === CODE.QUEUE_FULL
    ? new GamewireError('ERR_QUEUE_FULL', 'too many messages queued')
    : new GamewireError('ERR_NOT_CONNECTED', `not connected (code ${code})`);
}
