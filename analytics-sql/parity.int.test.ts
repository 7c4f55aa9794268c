import { BigQuery } from '@google-cloud/bigquery';
import { PassThroughClient } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbWarehouse } from '../adapters/embedded/warehouse-duckdb.ts';
import { gcpEmulatorsOrSkip } from '../adapters/gcp/test-support/emulator-gate.ts';
import { createBigQueryWarehouse } from '../adapters/gcp/warehouse-bigquery.ts';
import { runPrefix } from '../core/contracts/wait-for.ts';
import { createLogger } from '../core/observability/logger.ts';
import type { Warehouse, WarehouseRow } from '../core/ports/warehouse.ts';

/**
 * Parity of the two dialects: the same fixture into DuckDB (analytics-sql/duckdb) and into
 * BigQuery on its emulator (analytics-sql/bigquery), every view read whole on both, and the
 * answers compared row for row after normalising what the clients return differently.
 */
const env = gcpEmulatorsOrSkip('analytics-sql/parity.int.test.ts');
const SLOW = 300_000; // the emulator serves one request at a time (infra/README.md)
const VIEWS = ['latest_risk', 'vitals_hourly', 'patient_unified', 'icu_waiting_times'] as const;
const at = (iso: string) => new Date(iso);

async function loadFixture(warehouse: Warehouse): Promise<void> {
  await warehouse.replaceRows('patients', [
    { patient_id: 'P1', gender: 'F', date_of_birth: '2090-01-01', expire_flag: false },
    { patient_id: 'P2', gender: 'M', date_of_death: '2027-01-02', expire_flag: true },
    { patient_id: 'P3', gender: 'M' },
  ]);
  await warehouse.replaceRows('admissions', [
    { admission_id: 'A1', patient_id: 'P1', admitted_at: at('2026-11-22T08:00:00Z'), discharged_at: at('2026-11-22T12:00:00Z') },
    { admission_id: 'A2', patient_id: 'P1', admitted_at: at('2026-11-23T08:00:00Z') },
    // ICU entry 1 h 45 min before the recorded admission, as in the MIMIC demo.
    { admission_id: 'A3', patient_id: 'P2', admitted_at: at('2026-11-22T12:30:00Z'), discharged_at: at('2026-11-24T00:00:00Z') },
    { admission_id: 'A4', patient_id: 'P3', admitted_at: at('2026-11-21T23:59:59.500Z') },
  ]);
  await warehouse.replaceRows('icustays', [
    { icustay_id: 'I1', patient_id: 'P1', admission_id: 'A1', icu_intime: at('2026-11-22T09:30:59.900Z'), los_days: 0.0625 },
    { icustay_id: 'I2', patient_id: 'P1', admission_id: 'A1', icu_intime: at('2026-11-22T11:00:00Z') },
    { icustay_id: 'I3', patient_id: 'P2', admission_id: 'A3', icu_intime: at('2026-11-22T10:45:00Z') },
    { icustay_id: 'I4', patient_id: 'P3', admission_id: 'A4', icu_intime: at('2026-11-22T00:00:59.499Z') },
  ]);
  const vital = (id: string, patient: string, observed: string, hr: number | null, spo2: number | null, onOxygen = false) => ({
    reading_id: id, patient_id: patient, device_id: 'bed-1', observed_at: at(observed), received_at: at(observed),
    heart_rate: hr, spo2, on_oxygen: onOxygen, respiratory_rate: 18, temperature_c: 37.1, systolic: 120, diastolic: 80,
  });
  const vitals = [
    vital('v1', 'P1', '2026-11-22T09:10:00Z', 80, 97),
    vital('v2', 'P1', '2026-11-22T09:50:00Z', 91, 95, true),
    vital('v3', 'P1', '2026-11-22T10:05:00Z', 100, null),
    vital('v4', 'P1', '2026-11-22T13:00:00Z', 120, 90),
    vital('v5', 'P1', '2026-11-23T09:00:00Z', 70, 99),
    vital('v6', 'P2', '2026-11-22T13:00:00Z', 101.3, 93.7),
    vital('v7', 'P2', '2026-11-22T13:59:59.999Z', 99.9, 94.1),
  ];
  await warehouse.append('vitals', vitals);
  // The bus delivers at least once: the same readings again.
  await warehouse.append('vitals', vitals.slice(1, 3));
  await warehouse.append('risk_scores', [
    { patient_id: 'P1', scored_at: at('2026-11-22T09:00:00Z'), news2_score: 1, news2_level: 'low', risk_score: 0.1 },
    { patient_id: 'P1', scored_at: at('2026-11-23T09:00:00Z'), news2_score: 5, news2_level: 'medium', risk_score: 0.4, model: 'm1' },
    { patient_id: 'P2', scored_at: at('2026-11-22T08:00:00Z'), news2_score: 0, news2_level: 'low' },
  ]);
}

/** Dates as ISO instants (a DATE as its UTC midnight), numbers to 1e-9, bigints as numbers. */
function normalise(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) return `${value}T00:00:00.000Z`;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number') return Math.round(value * 1e9) / 1e9;
  return value;
}

const canonical = (rows: readonly WarehouseRow[]): Record<string, unknown>[] =>
  rows
    .map((row) => Object.fromEntries(Object.keys(row).sort().map((k) => [k, normalise(row[k])])))
    .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

if (env) {
  describe('analytics views: DuckDB and BigQuery (emulator) answer the same', () => {
    const datasetId = runPrefix('vigil_parity').replaceAll('-', '_');
    let duck: Warehouse;
    let bq: Warehouse;

    beforeAll(async () => {
      duck = await createDuckDbWarehouse({ path: ':memory:' });
      bq = createBigQueryWarehouse({ projectId: env.GOOGLE_CLOUD_PROJECT, dataset: datasetId, location: 'US', logger: createLogger({ level: 'silent' }) });
      await duck.provision();
      await bq.provision();
      await loadFixture(duck);
      await loadFixture(bq);
    }, SLOW);

    afterAll(async () => {
      await duck?.close();
      await bq?.close();
      const drop = new BigQuery({ projectId: env.GOOGLE_CLOUD_PROJECT, authClient: new PassThroughClient() })
        .dataset(datasetId).delete({ force: true }).catch(() => undefined);
      await Promise.race([drop, new Promise((resolve) => setTimeout(resolve, 60_000).unref())]);
    }, SLOW);

    for (const view of VIEWS) {
      it(`${view}: same columns, same rows`, async () => {
        const [d, b] = [await duck.query(`SELECT * FROM ${view}`), await bq.query(`SELECT * FROM ${view}`)];
        expect(b.columns.map((c) => c.name)).toEqual(d.columns.map((c) => c.name));
        expect(d.rows.length).toBeGreaterThan(0);
        expect(canonical(b.rows)).toEqual(canonical(d.rows));
      }, SLOW);
    }

    it('the fixture exercises the awkward cases on both: duplicate delivery counted once, ICU before admission', async () => {
      for (const warehouse of [duck, bq]) {
        const hourly = await warehouse.query("SELECT readings FROM vitals_hourly WHERE patient_id = 'P1' ORDER BY hour");
        expect(hourly.rows.map((r) => Number(r.readings))).toEqual([2, 1, 1, 1]);
        const early = await warehouse.query("SELECT waiting_minutes, icu_before_admission FROM icu_waiting_times WHERE admission_id = 'A3'");
        expect(early.rows).toEqual([{ waiting_minutes: null, icu_before_admission: true }]);
      }
    }, SLOW);
  });
}
