/**
 * gamewire's one error vocabulary. Every error the library throws (or rejects with) is a
 * `GamewireError` carrying a stable `code` from `ErrorCode`, so callers branch on the code and
 * never parse messages. Subclasses exist where a caller needs extra fields (`ConfigError.field`)
 * or wants `instanceof`. The table in docs/api.md#errors lists every code, its class and when it
 * is thrown; a test keeps the two in step.
 *
 * Bad input from the network never throws: it is dropped and counted.
 */

/** Every code a gamewire error can carry. */
export const ERROR_CODES = [
  // network layer
  'ERR_BACKEND_UNAVAILABLE',
  'ERR_CONFIG',
  'ERR_INVALID_ARG',
  'ERR_STATE',
  'ERR_TIMEOUT',
  'ERR_CONNECT',
  'ERR_ALREADY_CONNECTED',
  'ERR_NOT_CONNECTED',
  'ERR_QUEUE_FULL',
  'ERR_MESSAGE_TOO_LARGE',
  'ERR_BAD_KEY',
  'ERR_HEADER_TOO_SHORT',
  'ERR_HEADER_UNKNOWN_TYPE',
  'ERR_HEADER_BAD_MAGIC',
  'ERR_HEADER_WRONG_DIRECTION',
  'EADDRINUSE',
  'EADDRNOTAVAIL',
  'EACCES',
  'ERR_SOCKET',
  'ERR_MISSING_DEPENDENCY',
  'ERR_ENTROPY',
  'ERR_USAGE',
  // cluster layer
  'ERR_MOD',
  'ERR_SYSTEM',
  'ERR_NO_GATEWAY',
  'ERR_NO_NODE',
  'ERR_LOGIN_REFUSED',
  'ERR_HTTP',
] as const;

/** A stable error code. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** The base of every error gamewire throws. */
export class GamewireError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
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

/** A configuration value (an option, a config file field, an environment variable) was refused; `field` names it. */
export class ConfigError extends GamewireError {
  readonly field: string;
  constructor(field: string, message: string, options?: ErrorOptions) {
    super('ERR_CONFIG', `${field}: ${message}`, options);
    this.field = field;
  }
}

/** An argument of a call was refused (wrong type, out of range). */
export class ArgumentError extends GamewireError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_INVALID_ARG', message, options);
  }
}

/** A call made in a state that does not allow it (listen twice, send after stop). */
export class StateError extends GamewireError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_STATE', message, options);
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

/**
 * A socket could not be bound or used. `code` is the operating system's name where Node has one
 * (`EADDRINUSE`, `EADDRNOTAVAIL`, `EACCES`), the same on every backend and I/O mode, else `ERR_SOCKET`.
 */
export class NetworkError extends GamewireError {
  constructor(code: 'EADDRINUSE' | 'EADDRNOTAVAIL' | 'EACCES' | 'ERR_SOCKET', message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}

/** An optional dependency that this feature needs is not installed; the message names the package. */
export class MissingDependencyError extends GamewireError {
  readonly packageName: string;
  constructor(packageName: string, feature: string, options?: ErrorOptions) {
    super('ERR_MISSING_DEPENDENCY', `${feature} needs the optional package ${packageName}: npm install ${packageName}`, options);
    this.packageName = packageName;
  }
}

/** The socket error of a failed bind, as a `NetworkError` naming the address. */
export function bindError(err: unknown, host: string, port: number): NetworkError {
  const text = err instanceof Error ? err.message : String(err);
  const sys = (err as { code?: unknown } | null)?.code;
  const known = ['EADDRINUSE', 'EADDRNOTAVAIL', 'EACCES'] as const;
  const code = known.find((c) => c === sys) ?? known.find((c) => text.includes(c)) ?? 'ERR_SOCKET';
  const what = code === 'EADDRINUSE' ? 'address already in use' : code === 'EADDRNOTAVAIL' ? 'address not available' : code === 'EACCES' ? 'permission denied' : text;
  return new NetworkError(code, `bind ${host.includes(':') ? `[${host}]` : host}:${port}: ${what}`, { cause: err });
}
