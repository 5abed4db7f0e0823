/** Peer ids for the engine: small integers for (address, port) pairs, reused once released. */
export interface PeerAddress {
  host: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

export class PeerTable {
  private readonly byKey = new Map<string, number>();
  private readonly byId: (PeerAddress | undefined)[] = [];
  private readonly keys: (string | undefined)[] = [];
  private readonly free: number[] = [];

  get size(): number {
    return this.byKey.size;
  }

  /** The id of `host:port`, allocated on first sight. */
  idOf(host: string, port: number, family: string): number {
    const key = `${port}/${host}`;
    const id = this.byKey.get(key);
    if (id !== undefined) return id;
    const fresh = this.free.pop() ?? this.byId.length;
    this.byKey.set(key, fresh);
    this.byId[fresh] = { host, port, family: family === 'IPv6' ? 'IPv6' : 'IPv4' };
    this.keys[fresh] = key;
    return fresh;
  }

  get(id: number): PeerAddress | undefined {
    return this.byId[id];
  }

  release(id: number): void {
    const key = this.keys[id];
    if (key === undefined) return;
    this.byKey.delete(key);
    this.byId[id] = undefined;
    this.keys[id] = undefined;
    this.free.push(id);
  }
}
