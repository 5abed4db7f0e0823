import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Packs and installs the tarballs (minutes): its own step, `npm run test:package`.
    exclude: [...configDefaults.exclude, 'test/package/**'],
    // Native addons and real sockets: one process per file keeps them apart.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
