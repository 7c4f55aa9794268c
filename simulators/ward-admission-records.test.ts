import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDuckDbWarehouse } from '../adapters/embedded/warehouse-duckdb.ts';
import { createLogger } from '../core/observability/logger.ts';
import type { Warehouse } from '../core/ports/warehouse.ts';
import { createWarehouseAdmissionLookup } from '../stream-processor/admission-context.ts';
import { createWardAdmissionRecorder } from './ward-admission-records.ts';
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
});
