/** The server's view of one connected client (mpgameserver's EventHandler.Client). */
import { GamewireError } from '../errors.js';
import { CODE, ConnectionStatus, RetryMode } from './constants.js';
import type { Logger } from './log.js';
import { checkPayload, checkRetry } from './send-checks.js';
import { decodeStats, type ConnectionStats } from './stats.js';

/** What a handle needs from its server. */
export interface HandleHost {
  send(peer: number, payload: Uint8Array, retry: RetryMode, callback?: (acked: boolean) => void): number;
  disconnect(peer: number): void;
  latency(peer: number): number;
  stats(peer: number): Float64Array | null;
  readonly statsNames: readonly string[];
}

export class ClientHandle {
  /** The client's address. Unique per client; may be personal data: do not share it with others. */
  readonly addr: { readonly host: string; readonly port: number };
  /** The session token: unguessable, safe to share with other players. */
  readonly token: number;
  /** A logger bound to this client (token and address in every line). */
  readonly log: Logger;
  /** CONNECTED, then DISCONNECTED or DROPPED. */
  status: ConnectionStatus = ConnectionStatus.CONNECTED;
  /** How the client is connected: UDP, or from a browser over WebTransport or WebSocket. */
  readonly transport: 'udp' | 'webtransport' | 'websocket';
  /** @internal The engine's peer id. */
  readonly peer: number;
  private lastStats: Float64Array | null = null;

  /** @internal */
  constructor(
    private readonly host: HandleHost,
    peer: number,
    addr: { host: string; port: number },
    token: number,
    log: Logger,
    transport: 'udp' | 'webtransport' | 'websocket' = 'udp',
  ) {
    this.transport = transport;
    this.peer = peer;
    this.addr = Object.freeze({ host: addr.host, port: addr.port });
    this.token = token;
    this.log = log;
  }

  /** Average one-way latency estimate in seconds (mpgameserver's: EWMA of half the round trip). */
  get latency(): number {
    const l = this.host.latency(this.peer);
    return l < 0 ? 0 : l;
  }

  /** This connection's statistics (frozen at their last value once it is gone). */
  get stats(): ConnectionStats {
    const live = this.status === ConnectionStatus.CONNECTED ? this.host.stats(this.peer) : null;
    if (live) this.lastStats = live;
    return decodeStats(this.host.statsNames, this.lastStats ?? new Float64Array(this.host.statsNames.length));
  }

  /** @internal Keeps the last statistics before the engine forgets the connection. */
  snapshot(): void {
    const live = this.host.stats(this.peer);
    if (live) this.lastStats = live;
  }

  /** Closes the connection (the client is told; `disconnect` fires once). */
  disconnect(): void {
    if (this.status === ConnectionStatus.CONNECTED) this.host.disconnect(this.peer);
  }

  /**
   * Sends a message. `callback(acked)` runs exactly once: true when the client acknowledged it,
   * false when it was given up (NONE/BEST_EFFORT on timeout, any mode when the connection ends).
   */
  send(payload: Uint8Array, retry: RetryMode = RetryMode.NONE, callback?: (acked: boolean) => void): void {
    checkPayload(payload);
    checkRetry(retry);
    if (this.status !== ConnectionStatus.CONNECTED) {
      if (callback) queueMicrotask(() => callback(false));
      return;
    }
    const rc = this.host.send(this.peer, payload, retry, callback);
    if (rc === CODE.QUEUE_FULL) {
      throw new GamewireError('ERR_QUEUE_FULL', `client ${this.token}: too many messages queued`);
    }
  }

  /** Sends with RETRY_ON_TIMEOUT: re-sent until acknowledged. */
  sendGuaranteed(payload: Uint8Array, callback?: (acked: boolean) => void): void {
    this.send(payload, RetryMode.RETRY_ON_TIMEOUT, callback);
  }
}
