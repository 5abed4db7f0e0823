/**
 * What the bindings throw, as gamewire's errors. Both bindings set `code` on their errors: the
 * flat interface's (`ERR_CONFIG` with the field first in the message, `ERR_BAD_KEY`,
 * `ERR_INVALID_ARG`, `ERR_ENTROPY`) or a socket's (`EADDRINUSE`, `EADDRNOTAVAIL`, `EACCES`,
 * `ERR_SOCKET`).
 */
import { ArgumentError, ConfigError, DecodeError, GamewireError, NetworkError } from '../errors.js';
import type { KeyOps } from './types.js';

/**
 * The error a binding threw (its `code` is the flat interface's: `ERR_CONFIG`, `ERR_BAD_KEY`,
 * `ERR_INVALID_ARG`, `ERR_ENTROPY`, or a socket's `EADDRINUSE`...) as one of gamewire's errors.
 */
export function bindingError(err: unknown): GamewireError {
  if (err instanceof GamewireError) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as { code?: unknown }).code;
  switch (code) {
    case 'ERR_CONFIG': {
      const m = /^([A-Za-z]+): (.*)$/s.exec(e.message);
      return m ? new ConfigError(m[1], m[2], { cause: e }) : new ConfigError('config', e.message, { cause: e });
    }
    case 'ERR_BAD_KEY':
      return new DecodeError('ERR_BAD_KEY', e.message, { cause: e });
    case 'ERR_ENTROPY':
      return new GamewireError('ERR_ENTROPY', e.message, { cause: e });
    case 'EADDRINUSE':
    case 'EADDRNOTAVAIL':
    case 'EACCES':
      return new NetworkError(code, e.message, { cause: e });
    case 'ERR_SOCKET':
      return new NetworkError('ERR_SOCKET', e.message, { cause: e });
    default:
      return new ArgumentError(e.message, { cause: e });
  }
}

/** Runs a binding call, turning what it throws into gamewire's errors. */
export function viaBinding<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw bindingError(err);
  }
}

/** The raw key exports both bindings share. */
export interface KeyExports {
  keyGenerate(): Uint8Array;
  keyFromPem(pem: string): Uint8Array;
  keyToPem(der: Uint8Array): string;
  keyPublic(der: Uint8Array): Uint8Array;
  publicKeyFromPem(pem: string): Uint8Array;
  publicKeyToPem(spki: Uint8Array): string;
}

/** The key helpers of a binding, throwing gamewire's errors. */
export function keyOps(b: KeyExports): KeyOps {
  return {
    generate: () => viaBinding(() => b.keyGenerate()),
    fromPem: (pem) => viaBinding(() => b.keyFromPem(pem)),
    toPem: (der) => viaBinding(() => b.keyToPem(der)),
    publicOf: (der) => viaBinding(() => b.keyPublic(der)),
    publicFromPem: (pem) => viaBinding(() => b.publicKeyFromPem(pem)),
    publicToPem: (spki) => viaBinding(() => b.publicKeyToPem(spki)),
  };
}
