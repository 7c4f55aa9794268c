import { constants } from 'node:fs';
import { access, lstat, rm, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { loadCsv, LoadRejectedError, LOADABLE_TABLES } from '../../batch-loader/load-csv.ts';
import type { Centuries, LoadableTable } from '../../batch-loader/load-csv.ts';
import { createLoadProgress } from '../../batch-loader/load-progress.ts';
import type { LayoutName } from '../../batch-loader/source-layouts.ts';
import { loadConfig } from '../../core/config.ts';
import { VigilError } from '../../core/errors.ts';
import { createLogger } from '../../core/observability/logger.ts';
import { openBulkLoad } from '../wiring/open-backends.ts';
import type { BulkLoadBackends } from '../wiring/open-backends.ts';
import type { CliCommand } from '../command.ts';
import { UsageError, parseCommandArgs } from '../command.ts';

const help = `Usage: vigil load --table <patients|admissions|icustays> [options] <file.csv>

Loads a CSV into the configured warehouse (tables are provisioned first). Every row is checked
against the table's schema; rejected rows are reported with line, column, value and reason and
written to a rejects file. Loading is all or nothing and keyed on the table's natural key, so
loading the same file twice leaves the same table, and a refused or failed load changes nothing.

Options:
  --table <name>        patients, admissions or icustays (required)
  --layout <name>       vigil (headers are warehouse column names, ISO 8601 dates) or mimic
                        (MIMIC-III: SUBJECT_ID, HADM_ID, ADMITTIME, ...; ISO or US month-first
                        M/D/YYYY H:MM dates). Default: detected from the header.
  --century <CC>        two-digit years are refused unless this is given: the first two digits of
                        the year (not the ordinal: --century 21 reads 10/23/64 as 2164). Repeat
                        as column=CC for one column (--century dob=20 --century 21); a column is
                        named by its source header or its warehouse name.
  --timezone <zone>     IANA zone for timestamps without an offset (default UTC). Local times a
                        daylight-saving change skips or repeats are rejected.
  --max-bad-rows <n>    load anyway when at most n rows are rejected (default 0)
  --rejects <file>      rejects file (default <file.csv>.rejects.csv, or ./<name>.rejects.csv
                        when the data folder is read-only)
  -h, --help            show this help

Prints rows loaded and rejected. Exit status: 0 loaded; 65 refused (rejected rows, or a header
that fits no layout); 66 the file cannot be read; 2 usage.

Environment: VIGIL_WAREHOUSE (duckdb|bigquery), VIGIL_DATA_DIR (the DuckDB file is
$VIGIL_DATA_DIR/warehouse.duckdb), and the BigQuery variables for VIGIL_WAREHOUSE=bigquery.`;

export interface LoadCommandIo {
  /** The warehouse and its bulk loads (cli/wiring/open-backends.ts openBulkLoad). */
  readonly openBulkLoad: () => Promise<BulkLoadBackends>;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

/** `vigil load` with its warehouse and output streams as parameters (what the tests drive). */
export async function runLoad(argv: readonly string[], io: LoadCommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      table: { type: 'string' },
      layout: { type: 'string' },
      century: { type: 'string', multiple: true },
      timezone: { type: 'string' },
      'max-bad-rows': { type: 'string' },
      rejects: { type: 'string' },
    },
    true,
  );
  const table = values.table;
  if (!table || !(LOADABLE_TABLES as readonly string[]).includes(table)) {
    throw new UsageError(`--table must be one of ${LOADABLE_TABLES.join(', ')}`);
  }
  if (positionals.length !== 1) throw new UsageError('give exactly one CSV file');
  const file = path.resolve(positionals[0]!);
  if (values.layout !== undefined && values.layout !== 'vigil' && values.layout !== 'mimic') {
    throw new UsageError('--layout must be vigil or mimic');
  }
  const maxBadRows = values['max-bad-rows'] === undefined ? 0 : Number(values['max-bad-rows']);
  if (!Number.isSafeInteger(maxBadRows) || maxBadRows < 0) throw new UsageError('--max-bad-rows must be a whole number ≥ 0');
  const centuries = parseCenturies(values.century ?? []);

  const notLoadable = await notARegularFile(file);
  if (notLoadable) {
    io.stderr.write(`vigil load: ${file} ${notLoadable}; give a regular CSV file\n`);
    return 66;
  }
  try {
    await access(file, constants.R_OK);
  } catch {
    io.stderr.write(`vigil load: cannot read ${file}\n`);
    return 66;
  }
  const rejectsPath = values.rejects ? path.resolve(values.rejects) : await defaultRejectsPath(file);

  const { warehouse, bulkLoad, objectStore } = await io.openBulkLoad();
  const progress = createLoadProgress(io.stderr, `loading ${path.basename(file)}`);
  try {
    await warehouse.provision();
    await objectStore?.provision();
    const summary = await loadCsv({
      bulkLoad,
      table: table as LoadableTable,
      file,
      rejectsPath,
      maxBadRows,
      ...(values.layout ? { layout: values.layout as LayoutName } : {}),
      ...(centuries ? { centuries } : {}),
      ...(values.timezone ? { timeZone: values.timezone } : {}),
      onProgress: (p) => progress.update(p),
    });
    progress.stop();
    if (summary.rowsRejected === 0) await rm(rejectsPath, { force: true }); // a stale one from an earlier run
    const rate = Math.round(summary.rowsRead / Math.max(summary.seconds, 1e-3));
    io.stdout.write(
      `loaded ${summary.rowsLoaded} rows into ${summary.table} (${summary.layout} layout), rejected ${summary.rowsRejected}; ` +
        `${summary.seconds.toFixed(2)} s, ${rate} rows/s (${summary.method === 'in-warehouse' ? 'read and checked inside the warehouse' : 'checked row by row'})\n`,
    );
    if (summary.ignoredColumns.length > 0) io.stdout.write(`ignored source columns (not in ${summary.table}): ${summary.ignoredColumns.join(', ')}\n`);
    if (summary.rejectsPath) io.stdout.write(`rejected rows: ${summary.rejectsPath}\n`);
    if (summary.stagedUri) io.stdout.write(`staged as ${summary.stagedUri}\n`);
    return 0;
  } catch (error) {
    progress.stop();
    if (error instanceof LoadRejectedError) {
      io.stdout.write(`loaded 0 rows into ${table}, rejected ${error.summary.rowsRejected}\n`);
      io.stderr.write(`vigil load: ${error.message}\n`);
      return 65;
    }
    if (error instanceof VigilError && error.code === 'VALIDATION_FAILED') {
      io.stdout.write(`loaded 0 rows into ${table}\n`);
      io.stderr.write(`vigil load: ${error.message}\n`);
      return 65;
    }
    throw error;
  } finally {
    await objectStore?.close();
    await warehouse.close();
  }
}

