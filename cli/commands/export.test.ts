import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbWarehouse } from '../../adapters/embedded/warehouse-duckdb.ts';
import { testConfig } from '../../dashboard-api/test-fixtures.ts';
import { capture } from '../test-support/cli-output.ts';
import { SHIFT_MIN_DAYS, SHIFT_SPAN_DAYS } from '../export/deidentify-rules.ts';
import { runExport } from './export.ts';
import { runLoad } from './load.ts';
import { createDuckDbBulkLoad } from '../../adapters/embedded/bulk-load-duckdb.ts';

async function duckDbBulkLoad(file: string) {
  const warehouse = await createDuckDbWarehouse({ path: file });
  return { warehouse, bulkLoad: createDuckDbBulkLoad(warehouse) };
}

/**
 * `vigil export --deidentify` on a warehouse holding the MIMIC-III demo's PATIENTS and ADMISSIONS
 * (real subject and hadm ids, dates of birth of patients over 89 shifted 300 years back, as MIMIC
 * does) plus vitals from named devices and risk scores; the Parquet files are read back with
 * DuckDB and searched for every identifier and every exact date of the source rows.
 */
const DEMO = path.resolve(import.meta.dirname, '../../../shared/data/mimic-iii-demo');
const KEY = 'k'.repeat(8) + '-research-extract-key-0123456789abcdef';
const OWN_PATIENT = 'P-ALICE-0001';
const DEVICES = ['bed-12-philips-mx450', 'ward7-ge-b40-serial-55821'];
const FREE_TEXT = 'Alice Smith fell at 12 Elm Street';

let dir: string;
let dataDir: string;
/** Values no cell of the extract may hold (ids) and dates no timestamp may fall on. */
const identifiers = new Set<string>();
const sourceDates = new Set<string>();

interface Row { [column: string]: unknown }

