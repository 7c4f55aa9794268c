import { describeBulkLoadContract } from '../../core/contracts/bulk-load-contract.ts';
import { runPrefix } from '../../core/contracts/wait-for.ts';
import { createLogger } from '../../core/observability/logger.ts';
import { createBigQueryBulkLoad } from './bulk-load-bigquery.ts';
import { createGcsObjectStore } from './object-store-gcs.ts';
import { gcpEmulatorsOrSkip } from './test-support/emulator-gate.ts';
import { createBigQueryWarehouse } from './warehouse-bigquery.ts';

const env = gcpEmulatorsOrSkip('adapters/gcp/bulk-load-bigquery.int.test.ts');
const SLOW = 300_000; // the emulator serves one request at a time (infra/README.md)

if (env) {
  const logger = createLogger({ level: 'silent' });
  // One dataset for both: provisioning a dataset is most of this file's time on the emulator, and
  // the contract only reads back the rows of its own run.
  const dataset = runPrefix('vigil_bl').replaceAll('-', '_');
  // Staged in Cloud Storage, then a load job (what `vigil load` does) ...
  describeBulkLoadContract('bigquery load jobs (emulators)', async () => {
    const options = { projectId: env.GOOGLE_CLOUD_PROJECT, dataset, location: 'US', logger };
    const warehouse = createBigQueryWarehouse(options);
    const objectStore = createGcsObjectStore({ projectId: env.GOOGLE_CLOUD_PROJECT, bucket: 'vigil-landing', logger });
    await objectStore.provision();
    return { warehouse, bulkLoad: createBigQueryBulkLoad({ ...options, warehouse, objectStore }), close: () => objectStore.close() };
  }, { testTimeoutMs: SLOW });
  // ... and, without an object store, through the warehouse's own staging table.
  describeBulkLoadContract('bigquery streamed staging table (emulator)', async () => {
    const options = { projectId: env.GOOGLE_CLOUD_PROJECT, dataset, location: 'US', logger };
    const warehouse = createBigQueryWarehouse(options);
    return { warehouse, bulkLoad: createBigQueryBulkLoad({ ...options, warehouse }) };
  }, { testTimeoutMs: SLOW });
}
