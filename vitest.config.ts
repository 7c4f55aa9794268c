import { defineConfig } from 'vitest/config';
import { budget } from './core/contracts/wait-for.ts';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'data/**', '.emulators/**'],
    // Scaled by VIGIL_TEST_TIME_SCALE (2 under CI=true), like every budget a test waits with.
    testTimeout: budget(30_000),
    hookTimeout: budget(120_000),
    // expect.poll's default of 1 s is shorter than a busy machine's stall; a poll that holds ends at once.
    expect: { poll: { timeout: budget(5_000) } },
    pool: 'forks',
    // Most suites wait on emulators, the broker or child processes rather than the CPU; the
    // BigQuery emulator serializes its requests, so its suites overlap with the others, not each other's work.
    maxWorkers: 4,
    reporters: ['default'],
  },
});
