/**
 * `gamewire cluster` and `gamewire node`: run a cluster config, all of it in this process or one
 * node of it (over the NATS bus the config names).
 *
 * `--load <file>` imports a module before starting (it calls defineMod for the mods the config
 * names; repeatable). Both commands run until SIGINT or SIGTERM, then stop their nodes and exit 0;
 * they also end (exit 0) when the master's serverManager stopped every node they run. Logs are
 * JSON lines on stdout; once the nodes are up a line with `"msg":"ready"` names them and the
 * proxies' addresses. A bad config or a failed start: one line on stderr, exit 1.
 *
 * A master run by `gamewire node` starts the nodes rollingUpdateServers adds as `gamewire node`
 * child processes of the same program, with the same `--load` modules and options.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../errors.js';
import { createLogger } from '../log.js';
import { Cluster, loadConfigFile, type ClusterOptions } from '../cluster/index.js';
import { defineCommand, intOption, logLevelOption, required, type CliCommand, type OptionValues } from './args.js';

const OPTIONS = {
  config: { type: 'string', short: 'c', value: 'FILE', help: 'the cluster config (JSON; required)' },
  load: { type: 'string', multiple: true, value: 'FILE', help: 'import this module first (it defines the mods the config names)' },
  'log-level': { type: 'string', value: 'LEVEL', help: 'trace | debug | info | warn | error | fatal | silent (default: GAMEWIRE_LOG_LEVEL, else info)' },
  'dev-bare-uids': { type: 'boolean', help: 'proxies accept bare uids instead of connect tokens (development only)' },
} as const;

const NODE_OPTIONS = {
  ...OPTIONS,
  'server-id': { type: 'string', short: 's', value: 'ID', help: 'the server id of the node to run (required)' },
} as const;

/** Extra options for embedding the commands (tests, other launchers). */
export interface CommandOptions {
  /** Overrides for the cluster (e.g. a gateway, timings). */
  cluster?: ClusterOptions;
  /** Stops the nodes when aborted (besides SIGINT/SIGTERM). */
  signal?: AbortSignal;
}

async function run(values: OptionValues<typeof NODE_OPTIONS>, single: boolean, extra: CommandOptions): Promise<number> {
  const configFile = required(values.config, 'config', 'FILE (the cluster config)');
  const serverId = single ? required(intOption(values, 'server-id', 0, Number.MAX_SAFE_INTEGER), 'server-id', 'ID') : null;
  const level = logLevelOption(values);
  const load = (values.load ?? []).map((f) => resolve(f));
  for (const file of load) {
    try {
      await import(pathToFileURL(file).href);
    } catch (err) {
      throw new ConfigError('--load', `cannot load ${file}: ${(err as Error).message}`, { cause: err });
    }
  }
  const config = loadConfigFile(configFile);
  const opts: ClusterOptions = { logger: createLogger({ fd: 1, ...(level ? { level } : {}) }), ...extra.cluster };
  if (values['dev-bare-uids']) opts.devBareUidLogin = true;
  if (single) {
    // The nodes a rolling update adds run the way this process runs.
    opts.processLauncher = {
      command: [process.execPath, ...process.execArgv, process.argv[1]!],
      load,
      args: [...(level ? ['--log-level', level] : []), ...(values['dev-bare-uids'] ? ['--dev-bare-uids'] : [])],
      ...opts.processLauncher,
    };
  }
  const cluster = single ? await Cluster.startNode(config, serverId!, opts) : await Cluster.start(config, opts);
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

/** The two commands, with `extra` options for embedding them. */
export function clusterCommands(extra: CommandOptions = {}): { cluster: CliCommand; node: CliCommand } {
  return {
    cluster: defineCommand({
      name: 'cluster',
      synopsis: ['--config FILE [--load FILE]... [--log-level LEVEL] [--dev-bare-uids]'],
      description: 'Runs every node of a cluster config in this process (the in-process bus unless the config names "nats").\nRuns until SIGINT/SIGTERM (exit 0). Logs are JSON lines on stdout.',
      options: OPTIONS,
      run: (values) => run(values, false, extra),
    }),
    node: defineCommand({
      name: 'node',
      synopsis: ['--config FILE --server-id ID [--load FILE]... [--log-level LEVEL] [--dev-bare-uids]'],
      description: 'Runs one node of a cluster config, over the NATS bus the config names ("nats").\nRuns until SIGINT/SIGTERM (exit 0). Logs are JSON lines on stdout.',
      options: NODE_OPTIONS,
      run: (values) => run(values, true, extra),
    }),
  };
}
