import { defineConfig } from 'vitest/config';
import type { TestProjectInlineConfiguration } from 'vitest/config';
import { budget } from './core/contracts/wait-for.ts';
import { BIGQUERY_SUITES } from './infra/bigquery-suites.ts';

const EXCLUDE = ['node_modules/**', 'data/**', '.emulators/**'];

/** What every project shares. */
const shared = {
  // Scaled by VIGIL_TEST_TIME_SCALE (2 under CI=true), like every budget a test waits with.
  testTimeout: budget(30_000),
  hookTimeout: budget(120_000),
  // expect.poll's default of 1 s is shorter than a busy machine's stall; a poll that holds ends at once.
  expect: { poll: { timeout: budget(5_000) } },
  pool: 'forks',
} as const;

const projects: TestProjectInlineConfiguration[] = [
  {
    test: {
      ...shared,
      name: 'main',
      include: ['**/*.test.ts'],
      exclude: [...EXCLUDE, ...BIGQUERY_SUITES],
      // Most suites wait on emulators, the broker or child processes rather than the CPU: three
      // files here and one BigQuery suite make the four the whole suite ran before.
      maxWorkers: 3,
    },
  },
  // The suites on the shared BigQuery emulator (infra/bigquery-suites.ts says why), one file at a
  // time. Vitest refuses projects with different worker counts in one `sequence.groupOrder`;
  // without a group order, projects run side by side, each with its own.
  {
    test: {
      ...shared,
      name: 'bigquery',
      include: [...BIGQUERY_SUITES],
      exclude: EXCLUDE,
      fileParallelism: false,
      maxWorkers: 1,
    },
  },
];

export default defineConfig({
  test: {
    projects,
    reporters: ['default'],
  },
});
