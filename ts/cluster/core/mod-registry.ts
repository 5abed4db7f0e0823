/**
 * The registry of defined mods: named bundles of systems, one list per role. A node builds the
 * systems of the mods its config entry names; a client builds the client systems of its mods.
 * `defineMod` (mods.ts) is the typed way in; the node core only needs what is here.
 */
import type { System } from './system.js';

/** A system class: constructed with `(namespace, systemName)`. */
export type SystemClass<T> = new (namespace: string, systemName: string) => T;

/** One system of a mod. */
export interface SystemEntry<T> {
  namespace: string;
  systemName: string;
  system: SystemClass<T>;
}

/** The roles a mod has systems for. */
export const MOD_ROLES = ['master', 'server', 'service', 'client'] as const;
export type ModRole = (typeof MOD_ROLES)[number];

/** A defined mod, as the node core sees it. */
export type RegisteredMod = { readonly name: string } & { readonly [R in ModRole]?: ReadonlyArray<SystemEntry<System>> };

const registry = new Map<string, RegisteredMod>();
/** `namespace\0systemName` of every client system of every defined mod (null: recompute). */
let clientSystems: Set<string> | null = null;

/** Adds (or replaces) a mod. */
export function registerMod(mod: RegisteredMod): void {
  registry.set(mod.name, mod);
  clientSystems = null;
}

/** The mod defined under `name`, if any. */
export function getMod(name: string): RegisteredMod | undefined {
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
