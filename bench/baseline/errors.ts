/** Why the plain implementation rejected a packet. */
export type WireErrorCode =
  | 'ERR_HEADER_TOO_SHORT'
  | 'ERR_HEADER_UNKNOWN_TYPE'
  | 'ERR_HEADER_BAD_MAGIC'
  | 'ERR_HEADER_WRONG_DIRECTION'
  | 'ERR_LENGTH'
  | 'ERR_AUTH'
  | 'ERR_FRAMING'
  | 'ERR_TOO_LARGE';

/** Thrown by the decoders and encoders of the plain implementation. */
export class WireError extends Error {
  readonly code: WireErrorCode;
  constructor(code: WireErrorCode, message: string) {
    super(message);
    this.name = 'WireError';
    this.code = code;
  }
}
