import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BigQuery } from '@google-cloud/bigquery';
import { PassThroughClient } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGcsObjectStore } from '../adapters/gcp/object-store-gcs.ts';
import { gcpEmulatorsOrSkip } from '../adapters/gcp/test-support/emulator-gate.ts';
import { createBigQueryBulkLoad } from '../adapters/gcp/bulk-load-bigquery.ts';
import { createBigQueryWarehouse } from '../adapters/gcp/warehouse-bigquery.ts';
import { runPrefix } from '../core/contracts/wait-for.ts';
import { createLogger } from '../core/observability/logger.ts';
import type { BulkLoad } from '../core/ports/bulk-load.ts';
import type { ObjectStore } from '../core/ports/object-store.ts';
import type { Warehouse } from '../core/ports/warehouse.ts';
import { loadCsv, LoadRejectedError } from './load-csv.ts';
import type { LoadableTable } from './load-csv.ts';

const env = gcpEmulatorsOrSkip('batch-loader/load-bigquery.int.test.ts');
const MIMIC = path.resolve(import.meta.dirname, '../../shared/data/mimic-iii-demo');
const SLOW = 240_000; // the emulator serves one request at a time (infra/README.md)

if (env) {
  describe('vigil load into BigQuery: staged in Cloud Storage, then a load job', () => {
    const datasetId = runPrefix('vigil_load').replaceAll('-', '_');
    const logger = createLogger({ level: 'silent' });
    let warehouse: Warehouse;
    let store: ObjectStore;
    let bulkLoad: BulkLoad;
    let tmp: string;

    beforeAll(async () => {
      const options = { projectId: env.GOOGLE_CLOUD_PROJECT, dataset: datasetId, location: 'US', logger };
      const bigQuery = createBigQueryWarehouse(options);
      warehouse = bigQuery;
      store = createGcsObjectStore({ projectId: env.GOOGLE_CLOUD_PROJECT, bucket: 'vigil-landing', logger });
      bulkLoad = createBigQueryBulkLoad({ ...options, warehouse: bigQuery, objectStore: store });
      tmp = await mkdtemp(path.join(tmpdir(), 'vigil-load-bq-'));
      await warehouse.provision();
      await store.provision();
    }, SLOW);

    afterAll(async () => {
      await warehouse?.close();
      await store?.close();
      if (tmp) await rm(tmp, { recursive: true, force: true });
      // The emulator drops a dataset slowly; give up waiting after a minute (it lives in memory only).
      const drop = new BigQuery({ projectId: env.GOOGLE_CLOUD_PROJECT, authClient: new PassThroughClient() })
        .dataset(datasetId).delete({ force: true }).catch(() => undefined);
      await Promise.race([drop, new Promise((resolve) => setTimeout(resolve, 60_000).unref())]);
    }, SLOW);

    const load = (table: LoadableTable, file: string) =>
      loadCsv({ bulkLoad, table, file, rejectsPath: path.join(tmp, `${table}.rejects.csv`) });
    const count = async (table: string): Promise<number> =>
      Number((await warehouse.query(`SELECT COUNT(*) AS n FROM ${table}`)).rows[0]!.n);

    it('loads the MIMIC-III demo PATIENTS, ADMISSIONS, ICUSTAYS with zero rejects; 129 admissions', async () => {
      const expected: Record<LoadableTable, number> = { patients: 100, admissions: 129, icustays: 136 };
      for (const [table, file] of [['patients', 'PATIENTS.csv'], ['admissions', 'ADMISSIONS.csv'], ['icustays', 'ICUSTAYS.csv']] as const) {
        const summary = await load(table, path.join(MIMIC, file));
        expect(summary.rowsRejected, table).toBe(0);
        expect(summary.rowsLoaded, table).toBe(expected[table]);
        expect(summary.stagedUri, table).toMatch(new RegExp(`^gs://vigil-landing/loads/${table}/.+\\.ndjson$`));
        expect(await count(table), table).toBe(expected[table]);
      }
      // The staged file is in Cloud Storage for the record.
      const staged = await store.list('loads/admissions/');
      expect(staged.length).toBeGreaterThan(0);
    }, SLOW);

    it('reloading the same file changes nothing analysts see', async () => {
      const before = (await warehouse.query('SELECT * FROM admissions ORDER BY admission_id')).rows;
      await load('admissions', path.join(MIMIC, 'ADMISSIONS.csv'));
      const after = (await warehouse.query('SELECT * FROM admissions ORDER BY admission_id')).rows;
      expect(after).toEqual(before);
      expect(after).toHaveLength(129);
    }, SLOW);

    it('a file with a bad row is refused and changes nothing', async () => {
      const before = (await warehouse.query('SELECT * FROM patients ORDER BY patient_id')).rows;
      const file = path.join(tmp, 'bad-patients.csv');
      await writeFile(file, 'patient_id,gender,date_of_birth\n10006,F,2094-03-05\n10011,F,2094-13-45\n');
      const error = await load('patients', file).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LoadRejectedError);
      expect((await warehouse.query('SELECT * FROM patients ORDER BY patient_id')).rows).toEqual(before);
    }, SLOW);
  });
}
