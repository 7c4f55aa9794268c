import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DuckDbWarehouse } from '../adapters/embedded/warehouse-duckdb.ts';
import { createDuckDbWarehouse } from '../adapters/embedded/warehouse-duckdb.ts';
import { TABLES } from '../core/warehouse-schema.ts';
import { convertValue } from './convert-value.ts';
import type { LoadCsvOptions } from './load-csv.ts';
import { loadCsv, LoadRejectedError } from './load-csv.ts';
import { ValueReject } from './value-reject.ts';

let dir: string;
let warehouse: DuckDbWarehouse;

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-load-'));
  warehouse = await createDuckDbWarehouse({ path: ':memory:' });
  await warehouse.provision();
});

afterEach(async () => {
  await warehouse.close();
  rmSync(dir, { recursive: true, force: true });
});

const ADMISSIONS_HEADER = 'admission_id,patient_id,admitted_at,discharged_at,diagnosis,hospital_expire_flag,total_cost';

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

function load(csv: string, extra: Partial<LoadCsvOptions> = {}) {
  return loadCsv({ warehouse, table: 'admissions', file: csv, rejectsPath: `${csv}.rejects.csv`, ...extra });
}

async function refusal(promise: Promise<unknown>): Promise<LoadRejectedError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(LoadRejectedError);
  return error as LoadRejectedError;
}

const rejectsOf = (csv: string) => parse(readFileSync(`${csv}.rejects.csv`), { columns: true }) as Record<string, string>[];
const tableRows = async (table = 'admissions') => (await warehouse.query(`SELECT * FROM ${table} ORDER BY 1`)).rows;

describe('CSV parsing', () => {
  it('reads a BOM, CRLF line ends, quoted commas and newlines, and empty values', async () => {
    const csv = file(
      'edge.csv',
      '\uFEFF' +
        `${ADMISSIONS_HEADER}\r\n` +
        'A1,P1,2164-10-23 21:09:00,,"SEPSIS, SEVERE",0,\r\n' +
        'A2,P2,2164-10-24T08:00:00Z,2164-10-30 10:00,"LINE ONE\r\nLINE TWO",1,12.5\r\n' +
        '\r\n' +
        'A3,P3,2164-10-25,,,,\r\n',
    );
    const summary = await load(csv);
    expect(summary).toMatchObject({ rowsRead: 3, rowsLoaded: 3, rowsRejected: 0, layout: 'vigil' });
    expect(await tableRows()).toEqual([
      expect.objectContaining({ admission_id: 'A1', admitted_at: new Date('2164-10-23T21:09:00Z'), discharged_at: null, diagnosis: 'SEPSIS, SEVERE', hospital_expire_flag: false, total_cost: null }),
      expect.objectContaining({ admission_id: 'A2', discharged_at: new Date('2164-10-30T10:00:00Z'), diagnosis: 'LINE ONE\r\nLINE TWO', hospital_expire_flag: true, total_cost: 12.5 }),
      expect.objectContaining({ admission_id: 'A3', admitted_at: new Date('2164-10-25T00:00:00Z'), diagnosis: null, hospital_expire_flag: null }),
    ]);
  });

  it('counts lines through quoted newlines and blank lines when reporting a reject', async () => {
    const csv = file('lines.csv', `${ADMISSIONS_HEADER}\nA1,P1,2164-10-23 21:09,,"two\nlines",0,\n\nA2,P2,not a time,,,0,\n`);
    const error = await refusal(load(csv));
    expect(error.summary.firstRejects).toEqual([expect.objectContaining({ line: 5, column: 'admitted_at', value: 'not a time' })]);
  });

  it('maps headers case-insensitively and says which source columns it ignored', async () => {
    const csv = file('case.csv', 'Admission_ID,PATIENT_ID,Admitted_At,Ward_Colour\nA1,P1,2164-10-23 21:09,blue\n');
    const summary = await load(csv);
    expect(summary.ignoredColumns).toEqual(['Ward_Colour']);
    expect(summary.rowsLoaded).toBe(1);
  });

  it('refuses a header that fits no layout, naming the missing columns', async () => {
    const csv = file('nokey.csv', 'id,when\n1,2164-10-23\n');
    await expect(load(csv)).rejects.toThrow(/no field for admission_id, patient_id, admitted_at.*--layout/);
    await expect(load(csv, { layout: 'mimic' })).rejects.toThrow(/mimic layout/);
  });
});

