/**
 * What a monitor (the dashboard, `/metrics`) reads from a game server: a narrow, read-only view
 * that `UdpServer` satisfies structurally. The dashboard depends on this type only, never on the
 * server's module, so the two never import each other.
 */
import type { ConnectionStats } from './stats.js';

/** Where time went, cumulative milliseconds (the dashboard's time profile). */
export interface TimeProfile {
  /** Decrypting and processing datagrams, and the handlers they triggered. */
  messageHandling: number;
  /** `handler.update`. */
  update: number;
  /** Encrypting and sending. */
  network: number;
  /** Waiting for the next tick. */
  idle: number;
}

/** The server's run-time counters a monitor reads. */
export interface SourceMetrics {
  /** Ticks run. */
  readonly ticks: number;
  /** When `run()` started, Unix ms; 0 while not running. */
  readonly startedAt: number;
  /** Cumulative time profile. */
  readonly profile: Readonly<TimeProfile>;
  /** Queued messages the engine refused (their callbacks got false). */
  readonly messagesRefused: number;
}

/** The game server as the dashboard sees it. `UdpServer` is one. */
export interface DashboardSource {
  /** Endpoint-wide statistics; counters may be absent before the server listens. */
  readonly stats: Readonly<Partial<ConnectionStats>>;
  readonly metrics: SourceMetrics;
  /** `native` or `wasm` (`none` before the server listens). */
  readonly backend: string;
  /** The configured seconds per tick. */
  readonly ctx: { readonly interval: number };
  /** The bound UDP address; may throw before the server listens. */
  readonly address: { readonly address: string; readonly port: number };
  /** The connected clients (only their number is read). */
  clients(): readonly unknown[];
}
