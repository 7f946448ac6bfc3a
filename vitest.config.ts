import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two test files at a time (vitest's default on a 2-core machine is one): most of them wait
    // on servers, sockets and timers, not on the CPU.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
