/**
 * The cluster commands of the `gamewire` CLI. `ts/cli/main.ts` wires them in:
 *
 *   gamewire cluster --config cluster.json [--load mods.js ...]                 every node, one process
 *   gamewire node --config cluster.json --server-id 4000 [--load mods.js ...]   one node, over NATS
 *
 * Options: `--load <file>` imports a module before starting (it calls defineMod for the mods the
 * config names; repeatable), `--log-level <pino level>`, `--dev-bare-uids` (proxies accept bare
 * uids instead of connect tokens: development only). Both commands run until SIGINT or SIGTERM,
 * then stop their nodes and resolve to the exit code; they also end (exit 0) when the master's
 * serverManager stopped every node they run. Logs are pino JSON lines on stdout; once the nodes
 * are up a line with `"msg":"ready"` names them and the proxies' addresses.
 *
 * A master run by `gamewire node` starts the nodes rollingUpdateServers adds as `gamewire node`
 * child processes through the same program, with the same `--load` modules (launcher.ts).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { GamewireError } from '../errors.js';
import { Cluster, type ClusterOptions } from './cluster.js';
import { loadConfigFile } from './config.js';
import { cliInvocation } from './launcher.js';

export const CLUSTER_USAGE = `  cluster     run every node of a cluster config in this process
              gamewire cluster --config cluster.json [--load mods.js]... [--log-level info] [--dev-bare-uids]
  node        run one node of a cluster config, over the NATS bus the config names
              gamewire node --config cluster.json --server-id 4000 [--load mods.js]... [--log-level info] [--dev-bare-uids]
`;

interface Parsed {
  config: string;
  serverId: number | null;
  load: string[];
  logLevel: string | null;
  devBareUids: boolean;
}

function parseArgs(argv: string[], needServerId: boolean): Parsed {
  const out: Parsed = { config: '', serverId: null, load: [], logLevel: null, devBareUids: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new GamewireError('ERR_USAGE', `${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--config':
        out.config = value();
        break;
      case '--server-id': {
        const v = value();
        if (!/^[0-9]+$/.test(v)) throw new GamewireError('ERR_USAGE', `--server-id takes a number (got ${JSON.stringify(v)})`);
        out.serverId = Number(v);
        break;
      }
      case '--load':
        out.load.push(value());
        break;
      case '--log-level':
        out.logLevel = value();
        break;
      case '--dev-bare-uids':
        out.devBareUids = true;
        break;
      default:
        throw new GamewireError('ERR_USAGE', `unknown option ${JSON.stringify(a)}`);
    }
  }
  if (!out.config) throw new GamewireError('ERR_USAGE', '--config <file> is required');
  if (needServerId && out.serverId === null) throw new GamewireError('ERR_USAGE', '--server-id <n> is required');
  return out;
}

/** Extra options for embedding the commands (tests, other launchers). */
export interface CommandOptions {
  /** Overrides for the cluster (e.g. a gateway, timings). */
  cluster?: ClusterOptions;
  /** Stops the nodes when aborted (besides SIGINT/SIGTERM). */
  signal?: AbortSignal;
}

async function run(argv: string[], single: boolean, extra: CommandOptions): Promise<number> {
  let p: Parsed;
  try {
    p = parseArgs(argv, single);
  } catch (err) {
    process.stderr.write(`gamewire ${single ? 'node' : 'cluster'}: ${(err as Error).message}\n${CLUSTER_USAGE}`);
    return 2;
  }
  let cluster: Cluster;
  try {
    for (const file of p.load) await import(pathToFileURL(resolve(file)).href);
    const config = loadConfigFile(p.config);
    const opts: ClusterOptions = { ...extra.cluster };
    if (p.logLevel) opts.logLevel = p.logLevel;
    if (p.devBareUids) opts.devBareUidLogin = true;
    if (single) {
      // Children the master launches run the way this process runs.
      cliInvocation.command = [process.execPath, ...process.execArgv, process.argv[1]!];
      cliInvocation.load = p.load.map((f) => resolve(f));
      cliInvocation.args = [...(p.logLevel ? ['--log-level', p.logLevel] : []), ...(p.devBareUids ? ['--dev-bare-uids'] : [])];
    }
    cluster = single ? await Cluster.startNode(config, p.serverId!, opts) : await Cluster.start(config, opts);
  } catch (err) {
    process.stderr.write(`gamewire ${single ? 'node' : 'cluster'}: ${(err as Error).message}\n`);
    return 1;
  }
  const proxies: Record<number, { host: string; port: number }> = {};
  for (const id of cluster.serverIds) if (cluster.node(id).role === 'proxy') proxies[id] = cluster.proxyAddress(id);
  cluster.log.info({ nodes: cluster.serverIds, proxies, bus: cluster.bus.kind }, 'ready');

  // Nothing else may hold the event loop (an in-process cluster without proxies): keep it alive.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  await new Promise<void>((done) => {
    const finish = () => {
      clearInterval(keepAlive);
      process.off('SIGINT', finish);
      process.off('SIGTERM', finish);
      extra.signal?.removeEventListener('abort', finish);
      done();
    };
    process.on('SIGINT', finish);
    process.on('SIGTERM', finish);
    if (extra.signal?.aborted) finish();
    else extra.signal?.addEventListener('abort', finish);
    // The master's serverManager stopped every node here (stopServerByServerId, rolling update).
    void cluster.whenEmpty().then(() => {
      cluster.log.info('every node here was stopped: exiting');
      finish();
    });
  });
  await cluster.stop();
  return 0;
}

/** `gamewire cluster --config cluster.json`: every node in this process. Resolves to the exit code. */
export function clusterCommand(argv: string[], extra: CommandOptions = {}): Promise<number> {
  return run(argv, false, extra);
}

/** `gamewire node --config cluster.json --server-id N`: one node, over NATS. Resolves to the exit code. */
export function nodeCommand(argv: string[], extra: CommandOptions = {}): Promise<number> {
  return run(argv, true, extra);
}