/**
 * Why `file` cannot be loaded, or undefined for a regular file (directly or through a symlink).
 * Checked before anything opens it: a FIFO would block the read forever, a device would stream
 * without end, and a directory fails deep inside the reader. (The path is opened again by name
 * afterwards; a file swapped in between is the caller's own doing.)
 */
async function notARegularFile(file: string): Promise<string | undefined> {
  let link: Stats;
  try {
    link = await lstat(file);
  } catch {
    return 'does not exist';
  }
  let target = link;
  if (link.isSymbolicLink()) {
    try {
      target = await stat(file);
    } catch {
      return 'is a dangling symbolic link';
    }
  }
  if (target.isFile()) return undefined;
  const via = link.isSymbolicLink() ? ' (through a symbolic link)' : '';
  if (target.isDirectory()) return `is a directory${via}`;
  if (target.isFIFO()) return `is a named pipe (FIFO)${via}`;
  if (target.isCharacterDevice() || target.isBlockDevice()) return `is a device${via}`;
  if (target.isSocket()) return `is a socket${via}`;
  return `is not a regular file${via}`;
}

/** "21" for every column, "dob=20" for one; the first two digits of the year, never an ordinal. */
export function parseCenturies(specs: readonly string[]): Centuries | undefined {
  if (specs.length === 0) return undefined;
  let all: number | undefined;
  const byColumn: Record<string, number> = {};
  for (const spec of specs) {
    const [column, digits] = spec.includes('=') ? spec.split('=', 2).map((s) => s.trim()) : [undefined, spec.trim()];
    if (!digits || !/^\d{2}$/.test(digits)) {
      throw new UsageError(`--century "${spec}": give the first two digits of the year, e.g. 21 for the years 2100–2199 (or column=21)`);
    }
    if (column) byColumn[column] = Number(digits);
    else all = Number(digits);
  }
  return { ...(all === undefined ? {} : { all }), byColumn };
}

/** Beside the file, unless its folder is read-only (judged by its mode too: root may write anyway). */
async function defaultRejectsPath(file: string): Promise<string> {
  const dir = path.dirname(file);
  try {
    await access(dir, constants.W_OK);
    if (((await stat(dir)).mode & 0o222) !== 0) return `${file}.rejects.csv`;
  } catch {
    // not writable
  }
  return path.resolve(`${path.basename(file)}.rejects.csv`);
}

const load: CliCommand = {
  name: 'load',
  summary: 'load a CSV into the warehouse',
  help,
  run(argv) {
    const config = loadConfig();
    const logger = createLogger({ level: config.logLevel, name: 'vigil-load' });
    return runLoad(argv, {
      openBulkLoad: () => openBulkLoad(config, logger),
      stdout: process.stdout,
      stderr: process.stderr,
    });
  },
};

export default load;
