import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDbWarehouse } from '../adapters/embedded/warehouse-duckdb.ts';
import { createDuckDbWarehouse } from '../adapters/embedded/warehouse-duckdb.ts';

/** The DuckDB views (analytics-sql/duckdb) on a small fixture whose answers are worked out by hand. */
let warehouse: DuckDbWarehouse;
const at = (iso: string) => new Date(iso);

beforeAll(async () => {
  warehouse = await createDuckDbWarehouse({ path: ':memory:' });
  await warehouse.provision();
  await warehouse.replaceRows('patients', [
    { patient_id: 'P1', gender: 'F', date_of_birth: '2090-01-01' },
    { patient_id: 'P2', gender: 'M' },
    { patient_id: 'P3', gender: 'M' },
  ]);
  await warehouse.replaceRows('admissions', [
    { admission_id: 'A1', patient_id: 'P1', admitted_at: at('2026-11-22T08:00:00Z'), discharged_at: at('2026-11-22T12:00:00Z') },
    { admission_id: 'A2', patient_id: 'P1', admitted_at: at('2026-11-23T08:00:00Z') },
    // ICU entry 1 h 45 min before the recorded admission, as in the MIMIC demo.
    { admission_id: 'A3', patient_id: 'P2', admitted_at: at('2026-11-22T12:30:00Z') },
  ]);
  await warehouse.replaceRows('icustays', [
    { icustay_id: 'I1', patient_id: 'P1', admission_id: 'A1', icu_intime: at('2026-11-22T09:30:59.900Z') },
    { icustay_id: 'I2', patient_id: 'P1', admission_id: 'A1', icu_intime: at('2026-11-22T11:00:00Z') },
    { icustay_id: 'I3', patient_id: 'P2', admission_id: 'A3', icu_intime: at('2026-11-22T10:45:00Z') },
  ]);
  const vital = (id: string, patient: string, observed: string, hr: number | null, spo2: number | null, onOxygen = false) => ({
    reading_id: id, patient_id: patient, device_id: 'bed-1', observed_at: at(observed), received_at: at(observed),
    heart_rate: hr, spo2, on_oxygen: onOxygen,
  });
  await warehouse.append('vitals', [
    vital('v1', 'P1', '2026-11-22T09:10:00Z', 80, 97),
    vital('v2', 'P1', '2026-11-22T09:50:00Z', 91, 95, true),
    vital('v3', 'P1', '2026-11-22T10:05:00Z', 100, null),
    vital('v4', 'P1', '2026-11-22T13:00:00Z', 120, 90), // after A1's discharge, before A2
    vital('v5', 'P1', '2026-11-23T09:00:00Z', 70, 99), // in the open admission A2
  ]);
  await warehouse.append('risk_scores', [
    { patient_id: 'P1', scored_at: at('2026-11-22T09:00:00Z'), news2_score: 1, news2_level: 'low', risk_score: 0.1 },
    { patient_id: 'P1', scored_at: at('2026-11-23T09:00:00Z'), news2_score: 5, news2_level: 'medium', risk_score: 0.4, model: 'm1', news2_complete: true, news2_missing: '[]' },
    { patient_id: 'P2', scored_at: at('2026-11-22T08:00:00Z'), news2_score: 0, news2_level: 'low', news2_complete: false, news2_missing: '["spo2","temperature"]' },
  ]);
});

afterAll(() => warehouse.close());

const rows = async (sql: string) => (await warehouse.query(sql)).rows;

describe('analytics views (DuckDB)', () => {
  it('latest_risk: the newest score per patient', async () => {
    expect(await rows('SELECT patient_id, scored_at, news2_score, model, news2_complete, news2_missing FROM latest_risk ORDER BY patient_id')).toEqual([
      { patient_id: 'P1', scored_at: at('2026-11-23T09:00:00Z'), news2_score: 5, model: 'm1', news2_complete: true, news2_missing: '[]' },
      { patient_id: 'P2', scored_at: at('2026-11-22T08:00:00Z'), news2_score: 0, model: null, news2_complete: false, news2_missing: '["spo2","temperature"]' },
    ]);
  });

  it('vitals_hourly: count, rounded mean, min and max per patient per hour', async () => {
    expect(
      await rows("SELECT hour, readings, heart_rate_mean, heart_rate_min, heart_rate_max, spo2_mean, spo2_min, on_oxygen_readings FROM vitals_hourly WHERE patient_id = 'P1' ORDER BY hour"),
    ).toEqual([
      { hour: at('2026-11-22T09:00:00Z'), readings: 2, heart_rate_mean: 85.5, heart_rate_min: 80, heart_rate_max: 91, spo2_mean: 96, spo2_min: 95, on_oxygen_readings: 1 },
      { hour: at('2026-11-22T10:00:00Z'), readings: 1, heart_rate_mean: 100, heart_rate_min: 100, heart_rate_max: 100, spo2_mean: null, spo2_min: null, on_oxygen_readings: 0 },
      { hour: at('2026-11-22T13:00:00Z'), readings: 1, heart_rate_mean: 120, heart_rate_min: 120, heart_rate_max: 120, spo2_mean: 90, spo2_min: 90, on_oxygen_readings: 0 },
      { hour: at('2026-11-23T09:00:00Z'), readings: 1, heart_rate_mean: 70, heart_rate_min: 70, heart_rate_max: 70, spo2_mean: 99, spo2_min: 99, on_oxygen_readings: 0 },
    ]);
    const [rounded] = await rows("SELECT round(avg(x), 2) AS m FROM (VALUES (80.0), (91.0), (100.0)) t(x)");
    expect(rounded).toEqual({ m: 90.33 });
  });

  it('patient_unified: one row per patient and admission, vitals inside the admission window, latest risk', async () => {
    expect(
      await rows('SELECT patient_id, admission_id, vitals_readings, heart_rate_mean, heart_rate_max, spo2_min, latest_news2_score, latest_risk_score FROM patient_unified ORDER BY patient_id, admission_id'),
    ).toEqual([
      { patient_id: 'P1', admission_id: 'A1', vitals_readings: 3, heart_rate_mean: 90.33, heart_rate_max: 100, spo2_min: 95, latest_news2_score: 5, latest_risk_score: 0.4 },
      { patient_id: 'P1', admission_id: 'A2', vitals_readings: 1, heart_rate_mean: 70, heart_rate_max: 70, spo2_min: 99, latest_news2_score: 5, latest_risk_score: 0.4 },
      { patient_id: 'P2', admission_id: 'A3', vitals_readings: 0, heart_rate_mean: null, heart_rate_max: null, spo2_min: null, latest_news2_score: 0, latest_risk_score: null },
      { patient_id: 'P3', admission_id: null, vitals_readings: 0, heart_rate_mean: null, heart_rate_max: null, spo2_min: null, latest_news2_score: null, latest_risk_score: null },
    ]);
  });

  it('icu_waiting_times: whole minutes to the first ICU entry; ICU before admission gives NULL and the flag', async () => {
    expect(await rows('SELECT * FROM icu_waiting_times ORDER BY admission_id')).toEqual([
      { patient_id: 'P1', admission_id: 'A1', admitted_at: at('2026-11-22T08:00:00Z'), icu_intime: at('2026-11-22T09:30:59.900Z'), waiting_minutes: 90, icu_before_admission: false },
      { patient_id: 'P2', admission_id: 'A3', admitted_at: at('2026-11-22T12:30:00Z'), icu_intime: at('2026-11-22T10:45:00Z'), waiting_minutes: null, icu_before_admission: true },
    ]);
  });
});
