/**
 * ServerContext: the server's configuration (timeouts and tick interval in seconds, block list,
 * access log) and its event handler.
 */
import { isIP, SocketAddress } from 'node:net';
import type { BackendOptions } from '../backend/index.js';
import { ConfigError } from '../errors.js';
import { checkOption, type NetOptions } from './config.js';
import type { EventHandler } from './handler.js';
import { PrivateKey } from './keys.js';

/** The defaults, in seconds (mpgameserver 0.2.4's). */
export const CONTEXT_DEFAULTS = {
  interval: 1 / 60,
  connectionTimeout: 5,
  keepAliveInterval: 0.1,
  messageTimeout: 1,
  tempConnectionTimeout: 2,
} as const;

export interface ServerContextOptions extends BackendOptions {
  /** Further engine options (limits, pacing) beyond the setters below. */
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
  private blocked: ReadonlySet<string> = new Set();
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
    // The engine options the context also has setters for start from `net` when given there (the
    // setters change them later): one value, never a `net` entry silently overridden by a default.
    for (const name of ['connectionTimeout', 'keepAliveInterval', 'messageTimeout', 'tempConnectionTimeout'] as const) {
      const v = this.net[name];
      if (v !== undefined) this.set(name, v);
    }
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

  /**
   * The blocked IP addresses, in canonical form (see {@link setBlockList}). Read-only: change it
   * with `setBlockList`.
   */
  get blocklist(): ReadonlySet<string> {
    return this.blocked;
  }

  /**
   * Replaces the blocked IP addresses: their datagrams are dropped before any parsing, and counted
   * (`dropBlocked`). Each entry is one IPv4 or IPv6 address; ranges (CIDR such as `10.0.0.0/8`),
   * host names and IPv6 zone ids (`fe80::1%eth0`) are refused. Entries are stored in canonical
   * form: IPv6 compressed and lower-case (`0:0:0:0:0:0:0:1` is `::1`), and an IPv4-mapped IPv6
   * address is its IPv4 address (`::ffff:10.0.0.1` is `10.0.0.1`, and blocks that address whether
   * it arrives over IPv4 or IPv6), so one list means the same on every backend and I/O mode.
   *
   * The whole list is checked first: an invalid entry throws a `ConfigError` naming it, and then
   * nothing changes (the previous list stays in force).
   */
  setBlockList(blocklist: Iterable<string>): void {
    if (blocklist === null || typeof blocklist !== 'object' || typeof (blocklist as Iterable<string>)[Symbol.iterator] !== 'function') {
      throw new ConfigError('blocklist', 'must be an iterable (a Set or an array) of IP address strings');
    }
    const set = new Set<string>();
    for (const entry of blocklist) set.add(canonicalIp(entry));
    this.blocked = set;
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

/**
 * The canonical form of one block-list entry (IPv6 as node prints a datagram's source address,
 * IPv4-mapped IPv6 as IPv4); throws a `ConfigError` naming an entry that is not one IP address.
 */
export function canonicalIp(entry: unknown): string {
  const refuse = (why: string): never => {
    throw new ConfigError('blocklist', `entry ${JSON.stringify(entry)} ${why}`);
  };
  if (typeof entry !== 'string') return refuse('is not a string: entries are IP addresses');
  if (entry.includes('/')) return refuse('is a range: CIDR ranges are not supported, list each address');
  if (entry.includes('%')) return refuse('has a zone id: list the address without it');
  const family = isIP(entry);
  if (family === 4) return entry;
  if (family !== 6) return refuse('is not an IPv4 or IPv6 address');
  const v6 = new SocketAddress({ address: entry, family: 'ipv6' }).address;
  const mapped = v6.startsWith('::ffff:') ? v6.slice(7) : '';
  return isIP(mapped) === 4 ? mapped : v6;
}
