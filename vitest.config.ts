import { defineConfig } from 'vitest/config';
import type { TestProjectInlineConfiguration } from 'vitest/config';
import { budget } from './core/contracts/wait-for.ts';

/**
 * Suites that write to or query the BigQuery emulator. It answers one request at a time and each
 * costs it CPU, so with these files beside each other (and beside the rest of the suite on a busy
 * 2-core machine) every one of them waited behind the others: 30 s alone became 600–1,300 s, and
 * tests ran out of their budgets. They run one file at a time, beside the rest of the suite.
 * (Vitest refuses projects with different worker counts in one `sequence.groupOrder`; without a
 * group order, projects run side by side, each with its own.)
 */
const BIGQUERY_SUITES = [
  'adapters/gcp/audit-multi-instance.e2e.int.test.ts',
  'adapters/gcp/bulk-load-bigquery.int.test.ts',
  'adapters/gcp/edge-bus-down.e2e.int.test.ts',
  'adapters/gcp/multi-instance.e2e.int.test.ts',
  'adapters/gcp/pipeline.e2e.int.test.ts',
  'adapters/gcp/start.e2e.int.test.ts',
  'adapters/gcp/store-outage.e2e.int.test.ts',
  'adapters/gcp/warehouse-bigquery.int.test.ts',
  'adapters/kafka/pipeline.e2e.int.test.ts',
  'analytics-sql/parity.int.test.ts',
  'batch-loader/load-bigquery.int.test.ts',
  'infra/emulators.int.test.ts',
  'ingest/hl7/adt-records.int.test.ts',
];

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
  {
    test: {
      ...shared,
      name: 'bigquery',
      include: BIGQUERY_SUITES,
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
