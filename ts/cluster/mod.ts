/**
 * Mods: named bundles of systems, one list per role (api.md §2). A node constructs the systems of
 * the mods its config entry names (`mods`, comma-separated) with `new system(namespace, systemName)`
 * and destroys them when it stops.
 */
import { GamewireError } from '../errors.js';
import type { ClientSystem } from './systems/client.js';
import type { MasterSystem } from './systems/master.js';
import type { ServerSystem } from './systems/server.js';
import type { ServiceSystem } from './systems/service.js';

/** A system class of some role: constructed with `(namespace, systemName)`. */
export type SystemClass<T> = new (namespace: string, systemName: string) => T;

/** One system of a mod. */
export interface SystemEntry<T> {
  namespace: string;
  systemName: string;
  system: SystemClass<T>;
}

/** The systems of a mod, per role. */
export interface ModSystems {
  master?: ReadonlyArray<SystemEntry<MasterSystem>>;
  server?: ReadonlyArray<SystemEntry<ServerSystem>>;
  service?: ReadonlyArray<SystemEntry<ServiceSystem>>;
  client?: ReadonlyArray<SystemEntry<ClientSystem>>;
}

/** A defined mod. */
export interface ModDefinition extends ModSystems {
  readonly name: string;
}

const registry = new Map<string, ModDefinition>();
/** `namespace\0systemName` of every client system of every defined mod (null: recompute). */
let clientSystems: Set<string> | null = null;

/**
 * Defines (or redefines: the later definition replaces the earlier) the mod `name`.
 * @throws GamewireError `ERR_MOD` when an entry is malformed.
 */
export function defineMod(name: string, systems: ModSystems): ModDefinition {
  if (typeof name !== 'string' || name.trim() === '' || name.includes(',')) {
    throw new GamewireError('ERR_MOD', `a mod name is a non-empty string without commas (got ${JSON.stringify(name)})`);
  }
  for (const role of ['master', 'server', 'service', 'client'] as const) {
    const list = systems[role];
    if (list === undefined) continue;
    if (!Array.isArray(list)) throw new GamewireError('ERR_MOD', `mod ${name}: ${role} must be a list of { namespace, systemName, system }`);
    const seen = new Set<string>();
    for (const e of list as ReadonlyArray<SystemEntry<unknown>>) {
      if (!e || typeof e.namespace !== 'string' || typeof e.systemName !== 'string' || typeof e.system !== 'function') {
        throw new GamewireError('ERR_MOD', `mod ${name}: every ${role} entry needs namespace, systemName and a system class`);
      }
      const k = `${e.namespace}.${e.systemName}`;
      if (seen.has(k)) throw new GamewireError('ERR_MOD', `mod ${name}: ${role} system ${k} is listed twice`);
      seen.add(k);
    }
  }
  const def: ModDefinition = Object.freeze({ name, ...systems });
  registry.set(name, def);
  clientSystems = null;
  return def;
}

/** The mod defined under `name`, if any. */
export function getMod(name: string): ModDefinition | undefined {
  return registry.get(name);
}

/** Names of every defined mod. */
export function definedMods(): string[] {
  return [...registry.keys()];
}

/**
 * True if `(namespace, systemName)` is a client system of some defined mod. Events that come from
 * players are accepted only from such senders: a client cannot pose as a server, a service, the
 * master or the engine.
 */
export function isClientSystem(namespace: string, systemName: string): boolean {
  if (!clientSystems) {
    clientSystems = new Set();
    for (const m of registry.values()) for (const e of m.client ?? []) clientSystems.add(`${e.namespace}\u0000${e.systemName}`);
  }
  return clientSystems.has(`${namespace}\u0000${systemName}`);
}
