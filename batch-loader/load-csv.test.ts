import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DuckDbWarehouse } from '../adapters/embedded/warehouse-duckdb.ts';
import { createDuckDbWarehouse } from '../adapters/embedded/warehouse-duckdb.ts';
import { createDuckDbBulkLoad } from '../adapters/embedded/bulk-load-duckdb.ts';
import { duckDbCsvSelect } from '../adapters/embedded/duckdb-csv-select.ts';
import type { BulkLoad } from '../core/ports/bulk-load.ts';
import { TABLES } from '../core/warehouse-schema.ts';
import type { ColumnSpec, ColumnType } from '../core/warehouse-schema.ts';
import { convertValue } from './convert-value.ts';
import type { DateReadOptions } from './parse-csv-date.ts';
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
  return loadCsv({ bulkLoad: createDuckDbBulkLoad(warehouse), table: 'admissions', file: csv, rejectsPath: `${csv}.rejects.csv`, ...extra });
}

async function refusal(promise: Promise<unknown>): Promise<LoadRejectedError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(LoadRejectedError);
  return error as LoadRejectedError;
}

/** The warehouse's bulk loads without the in-warehouse path, so every row goes through the streamed one. */
const streamedOnly = (w: DuckDbWarehouse): BulkLoad => ({ ...createDuckDbBulkLoad(w), replaceFromCsvFile: () => Promise.resolve(undefined) });

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
    await loadCsv({ bulkLoad: createDuckDbBulkLoad(warehouse), table: 'patients', file: csv, rejectsPath: `${csv}.rejects.csv`, centuries: { all: 21, byColumn: { DOB: 20 } } });
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
    expect(await load(csv, { batchRows: 100, bulkLoad: streamedOnly(warehouse) })).toMatchObject({ method: 'streamed', rowsLoaded: 2_500 });
    expect((await warehouse.query('SELECT count(*) AS n, sum(total_cost) AS s FROM admissions')).rows).toEqual([{ n: 2_500, s: (2_499 * 2_500) / 2 }]);
    const broken = file('broken.csv', `${ADMISSIONS_HEADER}\n${lines.map((l) => l.replace(/,(\d+)$/, ',0')).join('\n')}\nB1,P1,whenever,,,0,\n`);
    await refusal(load(broken, { batchRows: 100 }));
    expect((await warehouse.query('SELECT sum(total_cost) AS s FROM admissions')).rows).toEqual([{ s: (2_499 * 2_500) / 2 }]);
  });
});

