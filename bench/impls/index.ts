/** The registry of implementations the suites run on. */
import type { ImplName, Implementation, UnavailableImplementation } from '../lib/impl.js';
import { backendImplementation } from './backend.js';
import { plainImplementation } from './plain.js';

/** How to load each implementation. Adding one is a line here plus its adapter. */
export const ADAPTERS: Record<ImplName, () => Promise<Implementation | UnavailableImplementation>> = {
  plain: async () => plainImplementation(),
  native: () => backendImplementation('native'),
  wasm: () => backendImplementation('wasm'),
};

/** What loading the implementations gave. */
export interface LoadedImplementations {
  /** Loaded, `plain` first. */
  available: Implementation[];
  /** Could not be loaded, with the reason. */
  unavailable: UnavailableImplementation[];
}

/** Loads the implementations named (default: all); `plain` is always loaded, as the reference. */
export async function loadImplementations(names?: readonly ImplName[]): Promise<LoadedImplementations> {
  const wanted = new Set<ImplName>(['plain', ...(names ?? (Object.keys(ADAPTERS) as ImplName[]))]);
  const available: Implementation[] = [];
  const unavailable: UnavailableImplementation[] = [];
  for (const name of Object.keys(ADAPTERS) as ImplName[]) {
    if (!wanted.has(name)) continue;
    const impl = await ADAPTERS[name]();
    if ('reason' in impl) unavailable.push(impl);
    else available.push(impl);
  }
  return { available, unavailable };
}
