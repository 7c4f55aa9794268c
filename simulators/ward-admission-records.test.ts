import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteTimeSeriesStore } from '../adapters/embedded/timeseries-sqlite.ts';
import { createDuckDbWarehouse } from '../adapters/embedded/warehouse-duckdb.ts';
import { createLogger } from '../core/observability/logger.ts';
import type { Warehouse } from '../core/ports/warehouse.ts';
import { createWarehouseAdmissionLookup } from '../stream-processor/admission-context.ts';
import { SIMULATED_CLINICIAN, createWardAdmissionRecorder } from './ward-admission-records.ts';
import { createWard } from './ward.ts';

const START = Date.parse('2026-11-22T08:00:00Z');
const logger = createLogger({ level: 'silent' });

let dir: string;
let warehouse: Warehouse;

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-ward-admissions-'));
  warehouse = await createDuckDbWarehouse({ path: path.join(dir, 'warehouse.duckdb') });
  await warehouse.provision();
});

afterEach(async () => {
  await warehouse.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A ward whose admissions are recorded, after `rounds` readings a minute per bed. */
async function runWard(rounds: number, timeScale = 60) {
  const recorder = createWardAdmissionRecorder(warehouse, logger);
  const ward = createWard({ patients: 4, seed: 11, startAt: START, timeScale, onAdmit: recorder.record });
  const firstSeen = new Map<string, number>();
  for (let round = 0; round < rounds; round++) {
    for (let bed = 0; bed < ward.beds; bed++) {
      for (const r of ward.observe(bed, START + round * 60_000)) if (!firstSeen.has(r.patientId)) firstSeen.set(r.patientId, r.observedAt);
    }
  }
  await recorder.flush();
  return { ward, firstSeen };
}

describe('the simulated ward’s admission records', () => {
  it('records every patient who took a bed, and the lookup gives the model their age, type and start', async () => {
    // At 3,000 simulated hours a real minute every stay ends quickly, so beds turn over.
    const { ward, firstSeen } = await runWard(30, 3_000);
    const admitted = [...ward.current(), ...ward.ended().map((e) => e.admission)];
    expect(admitted.length).toBeGreaterThan(ward.beds);

    const { rows } = await warehouse.query('SELECT a.patient_id, a.admission_type, p.gender FROM admissions a JOIN patients p USING (patient_id) ORDER BY a.patient_id');
    expect(rows).toEqual(admitted
      .map((a) => ({ patient_id: a.patientId, admission_type: a.admissionType, gender: a.sex }))
      .sort((x, y) => x.patient_id.localeCompare(y.patient_id)));

    const lookup = createWarehouseAdmissionLookup(warehouse, { logger });
    const contexts = await lookup.lookup([...firstSeen].map(([patientId, now]) => ({ patientId, now })));
    for (const a of admitted) {
      if (!firstSeen.has(a.patientId)) continue;
      const context = contexts.get(a.patientId);
      expect(context).toMatchObject({ admittedAt: a.admittedAt, admissionType: a.admissionType });
      // Opening patients' admissions are moved back into the past; a birthday may fall between.
      expect(Math.abs(context!.age! - a.age)).toBeLessThanOrEqual(1);
    }
  });

  it('adds no rows when a restarted ward admits its opening patients again', async () => {
    await runWard(2);
    await runWard(2);
    const { rows } = await warehouse.query('SELECT count(*) AS n, count(DISTINCT patient_id) AS patients FROM admissions');
    expect(rows).toEqual([{ n: 4, patients: 4 }]);
  });

  it('records the profile a clinician would have set (SpO2 scale 2, baseline confusion), and only those that differ from the chart defaults', async () => {
    const timeseries = createSqliteTimeSeriesStore({ path: path.join(dir, 'timeseries.db') });
    await timeseries.provision();
    try {
      const recorder = createWardAdmissionRecorder(warehouse, logger, timeseries);
      // A fast ward over many beds, so both kinds of profile turn up among its admissions.
      const ward = createWard({ patients: 60, seed: 5, startAt: START, timeScale: 3_000, onAdmit: recorder.record });
      for (let round = 0; round < 10; round++) for (let bed = 0; bed < ward.beds; bed++) ward.observe(bed, START + round * 60_000);
      await recorder.flush();
      const admitted = [...ward.current(), ...ward.ended().map((e) => e.admission)];
      const flagged = admitted.filter((a) => a.profile.spo2Scale === 2 || a.profile.baselineConfusion);
      expect(flagged.length, 'no admission of this seeded ward had a non-default profile: the test checks nothing').toBeGreaterThan(0);
      for (const a of admitted) {
        const stored = await timeseries.readPatientProfile(a.patientId);
        if (flagged.includes(a)) {
          expect(stored, `profile of ${a.patientId}`).toMatchObject({ spo2Scale: a.profile.spo2Scale, baselineConfusion: a.profile.baselineConfusion, updatedBy: SIMULATED_CLINICIAN });
        } else {
          expect(stored, `profile of ${a.patientId} (chart defaults: nothing to record)`).toBeUndefined();
        }
      }
    } finally {
      await timeseries.close();
    }
  });
});
