import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { createDuckDbWarehouse } from '../adapters/embedded/warehouse-duckdb.ts';
import { loadCsv } from './load-csv.ts';

export interface LoadBenchResult {
  readonly rows: number;
  readonly fileBytes: number;
  /** `vigil load`'s path: streamed parse, full validation, one keyed atomic replace. */
  readonly loaderRowsPerSecond: number;
  /** DuckDB's own `read_csv` of the same file into a scratch table (no key, no row-level rejects). */
  readonly readCsvRowsPerSecond: number;
  /** loader / read_csv: the aim is at least 0.5. */
  readonly ratio: number;
  /** Peak resident set of the process after the loader ran (MiB): the loader streams, so this stays flat as files grow. */
  readonly peakRssMiB: number;
}

/**
 * The batch-load benchmark: generates an admissions CSV in Vigil's layout in a temp folder, loads
 * it with the full loader into a fresh DuckDB file, then has DuckDB read the same file with
 * `read_csv` into a scratch table, in the same run and process.
 */
export async function benchLoad(options: { rows?: number; batchRows?: number } = {}): Promise<LoadBenchResult> {
  const rows = options.rows ?? 1_000_000;
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-load-'));
  try {
    const file = path.join(dir, 'admissions.csv');
    const fileBytes = await writeAdmissionsCsv(file, rows);
    const warehouse = await createDuckDbWarehouse({ path: path.join(dir, 'warehouse.duckdb'), viewsDir: path.join(dir, 'no-views') });
    try {
      await warehouse.provision();
      let started = performance.now();
      const summary = await loadCsv({
        warehouse, table: 'admissions', file, rejectsPath: path.join(dir, 'rejects.csv'),
        ...(options.batchRows ? { batchRows: options.batchRows } : {}),
      });
      const loaderSeconds = (performance.now() - started) / 1000;
      if (summary.rowsLoaded !== rows) throw new Error(`bench: loaded ${summary.rowsLoaded} of ${rows} rows`);
      const peakRssMiB = process.resourceUsage().maxRSS / 1024;

      started = performance.now();
      await warehouse.query(`CREATE TABLE scratch_read_csv AS SELECT * FROM read_csv($file, header = true, auto_detect = true)`, { file });
      const readCsvSeconds = (performance.now() - started) / 1000;
      const copied = (await warehouse.query('SELECT count(*) AS n FROM scratch_read_csv')).rows[0]?.n;
      if (copied !== rows) throw new Error(`bench: read_csv read ${String(copied)} of ${rows} rows`);

      const loaderRowsPerSecond = Math.round(rows / loaderSeconds);
      const readCsvRowsPerSecond = Math.round(rows / readCsvSeconds);
      return {
        rows, fileBytes, loaderRowsPerSecond, readCsvRowsPerSecond,
        ratio: Math.round((loaderRowsPerSecond / readCsvRowsPerSecond) * 1000) / 1000,
        peakRssMiB: Math.round(peakRssMiB),
      };
    } finally {
      await warehouse.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const TYPES = ['EMERGENCY', 'ELECTIVE', 'URGENT', 'NEWBORN'];
const DIAGNOSES = ['SEPSIS', 'PNEUMONIA', '"CHEST PAIN, R/O MI"', 'CONGESTIVE HEART FAILURE', 'FEVER'];

/** Admissions with every column filled, quoting where real files quote; returns the file size. */
async function writeAdmissionsCsv(file: string, rows: number): Promise<number> {
  const out = createWriteStream(file);
  out.write('admission_id,patient_id,admitted_at,discharged_at,died_at,admission_type,admission_location,discharge_location,insurance,diagnosis,hospital_expire_flag,total_cost\n');
  const base = Date.UTC(2120, 0, 1);
  let chunk = '';
  for (let i = 0; i < rows; i++) {
    const admitted = base + i * 61_000;
    const discharged = admitted + (1 + (i % 20)) * 86_400_000;
    const died = i % 17 === 0 ? new Date(discharged).toISOString() : '';
    chunk +=
      `${100000 + i},${10000 + (i % 50_000)},${new Date(admitted).toISOString()},${new Date(discharged).toISOString()},${died},` +
      `${TYPES[i % 4]},EMERGENCY ROOM ADMIT,HOME,Medicare,${DIAGNOSES[i % 5]},${i % 17 === 0 ? 1 : 0},${((i % 9000) * 3.25).toFixed(2)}\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await finished(out);
  return out.bytesWritten;
}

if (import.meta.main) {
  const rows = Number(process.argv[2] ?? 1_000_000);
  console.log(JSON.stringify(await benchLoad({ rows }), null, 2));
}
