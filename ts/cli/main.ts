/**
 * The `gamewire` command.
 *
 *   gamewire info                 which backends load here (JSON)
 */
import { loadBackend, probeBackends, resolveBackendChoice } from '../backend/index.js';
import { GamewireError } from '../errors.js';
import { VERSION } from '../version.js';

const USAGE = `usage: gamewire <command> [options]

commands:
  info        print the version and which backends load here, as JSON
              (honours GAMEWIRE_BACKEND=native|wasm|auto)
  keygen      write a new root key (PEM) and print its public key
  echo        run an echo server (demos, benchmarks, interop)
  cluster     run every node of a cluster config in this process
  node        run one node of a cluster config, over NATS
  demo        run a demo cluster with bots, a live summary and the dashboard (npm start)

\`gamewire <command> --help\` for a command's options.
`;

/** The network commands, loaded on demand: `info` must work with nothing but the package itself. */
const netCommands = () => import('./net.js');

async function usage(command: string): Promise<string> {
  const n = await netCommands();
  return command === 'keygen' ? n.KEYGEN_USAGE : command === 'echo' ? n.ECHO_USAGE : '';
}

async function guarded(command: string, f: () => Promise<number>): Promise<number> {
  try {
    return await f();
  } catch (err) {
    if (err instanceof GamewireError || (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      process.stderr.write(`gamewire ${command}: ${(err as Error).message}\n${await usage(command)}`);
      return 2;
    }
    throw err;
  }
}

async function info(): Promise<number> {
  const backends = probeBackends();
  let backend: string | null = null;
  let error: string | undefined;
  try {
    resolveBackendChoice();
    backend = loadBackend().name;
  } catch (err) {
    error = (err as Error).message;
  }
  const out: Record<string, unknown> = { version: VERSION, backend, backends };
  if (error) out.error = error;
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  return error ? 1 : 0;
}

/** Runs the CLI with `argv` (without `node` and the script) and resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if ((command === 'keygen' || command === 'echo') && (rest.includes('--help') || rest.includes('-h'))) {
    process.stdout.write(await usage(command));
    return 0;
  }
  switch (command) {
    case 'info':
      return info();
    case 'keygen':
      return guarded('keygen', async () => (await netCommands()).keygen(rest));
    case 'echo':
      return guarded('echo', async () => (await netCommands()).echo(rest));
    case 'cluster':
    case 'node': {
      // Loaded on demand: the cluster layer sits above the network layer.
      const c = await import('../cluster/cli.js');
      if (rest.includes('--help') || rest.includes('-h')) {
        process.stdout.write(c.CLUSTER_USAGE);
        return 0;
      }
      return command === 'cluster' ? c.clusterCommand(rest) : c.nodeCommand(rest);
    }
    case 'demo': {
      const d = await import('../cluster/demo/demo.js');
      if (rest.includes('--help') || rest.includes('-h')) {
        process.stdout.write(d.DEMO_USAGE);
        return 0;
      }
      return d.demoCommand(rest);
    }
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return command === undefined ? 1 : 0;
    default:
      process.stderr.write(`gamewire: unknown command ${JSON.stringify(command)}\n${USAGE}`);
      return 1;
  }
}
