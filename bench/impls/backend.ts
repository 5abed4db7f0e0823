/**
 * The `native` and `wasm` implementations: adapters from `bench/lib/impl.ts` onto the Rust core's
 * bindings, loaded through `ts/backend` exactly as users load them.
 *
 * The bindings do not export batch entry points yet, so today this only loads the backend and
 * reports which parts are missing; the suites then measure `plain` alone and list the backend as
 * not measured. To plug a part in, return it from `adapt` below, e.g.
 *
 * ```ts
 * const b = backend.binding as Binding & BatchBinding;   // the batch exports, once they exist
 * if (typeof b.sealBatch === 'function') {
 *   parts.crypto = {
 *     createSession(key) {
 *       const s = b.createAeadSession(key);
 *       return {
 *         seal: (src, n, out) => b.sealBatch(s, src.buf, src.offsets, src.lengths, n, out.buf, out.offsets, out.lengths),
 *         open: (src, n, out, status) => b.openBatch(s, src.buf, src.offsets, src.lengths, n, out.buf, out.offsets, out.lengths, status),
 *         encodeSeal: (h, m, n, out) => b.encodeSealBatch(s, h, m.data, m.rows, m.first, n, out.buf, out.offsets, out.lengths),
 *       };
 *     },
 *   };
 * }
 * ```
 *
 * Every part is checked against `plain` (byte-equal datagrams, equal decoded results) before it is
 * timed, and `npx vitest run test/bench` runs the same checks without timing.
 */
import type { Backend } from '../../ts/backend/index.js';
import type { CodecImpl, CryptoImpl, Implementation, PipelineImpl, UnavailableImplementation } from '../lib/impl.js';

interface Parts {
  codec?: CodecImpl;
  crypto?: CryptoImpl;
  pipeline?: PipelineImpl;
}

/** Maps a loaded backend's binding onto the suite interfaces (the parts it can serve). */
function adapt(backend: Backend): Parts {
  const parts: Parts = {};
  void backend; // no batch entry points in the bindings yet: see the example above
  return parts;
}

/** Loads the `native` or `wasm` backend and adapts it, or says why it cannot be used. */
export async function backendImplementation(name: 'native' | 'wasm'): Promise<Implementation | UnavailableImplementation> {
  let backend: Backend;
  try {
    const { loadBackend } = await import('../../ts/backend/index.js');
    backend = loadBackend({ backend: name });
  } catch (err) {
    return { name, reason: (err as Error).message };
  }
  const parts = adapt(backend);
  const missing = (['codec', 'crypto', 'pipeline'] as const).filter((k) => parts[k] === undefined);
  return {
    name,
    description: `${name} backend, gamewire-core ${backend.coreVersion} (${backend.path})`,
    ...parts,
    ...(missing.length > 0
      ? { missing: `no adapter for ${missing.join(', ')}: the binding has no batch entry points for them yet (bench/impls/backend.ts)` }
      : {}),
  };
}
