#!/usr/bin/env node
// Runs a TypeScript entry point (benchmarks, tools) with tsx, passing the remaining arguments.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [entry, ...args] = process.argv.slice(2);
const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, entry), ...args], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
