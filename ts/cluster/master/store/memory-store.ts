/**
 * The master's state in memory only (`"store": { "memory": true }`, or `"sqlite": ":memory:"`):
 * for tests and demos. Nothing survives the master stopping, and no SQLite module is needed.
 */
import { StateError } from '../../../errors.js';
import type { MasterStore, SanctionKind, SanctionRecord } from './store.js';

export class MemoryStore implements MasterStore {
  readonly kind = 'memory' as const;
  readonly location = 'memory';
  private readonly records = new Map<SanctionKind, Map<number, SanctionRecord>>([
    ['ban', new Map()],
    ['mute', new Map()],
  ]);
  private closed = false;

  private table(kind: SanctionKind): Map<number, SanctionRecord> {
    if (this.closed) throw new StateError('the memory store is closed');
    return this.records.get(kind)!;
  }

  async get(kind: SanctionKind, uid: number): Promise<SanctionRecord | null> {
    const r = this.table(kind).get(uid);
    return r ? { ...r } : null;
  }

  async put(kind: SanctionKind, uid: number, rec: SanctionRecord): Promise<void> {
    this.table(kind).set(uid, { ...rec });
  }

  async delete(kind: SanctionKind, uid: number): Promise<boolean> {
    return this.table(kind).delete(uid);
  }

  async list(kind: SanctionKind): Promise<Array<SanctionRecord & { uid: number }>> {
    return [...this.table(kind)].map(([uid, r]) => ({ uid, ...r })).sort((a, b) => a.uid - b.uid);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
