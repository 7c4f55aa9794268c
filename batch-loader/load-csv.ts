import type { ReadStream } from 'node:fs';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { parse } from 'csv-parse';
import { VigilError } from '../core/errors.ts';
import type { BulkLoad, CsvColumnPlan } from '../core/ports/bulk-load.ts';
import type { WarehouseRow } from '../core/ports/warehouse.ts';
import type { TableSpec } from '../core/warehouse-schema.ts';
import { TABLES } from '../core/warehouse-schema.ts';
import { convertValue } from './convert-value.ts';
import { hasCsvStructure } from './csv-structure.ts';
import type { DateReadOptions } from './parse-csv-date.ts';
import { checkTimeZone } from './parse-csv-date.ts';
import { openRejectsFile } from './rejects-file.ts';
import type { RejectsFile } from './rejects-file.ts';
import type { LayoutName } from './source-layouts.ts';
import { planColumns } from './source-layouts.ts';
import type { RejectCode } from './value-reject.ts';
import { ValueReject } from './value-reject.ts';

export const LOADABLE_TABLES = ['patients', 'admissions', 'icustays'] as const;
export type LoadableTable = (typeof LOADABLE_TABLES)[number];

/** Which century two-digit years are in: for every date column, or per column (source or warehouse name). */
export interface Centuries {
  readonly all?: number;
  readonly byColumn?: Readonly<Record<string, number>>;
}

export interface LoadCsvOptions {
  /** Where the rows go (core/ports/bulk-load.ts). */
  readonly bulkLoad: BulkLoad;
  readonly table: LoadableTable;
  readonly file: string;
  /** Absent: detected from the header. */
  readonly layout?: LayoutName;
  readonly centuries?: Centuries;
  /** IANA zone for timestamps without an offset. Default UTC. */
  readonly timeZone?: string;
  /** The load fails, loading nothing, when more rows than this are rejected. Default 0. */
  readonly maxBadRows?: number;
  /** Where rejected rows are written (line, column, value, reason). */
  readonly rejectsPath: string;
  /** Rows handed to the warehouse at a time: bounds memory. Default 5,000. */
  readonly batchRows?: number;
  readonly onProgress?: (progress: LoadProgress) => void;
}

export interface LoadProgress {
  /** Rows read so far; undefined while the warehouse reads the file itself (the fast path), which counts only at the end. */
  readonly rows: number | undefined;
  readonly rejected: number;
  readonly bytes: number;
  readonly totalBytes: number;
}

export interface Reject {
  readonly line: number;
  readonly column: string;
  readonly value: string;
  readonly code: RejectCode | 'field-count' | 'duplicate-key';
  readonly reason: string;
}

export interface LoadSummary {
  readonly table: LoadableTable;
  readonly layout: LayoutName;
  readonly rowsRead: number;
  readonly rowsLoaded: number;
  readonly rowsRejected: number;
  readonly ignoredColumns: readonly string[];
  /** Set when rows were rejected. */
  readonly rejectsPath?: string;
  /** The first rejects, for the message (all of them are in the rejects file). */
  readonly firstRejects: readonly Reject[];
  readonly twoDigitYearRejects: number;
  readonly seconds: number;
  /** The staged file the warehouse loaded from, when it was loaded that way. */
  readonly stagedUri?: string;
  /**
   * How the rows went in: `in-warehouse` when the warehouse read, checked and converted the whole
   * file itself (DuckDB, a clean file), `streamed` when each row was checked here.
   */
  readonly method: 'in-warehouse' | 'streamed';
}

/** Thrown when the load is refused; `details` is the LoadSummary (nothing was loaded). */
export class LoadRejectedError extends VigilError {
  readonly summary: LoadSummary;
  constructor(summary: LoadSummary, maxBadRows: number) {
    super('VALIDATION_FAILED', rejectionMessage(summary, maxBadRows), { details: summary });
    this.summary = summary;
  }
}

const FIRST_REJECTS_KEPT = 10;
const PROGRESS_EVERY_ROWS = 10_000;

/**
 * Loads one CSV into a warehouse table: streamed parse, typed conversion with row-level rejects,
 * then one atomic keyed replace, so loading a file twice leaves the same table and a refused or
 * failed load leaves the table as it was.
 */
