import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two test files at a time. Vitest's default in `vitest run` is one worker less than the cores: on
    // the 2-core machine that is one, so the files ran one after the other with the second core mostly
    // idle (a file runs its tests in one thread, or waits for the one CLI process it spawned).
    // VITEST_MAX_WORKERS=1 restores one file at a time.
    maxWorkers: 2,
    globalSetup: ['test/global-setup.ts'],
  },
});
