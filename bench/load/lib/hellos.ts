/**
 * Valid CLIENT_HELLOs for the hello-flood benchmark, made by a real gamewire client engine: each
 * connection's first datagram, taken from `transmit` and never sent by the engine (the engine is
 * discarded with its half-made connections). Replayed, each starts a handshake at the server
 * (which answers with a SERVER_HELLO) that never completes.
 */
import { loadBackend } from '../../../ts/backend/index.js';
import { flatConfig } from '../../../ts/net/config.js';
import { clock } from '../../../ts/net/driver.js';

/** `count` CLIENT_HELLOs for a server whose root public key is `spki` (SPKI DER). */
export function makeHellos(spki: Uint8Array, count: number): Buffer[] {
  const backend = loadBackend({ backend: 'native' });
  const engine = backend.createClient(flatConfig(backend, {}, Date.now() - clock()));
  const hellos: Buffer[] = [];
  try {
    const now = clock();
    for (let i = 0; i < count; i++) {
      const rc = engine.connect(now, i, spki, false);
      if (rc !== 0) throw new Error(`connect ${i}: ${rc}`);
    }
    while (hellos.length < count) {
      const n = engine.transmit(now);
      if (n === 0) break;
      const meta = engine.outMetaView();
      const out = engine.outView();
      for (let i = 0; i < n; i++) {
        const off = meta[i * 3 + 1];
        hellos.push(Buffer.from(out.subarray(off, off + meta[i * 3 + 2])));
      }
    }
  } finally {
    engine.abortAll();
  }
  if (hellos.length === 0) throw new Error('the client engine produced no CLIENT_HELLO');
  return hellos;
}