export async function loadCsv(options: LoadCsvOptions): Promise<LoadSummary> {
  const started = performance.now();
  const spec: TableSpec = TABLES[options.table];
  if (!spec || !(LOADABLE_TABLES as readonly string[]).includes(options.table)) {
    throw new VigilError('VALIDATION_FAILED', `cannot load table "${options.table}" (expected ${LOADABLE_TABLES.join(', ')})`);
  }
  const timeZone = options.timeZone ?? 'UTC';
  try {
    checkTimeZone(timeZone);
  } catch {
    throw new VigilError('VALIDATION_FAILED', `unknown time zone "${timeZone}" (an IANA name such as UTC or America/New_York)`);
  }
  const maxBadRows = options.maxBadRows ?? 0;
  const batchRows = options.batchRows ?? 5_000;
  const totalBytes = (await stat(options.file)).size;

  const inWarehouse = await loadInWarehouse(options, spec, timeZone, totalBytes);
  if (inWarehouse) return { ...inWarehouse, seconds: (performance.now() - started) / 1000 };

  // Opened when the rows are first asked for: a parser that ran ahead of its reader would emit a
  // parse error that nothing listens to, which crashes the process.
  let input: ReadStream | undefined;

  const state = {
    layout: undefined as LayoutName | undefined,
    ignored: [] as string[],
    rowsRead: 0,
    rowsLoaded: 0,
    rejectedRows: 0,
    twoDigitYear: 0,
    firstRejects: [] as Reject[],
    stagedUri: undefined as string | undefined,
  };
  let rejects: RejectsFile | undefined;
  const reject = async (r: Reject) => {
    if (state.firstRejects.length < FIRST_REJECTS_KEPT) state.firstRejects.push(r);
    if (r.code === 'two-digit-year') state.twoDigitYear++;
    rejects ??= openRejectsFile(options.rejectsPath);
    await rejects.write(r);
  };

  const summary = (): LoadSummary => ({
    table: options.table,
    layout: state.layout ?? 'vigil',
    rowsRead: state.rowsRead,
    rowsLoaded: state.rowsLoaded,
    rowsRejected: state.rejectedRows,
    ignoredColumns: state.ignored,
    ...(rejects ? { rejectsPath: options.rejectsPath } : {}),
    firstRejects: state.firstRejects,
    twoDigitYearRejects: state.twoDigitYear,
    seconds: (performance.now() - started) / 1000,
    ...(state.stagedUri ? { stagedUri: state.stagedUri } : {}),
    method: 'streamed',
  });

  /** Valid rows in batches; throws at the end (after every reject is written) when over the limit. */
  async function* batches(): AsyncGenerator<WarehouseRow[]> {
    let columns: readonly SourceColumn[] = [];
    let headerLength = 0;
    const keyFirstLine = new Map<string, number>();
    let batch: WarehouseRow[] = [];
    let previousEndLine = 0;
    let lastProgress = 0;
    const file = createReadStream(options.file);
    input = file;
    const parser = file.pipe(parse(CSV_OPTIONS));
    file.on('error', (error) => parser.destroy(error));
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const line = previousEndLine + 1;
      previousEndLine = info.lines;
      if (headerLength === 0) {
        const plan = planFromHeader(record, spec, options, timeZone);
        state.layout = plan.layout;
        state.ignored = [...plan.ignored];
        headerLength = record.length;
        columns = plan.columns;
        continue;
      }
      if (record.length === 1 && record[0] === '') continue; // a blank line
      state.rowsRead++;
      if (record.length !== headerLength) {
        state.rejectedRows++;
        await reject({ line, column: '', value: '', code: 'field-count', reason: `has ${record.length} fields, the header has ${headerLength}` });
        continue;
      }
      const row: WarehouseRow = {};
      let bad = false;
      for (const { index, column, source, dates } of columns) {
        const text = record[index]!;
        const value = convertValue(text, column, dates);
        if (value instanceof ValueReject) {
          bad = true;
          await reject({ line, column: source, value: text, code: value.code, reason: `${column.name}: ${value.reason}` });
        } else {
          row[column.name] = value;
        }
      }
      if (!bad) {
        const key = spec.key.map((k) => String(row[k])).join('\u0000');
        const firstLine = keyFirstLine.get(key);
        if (firstLine !== undefined) {
          bad = true;
          const keyText = spec.key.map((k) => `${k}=${String(row[k])}`).join(', ');
          await reject({ line, column: spec.key.join(','), value: keyText, code: 'duplicate-key', reason: `duplicate key, first on line ${firstLine}` });
        } else {
          keyFirstLine.set(key, line);
        }
      }
      if (bad) {
        state.rejectedRows++;
      } else if (state.rejectedRows <= maxBadRows) {
        batch.push(row);
        if (batch.length >= batchRows) {
          state.rowsLoaded += batch.length;
          yield batch;
          batch = [];
        }
      }
      if (options.onProgress && state.rowsRead - lastProgress >= PROGRESS_EVERY_ROWS) {
        lastProgress = state.rowsRead;
        options.onProgress({ rows: state.rowsRead, rejected: state.rejectedRows, bytes: file.bytesRead, totalBytes });
      }
    }
    if (headerLength === 0) throw new VigilError('VALIDATION_FAILED', `${options.file} is empty: no header line`);
    options.onProgress?.({ rows: state.rowsRead, rejected: state.rejectedRows, bytes: totalBytes, totalBytes });
    if (state.rejectedRows > maxBadRows) {
      state.rowsLoaded = 0;
      throw new LoadRejectedError(summary(), maxBadRows);
    }
    if (batch.length > 0) {
      state.rowsLoaded += batch.length;
      yield batch;
    }
  }

  try {
    const loaded = await options.bulkLoad.replaceRowsFrom(options.table, batches());
    state.stagedUri = loaded.stagedUri;
  } catch (error) {
    state.rowsLoaded = 0;
    throw error;
  } finally {
    input?.destroy();
    await rejects?.close();
  }
  return summary();
}

