#!/usr/bin/env node
// Launcher for the `gamewire` command: runs the built CLI in dist/.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  // Only a repository checkout can lack dist/: the published package ships it.
  process.stderr.write('gamewire is not built yet: run `npm run build` in this checkout\n');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
