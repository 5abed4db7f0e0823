/**
 * The distributed mode's node launcher: the master starts each node rollingUpdateServers adds as
 * a `gamewire node` child process. The child gets a config file written next to the others
 * (`<tmpdir>/gamewire-<prefix>/<serverId>.json`: the config as written plus the nodes added at run
 * time), the `load` modules and the extra `args`.
 *
 * The command: `command` when given (e.g. `['node', '/path/to/bin/gamewire.js']`; `gamewire node`
 * passes the program it runs as, so a master started by a wrapper script starts its children
 * through it too, with its own `--load` modules and options); else this package's
 * `bin/gamewire.js`.
 *
 * The children are cluster nodes like any other: they outlive the master (a restarted master
 * finds them when they register again) and stop when the master's serverManager stops them.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../log.js';
import { rawServerEntry, type ClusterConfig, type ServerEntry } from '../cluster-config.js';
import type { NodeLauncher } from './lifecycle.js';

export interface ProcessLauncherOptions {
  /** The program and its first arguments; `node --config F --server-id N ...` follow. */
  command?: string[];
  /** Modules each child imports (`--load`). */
  load?: string[];
  /** Extra arguments for each child (e.g. `['--log-level', 'debug']`). */
  args?: string[];
  /** Where the children's config files go. Default `<tmpdir>/gamewire-<prefix>`. */
  configDir?: string;
  /** What happens to the children's stdout/stderr: shared with the master (default) or dropped. */
  stdio?: 'inherit' | 'ignore';
  /** Extra environment for the children. */
  env?: Record<string, string>;
  logger?: Logger;
}

/** The package's own CLI launcher. */
function packageCli(): string[] {
  return [process.execPath, fileURLToPath(new URL('../../../bin/gamewire.js', import.meta.url))];
}

/** A launcher that starts nodes as `gamewire node` child processes. */
export function createProcessLauncher(opts: ProcessLauncherOptions = {}): NodeLauncher {
  return {
    kind: 'process',
    async launch(entry: ServerEntry, config: ClusterConfig): Promise<void> {
      const dir = opts.configDir ?? join(tmpdir(), `gamewire-${(config.nats?.prefix ?? 'cluster').replace(/[^A-Za-z0-9_.-]/g, '_')}`);
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `${entry.serverid}.json`);
      const raw = structuredClone(config.raw) as Record<string, unknown> & { serverlist?: unknown[] };
      const listed = new Set((raw.serverlist ?? []).map((s) => (s as { serverid?: number }).serverid));
      raw.serverlist = [...(raw.serverlist ?? []), ...config.serverlist.filter((s) => s.dynamic && !listed.has(s.serverid)).map(rawServerEntry)];
      writeFileSync(file, JSON.stringify(raw, null, 2));
      const command = opts.command ?? packageCli();
      const load = (opts.load ?? []).map((f) => resolve(f));
      const args = [...command.slice(1), 'node', '--config', file, '--server-id', String(entry.serverid), ...load.flatMap((f) => ['--load', f]), ...(opts.args ?? [])];
      const child = spawn(command[0]!, args, { stdio: ['ignore', opts.stdio ?? 'inherit', opts.stdio ?? 'inherit'], env: { ...process.env, ...opts.env } });
      await new Promise<void>((ok, fail) => {
        child.once('spawn', () => ok());
        child.once('error', fail);
      });
      child.unref();
      opts.logger?.info({ server: entry.serverid, pid: child.pid, config: file }, 'node launched');
      child.once('exit', (code, signal) => opts.logger?.info({ server: entry.serverid, pid: child.pid, code, signal }, 'launched node exited'));
    },
  };
}
