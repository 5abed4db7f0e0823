/**
 * What the two engine adapters share: every `Engine` call that both bindings export with the
 * same signature is forwarded here once; each adapter adds only how its buffers cross the
 * boundary (N-API passes the caller's buffers, WebAssembly views into the module's memory).
 * Free of Node.js imports: the browser build uses it too.
 */
import { viaBinding } from './errors.js';
import type { BackendName, Engine } from './types.js';

/**
 * The calls both bindings' engine objects export alike: the `Engine` calls they export with the
 * same signature, and `connect`, which takes an empty key for none.
 */
export type RawEngineCommon = Pick<
  Engine,
  'setConfig' | 'rootPublicSpki' | 'processHandshakes' | 'queuedHandshakes' | 'tick' | 'send' | 'broadcast' | 'disconnect' | 'abort'
  | 'closeAll' | 'abortAll' | 'status' | 'token' | 'latency' | 'connectionCount' | 'countBlocked' | 'nextTimeout'
> & {
  connect(now: number, peer: number, pinned: Uint8Array, insecure: boolean): number;
};

const EMPTY = new Uint8Array(0);

/** The `Engine` calls that forward unchanged to the binding's engine object. */
export abstract class EngineBase<E extends RawEngineCommon> implements Partial<Engine> {
  abstract readonly backend: BackendName;

  /** @param raw the binding's engine object (tests reach testing-build entry points through it) */
  constructor(readonly raw: E) {}

  processHandshakes(now: number, max: number): number { return this.raw.processHandshakes(now, max); }
  queuedHandshakes(): number { return this.raw.queuedHandshakes(); }
  tick(now: number): void { this.raw.tick(now); }
  send(now: number, peer: number, data: Uint8Array, mode: number, callback: number): number {
    return this.raw.send(now, peer, data, mode, callback);
  }
  broadcast(now: number, peers: Uint32Array, data: Uint8Array, mode: number): number {
    return this.raw.broadcast(now, peers, data, mode);
  }
  connect(now: number, peer: number, pinned: Uint8Array | null, insecure: boolean): number {
    return this.raw.connect(now, peer, pinned ?? EMPTY, insecure);
  }
  disconnect(now: number, peer: number): void { this.raw.disconnect(now, peer); }
  abort(now: number, peer: number): void { this.raw.abort(now, peer); }
  closeAll(now: number): void { this.raw.closeAll(now); }
  abortAll(): void { this.raw.abortAll(); }
  status(peer: number): number { return this.raw.status(peer); }
  token(peer: number): number { return this.raw.token(peer); }
  latency(peer: number): number { return this.raw.latency(peer); }
  connectionCount(): number { return this.raw.connectionCount(); }
  countBlocked(bytes: number): void { this.raw.countBlocked(bytes); }
  nextTimeout(): number { return this.raw.nextTimeout(); }
  setConfig(config: Float64Array): void { viaBinding(() => this.raw.setConfig(config)); }
  rootPublicSpki(): Uint8Array { return this.raw.rootPublicSpki(); }
}
