/**
 * Mods: named bundles of systems, one list per role. A node constructs the systems of the mods
 * its config entry names (`mods`, comma-separated) with `new system(namespace, systemName)` and
 * destroys them when it stops or resets; a `GameClient` constructs the client systems of its mods.
 */
import { ConfigError, GamewireError } from '../errors.js';
import { nodeEntries, type ClusterConfig } from './cluster-config.js';
import { definedMods, getMod as registered, MOD_ROLES, registerMod, type SystemClass, type SystemEntry } from './core/mod-registry.js';
import type { MasterSystem } from './master/master-system.js';
import type { ClientSystem } from './player/client-system.js';
import type { ServerSystem } from './server/server-system.js';
import type { ServiceSystem } from './service/service-system.js';

export type { SystemClass, SystemEntry };
export { definedMods };

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

/**
 * Defines (or redefines: the later definition replaces the earlier) the mod `name`.
 * @throws GamewireError `ERR_MOD` when an entry is malformed.
 */
export function defineMod(name: string, systems: ModSystems): ModDefinition {
  if (typeof name !== 'string' || name.trim() === '' || name.includes(',')) {
    throw new GamewireError('ERR_MOD', `a mod name is a non-empty string without commas (got ${JSON.stringify(name)})`);
  }
  for (const role of MOD_ROLES) {
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
  registerMod(def);
  return def;
}

/** The mod defined under `name`, if any. */
export function getMod(name: string): ModDefinition | undefined {
  return registered(name) as ModDefinition | undefined;
}

/**
 * Checks that every mod a node names has been defined with `defineMod` (call it after importing
 * the mods). `only` limits the check to some server ids.
 * @throws ConfigError naming e.g. `serverlist[1].mods`.
 */
export function checkMods(config: ClusterConfig, only?: ReadonlySet<number>): void {
  for (const { entry, field } of nodeEntries(config)) {
    if (only && !only.has(entry.serverid)) continue;
    for (const name of entry.mods) {
      if (!registered(name)) throw new ConfigError(`${field}.mods`, `mod ${JSON.stringify(name)} is not defined by any defineMod()`);
    }
  }
}
