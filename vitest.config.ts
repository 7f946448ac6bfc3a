import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Three test files at a time (vitest's default on a 2-core machine is one): most of them wait
    // on servers, sockets, timers and PostgreSQL, not on the CPU; with two, both passes took 11
    // of CI's 15 minutes.
    maxWorkers: 3,
    reporters: ['default'],
  },
});
