/**
 * The `gamewire` command: a table of commands, each loaded when it runs (`info` works with
 * nothing but the package itself: the network and cluster layers are not loaded for it).
 *
 *   gamewire <command> [options]     gamewire <command> --help     gamewire --version
 */
import { VERSION } from '../version.js';
import type { CliCommand } from './args.js';

interface Entry {
  summary: string;
  load: () => Promise<CliCommand>;
}

const COMMANDS: Record<string, Entry> = {
  info: { summary: 'print the version and which backends load here, as JSON', load: async () => (await import('./info.js')).infoCommand },
  keygen: { summary: 'write a new root key (PEM) and print its public key', load: async () => (await import('./net-commands.js')).keygenCommand },
  echo: { summary: 'run an echo server (demos, benchmarks, interop)', load: async () => (await import('./net-commands.js')).echoCommand },
  cluster: { summary: 'run every node of a cluster config in this process', load: async () => (await import('./cluster-commands.js')).clusterCommands().cluster },
  node: { summary: 'run one node of a cluster config, over the NATS bus it names', load: async () => (await import('./cluster-commands.js')).clusterCommands().node },
  demo: { summary: 'run a demo cluster with bots, a live summary and the dashboard (npm start)', load: async () => (await import('./demo/demo.js')).demoCommand },
};

const USAGE = `usage: gamewire <command> [options]

commands:
${Object.entries(COMMANDS)
  .map(([name, e]) => `  ${name.padEnd(10)}  ${e.summary}`)
  .join('\n')}

\`gamewire <command> --help\` for a command's options; \`gamewire --version\` for the version.
`;

/** Runs the CLI with `argv` (without `node` and the script) and resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    process.stderr.write(USAGE);
    return 2;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    const about = rest[0] !== undefined ? COMMANDS[rest[0]] : undefined;
    process.stdout.write(about ? (await about.load()).usage() : USAGE);
    return 0;
  }
  if (command === '--version' || command === '-v' || command === 'version') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const entry = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!entry) {
    process.stderr.write(`gamewire: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
    return 2;
  }
  return (await entry.load()).main(rest);
}
