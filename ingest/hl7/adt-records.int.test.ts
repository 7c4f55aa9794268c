import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteDeviceAssociations } from '../../adapters/embedded/device-associations-sqlite.ts';
import { gcpEmulatorsOrSkip } from '../../adapters/gcp/test-support/emulator-gate.ts';
import { createBigQueryWarehouse } from '../../adapters/gcp/warehouse-bigquery.ts';
import { runPrefix } from '../../core/contracts/wait-for.ts';
import { createLogger } from '../../core/observability/logger.ts';
import type { DeviceAssociations } from '../../core/ports/device-associations.ts';
import type { Warehouse } from '../../core/ports/warehouse.ts';
import { createWarehouseAdmissionLookup } from '../../stream-processor/admission-context.ts';
import type { AdtEvent } from './adt-to-event.ts';
import { createAdtRecords } from './adt-records.ts';

/**
 * ADT records on BigQuery (the emulator): the same admission rows as on DuckDB (ingest/hl7/adt.test.ts),
 * each change a newer version of the row that the analyst view shows, and the processor's admission
 * lookup reading them in GoogleSQL.
 */
const env = gcpEmulatorsOrSkip('ingest/hl7/adt-records.int.test.ts');
const SLOW = 240_000; // the emulator serves one request at a time (infra/README.md)

if (env) {
  describe('ADT records on BigQuery (emulator)', () => {
    const dataset = runPrefix('vigil_adt').replaceAll('-', '_');
    const logger = createLogger({ level: 'silent' });
    let warehouse: Warehouse;
    let associations: DeviceAssociations;
    beforeAll(async () => {
      warehouse = createBigQueryWarehouse({ projectId: env.GOOGLE_CLOUD_PROJECT, dataset, location: 'US', logger });
      await warehouse.provision();
      associations = createSqliteDeviceAssociations({ path: ':memory:' });
    }, SLOW);
    // No dataset cleanup: see adapters/gcp/warehouse-bigquery.int.test.ts.
    afterAll(async () => {
      await warehouse?.close();
      await associations?.close();
    });

    const T = Date.parse('2026-12-01T08:00:00Z');
    const event = (trigger: AdtEvent['trigger'], at: number, visit: Partial<AdtEvent['visit']> = {}): AdtEvent => ({
      trigger, at,
      patient: { patientId: 'MRN-BQ', gender: 'F', dateOfBirth: '1950-03-02' },
      visit: { admissionId: 'V-BQ', bed: '4N-401-A', priorBed: null, admittedAt: null, dischargedAt: null, admissionType: 'URGENT', dischargeDisposition: null, ...visit },
    });

    it('admit, transfer, discharge, redelivered discharge: one patient row, one admission row with the discharge, the lookup in GoogleSQL', async () => {
      const records = createAdtRecords(warehouse, associations);
      await records.apply(event('A01', T));
      const lookup = createWarehouseAdmissionLookup(warehouse, { logger });
      expect((await lookup.lookup([{ patientId: 'MRN-BQ', now: T + 60_000 }])).get('MRN-BQ')).toEqual({ admittedAt: T, age: 76, admissionType: 'URGENT' });
      await records.apply(event('A02', T + 3_600_000, { bed: '4N-402-B' }));
      await records.apply(event('A03', T + 7_200_000, { bed: '4N-402-B', dischargeDisposition: '01' }));
      await records.apply(event('A03', T + 7_200_000, { bed: '4N-402-B', dischargeDisposition: '01' }));
      const patients = (await warehouse.query("SELECT patient_id, gender FROM patients WHERE patient_id = 'MRN-BQ'")).rows;
      expect(patients).toEqual([{ patient_id: 'MRN-BQ', gender: 'F' }]);
      const admissions = (await warehouse.query("SELECT admission_id, admitted_at, discharged_at, discharge_location, admission_location, cancelled_at FROM admissions WHERE patient_id = 'MRN-BQ'")).rows;
      expect(admissions).toEqual([{
        admission_id: 'V-BQ', admitted_at: new Date(T), discharged_at: new Date(T + 7_200_000), discharge_location: '01', admission_location: '4N-401-A', cancelled_at: null,
      }]);
    }, SLOW);

    it('a cancelled admission (A11) keeps its row with cancelled_at, and the lookup no longer gives it', async () => {
      const records = createAdtRecords(warehouse, associations);
      const cancelled = { admissionId: 'V-BQ-CANCEL' };
      await records.apply({ ...event('A01', T + 86_400_000, cancelled), patient: { patientId: 'MRN-BQ2', gender: 'M', dateOfBirth: null } });
      await records.apply({ ...event('A11', T + 86_400_000 + 600_000, cancelled), patient: { patientId: 'MRN-BQ2', gender: null, dateOfBirth: null } });
      const rows = (await warehouse.query("SELECT cancelled_at FROM admissions WHERE admission_id = 'V-BQ-CANCEL'")).rows;
      expect(rows).toEqual([{ cancelled_at: new Date(T + 86_400_000 + 600_000) }]);
      const lookup = createWarehouseAdmissionLookup(warehouse, { logger });
      expect((await lookup.lookup([{ patientId: 'MRN-BQ2', now: T + 86_400_000 + 60_000 }])).get('MRN-BQ2')).toBeUndefined();
    }, SLOW);
  });
}
