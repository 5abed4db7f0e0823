/** `gamewire info`: the version and which backends load here, as JSON. */
import { loadBackend, probeBackends, resolveBackendChoice } from '../backend/index.js';
import { VERSION } from '../version.js';
import { defineCommand } from './args.js';

export const infoCommand = defineCommand({
  name: 'info',
  synopsis: [''],
  description: 'Prints the version and which backends load here, as JSON (honours GAMEWIRE_BACKEND=native|wasm|auto).\nExits 1 when no backend loads.',
  options: {},
  async run() {
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
  },
});
