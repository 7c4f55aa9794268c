import { describe, expect, it } from 'vitest';
import { checkWarehouseRow } from './check-warehouse-row.ts';
import { TABLES } from './warehouse-schema.ts';

const admission = { admission_id: 'A1', patient_id: 'P1', admitted_at: '2025-01-02T03:04:05Z' };

describe('checkWarehouseRow: one row check for every warehouse', () => {
  it('returns the values in column order, TIMESTAMP as a Date and DATE as its UTC day', () => {
    const values = checkWarehouseRow(TABLES.admissions, { ...admission, total_cost: 12.5, hospital_expire_flag: false }, 0);
    expect(values[0]).toBe('A1');
    expect(values[2]).toEqual(new Date('2025-01-02T03:04:05Z'));
    expect(values[TABLES.admissions.columns.findIndex((c) => c.name === 'total_cost')]).toBe(12.5);
    expect(checkWarehouseRow(TABLES.patients, { patient_id: 'P1', date_of_birth: '1950-06-30' }, 0)[2]).toBe('1950-06-30');
    expect(checkWarehouseRow(TABLES.patients, { patient_id: 'P1', date_of_birth: new Date('1950-06-30T23:00:00Z') }, 0)[2]).toBe('1950-06-30');
  });

  it('refuses with VALIDATION_FAILED naming table, row and column', () => {
    const refuse = (row: Record<string, unknown>, column: string) =>
      expect(() => checkWarehouseRow(TABLES.admissions, row, 3), column).toThrow(expect.objectContaining({
        code: 'VALIDATION_FAILED', details: expect.objectContaining({ table: 'admissions', row: 3, column }),
      }));
    refuse({ ...admission, patient_id: null }, 'patient_id');
    refuse({ ...admission, pulse: 3 }, 'pulse');
    refuse({ ...admission, total_cost: Number.NaN }, 'total_cost');
    refuse({ ...admission, total_cost: '12' }, 'total_cost');
    refuse({ ...admission, hospital_expire_flag: 'no' }, 'hospital_expire_flag');
    // A time without a zone is a local time: which instant it names depends on the host, so no.
    refuse({ ...admission, admitted_at: '2025-01-02T03:04:05' }, 'admitted_at');
    refuse({ ...admission, admitted_at: 'yesterday' }, 'admitted_at');
  });
});