describe('rejects', () => {
  it('reports each reject with line, column, value and reason, in the rejects file too', async () => {
    const csv = file(
      'bad.csv',
      [
        ADMISSIONS_HEADER,
        'A1,P1,2164-10-23 21:09,,,0,',
        'A2,,2164-10-23 21:09,,,0,', // required empty
        'A3,P3,2164-02-30 10:00,,,0,', // no such day
        'A4,P4,2164-10-23 21:09,,,maybe,', // bool
        'A5,P5,2164-10-23 21:09,,,0,lots', // number
        'A6,P6,2164-10-23 21:09,,,0', // field count
        'A1,P7,2164-10-23 21:09,,,0,', // duplicate key
      ].join('\n'),
    );
    const error = await refusal(load(csv));
    expect(error.message).toContain('nothing was loaded into admissions');
    expect(error.summary).toMatchObject({ rowsRead: 7, rowsRejected: 6, rowsLoaded: 0 });
    expect(rejectsOf(csv)).toEqual([
      { line: '3', column: 'patient_id', value: '', reason: 'patient_id: is required but empty' },
      { line: '4', column: 'admitted_at', value: '2164-02-30 10:00', reason: 'admitted_at: "2164-02-30 10:00" is not a real date or time' },
      { line: '5', column: 'hospital_expire_flag', value: 'maybe', reason: 'hospital_expire_flag: "maybe" is not a boolean (1/0, true/false)' },
      { line: '6', column: 'total_cost', value: 'lots', reason: 'total_cost: "lots" is not a number' },
      { line: '7', column: '', value: '', reason: 'has 6 fields, the header has 7' },
      { line: '8', column: 'admission_id', value: 'admission_id=A1', reason: 'duplicate key, first on line 2' },
    ]);
    expect(await tableRows()).toEqual([]);
  });

  it('loads the good rows when the rejects stay within --max-bad-rows, and refuses above it', async () => {
    const csv = file('two-bad.csv', `${ADMISSIONS_HEADER}\nA1,P1,2164-10-23 21:09,,,0,\nA2,P2,soon,,,0,\nA3,P3,later,,,0,\n`);
    const refused = await refusal(load(csv, { maxBadRows: 1 }));
    expect(refused.summary.rowsRejected).toBe(2);
    expect(await tableRows()).toEqual([]);
    const summary = await load(csv, { maxBadRows: 2 });
    expect(summary).toMatchObject({ rowsLoaded: 1, rowsRejected: 2, rejectsPath: `${csv}.rejects.csv` });
    expect((await tableRows()).map((r) => r.admission_id)).toEqual(['A1']);
  });

  it('leaves the table as it was when a load is refused', async () => {
    await load(file('good.csv', `${ADMISSIONS_HEADER}\nA1,P1,2164-10-23 21:09,,,0,1\nA2,P2,2164-10-24 21:09,,,0,2\n`));
    const before = await tableRows();
    const bad = file('update.csv', `${ADMISSIONS_HEADER}\nA1,P1,2164-10-23 21:09,,,0,100\nA9,P9,yesterday,,,0,\n`);
    await refusal(load(bad));
    expect(await tableRows()).toEqual(before);
  });

  it('converts per the schema: integers, dates without a time of day', () => {
    const dates = { formats: ['iso'] as const, timeZone: 'UTC' };
    const int = { name: 'n', type: 'INT64' as const };
    expect(convertValue('42', int, dates)).toBe(42);
    expect(convertValue('4.2', int, dates)).toEqual(new ValueReject('not-an-integer', '"4.2" is not a whole number'));
    expect(convertValue('99999999999999999999', int, dates)).toBeInstanceOf(ValueReject);
    const date = TABLES.patients.columns.find((c) => c.name === 'date_of_birth')!;
    expect(convertValue('2094-03-05 00:00:00', date, dates)).toEqual(new Date('2094-03-05T00:00:00Z'));
    expect(convertValue('2094-03-05 10:00:00', date, dates)).toMatchObject({ code: 'time-on-date' });
  });
});

