/**
 * ServerContext: the server's configuration (mpgameserver's setters, in seconds) and its handler.
 */
import type { BackendOptions } from '../backend/index.js';
import { ConfigError } from '../errors.js';
import { checkOption, type NetOptions } from './config.js';
import type { EventHandler } from './handler.js';
import { PrivateKey } from './keys.js';

/** Defaults of mpgameserver 0.2.4's ServerContext. */
export const CONTEXT_DEFAULTS = {
  interval: 1 / 60,
  connectionTimeout: 5,
  keepAliveInterval: 0.1,
  messageTimeout: 1,
  tempConnectionTimeout: 2,
} as const;

export interface ServerContextOptions extends BackendOptions {
  /** Further engine options (limits, pacing) beyond the seed's setters. */
  net?: NetOptions;
}

export class ServerContext {
  readonly handler: EventHandler;
  /** The root key signing the handshake (generated when none was given). */
  readonly rootKey: PrivateKey;
  /** True when `rootKey` was generated here (clients cannot have it pinned in advance). */
  readonly rootKeyGenerated: boolean;
  /** Seconds per server tick. */
  interval: number = CONTEXT_DEFAULTS.interval;
  /** Seconds of silence before a connection is dropped. */
  connectionTimeout: number = CONTEXT_DEFAULTS.connectionTimeout;
  /** Seconds of idleness before a keep-alive is sent. */
  keepAliveInterval: number = CONTEXT_DEFAULTS.keepAliveInterval;
  /** Seconds to wait for a datagram's ack. */
  messageTimeout: number = CONTEXT_DEFAULTS.messageTimeout;
  /** Seconds to complete a handshake. */
  tempConnectionTimeout: number = CONTEXT_DEFAULTS.tempConnectionTimeout;
  /** IP addresses whose datagrams are dropped before any parsing. */
  blocklist: ReadonlySet<string> = new Set();
  /** File receiving one line per new connection, or null. */
  accessLogPath: string | null = null;
  readonly net: NetOptions;
  readonly backendOptions: BackendOptions;
  private readonly listeners = new Set<() => void>();
  private stopper: (() => Promise<void>) | null = null;

  constructor(handler: EventHandler, rootKey?: PrivateKey, opts: ServerContextOptions = {}) {
    if (!handler || typeof handler.handleMessage !== 'function') {
      throw new ConfigError('handler', 'must be an EventHandler');
    }
    this.handler = handler;
    this.backendOptions = { backend: opts.backend };
    this.rootKeyGenerated = rootKey === undefined;
    this.rootKey = rootKey ?? PrivateKey.generate(this.backendOptions);
    this.net = { ...opts.net };
  }

  private set(name: 'connectionTimeout' | 'keepAliveInterval' | 'messageTimeout' | 'tempConnectionTimeout' | 'interval', v: number, positive = true): void {
    checkOption(name, v);
    if (positive && v <= 0) throw new ConfigError(name, `must be greater than 0, got ${v}`);
    this[name] = v;
    this.changed();
  }

  /** A file path to append one line per new connection to (time, address, token); null turns it off. */
  enableAccessLogs(path: string | null): void {
    if (path !== null && (typeof path !== 'string' || path === '')) {
      throw new ConfigError('accessLogPath', 'must be a file path or null');
    }
    this.accessLogPath = path;
    this.changed();
  }

  /** IP addresses to block: their datagrams are dropped before any parsing, and counted. */
  setBlockList(blocklist: Iterable<string>): void {
    const set = new Set<string>();
    for (const ip of blocklist) {
      if (typeof ip !== 'string') throw new ConfigError('blocklist', `entries must be IP strings, got ${JSON.stringify(ip)}`);
      set.add(ip);
    }
    this.blocklist = set;
    this.changed();
  }

  /** Seconds without receiving anything before a connection is dropped (default 5). */
  setConnectionTimeout(timeout: number): void {
    this.set('connectionTimeout', timeout);
  }

  /** Seconds per server tick (default 1/60). */
  setInterval(interval: number): void {
    this.set('interval', interval);
  }

  /** Seconds of idleness before a keep-alive is sent (default 0.1); also the retry interval. */
  setKeepAliveInterval(interval: number): void {
    this.set('keepAliveInterval', interval);
  }

  /** Seconds to wait for a datagram's ack (default 1). */
  setMessageTimeout(timeout: number): void {
    this.set('messageTimeout', timeout);
  }

  /** Seconds to complete a handshake before it is forgotten (default 2). */
  setTempConnectionTimeout(timeout: number): void {
    this.set('tempConnectionTimeout', timeout);
  }

  /** Stops the server running with this context, if any. */
  shutdown(): Promise<void> {
    return this.stopper ? this.stopper() : Promise.resolve();
  }

  /** The engine options this context implies. */
  netOptions(): NetOptions {
    return {
      ...this.net,
      connectionTimeout: this.connectionTimeout,
      keepAliveInterval: this.keepAliveInterval,
      messageTimeout: this.messageTimeout,
      tempConnectionTimeout: this.tempConnectionTimeout,
    };
  }

  /** @internal The server attaches itself: notified of changes, stopped by `shutdown()`. */
  attach(onChange: () => void, stop: () => Promise<void>): () => void {
    this.listeners.add(onChange);
    this.stopper = stop;
    return () => {
      this.listeners.delete(onChange);
      if (this.stopper === stop) this.stopper = null;
    };
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}