describe('in-warehouse fast path (DuckDB reads, checks and converts a clean file)', () => {
  it('loads a clean file in the warehouse with exactly the table the streamed path gives', async () => {
    const messy =
      '\uFEFF' +
      'Admission_ID,patient_id,admitted_at,discharged_at,died_at,diagnosis,hospital_expire_flag,total_cost,ROW_ID\r\n' +
      'A1,P1,2164-10-23 21:09,,,"SEPSIS, ""SEVERE""",T,+12.5,1\r\n' +
      'A2,P2,2164-10-24T08:00:00.1239Z,2164-10-30 10:00:59+05:30,,"LINE ONE\r\nLINE TWO",false,.5,2\r\n' +
      '\r\n' +
      'A3,P3,2164-10-25,2164-10-26T00:00:00-0130,2164-10-26 01:02:03.4,  padded  ,1,1e3,3\r\n' +
      'A4,P4,1999-12-31 23:59:59.999,,,"",TRUE,-0.000001,4\r\n' +
      'A5,P5,2164-02-29 00:00,,,"tab\there",0,7.,5\r\n';
    const csv = file('messy.csv', messy);
    const fast = await load(csv);
    expect(fast).toMatchObject({ method: 'in-warehouse', rowsRead: 5, rowsLoaded: 5, rowsRejected: 0, ignoredColumns: ['ROW_ID'] });
    const inWarehouse = await tableRows();
    await warehouse.query('DELETE FROM admissions');
    expect(await load(csv, { bulkLoad: streamedOnly(warehouse) })).toMatchObject({ method: 'streamed', rowsLoaded: 5 });
    expect(inWarehouse).toEqual(await tableRows());
    expect(inWarehouse[1]).toMatchObject({ admitted_at: new Date('2164-10-24T08:00:00.123Z'), discharged_at: new Date('2164-10-30T04:30:59Z') });
  });

  it('loads the MIMIC-III demo files in the warehouse into the tables the streamed path gives', async () => {
    const demo = fileURLToPath(new URL('../../shared/data/mimic-iii-demo/', import.meta.url));
    const streamedWarehouse = await createDuckDbWarehouse({ path: ':memory:' });
    try {
      await streamedWarehouse.provision();
      for (const [table, name] of [['patients', 'PATIENTS'], ['admissions', 'ADMISSIONS'], ['icustays', 'ICUSTAYS']] as const) {
        const csv = path.join(demo, `${name}.csv`);
        expect(await load(csv, { table })).toMatchObject({ method: 'in-warehouse', rowsRejected: 0 });
        expect(await load(csv, { table, bulkLoad: streamedOnly(streamedWarehouse) })).toMatchObject({ method: 'streamed', rowsRejected: 0 });
        const all = async (w: DuckDbWarehouse) => (await w.query(`SELECT * FROM ${table} ORDER BY 1`)).rows;
        const loaded = await all(warehouse);
        expect(loaded.length).toBeGreaterThan(99);
        expect(loaded).toEqual(await all(streamedWarehouse));
      }
    } finally {
      await streamedWarehouse.close();
    }
  });

  it('falls back to the streamed path, which reports every reject, when a value is outside it', async () => {
    const csv = file('bad.csv', `${ADMISSIONS_HEADER}\nA1,P1,2164-10-23 21:09,,X,0,1\nA2,P2,2164-02-30 10:00,,Y,1,2\n`);
    const error = await refusal(load(csv));
    expect(error.summary).toMatchObject({ method: 'streamed', rowsRead: 2 });
    expect(error.summary.firstRejects).toEqual([expect.objectContaining({ line: 3, column: 'admitted_at', code: 'not-a-date' })]);
    const repeated = file('repeated.csv', `${ADMISSIONS_HEADER}\nA1,P1,2164-10-23 21:09,,X,0,1\nA1,P2,2164-10-24 10:00,,Y,1,2\n`);
    expect((await refusal(load(repeated))).summary.firstRejects).toEqual([expect.objectContaining({ line: 3, code: 'duplicate-key' })]);
    expect(await tableRows()).toEqual([]);
  });

  it('leaves to the streamed path the files DuckDB would read more leniently than csv-parse', async () => {
    const good = Array.from({ length: 3_000 }, (_, i) => `A${i},P${i},2164-10-23 21:09,,"SEPSIS, X",0,${i}`).join('\n');
    // An empty field past the header's count: DuckDB drops it, the streamed path rejects the row.
    const trailing = file('trailing.csv', `${ADMISSIONS_HEADER}\nA1,P1,2164-10-23 21:09,,X,0,1,\n`);
    expect((await refusal(load(trailing))).summary).toMatchObject({ method: 'streamed', firstRejects: [expect.objectContaining({ line: 2, code: 'field-count' })] });
    // Quoting errors past the first read chunk: DuckDB reads the stray quote as text and trims the space.
    for (const bad of ['ab"c', ' "abc"', '"abc" ']) {
      const late = file('late.csv', `${ADMISSIONS_HEADER}\n${good}\nB1,P1,2164-10-23 21:09,,${bad},1,2\n`);
      await expect(load(late), bad).rejects.toThrow(/Invalid (Opening|Closing) Quote/);
    }
    // The same in a small file is refused without taking the process down.
    await expect(load(file('small.csv', `${ADMISSIONS_HEADER}\nA1,P1,2164-10-23 21:09,,ab"c,1,2\n`))).rejects.toThrow(/Invalid Opening Quote/);
    // A number past the double range is a reject, not Infinity.
    const huge = await refusal(load(file('huge.csv', `${ADMISSIONS_HEADER}\nA1,P1,2164-10-23 21:09,,X,0,1e400\n`)));
    expect(huge.summary.firstRejects).toEqual([expect.objectContaining({ column: 'total_cost', reason: 'total_cost: "1e400" is out of range for a number' })]);
    expect(await tableRows()).toEqual([]);
  });

  it('reads the named file only: not as a glob, not with folder names as columns', async () => {
    const sub = path.join(dir, 'c4=REDACTED'); // DuckDB names the file's fields c0, c1, ...: c4 is diagnosis
    mkdirSync(sub);
    writeFileSync(path.join(sub, 'adm1.csv'), `${ADMISSIONS_HEADER}\nOTHER,P1,2164-10-23 21:09,,X,0,1\n`);
    const literal = path.join(sub, 'adm[12].csv');
    writeFileSync(literal, `${ADMISSIONS_HEADER}\nLITERAL,P1,2164-10-23 21:09,,SEPSIS,0,1\n`);
    expect(await load(literal)).toMatchObject({ method: 'streamed', rowsLoaded: 1 });
    const plain = path.join(sub, 'adm.csv');
    writeFileSync(plain, `${ADMISSIONS_HEADER}\nPLAIN,P1,2164-10-23 21:09,,SEPSIS,0,1\n`);
    expect(await load(plain)).toMatchObject({ method: 'in-warehouse', rowsLoaded: 1 });
    expect((await warehouse.query('SELECT admission_id, diagnosis FROM admissions ORDER BY 1')).rows).toEqual([
      { admission_id: 'LITERAL', diagnosis: 'SEPSIS' },
      { admission_id: 'PLAIN', diagnosis: 'SEPSIS' },
    ]);
  });

  it('leaves to the streamed path what only it reads: zones other than UTC, the year 0', async () => {
    const zoned = file('zoned.csv', `${ADMISSIONS_HEADER}\nA1,P1,2164-10-23 21:09,,X,0,1\n`);
    expect(await load(zoned, { timeZone: 'America/New_York' })).toMatchObject({ method: 'streamed', rowsLoaded: 1 });
    const early = file('early.csv', `${ADMISSIONS_HEADER}\nA2,P1,0000-10-23 21:09,,X,0,1\nA3,P1,0050-10-23 21:09,,X,0,1\n`);
    expect(await load(early)).toMatchObject({ method: 'streamed', rowsLoaded: 2 });
    // Date.UTC would have read the year 50 as 1950.
    expect((await warehouse.query("SELECT year(admitted_at) AS y FROM admissions WHERE admission_id = 'A3'")).rows).toEqual([{ y: 50 }]);
    const us = file('us.csv', 'HADM_ID,SUBJECT_ID,ADMITTIME\n9,1,10/23/2164 21:09\n');
    expect(await load(us, { timeZone: 'Europe/London' })).toMatchObject({ method: 'streamed', layout: 'mimic', rowsLoaded: 1 });
    expect(await load(us)).toMatchObject({ method: 'in-warehouse', layout: 'mimic', rowsLoaded: 1 });
  });

  it('accepts no value the streamed path refuses, and converts each it accepts to the same value', async () => {
    const texts: Record<ColumnType, string[]> = {
      STRING: ['x', ' spaced ', 'quote"inside', 'ünïcode'],
      INT64: ['0', '+7', '-007', '9007199254740991', '9007199254740992', '-9007199254740991', '1.0', '1e3', ' 1', 'abc', '٣'],
      FLOAT64: ['0', '+12.5', '.5', '7.', '-1e-3', '1E+3', '1e400', '1.2.3', 'e5', '.', '0x10', 'NaN', 'inf', ' 1'],
      BOOL: ['true', 'TRUE', 't', 'F', '1', '0', 'yes', 'no', '2', ' t'],
      TIMESTAMP: [
        '2164-10-23', '2164-10-23 21:09', '2164-10-23T21:09:07', '2164-10-23 21:09:07.1', '2164-10-23 21:09:07.123456789',
        '2164-10-23 21:09Z', '2164-10-23 21:09 +01:30', '2164-10-23 21:09-0800', '2164-10-23 21:09:07.5+14:00',
        '2164-02-29 10:00', '2164-02-30 10:00', '2164-13-01', '2164-10-23 24:00', '2164-10-23 23:60', '2164-10-23 23:59:60',
        '0999-01-01 00:00', '0050-01-01', '10/23/2164 21:09', '2164-10-23 21:09 UTC', '2164-1-2', '21641023',
        // the plain shape DuckDB's own cast reads
        '2164-10-23T21:09:07Z', '2164-10-23 21:09:07.12Z', '2164-10-23T00:00', '1000-01-01', '9999-12-31 23:59:59.999',
        '2100-02-29', '2164-00-10', '2164-10-00', '2164-10-23 19:60', '2164-10-23T21:09:07.000Z', '2164-10-23 21:09:07.5',
        '0000-01-01', '0001-01-01 12:00', '0004-02-29', '0100-02-29',
      ],
      DATE: ['2164-10-23', '1000-01-01', '9999-12-31', '2100-02-29', '2164-02-29', '2164-00-01', '2164-10-23 00:00', '2164-10-23 00:00:00Z', '2164-10-23 00:00:00-00:00', '2164-10-23 00:00:01', '2164-10-23 00:00+01:00', '2164-10-23 00:00:00.000', '2164-10-23 00:00:00.0001', '2164-02-30'],
    };
    texts.TIMESTAMP.push('10/23/2164 21:09', '1/2/2164 1:02:03', '10/23/64 21:09', '10/23/164', '2/30/2164', '10/23/2164  21:09', '10/23/2164T21:09');
    texts.DATE.push('10/23/2164', '10/23/2164 0:00', '10/23/2164 00:00:01', '10/23/64');
    const readings: DateReadOptions[] = [
      { formats: ['iso'], timeZone: 'UTC' },
      { formats: ['iso', 'us'], timeZone: 'UTC' },
      { formats: ['iso', 'us'], timeZone: 'UTC', century: 21 },
      { formats: ['us'], timeZone: 'UTC', century: 0 },
    ];
    const leftToStreamed: string[] = [];
    for (const [type, values] of Object.entries(texts) as [ColumnType, string[]][]) {
      const column: ColumnSpec = { name: 'x', type, required: false };
      for (const dates of type === 'TIMESTAMP' || type === 'DATE' ? readings : readings.slice(0, 1)) {
        for (const text of values) {
          const csv = file('one.csv', `x\n"${text.replaceAll('"', '""')}"\n`);
          const select = duckDbCsvSelect(csv, 1, [{ index: 0, column, dates }])!;
          const inWarehouse = await warehouse.query(select.sql, select.params).then((r) => ({ value: r.rows[0]!.x }), (error: unknown) => ({ error }));
          const streamed = convertValue(text, column, dates);
          const label = `${type} "${text}" read as ${dates.formats.join('+')}${dates.century === undefined ? '' : ` century ${dates.century}`}`;
          if (streamed instanceof ValueReject) {
            expect(inWarehouse, `${label} is refused by the streamed path`).toHaveProperty('error');
          } else if ('value' in inWarehouse) {
            expect(inWarehouse.value, label).toEqual(streamed);
          } else {
            leftToStreamed.push(label);
          }
        }
      }
    }
    // What the streamed path accepts and the fast path leaves to it: the year 0 only.
    expect(leftToStreamed).toEqual([
      'TIMESTAMP "0000-01-01" read as iso',
      'TIMESTAMP "0000-01-01" read as iso+us',
      'TIMESTAMP "0000-01-01" read as iso+us century 21',
    ]);
  });
});
