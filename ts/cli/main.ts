/**
 * The `gamewire` command.
 *
 *   gamewire info                 which backends load here (JSON)
 */
import { loadBackend, probeBackends, resolveBackendChoice } from '../backend/index.js';
import { VERSION } from '../version.js';

const USAGE = `usage: gamewire <command> [options]

commands:
  info        print the version and which backends load here, as JSON
              (honours GAMEWIRE_BACKEND=native|wasm|auto)
`;

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
  switch (command) {
    case 'info':
      return info();
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return command === undefined ? 1 : 0;
    default:
      process.stderr.write(`gamewire: unknown command ${JSON.stringify(command)}\n${USAGE}`);
      void rest;
      return 1;
  }
}
