import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'data/**', '.emulators/**'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Most suites wait on emulators, the broker or child processes rather than the CPU; the
    // BigQuery emulator serializes its requests, so its suites overlap with the others, not each other's work.
    maxWorkers: 4,
    reporters: ['default'],
  },
});
