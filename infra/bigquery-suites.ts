/**
 * Suites that write to or query the shared BigQuery emulator. It answers one request at a time and
 * each costs it CPU, so with these files beside each other (and beside the rest of the suite on a
 * busy 2-core machine) every one of them waited behind the others: 30 s alone became 600–1,300 s,
 * and tests ran out of their budgets. vitest.config.ts runs them one file at a time, beside the
 * rest of the suite.
 *
 * Each also gets a BigQuery project of its own (`bigQueryTestProject`): the emulator reads a
 * project's whole catalog (datasets, tables, every job so far) on each request, so in one shared
 * project each request grew slower as the run went on (a dataset list took 3 s after 158 datasets;
 * adt-records.int took 385 s in a busy CI run, 20 s alone). `npm run emulators:up` creates the
 * projects (`VIGIL_EMULATOR_TEST_PROJECTS` in `.emulators/env` says how many).
 */
export const BIGQUERY_SUITES = [
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
] as const;

/**
 * The project a suite uses on the emulators: `<base>-tNN` for the NN-th BigQuery suite when the
 * emulators were started with at least NN+1 test projects, else the base project (other suites,
 * or emulators started before test projects existed).
 */
export function bigQueryTestProject(suite: string, base: string, testProjects: number): string {
  const index = (BIGQUERY_SUITES as readonly string[]).indexOf(suite);
  return index >= 0 && index < testProjects ? `${base}-t${String(index).padStart(2, '0')}` : base;
}
