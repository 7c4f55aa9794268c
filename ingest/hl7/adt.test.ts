import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteDeviceAssociations } from '../../adapters/embedded/device-associations-sqlite.ts';
import { createDuckDbWarehouse } from '../../adapters/embedded/warehouse-duckdb.ts';
import type { DeviceAssociations } from '../../core/ports/device-associations.ts';
import { whereaboutsOf } from '../../core/ports/device-associations.ts';
import type { Warehouse } from '../../core/ports/warehouse.ts';
import { frameMllp } from '../../core/wire/hl7/mllp-framing.ts';
import { createAdtRecords } from './adt-records.ts';
import type { RecordingServer, RawClient } from './mllp-test-support.ts';
import { connectRaw, msaOf, startRecordingServer } from './mllp-test-support.ts';
import { parseSenderSettings } from './sender-settings.ts';
import { createWarehouseAdmissionLookup } from '../../stream-processor/admission-context.ts';
import { createLogger } from '../../core/observability/logger.ts';

/**
 * ADT over the MLLP listener, one message type at a time, with messages in the shape hospital
 * systems send them: the HL7 v2.5.1 chapter 3 examples (zoneless local times, PID-3 repeating with
 * an MR and an SS identifier, NK1 next of kin, PV1-3 `pointOfCare^room^bed`), recorded in a real
 * DuckDB warehouse and the SQLite association store.
 */