/** One record per row, whatever the line endings; quoted fields may hold newlines. */
const CSV_OPTIONS = { bom: true, relax_column_count: true, skip_empty_lines: false, info: true, record_delimiter: ['\r\n', '\n', '\r'] };

interface SourceColumn extends CsvColumnPlan {
  /** The header as written in the file. */
  readonly source: string;
}

function planFromHeader(header: readonly string[], spec: TableSpec, options: LoadCsvOptions, timeZone: string) {
  const plan = planColumns(header, spec, options.layout);
  const columns = plan.targets.flatMap((target, index): SourceColumn[] => {
    const column = spec.columns.find((c) => c.name === target);
    if (!column) return [];
    const source = header[index]!;
    const dates: DateReadOptions = { formats: plan.layout.dateFormats, timeZone, ...centuryFor(options.centuries, column.name, source) };
    return [{ index, column, source, dates }];
  });
  return { layout: plan.layout.name, ignored: plan.ignored, columns };
}

/** The first record; undefined for an empty file or one whose first records do not parse (the streamed path says why). */
async function readHeader(file: string): Promise<string[] | undefined> {
  const input = createReadStream(file);
  const parser = input.pipe(parse({ ...CSV_OPTIONS, to: 1 }));
  input.on('error', (error) => parser.destroy(error));
  try {
    for await (const { record } of parser as AsyncIterable<{ record: string[] }>) return record;
    return undefined;
  } catch {
    return undefined;
  } finally {
    input.destroy();
    parser.destroy();
  }
}

/**
 * The fast path: a warehouse that can run the loader's rules itself (DuckDB) reads, checks,
 * converts and replaces the whole file in one statement (BulkLoad.replaceFromCsvFile). It accepts
 * only values the streamed path accepts and converts them the same way; on any refusal the load falls back
 * to the streamed path, which finds and reports every reject with its line. Returns undefined then.
 */
async function loadInWarehouse(options: LoadCsvOptions, spec: TableSpec, timeZone: string, totalBytes: number): Promise<Omit<LoadSummary, 'seconds'> | undefined> {
  const header = await readHeader(options.file);
  if (!header) return undefined; // the streamed path says the file is empty
  const plan = planFromHeader(header, spec, options, timeZone);
  // The scan runs on this thread while the engine reads on its own; the rows commit only if it
  // passes. Started by the engine, only when it takes the file.
  let structured: Promise<boolean> | undefined;
  const commitIf = () => (structured = hasCsvStructure(options.file, header.length));
  const progress = (fraction: number) => options.onProgress?.({ rows: undefined, rejected: 0, bytes: Math.round(fraction * totalBytes), totalBytes });
  let rows: number;
  try {
    const loaded = await options.bulkLoad.replaceFromCsvFile(options.table, options.file, { headerLength: header.length, columns: plan.columns }, { onProgress: progress, commitIf });
    if (!loaded) return undefined; // outside what the engine reads: streamed
    ({ rows } = loaded);
  } catch (error) {
    await structured?.catch(() => undefined); // settled before the streamed path reads the file
    // A warehouse that is gone would fail the streamed path too; say so now. Anything else is
    // the file's (its messages quote rows: never shown), and the streamed path reports it.
    if (error instanceof VigilError && (error.code === 'BACKEND_UNAVAILABLE' || error.code === 'SHUTTING_DOWN')) throw error;
    return undefined;
  }
  options.onProgress?.({ rows, rejected: 0, bytes: totalBytes, totalBytes });
  return { table: options.table, layout: plan.layout, rowsRead: rows, rowsLoaded: rows, rowsRejected: 0, ignoredColumns: [...plan.ignored], firstRejects: [], twoDigitYearRejects: 0, method: 'in-warehouse' };
}

function centuryFor(centuries: Centuries | undefined, column: string, source: string): { century?: number } {
  if (!centuries) return {};
  const byColumn = Object.fromEntries(Object.entries(centuries.byColumn ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const century = byColumn[column] ?? byColumn[source.trim().toLowerCase()] ?? centuries.all;
  return century === undefined ? {} : { century };
}

function rejectionMessage(summary: LoadSummary, maxBadRows: number): string {
  const lines = [
    `refused: ${summary.rowsRejected} of ${summary.rowsRead} rows rejected (--max-bad-rows ${maxBadRows}); nothing was loaded into ${summary.table}`,
  ];
  if (summary.twoDigitYearRejects > 0) {
    lines.push(
      `${summary.twoDigitYearRejects} values have two-digit years (e.g. "10/23/64"): the century is ambiguous, so they are not guessed. ` +
        'If you know it, give the first two digits of the year with --century (--century 21 reads 64 as 2164), ' +
        'for every date column or per column (--century dob=20).',
    );
  }
  for (const r of summary.firstRejects) lines.push(`  line ${r.line}${r.column ? `, ${r.column}` : ''}: ${r.reason}`);
  if (summary.rowsRejected > summary.firstRejects.length) lines.push('  ...');
  if (summary.rejectsPath) lines.push(`every rejected row: ${summary.rejectsPath}`);
  return lines.join('\n');
}
