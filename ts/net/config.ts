/**
 * Network options (seconds, like mpgameserver's setters) and their flat form for the engine.
 */
import { ConfigError } from '../errors.js';
import type { Backend } from '../backend/index.js';

/** Timers and limits of an endpoint; every field is optional, defaults are mpgameserver's. */
export interface NetOptions {
  /** Minimum gap between two packets of one connection, seconds (1/60). 0 lifts pacing: only between gamewire peers. */
  sendInterval?: number;
  /** Idle time before a keep-alive, and the retry interval, seconds (0.1). */
  keepAliveInterval?: number;
  /** Ack timeout of a packet, seconds (1). */
  messageTimeout?: number;
  /** Drop a connection silent this long, seconds (5). */
  connectionTimeout?: number;
  /** Forget an unfinished handshake after this long, seconds (2). */
  tempConnectionTimeout?: number;
  /** Client: re-send the CLIENT_HELLO after this long, seconds (0.5). */
  handshakeRetransmit?: number;
  /** Client: give up connecting after this long, seconds (5). */
  connectTimeout?: number;
  maxDatagram?: number;
  maxConnections?: number;
  maxPendingHandshakes?: number;
  handshakesPerSecond?: number;
  messageWindow?: number;
  packetWindow?: number;
  maxCtimeAge?: number;
  maxMessageSize?: number;
  maxReassemblyBytesPerConnection?: number;
  maxReassemblyBytesTotal?: number;
  maxQueuedMessages?: number;
}

const SECONDS = new Set([
  'sendInterval', 'keepAliveInterval', 'messageTimeout', 'connectionTimeout', 'tempConnectionTimeout',
  'handshakeRetransmit', 'connectTimeout', 'maxCtimeAge', 'interval',
]);

/** Checks one option, throwing a ConfigError naming it. */
export function checkOption(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ConfigError(name, `must be a non-negative number${SECONDS.has(name) ? ' of seconds' : ''}, got ${JSON.stringify(value)}`);
  }
  if (!SECONDS.has(name) && !Number.isInteger(value)) {
    throw new ConfigError(name, `must be a whole number, got ${value}`);
  }
  return value;
}

/** The flat configuration for `backend` from options (unknown keys are refused). */
export function flatConfig(backend: Backend, opts: NetOptions, unixMillisAtZero: number): Float64Array {
  const names = backend.layout.config;
  const flat = backend.defaultConfig();
  for (const [key, value] of Object.entries(opts)) {
    if (value === undefined) continue;
    const i = names.indexOf(key);
    if (i < 0 || key === 'unixMillisAtZero') throw new ConfigError(key, 'is not a network option');
    flat[i] = checkOption(key, value);
  }
  flat[names.indexOf('unixMillisAtZero')] = Math.floor(unixMillisAtZero);
  return flat;
}
