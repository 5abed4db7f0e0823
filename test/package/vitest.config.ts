import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The package tests (`npm run test:package`, a step of `npm test`): they pack the tarballs and
// install them with npm, so they take minutes and run one file at a time.
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['test/package/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 600_000,
    reporters: ['default'],
  },
});