async function readParquet(file: string): Promise<Row[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(`SELECT * FROM read_parquet('${file.replaceAll("'", "''")}')`);
    return reader.getRowObjectsJS() as Row[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function exportTo(out: string, args: string[] = [], env: NodeJS.ProcessEnv = { VIGIL_EXPORT_KEY: KEY }) {
  const stdout = capture();
  const stderr = capture();
  const audited: number[] = [];
  const code = await runExport(['--deidentify', '--out', out, ...args], {
    config: testConfig({ VIGIL_DATA_DIR: dataDir }), env, stdout: stdout.stream, stderr: stderr.stream, audit: async (status) => void audited.push(status),
  });
  return { code, stdout: stdout.text(), stderr: stderr.text(), audited };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-export-'));
  dataDir = path.join(dir, 'data');
  const dbPath = path.join(dataDir, 'warehouse.duckdb');
  const io = { openWarehouse: () => createDuckDbWarehouse({ path: dbPath }), openBulkLoad: () => duckDbBulkLoad(dbPath), stdout: capture().stream, stderr: capture().stream };
  mkdirSync(dataDir);
  for (const [table, name] of [['patients', 'PATIENTS'], ['admissions', 'ADMISSIONS']] as const) {
    expect(await runLoad(['--table', table, path.join(DEMO, `${name}.csv`)], io)).toBe(0);
  }
  const warehouse = await createDuckDbWarehouse({ path: dbPath });
  try {
    await warehouse.append('patients', [{ patient_id: OWN_PATIENT, gender: 'F', date_of_birth: new Date('1931-02-03T00:00:00Z'), expire_flag: false }]);
    await warehouse.append('admissions', [{
      admission_id: 'ADM-ALICE-77', patient_id: OWN_PATIENT, admitted_at: new Date('2026-11-20T08:15:00Z'), discharged_at: new Date('2026-11-27T12:00:00Z'),
      admission_type: 'EMERGENCY', admission_location: FREE_TEXT, diagnosis: FREE_TEXT, insurance: 'Medicare',
    }]);
    const vital = (patientId: string, deviceId: string, at: string, heartRate: number) => ({
      reading_id: `${deviceId}|${patientId}|${at}`, patient_id: patientId, device_id: deviceId, observed_at: new Date(at), received_at: new Date(at),
      heart_rate: heartRate, systolic: 120, diastolic: 80, temperature_c: 37, spo2: 97, respiratory_rate: 16, on_oxygen: false, consciousness: 'A',
    });
    await warehouse.append('vitals', [
      vital('10006', DEVICES[0]!, '2164-10-24T10:00:00Z', 88),
      vital('10006', DEVICES[0]!, '2164-10-24T14:30:00Z', 92),
      vital(OWN_PATIENT, DEVICES[1]!, '2026-11-20T09:00:00Z', 101),
    ]);
    await warehouse.append('risk_scores', [{
      patient_id: OWN_PATIENT, scored_at: new Date('2026-11-20T09:00:05Z'), news2_score: 3, news2_level: 'low-medium', risk_score: 0.2,
      model: 'recovery-risk@2', factors: JSON.stringify([{ feature: 'age', contribution: 0.4, value: 95 }]),
    }]);
    // Every id and every date of the source rows, as the checks look for them.
    const ids = await warehouse.query(`
      SELECT patient_id AS id FROM patients UNION SELECT admission_id FROM admissions UNION SELECT patient_id FROM admissions
      UNION SELECT device_id FROM vitals UNION SELECT reading_id FROM vitals`);
    for (const { id } of ids.rows) identifiers.add(String(id));
    const dates = await warehouse.query(`
      SELECT strftime(d, '%Y-%m-%d') AS d FROM (
        SELECT CAST(date_of_birth AS TIMESTAMP) AS d FROM patients UNION SELECT CAST(date_of_death AS TIMESTAMP) FROM patients
        UNION SELECT admitted_at FROM admissions UNION SELECT discharged_at FROM admissions UNION SELECT died_at FROM admissions
        UNION SELECT observed_at FROM vitals UNION SELECT scored_at FROM risk_scores) WHERE d IS NOT NULL`);
    for (const { d } of dates.rows) sourceDates.add(String(d));
  } finally {
    await warehouse.close();
  }
  expect(identifiers.size).toBeGreaterThan(200);
  expect(sourceDates.size).toBeGreaterThan(200);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('vigil export --deidentify', () => {
  let out: string;
  let tables: Record<string, Row[]>;

  beforeAll(async () => {
    out = path.join(dir, 'extract');
    const result = await exportTo(out);
    expect(result.code, result.stderr).toBe(0);
    expect(result.audited).toEqual([0]);
    tables = {};
    for (const table of ['patients', 'admissions', 'vitals', 'risk_scores']) tables[table] = await readParquet(path.join(out, `${table}.parquet`));
  });

  it('writes one Parquet file per table and a manifest, every source row there', () => {
    expect(readdirSync(out).sort()).toEqual(['admissions.parquet', 'manifest.json', 'patients.parquet', 'risk_scores.parquet', 'vitals.parquet']);
    expect(tables.patients).toHaveLength(101);
    expect(tables.admissions).toHaveLength(130);
    expect(tables.vitals).toHaveLength(3);
    expect(tables.risk_scores).toHaveLength(1);
    const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    expect(manifest.files.map((f: { table: string; rows: number }) => [f.table, f.rows])).toEqual([['patients', 101], ['admissions', 130], ['vitals', 3], ['risk_scores', 1]]);
  });

  it('no identifier survives in any cell: patient (subject) ids, admission (hadm) ids, device ids, reading ids, free text', () => {
    for (const [table, rows] of Object.entries(tables)) {
      for (const row of rows) {
        for (const [column, value] of Object.entries(row)) {
          if (value === null) continue;
          const text = String(value);
          expect(identifiers.has(text), `${table}.${column} holds the source identifier ${text}`).toBe(false);
          for (const id of identifiers) {
            // Long ids could hide inside a longer text; short numeric MIMIC ids are checked by equality above.
            if (/[A-Za-z]/.test(id) && id.length >= 6) expect(text.includes(id), `${table}.${column} contains ${id}`).toBe(false);
          }
          expect(text).not.toContain('Elm Street');
        }
      }
    }
  });

  it('no identifier survives anywhere in the files\' bytes (metadata and statistics included)', () => {
    for (const file of readdirSync(out)) {
      const bytes = readFileSync(path.join(out, file)).toString('latin1');
      for (const id of [...identifiers].filter((i) => /[A-Za-z]/.test(i))) expect(bytes.includes(id), `${file} contains ${id}`).toBe(false);
      for (const device of DEVICES) expect(bytes.includes(device), `${file} contains ${device}`).toBe(false);
      expect(bytes).not.toContain('Elm Street');
      expect(bytes).not.toContain('date_of_birth');
      expect(bytes).not.toContain('device_id');
    }
  });

  it('no date or time of a source row survives: every one is shifted 100 to 110 years', () => {
    const checked = new Set<string>();
    for (const [table, rows] of Object.entries(tables)) {
      for (const row of rows) {
        for (const [column, value] of Object.entries(row)) {
          if (!(value instanceof Date)) continue;
          checked.add(`${table}.${column}`);
          expect(sourceDates.has(value.toISOString().slice(0, 10)), `${table}.${column} ${value.toISOString()} is a source date`).toBe(false);
        }
      }
    }
    // Every date column was read back as a date (none skipped as another type).
    expect([...checked].sort()).toEqual([
      'admissions.admitted_at', 'admissions.died_at', 'admissions.discharged_at', 'patients.date_of_death', 'risk_scores.scored_at', 'vitals.observed_at',
    ]);
  });

  it('one shift per patient: intervals within a patient kept, across files', () => {
    const alice = tables.vitals!.find((v) => v.heart_rate === 101)!;
    const aliceAdmission = tables.admissions!.find((a) => a.patient_key === alice.patient_key)!;
    const aliceScore = tables.risk_scores![0]!;
    expect(aliceScore.patient_key).toBe(alice.patient_key);
    const at = (v: unknown) => (v as Date).getTime();
    expect(at(alice.observed_at) - at(aliceAdmission.admitted_at)).toBe(Date.parse('2026-11-20T09:00:00Z') - Date.parse('2026-11-20T08:15:00Z'));
    expect(at(aliceScore.scored_at) - at(alice.observed_at)).toBe(5000);
    const shiftDays = (at(alice.observed_at) - Date.parse('2026-11-20T09:00:00Z')) / 86_400_000;
    expect(Number.isInteger(shiftDays)).toBe(true);
    expect(shiftDays).toBeGreaterThanOrEqual(SHIFT_MIN_DAYS);
    expect(shiftDays).toBeLessThan(SHIFT_MIN_DAYS + SHIFT_SPAN_DAYS);

    const [first, second] = tables.vitals!.filter((v) => v.heart_rate === 88 || v.heart_rate === 92).sort((a, b) => at(a.observed_at) - at(b.observed_at));
    expect(first!.patient_key).toBe(second!.patient_key);
    expect(at(second!.observed_at) - at(first!.observed_at)).toBe(4.5 * 3_600_000);
    const admission = tables.admissions!.find((a) => a.patient_key === first!.patient_key)!;
    expect(at(first!.observed_at) - at(admission.admitted_at)).toBe(Date.parse('2164-10-24T10:00:00Z') - Date.parse('2164-10-23T21:09:00Z'));
    // Different patients, different shifts (the MIMIC patient and Alice).
    expect((at(first!.observed_at) - Date.parse('2164-10-24T10:00:00Z')) / 86_400_000).not.toBe(shiftDays);
  });

  it('ages over 89 are grouped as 90; younger ages are whole years; date of birth is gone', () => {
    const ages = tables.admissions!.map((a) => a.age_years).filter((a) => a !== null) as number[];
    expect(Math.max(...ages)).toBe(90);
    // The demo has patients over 89 (their MIMIC birth dates sit 300 years back): all show 90.
    expect(ages.filter((a) => a === 90).length).toBeGreaterThan(5);
    expect(ages.every((a) => Number.isInteger(a) && a >= 0 && a <= 90)).toBe(true);
    const alice = tables.admissions!.find((a) => a.admission_type === 'EMERGENCY' && a.insurance === 'Medicare' && a.age_years === 90 && tables.vitals!.some((v) => v.patient_key === a.patient_key && v.heart_rate === 101));
    expect(alice, 'Alice, 95 at admission, shows as 90').toBeDefined();
    expect(Object.keys(tables.patients![0]!)).toEqual(['patient_key', 'gender', 'expire_flag', 'date_of_death']);
    expect(Object.keys(tables.admissions![0]!)).not.toContain('diagnosis');
    expect(Object.keys(tables.risk_scores![0]!)).not.toContain('factors');
  });

  it('the same key gives the same extract ids; another key, other ids', async () => {
    const again = await exportTo(path.join(dir, 'again'));
    expect(again.code, again.stderr).toBe(0);
    const keys = (rows: Row[]) => rows.map((r) => r.patient_key).sort();
    expect(keys(await readParquet(path.join(dir, 'again', 'patients.parquet')))).toEqual(keys(tables.patients!));
    const other = await exportTo(path.join(dir, 'other'), [], { VIGIL_EXPORT_KEY: `${KEY}-other` });
    expect(other.code, other.stderr).toBe(0);
    const otherKeys = new Set(keys(await readParquet(path.join(dir, 'other', 'patients.parquet'))));
    expect(keys(tables.patients!).some((k) => otherKeys.has(k))).toBe(false);
  });
});

describe('vigil export refuses', () => {
  it('without --deidentify: no identified bulk export', async () => {
    await expect(runExport(['--out', path.join(dir, 'x')], { config: testConfig({ VIGIL_DATA_DIR: dataDir }), env: { VIGIL_EXPORT_KEY: KEY }, stdout: capture().stream, stderr: capture().stream }))
      .rejects.toThrow(/--deidentify/);
  });

  it('without a key, or with a short one (exit 78, nothing written)', async () => {
    const none = await exportTo(path.join(dir, 'nokey'), [], {});
    expect(none.code).toBe(78);
    expect(none.stderr).toContain('VIGIL_EXPORT_KEY');
    expect(none.audited).toEqual([78]);
    const short = await exportTo(path.join(dir, 'shortkey'), [], { VIGIL_EXPORT_KEY: 'short' });
    expect(short.code).toBe(78);
    expect(short.stderr).toContain('at least 32 characters');
    expect(() => readdirSync(path.join(dir, 'nokey'))).toThrow();
  });

  it('takes the key from --key-file', async () => {
    const keyFile = path.join(dir, 'export.key');
    writeFileSync(keyFile, `${KEY}\n`);
    const result = await exportTo(path.join(dir, 'from-file'), ['--key-file', keyFile], {});
    expect(result.code, result.stderr).toBe(0);
  });

  it('into a folder that is not empty', async () => {
    const result = await exportTo(path.join(dir, 'extract'));
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('not empty');
  });

  it('on BigQuery, saying so', async () => {
    const stderr = capture();
    const code = await runExport(['--deidentify', '--out', path.join(dir, 'bq')], {
      config: testConfig({ VIGIL_DATA_DIR: dataDir, VIGIL_WAREHOUSE: 'bigquery', GOOGLE_CLOUD_PROJECT: 'p' }), env: { VIGIL_EXPORT_KEY: KEY }, stdout: capture().stream, stderr: stderr.stream,
    });
    expect(code).toBe(69);
    expect(stderr.text()).toContain('DuckDB');
  });
});
