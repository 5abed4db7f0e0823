/**
 * Opens the master's store the config names (see store.ts for the kinds). Each implementation is
 * loaded only when chosen, so a store's optional dependency is needed only by the masters that
 * use it.
 */
import { ConfigError } from '../../../errors.js';
import type { Logger } from '../../../log.js';
import { defaultStorePath, type ClusterConfig, type StoreType } from '../../cluster-config.js';
import type { MasterStore } from './store.js';

/** Which store a master uses in a mode (see the module doc). */
export function storeKind(config: ClusterConfig, mode: 'embedded' | 'distributed'): StoreType {
  if (config.store.type) return config.store.type;
  return mode === 'distributed' && config.nats ? 'nats-kv' : 'sqlite';
}

/** Opens the master's store for `config` in `mode`. */
export async function openStore(config: ClusterConfig, mode: 'embedded' | 'distributed', log: Logger): Promise<MasterStore> {
  const kind = storeKind(config, mode);
  if (kind === 'memory') {
    const { MemoryStore } = await import('./memory-store.js');
    log.info({ store: 'memory' }, 'master store open');
    return new MemoryStore();
  }
  if (kind === 'sqlite') {
    const { SqliteStore } = await import('./sqlite-store.js');
    const path = config.store.sqlite ?? defaultStorePath(config);
    if (config.store.sqlite === null) log.info({ path }, 'the config names no store: the master keeps its state in the data directory (set "store" to choose)');
    return SqliteStore.open(path, log);
  }
  if (!config.nats) throw new ConfigError('store.type', 'nats-kv keeps the master\'s state on the nats-server: the config needs "nats"');
  const { NatsKvStore } = await import('./nats-kv-store.js');
  return NatsKvStore.open({ servers: config.nats.servers, bucket: config.store.bucket, replicas: config.store.replicas }, log);
}
