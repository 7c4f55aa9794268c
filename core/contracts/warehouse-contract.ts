import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Warehouse, WarehouseRow } from '../ports/warehouse.ts';
import { runPrefix } from './wait-for.ts';

/**
 * The warehouse contract (core/ports/warehouse.ts), run by every warehouse adapter's tests.
 *
 * Tables are fixed names, so the suite never drops or empties anything: it writes rows with
 * per-run ids (patients, readings, admissions) and only looks at those.
 */
export function describeWarehouseContract(name: string, makeWarehouse: () => Promise<Warehouse>, options: { testTimeoutMs?: number } = {}): void {
  const run = runPrefix('ct');
  const timeout = options.testTimeoutMs ?? 60_000;

  describe(`warehouse contract: ${name}`, () => {
    let warehouse: Warehouse;
    /** A named query parameter in the adapter's dialect. */
    const p = (param: string): string => (warehouse.dialect === 'duckdb' ? `$${param}` : `@${param}`);

    beforeAll(async () => {
      warehouse = await makeWarehouse();
      await warehouse.provision();
    }, timeout);

    afterAll(async () => {
      await warehouse?.close();
    });

    const at = (iso: string): Date => new Date(iso);
    const vital = (readingId: string, patientId: string, extra: Partial<WarehouseRow> = {}): WarehouseRow => ({
      reading_id: `${run}-${readingId}`,
      patient_id: `${run}-${patientId}`,
      device_id: 'bed-1',
      observed_at: at('2026-11-22T10:00:00.000Z'),
      received_at: at('2026-11-22T10:00:01.250Z'),
      heart_rate: 72,
      systolic: 120,
      diastolic: 80,
      temperature_c: 37.1,
      spo2: 97,
      respiratory_rate: 16,
      on_oxygen: false,
      consciousness: 'A',
      ...extra,
    });
    const admission = (id: string, extra: Partial<WarehouseRow> = {}): WarehouseRow => ({
      admission_id: `${run}-${id}`,
      patient_id: `${run}-P1`,
      admitted_at: at('2026-11-20T08:30:00.000Z'),
      discharged_at: null,
      admission_type: 'EMERGENCY',
      hospital_expire_flag: false,
      total_cost: 1234.5,
      ...extra,
    });
    const admissionsOfRun = async (): Promise<WarehouseRow[]> => [...(await warehouse.query(
      `SELECT admission_id, admission_type, admitted_at, total_cost FROM admissions WHERE STARTS_WITH(admission_id, ${p('run')}) ORDER BY admission_id`,
      { run: `${run}-` },
    )).rows];

    it('provision is idempotent and ping resolves', async () => {
      await warehouse.provision();
      await expect(warehouse.ping()).resolves.toBeUndefined();
      expect(['duckdb', 'googlesql']).toContain(warehouse.dialect);
    }, timeout);

    it('appends vitals and queries them back as plain typed values', async () => {
      await warehouse.append('vitals', [
        vital('typed-1', 'TYPED'),
        vital('typed-2', 'TYPED', {
          observed_at: at('2026-11-22T10:05:00.123Z'), heart_rate: null, systolic: null, diastolic: null,
          temperature_c: null, spo2: 88.5, respiratory_rate: null, on_oxygen: true, consciousness: null,
        }),
      ]);
      const result = await warehouse.query(
        `SELECT reading_id, patient_id, observed_at, heart_rate, spo2, on_oxygen, consciousness FROM vitals WHERE patient_id = ${p('patient')} ORDER BY reading_id`,
        { patient: `${run}-TYPED` },
      );
      expect(result.columns.map((c) => c.name)).toEqual(['reading_id', 'patient_id', 'observed_at', 'heart_rate', 'spo2', 'on_oxygen', 'consciousness']);
      expect(result.rows).toHaveLength(2);
      const [first, second] = result.rows;
      expect(first).toEqual({
        reading_id: `${run}-typed-1`, patient_id: `${run}-TYPED`, observed_at: at('2026-11-22T10:00:00.000Z'),
        heart_rate: 72, spo2: 97, on_oxygen: false, consciousness: 'A',
      });
      expect(second).toEqual({
        reading_id: `${run}-typed-2`, patient_id: `${run}-TYPED`, observed_at: at('2026-11-22T10:05:00.123Z'),
        heart_rate: null, spo2: 88.5, on_oxygen: true, consciousness: null,
      });
      expect(first!.observed_at).toBeInstanceOf(Date);
    }, timeout);

    it('keeps one visible row per reading_id however often it is appended', async () => {
      const row = vital('dup-1', 'DUP');
      await warehouse.append('vitals', [row, vital('dup-2', 'DUP')]);
      await warehouse.append('vitals', [row]);
      await warehouse.append('vitals', [row, row]);
      const result = await warehouse.query(
        `SELECT reading_id, COUNT(*) AS n FROM vitals WHERE patient_id = ${p('patient')} GROUP BY reading_id ORDER BY reading_id`,
        { patient: `${run}-DUP` },
      );
      expect(result.rows).toEqual([{ reading_id: `${run}-dup-1`, n: 1 }, { reading_id: `${run}-dup-2`, n: 1 }]);
    }, timeout);

    // Two messages of one moment (NIBP, then pulse), as rows of one reading_id.
    const noVitals = { heart_rate: null, systolic: null, diastolic: null, temperature_c: null, spo2: null, respiratory_rate: null, on_oxygen: null, consciousness: null };
    const vitalsOf = async (patient: string): Promise<WarehouseRow[]> => [...(await warehouse.query(
      `SELECT reading_id, received_at, heart_rate, systolic, diastolic, spo2, on_oxygen, consciousness FROM vitals WHERE patient_id = ${p('patient')} ORDER BY reading_id`,
      { patient: `${run}-${patient}` },
    )).rows];

    it('merges two partial rows of one reading_id: held nulls are filled in, the first row\'s received_at stays', async () => {
      await warehouse.append('vitals', [vital('merge-1', 'MERGE', { ...noVitals, systolic: 150, diastolic: 92 })]);
      await warehouse.append('vitals', [vital('merge-1', 'MERGE', { ...noVitals, heart_rate: 88, received_at: at('2026-11-22T10:00:02.000Z') })]);
      // And within one call, in array order.
      await warehouse.append('vitals', [
        vital('merge-2', 'MERGE', { ...noVitals, heart_rate: 61 }),
        vital('merge-2', 'MERGE', { ...noVitals, spo2: 94, on_oxygen: false, received_at: at('2026-11-22T10:00:02.000Z') }),
      ]);
      expect(await vitalsOf('MERGE')).toEqual([
        { reading_id: `${run}-merge-1`, received_at: at('2026-11-22T10:00:01.250Z'), heart_rate: 88, systolic: 150, diastolic: 92, spo2: null, on_oxygen: null, consciousness: null },
        { reading_id: `${run}-merge-2`, received_at: at('2026-11-22T10:00:01.250Z'), heart_rate: 61, systolic: null, diastolic: null, spo2: 94, on_oxygen: false, consciousness: null },
      ]);
    }, timeout);

    it('keeps the first value of a column: a later different value does not replace it; a redelivery changes nothing', async () => {
      await warehouse.append('vitals', [vital('first-1', 'FIRST', { ...noVitals, heart_rate: 88, consciousness: 'A' })]);
      await warehouse.append('vitals', [vital('first-1', 'FIRST', { ...noVitals, heart_rate: 120, consciousness: 'V', spo2: 95 })]);
      await warehouse.append('vitals', [vital('first-1', 'FIRST', { ...noVitals, heart_rate: 130 }), vital('first-1', 'FIRST', { ...noVitals, heart_rate: 88 })]);
      const expected = [{ reading_id: `${run}-first-1`, received_at: at('2026-11-22T10:00:01.250Z'), heart_rate: 88, systolic: null, diastolic: null, spo2: 95, on_oxygen: null, consciousness: 'A' }];
      expect(await vitalsOf('FIRST')).toEqual(expected);
      await warehouse.append('vitals', [vital('first-1', 'FIRST', { ...noVitals, heart_rate: 88, consciousness: 'A' })]);
      expect(await vitalsOf('FIRST')).toEqual(expected);
    }, timeout);

    it('rejects an append with an invalid row as a whole', async () => {
      await expect(warehouse.append('vitals', [vital('bad-1', 'BAD'), vital('bad-2', 'BAD', { device_id: null })])).rejects.toThrow();
      const result = await warehouse.query(`SELECT COUNT(*) AS n FROM vitals WHERE patient_id = ${p('patient')}`, { patient: `${run}-BAD` });
      expect(result.rows).toEqual([{ n: 0 }]);
    }, timeout);

    it('replaceRows replaces rows by key and leaves other rows alone', async () => {
      await warehouse.replaceRows('admissions', [admission('A1'), admission('A2', { admission_type: 'ELECTIVE' })]);
      await warehouse.replaceRows('admissions', [admission('A1', { admission_type: 'URGENT', total_cost: 99 }), admission('A3')]);
      expect(await admissionsOfRun()).toEqual([
        { admission_id: `${run}-A1`, admission_type: 'URGENT', admitted_at: at('2026-11-20T08:30:00.000Z'), total_cost: 99 },
        { admission_id: `${run}-A2`, admission_type: 'ELECTIVE', admitted_at: at('2026-11-20T08:30:00.000Z'), total_cost: 1234.5 },
        { admission_id: `${run}-A3`, admission_type: 'EMERGENCY', admitted_at: at('2026-11-20T08:30:00.000Z'), total_cost: 1234.5 },
      ]);
    }, timeout);

    it('replaceRows is atomic: a batch with an invalid row rejects and changes nothing', async () => {
      await warehouse.replaceRows('admissions', [admission('B1', { admission_type: 'ELECTIVE' })]);
      const before = await admissionsOfRun();
      await expect(warehouse.replaceRows('admissions', [
        admission('B1', { admission_type: 'CHANGED' }),
        admission('B2'),
        admission('B3', { admitted_at: null }),
      ])).rejects.toThrow();
      expect(await admissionsOfRun()).toEqual(before);
    }, timeout);

    it('binds query parameters of every plain type', async () => {
      await warehouse.append('vitals', [
        vital('param-1', 'PARAM', { heart_rate: 60, on_oxygen: true, observed_at: at('2026-11-22T09:00:00.000Z') }),
        vital('param-2', 'PARAM', { heart_rate: 110, on_oxygen: true, observed_at: at('2026-11-22T11:00:00.000Z') }),
        vital('param-3', 'PARAM', { heart_rate: 120, on_oxygen: false, observed_at: at('2026-11-22T11:30:00.000Z') }),
      ]);
      const result = await warehouse.query(
        `SELECT reading_id FROM vitals WHERE patient_id = ${p('patient')} AND heart_rate > ${p('hr')} AND on_oxygen = ${p('oxygen')} AND observed_at >= ${p('since')} ORDER BY reading_id`,
        { patient: `${run}-PARAM`, hr: 100, oxygen: true, since: at('2026-11-22T10:00:00.000Z') },
      );
      expect(result.rows).toEqual([{ reading_id: `${run}-param-2` }]);
    }, timeout);

    it('runs every named query with the same rows on every dialect', async () => {
      const letter = (id: string, at: string, patient: string | null, reason: string): WarehouseRow => ({
        dead_letter_id: `${run}-${id}`, received_at: new Date(at), source: 'json', reason: `${run} ${reason}`, field: null, patient_id: patient, payload: '{}',
      });
      const patient = `${run}-NQ`;
      await warehouse.append('dead_letters', [
        letter('d1', '2031-01-01T10:00:00.000Z', patient, 'Outage'),
        letter('d2', '2031-01-01T11:00:00.000Z', patient, 'implausible'),
        letter('d3', '2031-01-01T12:00:00.000Z', null, 'undecodable'),
      ]);
      const ids = (r: { rows: readonly WarehouseRow[] }) => r.rows.map((row) => String(row.dead_letter_id));
      const since = new Date('2031-01-01T10:30:00.000Z');
      expect(ids(await warehouse.namedQuery('dead_letters_newest', { since, patient_id: '' }, { limit: 5 }))).toEqual([`${run}-d3`, `${run}-d2`]);
      expect(ids(await warehouse.namedQuery('dead_letters_newest', { since: new Date(0), patient_id: patient }, { limit: 1 }))).toEqual([`${run}-d2`]);
      expect(ids(await warehouse.namedQuery('dead_letters_oldest', { since: new Date('2031-01-01T00:00:00.000Z'), patient_id: patient, reason: 'OUTAGE' }, { limit: 5, offset: 0 })))
        .toEqual([`${run}-d1`]);
      expect(ids(await warehouse.namedQuery('dead_letters_oldest', { since: new Date('2031-01-01T00:00:00.000Z'), patient_id: '', reason: run }, { limit: 1, offset: 1 })))
        .toEqual([`${run}-d2`]);
      const rejected = await warehouse.namedQuery('rejected_readings_of_patient', {
        patient_id: patient, from: new Date('2031-01-01T00:00:00.000Z'), to: new Date('2031-01-01T11:00:00.000Z'),
      }, { limit: 10 });
      expect(rejected.rows).toEqual([{ dead_letter_id: `${run}-d1`, received_at: new Date('2031-01-01T10:00:00.000Z'), source: 'json', reason: `${run} Outage`, field: null, payload: '{}' }]);

      await warehouse.append('vitals', [
        vital('nq-1', 'NQ', { heart_rate: 60, observed_at: at('2031-01-01T10:01:00.000Z') }),
        vital('nq-2', 'NQ', { heart_rate: 80, observed_at: at('2031-01-01T10:04:00.000Z') }),
        vital('nq-3', 'NQ', { heart_rate: 100, observed_at: at('2031-01-01T10:06:00.000Z') }),
      ]);
      const trends = await warehouse.namedQuery('ward_trends', { from: at('2031-01-01T10:00:00.000Z') }, { bucket_ms: 300_000 });
      const ours = trends.rows.filter((r) => r.patient_id === patient);
      expect(ours.map((r) => [Number(r.bucket), r.heart_rate, r.spo2])).toEqual([
        [Date.parse('2031-01-01T10:00:00.000Z'), 70, 97],
        [Date.parse('2031-01-01T10:05:00.000Z'), 100, 97],
      ]);

      await warehouse.replaceRows('patients', [{ patient_id: `${run}-NQ1`, date_of_birth: '1950-06-30' }]);
      await warehouse.replaceRows('admissions', [admission('nq-a1', { patient_id: `${run}-NQ1` }), admission('nq-a2', { patient_id: `${run}-NQ2` })]);
      const admissions = await warehouse.namedQuery('admissions_of_patients', { patient_ids: `${run}-NQ1,${run}-nobody` }, {});
      expect(admissions.rows).toEqual([{
        patient_id: `${run}-NQ1`, admitted_at: at('2026-11-20T08:30:00.000Z'), discharged_at: null, admission_type: 'EMERGENCY', date_of_birth: at('1950-06-30T00:00:00.000Z'),
      }]);
      await warehouse.replaceRows('admissions', [admission('nq-a3', { patient_id: `${run}-NQ1`, admitted_at: at('2026-11-19T08:30:00.000Z'), cancelled_at: at('2026-11-19T09:00:00.000Z') })]);
      const records = await warehouse.namedQuery('admission_records_of_patient', { patient_id: `${run}-NQ1` }, {});
      expect(records.rows.map((r) => [r.admission_id, r.cancelled_at])).toEqual([[`${run}-nq-a3`, at('2026-11-19T09:00:00.000Z')], [`${run}-nq-a1`, null]]);
      expect((await warehouse.namedQuery('patient_record', { patient_id: `${run}-NQ1` }, {})).rows).toMatchObject([{ patient_id: `${run}-NQ1`, date_of_birth: at('1950-06-30T00:00:00.000Z') }]);
      expect((await warehouse.namedQuery('patient_record', { patient_id: `${run}-nobody` }, {})).rows).toEqual([]);
    }, timeout);

    it('returns INT64 aggregates as numbers', async () => {
      const result = await warehouse.query(`SELECT COUNT(*) AS n, SUM(1) AS s FROM vitals WHERE patient_id = ${p('patient')}`, { patient: `${run}-PARAM` });
      expect(result.rows).toEqual([{ n: 3, s: 3 }]);
    }, timeout);
  });
}
