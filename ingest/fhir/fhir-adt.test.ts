import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteDeviceAssociations } from '../../adapters/embedded/device-associations-sqlite.ts';
import { createDuckDbWarehouse } from '../../adapters/embedded/warehouse-duckdb.ts';
import { createLogger } from '../../core/observability/logger.ts';
import { createMetrics } from '../../core/observability/metrics.ts';
import type { DeviceAssociations } from '../../core/ports/device-associations.ts';
import { whereaboutsOf } from '../../core/ports/device-associations.ts';
import type { Warehouse } from '../../core/ports/warehouse.ts';
import { buildApp } from '../../cli/build-app.ts';
import { bearer, testConfig } from '../../dashboard-api/test-fixtures.ts';
import { createAdtRecords } from '../hl7/adt-records.ts';
import { fhirRoutes } from './fhir-routes.ts';

/**
 * FHIR R4 Patient and Encounter, as an EHR's FHIR interface sends them (US Core shapes: an MR
 * identifier, `subject` Patient/<id>, `location` entries with their own periods), recorded as the
 * same patients, admissions and beds as HL7 v2 ADT (ingest/hl7/adt.test.ts).
 */
const dir = mkdtempSync(path.join(tmpdir(), 'vigil-fhir-adt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const patient = {
  resourceType: 'Patient', id: 'example',
  identifier: [{ use: 'usual', type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR', display: 'Medical Record Number' }] }, system: 'http://hospital.smarthealthit.org', value: 'MRN-FHIR-1' }],
  name: [{ family: 'Shaw', given: ['Amy', 'V.'] }], gender: 'female', birthDate: '1987-02-20',
};
const encounter = (status: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Encounter', id: 'enc-1', identifier: [{ system: 'http://hospital.example/visits', value: 'VN-FHIR-1' }],
  status, class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP', display: 'inpatient encounter' },
  priority: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActPriority', code: 'EM' }] },
  subject: { reference: 'Patient/MRN-FHIR-1' },
  period: { start: '2026-12-01T08:00:00Z' },
  location: [{ location: { reference: 'Location/4N-401-A', display: '4N-401-A' }, status: 'active', period: { start: '2026-12-01T08:00:00Z' } }],
  ...extra,
});

describe('FHIR Patient and Encounter as ADT', () => {
  let warehouse: Warehouse;
  let associations: DeviceAssociations;
  let app: FastifyInstance;

  beforeAll(async () => {
    warehouse = await createDuckDbWarehouse({ path: path.join(dir, 'warehouse.duckdb') });
    await warehouse.provision();
  });
  afterAll(async () => warehouse?.close());
  beforeEach(async () => {
    await warehouse.query('DELETE FROM admissions');
    await warehouse.query('DELETE FROM patients');
    associations = createSqliteDeviceAssociations({ path: ':memory:' });
    const records = createAdtRecords(warehouse, associations);
    app = buildApp({
      config: testConfig(), logger: createLogger({ level: 'silent' }), metrics: createMetrics({ defaultMetrics: false }), readiness: [],
      routes: [(instance: FastifyInstance) => void instance.register(fhirRoutes, {
        publish: async () => undefined, deadLetter: async () => undefined,
        adt: { subjects: ['ehr-fhir'], record: async (event) => void (await records.apply(event)) },
      })],
    });
  });
  afterEach(async () => {
    await app.close();
    await associations.close();
  });

  const send = (method: 'POST' | 'PUT', url: string, body: object, sub = 'ehr-fhir') =>
    app.inject({ method, url, headers: { ...bearer('device', sub), 'content-type': 'application/fhir+json' }, payload: JSON.stringify(body) });
  const where = async () => whereaboutsOf(await associations.ofPatient('MRN-FHIR-1'));

  it('Patient: the MR identifier gives the patient id; sex and birth date are kept, the name is not', async () => {
    expect((await send('POST', '/fhir/Patient', patient)).statusCode).toBe(201);
    const rows = (await warehouse.query('SELECT * FROM patients')).rows;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ patient_id: 'MRN-FHIR-1', gender: 'female' });
    expect(JSON.stringify(rows[0])).not.toContain('Shaw');
  });

  it('Encounter in-progress → admitted with its bed; a new location is a transfer; finished → discharged and off the ward', async () => {
    expect((await send('PUT', '/fhir/Encounter/enc-1', encounter('in-progress'))).statusCode).toBe(200);
    expect((await send('PUT', '/fhir/Encounter/enc-1', encounter('in-progress'))).statusCode, 'the same Encounter again').toBe(200);
    const admission = (await warehouse.query('SELECT * FROM admissions')).rows;
    expect(admission).toHaveLength(1);
    expect(admission[0]).toMatchObject({ admission_id: 'VN-FHIR-1', patient_id: 'MRN-FHIR-1', admission_type: 'EMERGENCY', admitted_at: new Date('2026-12-01T08:00:00Z') });
    expect(await where()).toEqual({ bed: '4N-401-A', left: false });

    const moved = encounter('in-progress', { location: [
      { location: { display: '4N-401-A' }, status: 'completed', period: { start: '2026-12-01T08:00:00Z', end: '2026-12-01T12:00:00Z' } },
      { location: { display: '4N-402-B' }, status: 'active', period: { start: '2026-12-01T12:00:00Z' } },
    ] });
    expect((await send('PUT', '/fhir/Encounter/enc-1', moved)).statusCode).toBe(200);
    expect(await where()).toEqual({ bed: '4N-402-B', left: false });
    expect(await associations.patientAt('bed', '4N-401-A', Date.parse('2026-12-01T11:59:00Z'))).toBe('MRN-FHIR-1');
    expect(await associations.patientAt('bed', '4N-401-A', Date.parse('2026-12-01T12:00:00Z'))).toBeUndefined();

    const finished = encounter('finished', { period: { start: '2026-12-01T08:00:00Z', end: '2026-12-02T09:30:00Z' }, hospitalization: { dischargeDisposition: { coding: [{ code: 'home' }] } } });
    expect((await send('PUT', '/fhir/Encounter/enc-1', finished)).statusCode).toBe(200);
    const discharged = (await warehouse.query('SELECT discharged_at, discharge_location FROM admissions')).rows[0]!;
    expect(discharged).toEqual({ discharged_at: new Date('2026-12-02T09:30:00Z'), discharge_location: 'home' });
    expect(await where()).toEqual({ bed: null, left: true });
  });

  it('Encounter entered-in-error → the admission cancelled', async () => {
    await send('POST', '/fhir/Encounter', encounter('in-progress'));
    expect((await send('PUT', '/fhir/Encounter/enc-1', encounter('entered-in-error'))).statusCode).toBe(200);
    expect((await warehouse.query('SELECT cancelled_at FROM admissions')).rows[0]!.cancelled_at).toBeInstanceOf(Date);
    expect(await associations.ofPatient('MRN-FHIR-1')).toEqual([]);
  });

  it('refuses with an OperationOutcome: a subject that is not a Patient, a zoneless time, an unknown status, a sender not allowed', async () => {
    const bad = await send('POST', '/fhir/Encounter', encounter('planned', { subject: { reference: 'Group/1' }, period: { start: '2026-12-01T08:00:00' } }));
    expect(bad.statusCode).toBeGreaterThanOrEqual(400);
    const outcome = bad.json() as { resourceType: string; issue: { expression?: string[] }[] };
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue.flatMap((i) => i.expression ?? [])).toEqual(expect.arrayContaining(['Encounter.subject', 'Encounter.status', 'Encounter.period.start']));
    const monitor = await send('POST', '/fhir/Encounter', encounter('in-progress'), 'bedside-gw-1');
    expect(monitor.statusCode).toBe(403);
    expect((monitor.json() as { resourceType: string }).resourceType).toBe('OperationOutcome');
    expect((await warehouse.query('SELECT * FROM admissions')).rows).toEqual([]);
  });
});
