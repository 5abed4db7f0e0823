/**
 * P-256 keys, PEM-interchangeable with mpgameserver's (`python -m mpgameserver genkey`):
 * private keys as PKCS#8 (`BEGIN PRIVATE KEY`; SEC1 is read too), public keys as SPKI.
 */
import { readFileSync } from 'node:fs';
import { loadBackend, type BackendOptions, type KeyOps } from '../backend/index.js';
import { DecodeError } from '../errors.js';

function keysOf(opts?: BackendOptions) {
  return loadBackend(opts).keys;
}

/**
 * Parses key bytes on the backend: bytes it refuses are a `DecodeError` (`ERR_BAD_KEY`). The
 * backend is loaded first, outside that translation, so a backend that does not load (or a bad
 * `GAMEWIRE_BACKEND`) surfaces as its own error, never as a bad key.
 */
function parse<T>(what: string, opts: BackendOptions | undefined, f: (keys: KeyOps) => T): T {
  const keys = keysOf(opts);
  try {
    return f(keys);
  } catch (err) {
    throw new DecodeError('ERR_BAD_KEY', `not a valid P-256 ${what}: ${(err as Error).message}`, { cause: err });
  }
}

/** A server's root public key, as clients pin it. */
export class PublicKey {
  /** DER SubjectPublicKeyInfo (91 bytes). */
  readonly spki: Uint8Array;

  private constructor(spki: Uint8Array) {
    this.spki = spki;
  }

  /** From SPKI PEM (`BEGIN PUBLIC KEY`). */
  static fromPem(pem: string, opts?: BackendOptions): PublicKey {
    return new PublicKey(parse('public key', opts, (k) => k.publicFromPem(pem)));
  }

  /** From a PEM file. */
  static fromFile(path: string, opts?: BackendOptions): PublicKey {
    return PublicKey.fromPem(readFileSync(path, 'utf8'), opts);
  }

  /** From DER SPKI. */
  static fromSpki(spki: Uint8Array, opts?: BackendOptions): PublicKey {
    parse('public key', opts, (k) => k.publicToPem(spki));
    return new PublicKey(Uint8Array.from(spki));
  }

  /** SPKI PEM. */
  toPem(opts?: BackendOptions): string {
    return keysOf(opts).publicToPem(this.spki);
  }

  /** True when both are the same key. */
  equals(other: PublicKey): boolean {
    return Buffer.from(this.spki).equals(Buffer.from(other.spki));
  }
}

/** A server's root private key: signs the handshake. */
export class PrivateKey {
  /** PKCS#8 DER. */
  readonly pkcs8: Uint8Array;

  private constructor(pkcs8: Uint8Array) {
    this.pkcs8 = pkcs8;
  }

  /** A new random key. */
  static generate(opts?: BackendOptions): PrivateKey {
    return new PrivateKey(keysOf(opts).generate());
  }

  /** From PEM: PKCS#8 (`BEGIN PRIVATE KEY`) or SEC1 (`BEGIN EC PRIVATE KEY`). */
  static fromPem(pem: string, opts?: BackendOptions): PrivateKey {
    return new PrivateKey(parse('private key', opts, (k) => k.fromPem(pem)));
  }

  /** From a PEM file. */
  static fromFile(path: string, opts?: BackendOptions): PrivateKey {
    return PrivateKey.fromPem(readFileSync(path, 'utf8'), opts);
  }

  /** PKCS#8 PEM. */
  toPem(opts?: BackendOptions): string {
    return keysOf(opts).toPem(this.pkcs8);
  }

  /** The public half. */
  publicKey(opts?: BackendOptions): PublicKey {
    return PublicKey.fromSpki(keysOf(opts).publicOf(this.pkcs8), opts);
  }
}
