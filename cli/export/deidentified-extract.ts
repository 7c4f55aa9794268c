import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { VigilError } from '../../core/errors.ts';
import { AGE_CAP_YEARS, keyedId, shiftDaysOf } from './deidentify-rules.ts';

/**
 * A de-identified research extract of the embedded warehouse, as Parquet (DuckDB's
 * `COPY … (FORMAT parquet)`), following the HIPAA Safe Harbor identifiers list:
 *
 * - ids (patient, admission) replaced by keyed hashes (deidentify-rules.ts); reading ids are
 *   dropped (they are derived from the device id);
 * - every date and time shifted by the patient's keyed offset (whole days, the same for all of a
 *   patient's rows in every file, so intervals and times of day are kept); date of birth dropped;
 * - age at admission in whole years, over 89 grouped as 90 ("90 or older");
 * - free text dropped (diagnosis, admission and discharge locations, the risk factors' JSON,
 *   which carries feature values such as age), device ids dropped; no geography is held.
 *
 * The warehouse is opened read-only; the id→hash map lives in temporary tables of this
 * connection only and is never written anywhere.
 */
export interface ExtractFile {
  readonly table: string;
  readonly file: string;
  readonly rows: number;
}

/** Columns of each file, with what each one is (the manifest and the docs say the same). */
export const EXTRACT_COLUMNS = {
  patients: ['patient_key', 'gender', 'expire_flag', 'date_of_death'],
  admissions: ['admission_key', 'patient_key', 'admitted_at', 'discharged_at', 'died_at', 'admission_type', 'insurance', 'hospital_expire_flag', 'total_cost', 'age_years'],
  vitals: ['patient_key', 'observed_at', 'heart_rate', 'systolic', 'diastolic', 'temperature_c', 'spo2', 'respiratory_rate', 'on_oxygen', 'consciousness'],
  risk_scores: ['patient_key', 'scored_at', 'news2_score', 'news2_level', 'news2_complete', 'news2_missing', 'risk_score', 'model'],
} as const;

const shifted = (column: string, alias = column) => `${column} + to_days(m.shift_days) AS ${alias}`;

/** One SELECT per file; `m` is the patient map (patient_id, patient_key, shift_days). */
const QUERIES: Readonly<Record<keyof typeof EXTRACT_COLUMNS, string>> = {
  patients: `
    SELECT m.patient_key, p.gender, p.expire_flag, CAST(p.date_of_death + to_days(m.shift_days) AS DATE) AS date_of_death
    FROM patients p JOIN temp.patient_map m ON m.patient_id = p.patient_id
    ORDER BY m.patient_key`,
  admissions: `
    SELECT am.admission_key, m.patient_key,
      ${shifted('a.admitted_at', 'admitted_at')}, ${shifted('a.discharged_at', 'discharged_at')}, ${shifted('a.died_at', 'died_at')},
      a.admission_type, a.insurance, a.hospital_expire_flag, a.total_cost,
      CASE WHEN p.date_of_birth IS NULL OR a.admitted_at < CAST(p.date_of_birth AS TIMESTAMP) THEN NULL
        ELSE CAST(least(${AGE_CAP_YEARS}, date_part('year', age(a.admitted_at, CAST(p.date_of_birth AS TIMESTAMP)))) AS INTEGER) END AS age_years
    FROM admissions a
      JOIN temp.patient_map m ON m.patient_id = a.patient_id
      JOIN temp.admission_map am ON am.admission_id = a.admission_id
      LEFT JOIN patients p ON p.patient_id = a.patient_id
    ORDER BY m.patient_key, admitted_at`,
  vitals: `
    SELECT m.patient_key, ${shifted('v.observed_at', 'observed_at')},
      v.heart_rate, v.systolic, v.diastolic, v.temperature_c, v.spo2, v.respiratory_rate, v.on_oxygen, v.consciousness
    FROM vitals v JOIN temp.patient_map m ON m.patient_id = v.patient_id
    ORDER BY m.patient_key, observed_at`,
  risk_scores: `
    SELECT m.patient_key, ${shifted('r.scored_at', 'scored_at')},
      r.news2_score, r.news2_level, r.news2_complete, r.news2_missing, r.risk_score, r.model
    FROM risk_scores r JOIN temp.patient_map m ON m.patient_id = r.patient_id
    ORDER BY m.patient_key, scored_at`,
};

const sqlString = (text: string) => `'${text.replaceAll("'", "''")}'`;

