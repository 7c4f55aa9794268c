import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDuckDbWarehouse } from '../adapters/embedded/warehouse-duckdb.ts';
import { createLogger } from '../core/observability/logger.ts';
import type { Warehouse } from '../core/ports/warehouse.ts';
import { createWarehouseAdmissionLookup } from './admission-context.ts';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-22T10:00:00Z');

let dir: string;
let warehouse: Warehouse;
let log: string[];
const logger = () => createLogger({ level: 'debug', destination: { write: (line: string) => { log.push(line); } } });

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-admissions-'));
  warehouse = await createDuckDbWarehouse({ path: path.join(dir, 'warehouse.duckdb') });
  await warehouse.provision();
  log = [];
});

afterEach(async () => {
  await warehouse.close();
  rmSync(dir, { recursive: true, force: true });
});

async function admit(patientId: string, admissionId: string, admittedAt: number, extra: Record<string, unknown> = {}): Promise<void> {
  await warehouse.append('admissions', [{ admission_id: admissionId, patient_id: patientId, admitted_at: new Date(admittedAt), admission_type: 'EMERGENCY', ...extra }]);
}

describe('createWarehouseAdmissionLookup', () => {
  it('gives the age at admission, the type and the start of the admission current at each patient’s time', async () => {
    await warehouse.append('patients', [{ patient_id: 'P1', gender: 'F', date_of_birth: '1950-11-23' }, { patient_id: 'P2', gender: 'M', date_of_birth: '1990-01-01' }]);
    // P1 was in before (discharged), is in now, and has an admission booked for tomorrow.
    await admit('P1', 'A1', T0 - 400 * HOUR, { discharged_at: new Date(T0 - 300 * HOUR), admission_type: 'ELECTIVE' });
    await admit('P1', 'A2', T0 - 5 * HOUR, { admission_type: 'URGENT' });
    await admit('P1', 'A3', T0 + 24 * HOUR);
    await admit('P2', 'A4', T0 - HOUR);
    const lookup = createWarehouseAdmissionLookup(warehouse, { logger: logger() });

    const found = await lookup.lookup([{ patientId: 'P1', now: T0 }, { patientId: 'P2', now: T0 }, { patientId: 'P3', now: T0 }]);
    // 1950-11-23 to 2026-11-22: the 76th birthday is a day away.
    expect(found.get('P1')).toEqual({ admittedAt: T0 - 5 * HOUR, age: 75, admissionType: 'URGENT' });
    expect(found.get('P2')).toEqual({ admittedAt: T0 - HOUR, age: 36, admissionType: 'EMERGENCY' });
    expect(found.has('P3')).toBe(false);

    const earlier = await lookup.lookup([{ patientId: 'P1', now: T0 - 350 * HOUR }, { patientId: 'P2', now: T0 - 2 * HOUR }]);
    expect(earlier.get('P1')).toMatchObject({ admittedAt: T0 - 400 * HOUR, admissionType: 'ELECTIVE' });
    expect(earlier.has('P2')).toBe(false);
  });

  it('leaves out an age it cannot trust: no patient row, or a birth date shifted as MIMIC shifts the very old', async () => {
    await warehouse.append('patients', [{ patient_id: 'OLD', date_of_birth: '1750-03-01' }]);
    await admit('OLD', 'A1', T0 - HOUR);
    await admit('NOBODY', 'A2', T0 - HOUR);
    const found = await createWarehouseAdmissionLookup(warehouse, { logger: logger() }).lookup([{ patientId: 'OLD', now: T0 }, { patientId: 'NOBODY', now: T0 }]);
    expect(found.get('OLD')).toEqual({ admittedAt: T0 - HOUR, age: null, admissionType: 'EMERGENCY' });
    expect(found.get('NOBODY')).toEqual({ admittedAt: T0 - HOUR, age: null, admissionType: 'EMERGENCY' });
  });

  it('reads each patient once while cached, and asks again after a miss has expired', async () => {
    // The cache's clock is moved by hand: how long the warehouse takes to answer does not matter.
    let clock = T0;
    const lookup = createWarehouseAdmissionLookup(warehouse, { logger: logger(), missingTtlMs: 150, clock: () => clock });
    expect((await lookup.lookup([{ patientId: 'LATE', now: T0 }])).has('LATE')).toBe(false);
    // The admission record arrives after the first readings.
    await admit('LATE', 'A1', T0 - HOUR);
    clock += 149;
    expect((await lookup.lookup([{ patientId: 'LATE', now: T0 }])).has('LATE'), 'the miss is still believed').toBe(false);
    clock += 2;
    expect((await lookup.lookup([{ patientId: 'LATE', now: T0 }])).get('LATE')).toMatchObject({ admittedAt: T0 - HOUR });
    // Found, it is cached for the longer ttl: a record changed now is not read for five minutes.
    await admit('LATE', 'A2', T0 - HOUR / 2);
    clock += 4 * 60_000;
    expect((await lookup.lookup([{ patientId: 'LATE', now: T0 }])).get('LATE')).toMatchObject({ admittedAt: T0 - HOUR });
    clock += 60_001;
    expect((await lookup.lookup([{ patientId: 'LATE', now: T0 }])).get('LATE')).toMatchObject({ admittedAt: T0 - HOUR / 2 });
  });

  it('reads patients in chunks, so a large scoring round is not one enormous query', async () => {
    const ids = Array.from({ length: 25 }, (_, i) => `C${i}`);
    for (const [i, id] of ids.entries()) await admit(id, `A${i}`, T0 - HOUR);
    const found = await createWarehouseAdmissionLookup(warehouse, { logger: logger(), chunkSize: 10 }).lookup(ids.map((patientId) => ({ patientId, now: T0 })));
    expect([...found.keys()].sort()).toEqual([...ids].sort());
  });

  it('answers without context, and logs no patient id, when the warehouse cannot be read', async () => {
    const lookup = createWarehouseAdmissionLookup(warehouse, { logger: logger() });
    await warehouse.close();
    const found = await lookup.lookup([{ patientId: 'SECRET-PATIENT', now: T0 }]);
    expect(found.size).toBe(0);
    expect(log.join('\n')).toContain('scoring without admission context');
    expect(log.join('\n')).not.toContain('SECRET-PATIENT');
    warehouse = await createDuckDbWarehouse({ path: path.join(dir, 'warehouse.duckdb') });
  });
});
