import { BigQuery } from '@google-cloud/bigquery';
import { PassThroughClient } from 'google-auth-library';
import { describe, expect, it } from 'vitest';
import { describeWarehouseContract } from '../../core/contracts/warehouse-contract.ts';
import { runPrefix } from '../../core/contracts/wait-for.ts';
import { createLogger } from '../../core/observability/logger.ts';
import { createWarehouseAdmissionLookup } from '../../stream-processor/admission-context.ts';
import { createBigQueryWarehouse } from './warehouse-bigquery.ts';
import { gcpEmulatorsOrSkip } from './test-support/emulator-gate.ts';

const env = gcpEmulatorsOrSkip('adapters/gcp/warehouse-bigquery.int.test.ts');

if (env) {
  // A dataset per run.
  const datasetId = runPrefix('vigil_ct').replaceAll('-', '_');
  const logger = createLogger({ level: 'silent' });
  const open = async () => createBigQueryWarehouse({ projectId: env.GOOGLE_CLOUD_PROJECT, dataset: datasetId, location: 'US', logger });
  const client = (): BigQuery => new BigQuery({ projectId: env.GOOGLE_CLOUD_PROJECT, authClient: new PassThroughClient() });

  // The emulator serves one request at a time to every test file (infra/README.md): a provision
  // that takes 2.4 s alone took 81 s in a CI run and over 120 s on a busier machine.
  const SLOW = 300_000;
  describeWarehouseContract('bigquery (goccy emulator)', open, { testTimeoutMs: SLOW });

  describe('bigquery layout', () => {
    it('raw tables are partitioned by day and clustered as the schema says; analysts get views and the analytics views', async () => {
      const [tables] = await client().dataset(datasetId).getTables();
      const byName = new Map(tables.map((t) => [t.id!, t]));
      const [vitalsRaw] = await byName.get('vitals_raw')!.getMetadata();
      expect(vitalsRaw.timePartitioning).toMatchObject({ type: 'DAY', field: 'observed_at' });
      expect(vitalsRaw.clustering).toEqual({ fields: ['patient_id'] });
      for (const view of ['vitals', 'patients', 'admissions', 'risk_scores', 'latest_risk', 'vitals_hourly', 'patient_unified', 'icu_waiting_times']) {
        expect(byName.has(view), view).toBe(true);
        const [metadata] = await byName.get(view)!.getMetadata();
        expect(metadata.type, view).toBe('VIEW');
      }
    }, SLOW);
  });

  describe('bigquery retention: partition expiration follows VIGIL_RETENTION_DAYS', () => {
    it('provision sets it on the tables the stream writes (not on analysts\' loads), and going back to 0 clears it', async () => {
      const retained = `${datasetId}_retention`;
      const provisionWith = async (retentionDays: number) => {
        const warehouse = createBigQueryWarehouse({ projectId: env.GOOGLE_CLOUD_PROJECT, dataset: retained, location: 'US', logger, retentionDays });
        await warehouse.provision();
        await warehouse.close();
      };
      const expirations = async () => {
        const table = (name: string) => client().dataset(retained).table(name).getMetadata().then(([m]) => m.timePartitioning?.expirationMs ?? null);
        return { vitals: await table('vitals_raw'), scores: await table('risk_scores_raw'), dead: await table('dead_letters_raw'), admissions: await table('admissions_raw') };
      };
      await provisionWith(400);
      const day400 = String(400 * 86_400_000);
      expect(await expirations(), 'partition expiration after provisioning with 400 days').toEqual({ vitals: day400, scores: day400, dead: day400, admissions: null });
      await provisionWith(0);
      expect(await expirations(), 'partition expiration after provisioning again with 0 days').toEqual({ vitals: null, scores: null, dead: null, admissions: null });
    }, SLOW);
  });

  describe('admission lookup on bigquery', () => {
    it('reads the admission current at the scoring time and the age at admission, in GoogleSQL', async () => {
      const warehouse = await open();
      try {
        await warehouse.provision();
        const t0 = Date.parse('2026-11-22T10:00:00Z');
        await warehouse.append('patients', [{ patient_id: 'ADM-1', gender: 'F', date_of_birth: '1950-11-23' }]);
        await warehouse.append('admissions', [
          { admission_id: 'ADM-1-a', patient_id: 'ADM-1', admitted_at: new Date(t0 - 400 * 3_600_000), discharged_at: new Date(t0 - 300 * 3_600_000), admission_type: 'ELECTIVE' },
          { admission_id: 'ADM-1-b', patient_id: 'ADM-1', admitted_at: new Date(t0 - 5 * 3_600_000), admission_type: 'URGENT' },
        ]);
        const found = await createWarehouseAdmissionLookup(warehouse, { logger }).lookup([{ patientId: 'ADM-1', now: t0 }, { patientId: 'ADM-none', now: t0 }]);
        expect(Object.fromEntries(found)).toEqual({ 'ADM-1': { admittedAt: t0 - 5 * 3_600_000, age: 75, admissionType: 'URGENT' } });
      } finally {
        await warehouse.close();
      }
    }, SLOW);
  });

  // No cleanup: the emulator cannot drop a dataset holding views ("still in use") and deletes
  // tables slowly; the dataset name is unique per run and `npm run emulators:down` discards it.
}