/** Writes `<table>.parquet` for each table into `outDir` (created; it must be empty or absent), and `manifest.json`. */
export async function writeDeidentifiedExtract(options: { warehouseFile: string; outDir: string; key: Buffer }): Promise<ExtractFile[]> {
  const outDir = path.resolve(options.outDir);
  await requireEmptyFolder(outDir);
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(options.warehouseFile, { access_mode: 'READ_ONLY' });
  } catch (cause) {
    throw new VigilError('BACKEND_UNAVAILABLE', `cannot open the warehouse ${options.warehouseFile} read-only: ${(cause as Error).message} (a running "vigil start" holds it: stop it, or export from a "vigil backup" copy)`, { cause });
  }
  const connection = await instance.connect();
  const written: ExtractFile[] = [];
  try {
    await buildMaps(connection, options.key);
    for (const [table, query] of Object.entries(QUERIES)) {
      const file = path.join(outDir, `${table}.parquet`);
      await connection.run(`COPY (${query}) TO ${sqlString(file)} (FORMAT parquet)`);
      const count = await connection.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(file)})`);
      written.push({ table, file, rows: Number(count.getRowsJS()[0]![0]) });
    }
    await writeFile(path.join(outDir, 'manifest.json'), `${JSON.stringify(manifest(written), null, 2)}\n`, { mode: 0o600 });
    return written;
  } catch (error) {
    // Half an extract is not handed out.
    await Promise.all(written.map((w) => rm(w.file, { force: true })));
    throw error instanceof VigilError ? error : new VigilError('BACKEND_REJECTED', `export failed: ${(error as Error).message}`, { cause: error });
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function requireEmptyFolder(dir: string): Promise<void> {
  let entries: string[] = [];
  try {
    entries = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new VigilError('CONFIG_INVALID', `--out ${dir}: ${(error as Error).message}`, { cause: error });
  }
  // Extracts made with different keys must not mix in one folder.
  if (entries.length > 0) throw new VigilError('CONFIG_INVALID', `--out ${dir} is not empty; give a new or empty folder`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
}

/** The id→hash and id→shift maps, in temporary tables of this connection (never on disk). */
async function buildMaps(connection: DuckDBConnection, key: Buffer): Promise<void> {
  await connection.run('CREATE TEMP TABLE patient_map (patient_id VARCHAR PRIMARY KEY, patient_key VARCHAR NOT NULL, shift_days INTEGER NOT NULL)');
  await connection.run('CREATE TEMP TABLE admission_map (admission_id VARCHAR PRIMARY KEY, admission_key VARCHAR NOT NULL)');
  const patients = await connection.runAndReadAll(`
    SELECT patient_id FROM patients UNION SELECT patient_id FROM admissions
    UNION SELECT patient_id FROM vitals UNION SELECT patient_id FROM risk_scores`);
  const patientAppender = await connection.createAppender('patient_map', 'main', 'temp');
  for (const [id] of patients.getRowsJS()) {
    patientAppender.appendVarchar(String(id));
    patientAppender.appendVarchar(keyedId(key, 'patient', String(id)));
    patientAppender.appendInteger(shiftDaysOf(key, String(id)));
    patientAppender.endRow();
  }
  patientAppender.closeSync();
  const admissions = await connection.runAndReadAll('SELECT DISTINCT admission_id FROM admissions');
  const admissionAppender = await connection.createAppender('admission_map', 'main', 'temp');
  for (const [id] of admissions.getRowsJS()) {
    admissionAppender.appendVarchar(String(id));
    admissionAppender.appendVarchar(keyedId(key, 'admission', String(id)));
    admissionAppender.endRow();
  }
  admissionAppender.closeSync();
}

function manifest(files: readonly ExtractFile[]) {
  return {
    kind: 'vigil de-identified research extract',
    rules: [
      'patient and admission ids replaced by keyed hashes (HMAC-SHA256, 128 bits); reading and device ids dropped',
      'every date and time shifted forward by 100 to 110 years, whole days, one keyed offset per patient (intervals and times of day kept)',
      'date of birth dropped; age at admission in years, 90 meaning 90 or older',
      'free text dropped: diagnosis, admission and discharge locations, risk factors',
      'no geography is held',
    ],
    files: files.map((f) => ({ table: f.table, file: path.basename(f.file), rows: f.rows, columns: EXTRACT_COLUMNS[f.table as keyof typeof EXTRACT_COLUMNS] })),
  };
}
