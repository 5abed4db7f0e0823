/**
 * The cluster's optional dependencies, loaded only when a config needs them: the NATS client
 * packages (`@nats-io/transport-node`, and `@nats-io/kv` for the master's nats-kv store) for a
 * config that names `nats`, and `better-sqlite3` for the SQLite store on a Node without
 * `node:sqlite`. A user who runs the UDP server alone, or a cluster on the in-process bus with the
 * memory store, installs none of them. A missing one is a `MissingDependencyError` naming the
 * package to install.
 */
import { MissingDependencyError } from '../errors.js';

/** How packages are imported; a test replaces `load` to see what a missing package does. */
export const optionalDeps = {
  load: (specifier: string): Promise<unknown> => import(specifier),
};

function notInstalled(err: unknown, pkg: string): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(pkg);
}

/**
 * Imports an optional package for `feature` (e.g. "the NATS bus").
 * @throws MissingDependencyError when it is not installed: "<feature> needs the optional package <pkg>: npm install <pkg>".
 */
export async function loadOptional<T>(pkg: string, feature: string): Promise<T> {
  try {
    return (await optionalDeps.load(pkg)) as T;
  } catch (err) {
    if (notInstalled(err, pkg)) throw new MissingDependencyError(pkg, feature, { cause: err });
    throw err;
  }
}