const dir = mkdtempSync(path.join(tmpdir(), 'vigil-adt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MRN = 'PATID1234';
const VISIT = 'V0001';

function adt(event: string, structure: string, segments: string[], control = `${event}-${Math.random().toString(36).slice(2, 10)}`): string {
  return [
    `MSH|^~\\&|ADT1|GOOD HEALTH HOSPITAL|VIGIL|WARD|200708181126||ADT^${event}^${structure}|${control}|P|2.5.1`,
    ...segments,
  ].join('\r');
}

const pid = (mrn = MRN): string =>
  `PID|1||${mrn}^^^GOOD HEALTH HOSPITAL^MR^GOOD HEALTH HOSPITAL~123456789^^^USSSA^SS||EVERYMAN^ADAM^A^III||19610615|M||C|2222 HOME STREET^^GREENSBORO^NC^27401-1020|GL|(555) 555-2004|(555)555-2004||S||PATID12345001^2^M10^ADT1^AN^A|444333333|987654^NC|`;
const pv1 = (location: string, fields: { type?: string; prior?: string; disposition?: string; admit?: string; discharge?: string } = {}): string => {
  const f = Array.from({ length: 46 }, () => '');
  f[1] = '1'; f[2] = 'I'; f[3] = location; f[4] = fields.type ?? 'E'; f[6] = fields.prior ?? '';
  f[7] = '004777^ATTEND^AARON^A'; f[10] = 'SUR'; f[14] = 'ADM'; f[19] = VISIT;
  f[36] = fields.disposition ?? ''; f[44] = fields.admit ?? '200708181123'; f[45] = fields.discharge ?? '';
  return `PV1|${f.slice(1).join('|')}`.replace(/\|+$/, '');
};

const A01 = adt('A01', 'ADT_A01', ['EVN|A01|200708181123||', pid(), 'NK1|1|NUCLEAR^NELDA^W|SPO^SPOUSE||||NK^NEXT OF KIN', pv1('2000^2012^01')]);
const A02 = adt('A02', 'ADT_A02', ['EVN|A02|200708191500||', pid(), pv1('3000^3105^02', { prior: '2000^2012^01' })]);
const A03 = adt('A03', 'ADT_A03', ['EVN|A03|200708211000||', pid(), pv1('3000^3105^02', { disposition: '01', discharge: '200708211000' })]);

describe('ADT over MLLP, recorded in patients, admissions and bed intervals', () => {
  let warehouse: Warehouse;
  let associations: DeviceAssociations;
  let edge: RecordingServer;
  let client: RawClient;
  const recorded: string[] = [];

  beforeAll(async () => {
    warehouse = await createDuckDbWarehouse({ path: path.join(dir, 'warehouse.duckdb') });
    await warehouse.provision();
  });
  afterAll(async () => {
    await warehouse?.close();
  });
  beforeEach(async () => {
    await warehouse.query('DELETE FROM admissions');
    await warehouse.query('DELETE FROM patients');
    associations = createSqliteDeviceAssociations({ path: ':memory:' });
    const records = createAdtRecords(warehouse, associations);
    edge = await startRecordingServer({
      adt: { allowedSenders: [{ application: 'ADT1' }], record: async (event) => { recorded.push(event.trigger); await records.apply(event); } },
      senderSettings: parseSenderSettings('{"ADT1": {"timezone": "America/New_York"}}'),
    });
    client = await connectRaw(edge.port);
  });
  afterEach(async () => {
    client.end();
    await edge.server.close();
    await associations.close();
  });

  async function send(message: string): Promise<{ code: string; text: string }> {
    client.send(frameMllp(message));
    const ack = await client.nextAck();
    const msa = msaOf(ack);
    return { code: msa.code, text: ack };
  }
  async function admission(): Promise<Record<string, unknown>> {
    const rows = (await warehouse.query('SELECT * FROM admissions')).rows;
    expect(rows, 'one admissions row for the visit').toHaveLength(1);
    return rows[0]!;
  }
  const where = async (mrn = MRN) => whereaboutsOf(await associations.ofPatient(mrn));

  it('A01 admit: the patient (sex, birth date, no name), the admission (visit number, time in the sender zone, type) and the bed; redelivery adds nothing', async () => {
    expect((await send(A01)).code).toBe('AA');
    expect((await send(A01)).code, 'the same A01 redelivered').toBe('AA');
    const patients = (await warehouse.query('SELECT * FROM patients')).rows;
    expect(patients).toHaveLength(1);
    expect(patients[0]).toMatchObject({ patient_id: MRN, gender: 'M' });
    expect((patients[0]!.date_of_birth as Date).toISOString().slice(0, 10)).toBe('1961-06-15');
    expect(JSON.stringify(patients[0])).not.toContain('EVERYMAN');
    const row = await admission();
    expect(row).toMatchObject({ admission_id: VISIT, patient_id: MRN, admission_type: 'EMERGENCY', admission_location: '2000-2012-01', discharged_at: null, cancelled_at: null });
    expect((row.admitted_at as Date).toISOString(), '11:23 in New York (EDT)').toBe('2007-08-18T15:23:00.000Z');
    expect(await where()).toEqual({ bed: '2000-2012-01', left: false });
  });

  it('A02 transfer: the new bed from PV1-3, the old one ended at the event time, the admission unchanged', async () => {
    await send(A01);
    expect((await send(A02)).code).toBe('AA');
    expect(await where()).toEqual({ bed: '3000-3105-02', left: false });
    const transferAt = Date.parse('2007-08-19T19:00:00Z');
    expect(await associations.patientAt('bed', '2000-2012-01', transferAt - 1)).toBe(MRN);
    expect(await associations.patientAt('bed', '2000-2012-01', transferAt)).toBeUndefined();
    expect((await admission()).admission_location).toBe('2000-2012-01');
  });

  it('A03 discharge: discharged_at from PV1-45, the disposition kept, the patient left the ward (history stays)', async () => {
    await send(A01);
    await send(A02);
    expect((await send(A03)).code).toBe('AA');
    const row = await admission();
    expect((row.discharged_at as Date).toISOString()).toBe('2007-08-21T14:00:00.000Z');
    expect(row.discharge_location).toBe('01');
    expect(await where()).toEqual({ bed: null, left: true });
    expect(await associations.ofPatient(MRN), 'both beds kept as history').toHaveLength(2);
  });

  it('A04 register: an admission row and the bed, like A01', async () => {
    const a04 = adt('A04', 'ADT_A01', ['EVN|A04|200708181123||', pid(), pv1('ER^01^A', { type: 'U' })]);
    expect((await send(a04)).code).toBe('AA');
    expect(await admission()).toMatchObject({ admission_type: 'URGENT', admission_location: 'ER-01-A' });
    expect(await where()).toEqual({ bed: 'ER-01-A', left: false });
  });

  it('A08 update: the demographics change, the admission and bed stay', async () => {
    await send(A01);
    const a08 = adt('A08', 'ADT_A01', ['EVN|A08|200708181300||', pid().replace('|19610615|M|', '|19610616|M|'), pv1('2000^2012^01')]);
    expect((await send(a08)).code).toBe('AA');
    const patient = (await warehouse.query('SELECT * FROM patients')).rows[0]!;
    expect((patient.date_of_birth as Date).toISOString().slice(0, 10)).toBe('1961-06-16');
    expect(await where()).toEqual({ bed: '2000-2012-01', left: false });
  });

  it('A11 cancel admit: cancelled_at set (the row stays for the record), the bed retracted', async () => {
    await send(A01);
    const a11 = adt('A11', 'ADT_A09', ['EVN|A11|200708181200||', pid(), pv1('2000^2012^01')]);
    expect((await send(a11)).code).toBe('AA');
    expect((await admission()).cancelled_at).toBeInstanceOf(Date);
    expect(await associations.ofPatient(MRN)).toEqual([]);
  });

  it('A12 cancel transfer: back in the prior bed; a redelivered A12 changes nothing', async () => {
    await send(A01);
    await send(A02);
    const a12 = adt('A12', 'ADT_A12', ['EVN|A12|200708191530||', pid(), pv1('2000^2012^01')]);
    expect((await send(a12)).code).toBe('AA');
    expect(await where()).toEqual({ bed: '2000-2012-01', left: false });
    expect((await send(a12)).code).toBe('AA');
    expect(await where()).toEqual({ bed: '2000-2012-01', left: false });
  });

  it('A13 cancel discharge: discharged_at cleared, the patient back in their bed', async () => {
    await send(A01);
    await send(A03);
    const a13 = adt('A13', 'ADT_A01', ['EVN|A13|200708211030||', pid(), pv1('2000^2012^01')]);
    expect((await send(a13)).code).toBe('AA');
    expect((await admission()).discharged_at).toBeNull();
    expect(await where()).toEqual({ bed: '2000-2012-01', left: false });
  });

  it('A40 merge: the prior record number\'s admissions and beds move to the surviving one', async () => {
    await send(A01.replaceAll(MRN, 'TEMP999'));
    const a40 = adt('A40', 'ADT_A39', ['EVN|A40|200708181400||', pid(), 'MRG|TEMP999^^^GOOD HEALTH HOSPITAL^MR']);
    expect((await send(a40)).code).toBe('AA');
    expect(await admission()).toMatchObject({ patient_id: MRN });
    expect(await where()).toEqual({ bed: '2000-2012-01', left: false });
    expect(await associations.ofPatient('TEMP999')).toEqual([]);
  });

  it('the live model\'s admission context comes from ADT: admitted, not after discharge, never for a cancelled admission', async () => {
    const context = async (now: number) => (await createWarehouseAdmissionLookup(warehouse, { logger: createLogger({ level: 'silent' }) })
      .lookup([{ patientId: MRN, now }])).get(MRN);
    await send(A01);
    const admittedAt = Date.parse('2007-08-18T15:23:00Z');
    expect(await context(admittedAt + 3_600_000)).toEqual({ admittedAt, age: 46, admissionType: 'EMERGENCY' });
    await send(A03);
    expect(await context(Date.parse('2007-08-22T00:00:00Z')), 'a day after discharge').toBeUndefined();
    await send(adt('A13', 'ADT_A01', ['EVN|A13|200708211030||', pid(), pv1('2000^2012^01')]));
    await send(adt('A11', 'ADT_A09', ['EVN|A11|200708211100||', pid(), pv1('2000^2012^01')]));
    expect(await context(admittedAt + 3_600_000), 'a cancelled admission').toBeUndefined();
  });

  it('refuses what it cannot record, with the field, and records nothing', async () => {
    const before = recorded.length;
    const noPid3 = await send(adt('A01', 'ADT_A01', ['EVN|A01|200708181123||', 'PID|1||||EVERYMAN^ADAM', pv1('2000^2012^01')]));
    expect(noPid3.code).toBe('AE');
    expect(noPid3.text).toContain('PID^1^3');
    const transferNowhere = await send(adt('A02', 'ADT_A02', ['EVN|A02|200708191500||', pid(), 'PV1|1|I']));
    expect(transferNowhere.code).toBe('AE');
    expect(transferNowhere.text).toContain('PV1^1^3');
    const mergeWithoutMrg = await send(adt('A40', 'ADT_A39', ['EVN|A40|200708181400||', pid()]));
    expect(mergeWithoutMrg.code).toBe('AE');
    const unsupported = await send(adt('A05', 'ADT_A05', ['EVN|A05|200708181400||', pid(), pv1('2000^2012^01')]));
    expect(unsupported.code).toBe('AR');
    expect(recorded.length).toBe(before);
    expect(edge.deadLetters, 'each refused message kept as a dead letter').toHaveLength(4);
  });

  it('ADT from a sender not in VIGIL_MLLP_ADT_SENDERS is refused (AR), even one allowed to send vitals', async () => {
    const fromMonitor = await send(A01.replace('|ADT1|', '|MONITOR|'));
    expect(fromMonitor.code).toBe('AR');
    expect(fromMonitor.text).toContain('VIGIL_MLLP_ADT_SENDERS');
    expect((await warehouse.query('SELECT * FROM admissions')).rows).toHaveLength(0);
  });
});
