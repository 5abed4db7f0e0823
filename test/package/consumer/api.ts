// Compiles only if the package's types are precise: every import resolves through "exports" (the
// root and `gamewire/cluster`), and each @ts-expect-error fails if a type were `any`.
import {
  BackendLoadError,
  ConfigError,
  GamewireError,
  PrivateKey,
  loadBackend,
  type Backend,
  type BackendChoice,
  type ErrorCode,
} from 'gamewire';
import type { ClusterConfig } from 'gamewire/cluster';

export function describeError(err: unknown): string {
  if (err instanceof ConfigError) return `${err.field}: ${err.message}`;
  if (err instanceof BackendLoadError) return `${err.code}: ${err.message}`;
  if (err instanceof GamewireError) {
    const code: ErrorCode = err.code;
    return code;
  }
  return String(err);
}

export function backendOf(choice: BackendChoice): Backend['name'] {
  return loadBackend({ backend: choice }).name;
}

export const pem: string = PrivateKey.generate().toPem();

// @ts-expect-error: a backend is 'native', 'wasm' or 'auto'
loadBackend({ backend: 'fast' });

// @ts-expect-error: ErrorCode is a closed list
export const notACode: ErrorCode = 'ERR_NOPE';

export type Config = ClusterConfig;
