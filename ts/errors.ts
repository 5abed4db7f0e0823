/**
 * Errors gamewire throws. Every error carries a stable `code` (listed in docs/api.md) so callers
 * can branch on it without parsing messages.
 */
export class GamewireError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A backend was asked for by name and could not be loaded, or no backend loads at all. */
export class BackendLoadError extends GamewireError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_BACKEND_UNAVAILABLE', message, options);
  }
}

/** A configuration value was refused; `field` names it. */
export class ConfigError extends GamewireError {
  readonly field: string;
  constructor(field: string, message: string, options?: ErrorOptions) {
    super('ERR_CONFIG', `${field}: ${message}`, options);
    this.field = field;
  }
}

/** Bytes that do not decode (header, handshake body, key). */
export class DecodeError extends GamewireError {}

/** An operation did not finish in time. */
export class TimeoutError extends GamewireError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_TIMEOUT', message, options);
  }
}
