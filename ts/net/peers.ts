/**
 * Peer ids for the engine (the node:dgram path): a number per (address, port).
 *
 * An id is a slot index (low 20 bits) and a generation (the bits above): a slot freed by a
 * released peer is reused only after every other free slot (first freed, first reused), and with
 * a new generation, so an id the application may still hold for a client that just left never
 * names the client that arrives next. The engine refuses sends to an id it no longer knows.
 */
export interface PeerAddress {
  host: string;
  port: number;
  family: 'IPv4' | 'IPv6';
  /** The server-wide key of a WebSocket connection (absent for UDP peers). */
  external?: number;
}

const SLOT_BITS = 20;
const SLOTS = 1 << SLOT_BITS;
/** Generations wrap after this many (ids stay below 2^32). */
const GENERATIONS = 4096;

/** The sender's IP address without an IPv4-mapped prefix (`::ffff:1.2.3.4` is `1.2.3.4`). */
export function plainAddress(host: string): string {
  return host.startsWith('::ffff:') && host.includes('.') ? host.slice(7) : host;
}

/** A stable number for an IP address (FNV-1a): the engine's `source`, which shares out handshakes. */
export function sourceOf(host: string): number {
  const h = plainAddress(host);
  let x = 0x811c9dc5;
  for (let i = 0; i < h.length; i++) {
    x ^= h.charCodeAt(i);
    x = Math.imul(x, 0x01000193);
  }
  return x >>> 0;
}

export class PeerTable {
  /** UDP peers by host, then port (no string is built per datagram). */
  private readonly udp = new Map<string, Map<number, number>>();
  /** WebSocket peers by connection key. */
  private readonly external = new Map<number, number>();
  private readonly slots: (PeerAddress | undefined)[] = [];
  private readonly gens: number[] = [];
  /** Free slots, oldest first (a queue: `free[freeHead..]`). */
  private free: number[] = [];
  private freeHead = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The id of `host:port`, allocated on first sight. */
  idOf(host: string, port: number, family: string): number {
    let ports = this.udp.get(host);
    const id = ports?.get(port);
    if (id !== undefined) return id;
    if (!ports) {
      ports = new Map();
      this.udp.set(host, ports);
    }
    const fresh = this.allocate({ host, port, family: family === 'IPv6' ? 'IPv6' : 'IPv4' });
    ports.set(port, fresh);
    return fresh;
  }

  /** The id of WebSocket connection `key` (whose remote end is `host:port`), allocated on first sight. */
  idOfExternal(key: number, host: string, port: number): number {
    const id = this.external.get(key);
    if (id !== undefined) return id;
    const fresh = this.allocate({ host, port, family: host.includes(':') ? 'IPv6' : 'IPv4', external: key });
    this.external.set(key, fresh);
    return fresh;
  }

  private allocate(addr: PeerAddress): number {
    let slot: number;
    if (this.freeHead < this.free.length) {
      slot = this.free[this.freeHead++];
      if (this.freeHead > 1024 && this.freeHead * 2 > this.free.length) {
        this.free = this.free.slice(this.freeHead);
        this.freeHead = 0;
      }
    } else {
      slot = this.slots.length;
      if (slot >= SLOTS) throw new RangeError(`more than ${SLOTS} peers at once`);
      this.gens.push(0);
    }
    this.slots[slot] = addr;
    this.count++;
    return this.gens[slot] * SLOTS + slot;
  }

  get(id: number): PeerAddress | undefined {
    const slot = id % SLOTS;
    return this.gens[slot] * SLOTS + slot === id ? this.slots[slot] : undefined;
  }

  release(id: number): void {
    const slot = id % SLOTS;
    const addr = this.slots[slot];
    if (!addr || this.gens[slot] * SLOTS + slot !== id) return;
    if (addr.external !== undefined) {
      this.external.delete(addr.external);
    } else {
      const ports = this.udp.get(addr.host);
      ports?.delete(addr.port);
      if (ports?.size === 0) this.udp.delete(addr.host);
    }
    this.slots[slot] = undefined;
    this.count--;
    this.gens[slot] = (this.gens[slot] + 1) % GENERATIONS;
    this.free.push(slot);
  }
}
