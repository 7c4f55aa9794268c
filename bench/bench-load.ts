import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { createDuckDbWarehouse } from '../adapters/embedded/warehouse-duckdb.ts';
import { createDuckDbBulkLoad } from '../adapters/embedded/bulk-load-duckdb.ts';
import type { BulkLoad } from '../core/ports/bulk-load.ts';
import type { LoadSummary } from '../batch-loader/load-csv.ts';
import { loadCsv } from '../batch-loader/load-csv.ts';

export interface LoadBenchResult {
  readonly rows: number;
  readonly fileBytes: number;
  /** `vigil load` into DuckDB: the file read, checked and converted inside DuckDB, one keyed replace. */
  readonly loaderRowsPerSecond: number;
  /** How that load went in (`in-warehouse` for a clean file). */
  readonly loaderMethod: string;
  /** The same file loaded again: every key already present, every row replaced. */
  readonly reloadRowsPerSecond: number;
  /** The streamed path every file with rejects takes: csv-parse and per-row checks in Node. */
  readonly streamedRowsPerSecond: number;
  /** DuckDB's own `read_csv` of the same file into a scratch table (no key, no row-level checks). */
  readonly readCsvRowsPerSecond: number;
  /** `read_csv` into a table keyed like `admissions`: the floor with the primary key's cost in it. */
  readonly readCsvKeyedRowsPerSecond: number;
  /** loader / read_csv: the aim is at least 0.5. */
  readonly ratio: number;
  /** loader / keyed read_csv: what the checks and conversions cost. */
  readonly ratioKeyed: number;
  /** Peak resident set of the process after the two in-warehouse loads (MiB): DuckDB's buffers and key index, not the file. */
  readonly peakRssMiB: number;
}

/**
 * The batch-load benchmark: generates an admissions CSV in Vigil's layout in a temp folder, loads
 * it with the full loader into a fresh DuckDB file (then again, then by the streamed path into
 * another), then has DuckDB read the same file with `read_csv`, in the same run and process.
 */
export async function benchLoad(options: { rows?: number } = {}): Promise<LoadBenchResult> {
  const rows = options.rows ?? 1_000_000;
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-load-'));
  const openWarehouse = async (name: string) => {
    const warehouse = await createDuckDbWarehouse({ path: path.join(dir, name), viewsDir: path.join(dir, 'no-views') });
    await warehouse.provision();
    return warehouse;
  };
  try {
    const file = path.join(dir, 'admissions.csv');
    const fileBytes = await writeAdmissionsCsv(file, rows);
    const rate = (seconds: number) => Math.round(rows / seconds);
    const load = async (bulkLoad: BulkLoad) => {
      const summary = await loadCsv({ bulkLoad, table: 'admissions', file, rejectsPath: path.join(dir, 'rejects.csv') });
      if (summary.rowsLoaded !== rows) throw new Error(`bench: loaded ${summary.rowsLoaded} of ${rows} rows`);
      return summary;
    };
    const warehouse = await openWarehouse('warehouse.duckdb');
    let loaded: LoadSummary, reloaded: LoadSummary, readCsvSeconds: number, keyedSeconds: number, peakRssMiB: number;
    try {
      loaded = await load(createDuckDbBulkLoad(warehouse));
      reloaded = await load(createDuckDbBulkLoad(warehouse));
      peakRssMiB = process.resourceUsage().maxRSS / 1024;
      readCsvSeconds = await timed(() => warehouse.query('CREATE TABLE scratch_read_csv AS SELECT * FROM read_csv($file, header = true, auto_detect = true)', { file }));
      const copied = (await warehouse.query('SELECT count(*) AS n FROM scratch_read_csv')).rows[0]?.n;
      if (copied !== rows) throw new Error(`bench: read_csv read ${String(copied)} of ${rows} rows`);
      await warehouse.query('CREATE TABLE scratch_keyed AS SELECT * FROM scratch_read_csv LIMIT 0');
      await warehouse.query('ALTER TABLE scratch_keyed ADD PRIMARY KEY (admission_id)');
      keyedSeconds = await timed(() => warehouse.query('INSERT INTO scratch_keyed SELECT * FROM read_csv($file, header = true, auto_detect = true)', { file }));
    } finally {
      await warehouse.close(); // its memory is DuckDB's, released before the streamed path runs
    }
    const streamedWarehouse = await openWarehouse('streamed.duckdb');
    let streamed: LoadSummary;
    try {
      streamed = await load({ ...createDuckDbBulkLoad(streamedWarehouse), replaceFromCsvFile: () => Promise.resolve(undefined) });
    } finally {
      await streamedWarehouse.close();
    }
    const loaderRowsPerSecond = rate(loaded.seconds);
    return {
      rows, fileBytes, loaderRowsPerSecond, loaderMethod: loaded.method,
      reloadRowsPerSecond: rate(reloaded.seconds),
      streamedRowsPerSecond: rate(streamed.seconds),
      readCsvRowsPerSecond: rate(readCsvSeconds),
      readCsvKeyedRowsPerSecond: rate(keyedSeconds),
      ratio: Math.round((loaderRowsPerSecond / rate(readCsvSeconds)) * 1000) / 1000,
      ratioKeyed: Math.round((loaderRowsPerSecond / rate(keyedSeconds)) * 1000) / 1000,
      peakRssMiB: Math.round(peakRssMiB),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
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
