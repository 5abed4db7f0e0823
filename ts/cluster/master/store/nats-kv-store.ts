/**
 * The master's store in a NATS JetStream key-value bucket (the distributed mode): the state lives
 * in the nats-server, not on the master's machine, so a master started anywhere else finds it.
 * In a NATS cluster, `store.replicas` (default 1) copies survive losing a NATS machine too.
 *
 * Keys: `ban.<uid>`, `mute.<uid>`; values: the JSON of a SanctionRecord. History 1 (the bucket
 * keeps the latest value of each key). Needs a nats-server with JetStream (`nats-server -js`) and
 * the optional packages `@nats-io/transport-node` and `@nats-io/kv`.
 */
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { ConfigError } from '../../../errors.js';
import type { Logger } from '../../../log.js';
import { loadOptional } from '../../optional-deps.js';
import { isSanctionRecord, type MasterStore, type SanctionKind, type SanctionRecord } from './store.js';

export interface NatsKvStoreOptions {
  servers: string | string[];
  bucket: string;
  replicas?: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export class NatsKvStore implements MasterStore {
  readonly kind = 'nats-kv' as const;
  readonly location: string;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly kv: KV,
    bucket: string,
    private readonly log: Logger,
  ) {
    this.location = `nats-kv:${bucket}`;
  }

  /**
   * Connects and binds (creating it if needed) the bucket.
   * @throws MissingDependencyError without the NATS packages; ConfigError when JetStream is not there.
   */
  static async open(opts: NatsKvStoreOptions, log: Logger): Promise<NatsKvStore> {
    const feature = "the master's nats-kv store";
    const { connect } = await loadOptional<typeof import('@nats-io/transport-node')>('@nats-io/transport-node', feature);
    const { Kvm } = await loadOptional<typeof import('@nats-io/kv')>('@nats-io/kv', feature);
    const nc = await connect({
      servers: opts.servers,
      name: `gamewire-master-store-${opts.bucket}`,
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      waitOnFirstConnect: true,
    });
    let kv: KV;
    try {
      kv = await new Kvm(nc).create(opts.bucket, { history: 1, replicas: opts.replicas ?? 1, description: 'gamewire master: bans and mutes' });
    } catch (err) {
      await nc.close().catch(() => undefined);
      throw new ConfigError(
        'store.type',
        `cannot open the JetStream KV bucket ${JSON.stringify(opts.bucket)} (is JetStream enabled on the nats-server? start it with -js): ${(err as Error).message}`,
        { cause: err },
      );
    }
    log.info({ store: 'nats-kv', bucket: opts.bucket, replicas: opts.replicas ?? 1 }, 'master store open');
    return new NatsKvStore(nc, kv, opts.bucket, log);
  }

  async get(kind: SanctionKind, uid: number): Promise<SanctionRecord | null> {
    const e = await this.kv.get(key(kind, uid));
    if (!e || e.operation !== 'PUT') return null;
    return decode(e.value, this.log);
  }

  async put(kind: SanctionKind, uid: number, rec: SanctionRecord): Promise<void> {
    await this.kv.put(key(kind, uid), enc.encode(JSON.stringify(rec)));
  }

  async delete(kind: SanctionKind, uid: number): Promise<boolean> {
    const k = key(kind, uid);
    const e = await this.kv.get(k);
    if (!e || e.operation !== 'PUT') return false;
    await this.kv.delete(k);
    return true;
  }

  async list(kind: SanctionKind): Promise<Array<SanctionRecord & { uid: number }>> {
    const out: Array<SanctionRecord & { uid: number }> = [];
    const keys = await this.kv.keys(`${kind}.>`);
    const names: string[] = [];
    for await (const k of keys) names.push(k);
    for (const k of names) {
      const tail = k.slice(kind.length + 1);
      const uid = tail.startsWith('n') ? -Number(tail.slice(1)) : Number(tail);
      if (!Number.isSafeInteger(uid)) continue;
      const rec = await this.get(kind, uid);
      if (rec) out.push({ uid, ...rec });
    }
    return out.sort((a, b) => a.uid - b.uid);
  }

  async close(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.drain().catch(() => this.nc.close());
  }
}

/** Negative uids are allowed (int/long): `-5` → `n5`, since keys are `[-/_=.a-zA-Z0-9]`. */
function key(kind: SanctionKind, uid: number): string {
  return `${kind}.${uid < 0 ? `n${-uid}` : uid}`;
}

function decode(bytes: Uint8Array, log: Logger): SanctionRecord | null {
  try {
    const v: unknown = JSON.parse(dec.decode(bytes));
    if (isSanctionRecord(v)) return v;
  } catch {
    /* reported below */
  }
  log.warn('a malformed record in the master store was ignored');
  return null;
}