describe('dates and zones', () => {
  it('refuses two-digit years, naming the problem, and reads them once the century is given', async () => {
    const csv = file('yy.csv', `HADM_ID,SUBJECT_ID,ADMITTIME,DISCHTIME\nA1,P1,10/23/64 21:09,11/1/64 17:15\n`);
    const error = await refusal(load(csv));
    expect(error.message).toMatch(/two-digit years.*--century/s);
    expect(rejectsOf(csv)[0]).toMatchObject({ line: '2', column: 'ADMITTIME', value: '10/23/64 21:09' });
    expect(rejectsOf(csv)[0]!.reason).toContain('two-digit year "64"');
    await load(csv, { centuries: { all: 21 } });
    expect(await tableRows()).toEqual([expect.objectContaining({ admitted_at: new Date('2164-10-23T21:09:00Z'), discharged_at: new Date('2164-11-01T17:15:00Z') })]);
  });

  it('takes a century per column, by source or warehouse name', async () => {
    const csv = file('pat.csv', 'SUBJECT_ID,DOB,DOD\n1,3/5/94 0:00,8/12/65 0:00\n');
    await loadCsv({ warehouse, table: 'patients', file: csv, rejectsPath: `${csv}.rejects.csv`, centuries: { all: 21, byColumn: { DOB: 20 } } });
    expect(await tableRows('patients')).toEqual([expect.objectContaining({ date_of_birth: new Date('2094-03-05T00:00:00Z'), date_of_death: new Date('2165-08-12T00:00:00Z') })]);
  });

  it('reads zoneless timestamps in the declared zone, keeps explicit offsets, refuses skipped and repeated local times', async () => {
    const csv = file(
      'tz.csv',
      `${ADMISSIONS_HEADER}\nA1,P1,2026-01-15 10:00,2026-07-15 10:00,,0,\nA2,P2,2026-01-15T10:00:00+01:00,,,0,\nA3,P3,2026-03-08 02:30,,,0,\nA4,P4,2026-11-01 01:30,,,0,\n`,
    );
    const error = await refusal(load(csv, { timeZone: 'America/New_York' }));
    expect(error.summary.firstRejects.map((r) => [r.line, r.value])).toEqual([[4, '2026-03-08 02:30'], [5, '2026-11-01 01:30']]);
    expect(error.summary.firstRejects[0]!.reason).toContain('does not exist in America/New_York');
    expect(error.summary.firstRejects[1]!.reason).toContain('happened twice');
    await load(csv, { timeZone: 'America/New_York', maxBadRows: 2 });
    expect((await tableRows()).map((r) => [r.admitted_at, r.discharged_at])).toEqual([
      [new Date('2026-01-15T15:00:00Z'), new Date('2026-07-15T14:00:00Z')],
      [new Date('2026-01-15T09:00:00Z'), null],
    ]);
    await expect(load(csv, { timeZone: 'Mars/Olympus' })).rejects.toThrow(/unknown time zone/);
  });
});

describe('idempotence', () => {
  it('loading the same file twice leaves the same table', async () => {
    const csv = file('twice.csv', `${ADMISSIONS_HEADER}\nA1,P1,2164-10-23 21:09,,X,0,1\nA2,P2,2164-10-24 21:09,,Y,1,2\n`);
    await load(csv);
    const once = await tableRows();
    await load(csv);
    expect(await tableRows()).toEqual(once);
    expect(once).toHaveLength(2);
  });

  it('writes no rejects file for a clean load', async () => {
    const csv = file('clean.csv', `${ADMISSIONS_HEADER}\nA1,P1,2164-10-23 21:09,,,0,\n`);
    await load(csv);
    expect(existsSync(`${csv}.rejects.csv`)).toBe(false);
  });

  it('streams in batches, atomically over all of them', async () => {
    const lines = Array.from({ length: 2_500 }, (_, i) => `A${i},P${i},2164-10-23 21:09,,,0,${i}`);
    const csv = file('many.csv', `${ADMISSIONS_HEADER}\n${lines.join('\n')}\n`);
    await load(csv, { batchRows: 100 });
    expect((await warehouse.query('SELECT count(*) AS n, sum(total_cost) AS s FROM admissions')).rows).toEqual([{ n: 2_500, s: (2_499 * 2_500) / 2 }]);
    const broken = file('broken.csv', `${ADMISSIONS_HEADER}\n${lines.map((l) => l.replace(/,(\d+)$/, ',0')).join('\n')}\nB1,P1,whenever,,,0,\n`);
    await refusal(load(broken, { batchRows: 100 }));
    expect((await warehouse.query('SELECT sum(total_cost) AS s FROM admissions')).rows).toEqual([{ s: (2_499 * 2_500) / 2 }]);
  });
});
