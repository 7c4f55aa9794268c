import { copyFile, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DuckDBConnection, DuckDBType } from '@duckdb/node-api';
import { DuckDBDataChunkWriter, DuckDBInstance, DuckDBTypeId, JSToDuckDBValueConverter, jsToDuckDBValue, StatementType, TIMESTAMP } from '@duckdb/node-api';
import { VigilError } from '../../core/errors.ts';
import type { QueryResult, Warehouse, WarehouseRow } from '../../core/ports/warehouse.ts';
import type { ColumnType, TableName, TableSpec } from '../../core/warehouse-schema.ts';
import { TABLES } from '../../core/warehouse-schema.ts';
import { mergeRowsByKey } from '../../core/merge-warehouse-rows.ts';
import type { RetentionPurge } from '../../core/ports/retention.ts';
import { checkWarehouseRow } from '../../core/check-warehouse-row.ts';
import { createNamedQueries } from '../shared/named-queries.ts';

/**
 * The embedded warehouse: one DuckDB file (`${VIGIL_DATA_DIR}/warehouse.duckdb`).
 *
 * TIMESTAMP columns are DuckDB `TIMESTAMP` holding UTC instants (no zone is stored, none is
 * applied), so `date_trunc('hour', observed_at)` buckets in UTC exactly as BigQuery does.
 *
 * Connections: DuckDB allows one writing process per file, and inside that process a connection
 * runs one statement at a time. Appends and single-call replaces share one writer connection
 * (serialized); queries use their own connection so an analyst's query never waits behind the
 * stream processor; a streamed batch load gets a connection of its own for its transaction, so
 * the stream processor keeps appending vitals while a CSV loads (different tables, no conflict).
 */
export interface DuckDbWarehouseOptions {
  /** Database file, or `:memory:`. */
  readonly path: string;
  /** Folder of `*.sql` view files applied by `provision()` in filename order. */
  readonly viewsDir?: string;
  /**
   * For analysts' queries: the file opened read-only, with no access to other files or the network
   * (no `read_csv('/etc/passwd')`, `COPY … TO`, `ATTACH`), no extension installed or loaded on its
   * own, and the configuration locked so a query cannot switch any of that back on. Every write
   * method then fails with DuckDB's read-only error.
   */
  readonly readOnly?: boolean;
  /**
   * For the server (`vigil start` and friends): writable, but with the same lock-down as
   * `readOnly` otherwise, so `analystQuery` can serve analysts' SELECTs. Only `vigil load`, which
   * reads the CSV with DuckDB's `read_csv`, needs neither.
   */
  readonly lockedDown?: boolean;
  /**
   * DuckDB's own memory bound (its buffer pool: appends, queries, loads), in MB. Unset, DuckDB
   * takes 80 % of the machine's RAM, which a server sharing the host with its Node heap must not.
   * Beyond it DuckDB spills to a temp folder beside the file or fails the query with out-of-memory.
   */
  readonly memoryLimitMb?: number;
}

const LOCKED_DOWN_CONFIG: Readonly<Record<string, string>> = Object.freeze({
  enable_external_access: 'false',
  autoinstall_known_extensions: 'false',
  autoload_known_extensions: 'false',
  // Last: locks the settings above for the instance's lifetime.
  lock_configuration: 'true',
});
const READ_ONLY_CONFIG: Readonly<Record<string, string>> = Object.freeze({ access_mode: 'READ_ONLY', ...LOCKED_DOWN_CONFIG });

export interface ReplaceFromQueryOptions {
  readonly params?: Readonly<Record<string, unknown>>;
  /** The query's estimated fraction done, when the engine knows it. */
  readonly onProgress?: (fractionDone: number) => void;
  /** A check beside the query (the loader's scan of the file): rows commit only if it resolves true. */
  readonly commitIf?: Promise<boolean>;
}

export interface AnalystQueryOptions {
  /** Rows returned at most; `truncated` says when there were more. */
  readonly maxRows: number;
  /** The query is interrupted after this. */
  readonly timeoutMs: number;
}

export interface DuckDbWarehouse extends Warehouse, RetentionPurge {
  /**
   * A consistent copy of the database file at `file` while the warehouse stays open (`vigil
   * backup`): appends wait, running batch loads finish first and new ones wait, the WAL is
   * checkpointed into the file, and the file is copied. Not for `:memory:`.
   */
  snapshotTo(file: string): Promise<{ bytes: number }>;
  /**
   * The bulk loads (bulk-load-duckdb.ts, the BulkLoad port): `replaceRows` streamed, atomic over
   * every batch; if the source throws or a batch is refused the table is as it was.
   */
  replaceRowsFrom(table: TableName, batches: AsyncIterable<readonly WarehouseRow[]>): Promise<{ rows: number }>;
  /**
   * Replaces the rows with the same keys by the rows `sql` (a SELECT naming the table's columns)
   * returns, atomically: if the query fails, returns a key twice, or `commitIf` does not resolve
   * true, it rejects and the table is as it was. Its errors may quote the rows: never log them.
   */
  replaceRowsFromQuery(table: TableName, sql: string, options?: ReplaceFromQueryOptions): Promise<{ rows: number }>;
  /**
   * One SELECT for an analyst, on a connection of its own, bounded in rows and time; anything but
   * a single SELECT is refused (VALIDATION_FAILED). Only on a `lockedDown` or `readOnly` instance,
   * where file, network and extension access are off and cannot be switched back on.
   */
  analystQuery(sql: string, options: AnalystQueryOptions): Promise<QueryResult & { truncated: boolean }>;
}

const PROGRESS_POLL_MS = 250;

const DEFAULT_VIEWS_DIR = fileURLToPath(new URL('../../analytics-sql/duckdb/', import.meta.url));
const namedQuerySql = createNamedQueries(fileURLToPath(new URL('../../analytics-sql/duckdb/queries/', import.meta.url)));

const DUCKDB_TYPE: Readonly<Record<ColumnType, string>> = {
  STRING: 'VARCHAR',
  INT64: 'BIGINT',
  FLOAT64: 'DOUBLE',
  BOOL: 'BOOLEAN',
  TIMESTAMP: 'TIMESTAMP',
  DATE: 'DATE',
};

export async function createDuckDbWarehouse(options: DuckDbWarehouseOptions): Promise<DuckDbWarehouse> {
  if (!options.path) throw new VigilError('CONFIG_INVALID', 'createDuckDbWarehouse: path is required');
  const viewsDir = options.viewsDir ?? DEFAULT_VIEWS_DIR;
  let instance: DuckDBInstance;
  try {
    const lockDown = options.readOnly ? READ_ONLY_CONFIG : options.lockedDown ? LOCKED_DOWN_CONFIG : {};
    // The memory limit comes first: `lock_configuration` (last in the lock-down) freezes what precedes it.
    const config: Record<string, string> = options.memoryLimitMb ? { memory_limit: `${options.memoryLimitMb}MB` } : {};
    Object.assign(config, lockDown);
    instance = await DuckDBInstance.create(options.path, Object.keys(config).length > 0 ? config : undefined);
  } catch (cause) {
    // The usual reason: another process (a running `vigil start`) holds the file's write lock.
    throw new VigilError('BACKEND_UNAVAILABLE', `cannot open the DuckDB warehouse ${options.path}: ${(cause as Error).message}`, { cause });
  }
  const writer = serialized(await instance.connect());
  const reader = serialized(await instance.connect());
  let closed = false;
  // Batch loads commit on connections of their own: a snapshot waits for them and holds new ones back.
  const loads = new Set<Promise<unknown>>();
  let snapshotting: Promise<unknown> | undefined;
  const asLoad = async <T>(work: () => Promise<T>): Promise<T> => {
    while (snapshotting) await snapshotting.catch(() => undefined);
    const running = work();
    loads.add(running);
    try {
      return await running;
    } finally {
      loads.delete(running);
    }
  };

  const ensureOpen = () => {
    if (closed) throw new VigilError('SHUTTING_DOWN', 'the DuckDB warehouse is closed');
  };

  const warehouse: DuckDbWarehouse = {
    kind: 'duckdb',
    dialect: 'duckdb',

    async provision() {
      ensureOpen();
      await writer.use(async (c) => {
        for (const spec of Object.values(TABLES)) {
          await run(c, createTableSql(spec));
          // Columns added to the schema after a table was created are added in place.
          for (const column of spec.columns) {
            await run(c, `ALTER TABLE ${ident(spec.name)} ADD COLUMN IF NOT EXISTS ${ident(column.name)} ${DUCKDB_TYPE[column.type]}`);
          }
        }
        for (const file of await viewFiles(viewsDir)) {
          const sql = await readFile(path.join(viewsDir, file), 'utf8');
          try {
            await c.run(sql);
          } catch (cause) {
            throw new VigilError('BACKEND_REJECTED', `view file ${file}: ${(cause as Error).message}`, { cause });
          }
        }
      });
    },

    async append(table, rows) {
      ensureOpen();
      const spec = tableSpec(table);
      if (rows.length === 0) return;
      const converted = mergeRowsByKey(spec, rows).map((row, index) => toDuckDbRow(spec, row as WarehouseRow, index));
      await writer.use(async (c) => {
        // Fast path: the appender straight into the keyed table, in a transaction. Redelivered rows
        // are rare, so only a batch that hits a key conflict pays for the staged INSERT OR IGNORE
        // (about three times slower: a second statement and a conflict check per row).
        await run(c, 'BEGIN TRANSACTION');
        try {
          await appendRows(c, spec.name, 'main', [converted]);
          await run(c, 'COMMIT');
          return;
        } catch (error) {
          await c.run('ROLLBACK').catch(() => undefined);
          if (!isKeyConflict(error)) throw asVigilError(error);
        }
        const stage = await ensureStage(c, spec);
        await appendRows(c, stageName(spec), 'temp', [converted]);
        // The held row of a key stands; with merge columns its nulls are filled in (the batch has one
        // row per key by now, as ON CONFLICT DO UPDATE cannot touch one row twice in a statement).
        await run(c, `INSERT INTO ${ident(spec.name)} SELECT * FROM ${stage} ${onConflict(spec)}`);
      });
    },

    async replaceRows(table, rows) {
      ensureOpen();
      const spec = tableSpec(table);
      const converted = rows.map((row, index) => toDuckDbRow(spec, row, index));
      await writer.use((c) => replaceFromStage(c, spec, () => appendRows(c, stageName(spec), 'temp', [converted])));
    },

    async replaceRowsFrom(table, batches) {
      ensureOpen();
      const spec = tableSpec(table);
      const connection = await instance.connect();
      try {
        let offset = 0;
        const converted = (async function* () {
          for await (const batch of batches) {
            yield batch.map((row, index) => toDuckDbRow(spec, row, offset + index));
            offset += batch.length;
          }
        })();
        await replaceFromStage(connection, spec, () => appendRows(connection, stageName(spec), 'temp', converted));
        return { rows: offset };
      } finally {
        connection.closeSync();
      }
    },

    async replaceRowsFromQuery(table, sql, { params, onProgress, commitIf } = {}) {
      // Handled from the start: the check may fail while the query still runs.
      const verdict = commitIf?.then((ok) => ok, () => false);
      ensureOpen();
      const spec = tableSpec(table);
      const connection = await instance.connect();
      // The query runs off the main thread; its progress is polled (percentage is -1 until known).
      const poll = onProgress
        ? setInterval(() => {
            const { percentage } = connection.progress;
            if (percentage >= 0) onProgress(Math.min(1, percentage / 100));
          }, PROGRESS_POLL_MS)
        : undefined;
      const insert = async (into: string) => Number((await run(connection, `INSERT INTO ${into} BY NAME ${sql}`, params)).rowsChanged);
      const allowed = async () => {
        if (verdict && !(await verdict)) throw new VigilError('VALIDATION_FAILED', `the rows for ${spec.name} were refused before commit`);
      };
      try {
        // A load of new keys goes straight in, in a transaction held open until commitIf says so.
        // A key already present (a reload) or repeated in the rows fails it; then the staged
        // replace sorts out which.
        await run(connection, 'BEGIN TRANSACTION');
        try {
          const rows = await insert(ident(spec.name));
          await allowed();
          await run(connection, 'COMMIT');
          return { rows };
        } catch (error) {
          await connection.run('ROLLBACK').catch(() => undefined);
          if (!isKeyConflict(error)) throw error;
        }
        let rows = 0;
        await replaceFromStage(connection, spec, async () => {
          rows = await insert(`temp.main.${ident(stageName(spec))}`);
          await allowed();
        });
        return { rows };
      } finally {
        clearInterval(poll);
        connection.closeSync();
      }
    },

    async query(sql, params) {
      ensureOpen();
      return reader.use(async (c) => {
        let result;
        try {
          result = await c.runAndReadAll(sql, params ? toDuckDbParams(params) : undefined);
        } catch (cause) {
          throw new VigilError('BACKEND_REJECTED', `query failed: ${(cause as Error).message}`, { cause });
        }
        const names = result.columnNames();
        const types = result.columnTypes();
        const rows = result.getRowsJS().map((values) => {
          const row: WarehouseRow = {};
          values.forEach((value, i) => {
            row[names[i] ?? `column${i}`] = toPlainValue(value);
          });
          return row;
        });
        return { columns: names.map((name, i) => ({ name, type: neutralTypeName(types[i]) })), rows } satisfies QueryResult;
      });
    },

    async analystQuery(sql, queryOptions) {
      ensureOpen();
      if (!options.readOnly && !options.lockedDown) {
        throw new VigilError('BACKEND_UNAVAILABLE', 'analyst queries need a locked-down warehouse (file and network access off)');
      }
      const connection = await instance.connect();
      const timer = setTimeout(() => connection.interrupt(), queryOptions.timeoutMs);
      try {
        let statement;
        try {
          const statements = await connection.extractStatements(sql);
          if (statements.count !== 1) throw new VigilError('VALIDATION_FAILED', 'give exactly one statement');
          statement = await statements.prepare(0);
        } catch (cause) {
          if (cause instanceof VigilError) throw cause;
          throw new VigilError('VALIDATION_FAILED', `query refused: ${(cause as Error).message}`, { cause });
        }
        if (statement.statementType !== StatementType.SELECT) throw new VigilError('VALIDATION_FAILED', 'only SELECT queries are allowed');
        let result;
        try {
          result = await statement.runAndReadUntil(queryOptions.maxRows + 1);
        } catch (cause) {
          const interrupted = /interrupt/i.test((cause as Error).message);
          throw new VigilError('VALIDATION_FAILED', interrupted ? `query took longer than ${queryOptions.timeoutMs} ms and was stopped` : `query failed: ${(cause as Error).message}`, { cause });
        }
        const names = result.columnNames();
        const types = result.columnTypes();
        const all = result.getRowsJS();
        const rows = all.slice(0, queryOptions.maxRows).map((values) => {
          const row: WarehouseRow = {};
          values.forEach((value, i) => {
            row[names[i] ?? `column${i}`] = toPlainValue(value);
          });
          return row;
        });
        return { columns: names.map((name, i) => ({ name, type: neutralTypeName(types[i]) })), rows, truncated: all.length > queryOptions.maxRows };
      } finally {
        clearTimeout(timer);
        connection.closeSync();
      }
    },

    /**
     * Retention (VIGIL_RETENTION_DAYS): vitals observed, scores made and dead letters received
     * before the cutoff, in one transaction. Counts rows. Admissions, ICU stays and patients are
     * loaded by analysts (`vigil load`) and are theirs to keep or reload.
     */
    async purgeOlderThan(cutoffMs) {
      ensureOpen();
      return writer.use(async (c) => {
        await run(c, 'BEGIN TRANSACTION');
        try {
          let removed = 0;
          for (const [table, column] of [['vitals', 'observed_at'], ['risk_scores', 'scored_at'], ['dead_letters', 'received_at']] as const) {
            removed += Number((await run(c, `DELETE FROM ${ident(table)} WHERE ${ident(column)} < epoch_ms($cutoff::BIGINT)`, { cutoff: cutoffMs })).rowsChanged);
          }
          await run(c, 'COMMIT');
          return { removed };
        } catch (error) {
          await c.run('ROLLBACK').catch(() => undefined);
          throw error;
        }
      });
    },

    async snapshotTo(file) {
      ensureOpen();
      if (options.path === ':memory:') throw new VigilError('VALIDATION_FAILED', 'an in-memory warehouse has no file to snapshot');
      while (snapshotting) await snapshotting.catch(() => undefined);
      const taking = (async () => {
        await Promise.allSettled([...loads]);
        return writer.use(async (c) => {
          // With the writer held and no load running, nothing commits between the checkpoint and the copy.
          await run(c, 'CHECKPOINT');
          await copyFile(options.path, file);
          return { bytes: (await stat(file)).size };
        });
      })();
      snapshotting = taking;
      try {
        return await taking;
      } finally {
        snapshotting = undefined;
      }
    },

    async namedQuery(name, params, literals) {
      return warehouse.query(namedQuerySql(name, literals), params);
    },

    async ping() {
      ensureOpen();
      await reader.use((c) => run(c, 'SELECT 1'));
    },

    async close() {
      if (closed) return;
      closed = true;
      // Wait for in-flight work on both connections, then release the file lock.
      await Promise.allSettled([writer.use(async () => {}), reader.use(async () => {})]);
      writer.connection.closeSync();
      reader.connection.closeSync();
      instance.closeSync();
    },
  };
  return {
    ...warehouse,
    replaceRowsFrom: (table, batches) => asLoad(() => warehouse.replaceRowsFrom(table, batches)),
    replaceRowsFromQuery: (table, sql, queryOptions) => asLoad(() => warehouse.replaceRowsFromQuery(table, sql, queryOptions)),
  };
}

/** A connection whose users take turns: DuckDB runs one statement per connection at a time. */
function serialized(connection: DuckDBConnection) {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    connection,
    use<T>(work: (c: DuckDBConnection) => Promise<T>): Promise<T> {
      const result = tail.then(() => work(connection));
      tail = result.catch(() => undefined);
      return result;
    },
  };
}

function tableSpec(table: TableName): TableSpec {
  const spec = TABLES[table];
  if (!spec) throw new VigilError('VALIDATION_FAILED', `unknown warehouse table "${String(table)}"`);
  return spec;
}

/** The reading merge rule in SQL: a held value stands, a held null is filled in (core/warehouse-schema.ts `mergeColumns`). */
function onConflict(spec: TableSpec): string {
  if (!spec.mergeColumns) return 'ON CONFLICT DO NOTHING';
  const target = ident(spec.name);
  const fills = spec.mergeColumns.map((column) => `${ident(column)} = COALESCE(${target}.${ident(column)}, excluded.${ident(column)})`);
  return `ON CONFLICT (${spec.key.map(ident).join(', ')}) DO UPDATE SET ${fills.join(', ')}`;
}

function createTableSql(spec: TableSpec): string {
  const columns = spec.columns.map((c) => `${ident(c.name)} ${DUCKDB_TYPE[c.type]}${c.required ? ' NOT NULL' : ''}`);
  return `CREATE TABLE IF NOT EXISTS ${ident(spec.name)} (${columns.join(', ')}, PRIMARY KEY (${spec.key.map(ident).join(', ')}))`;
}

async function viewFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** A constraint-free temp twin of the table, per connection, that batches are appended into. */
async function ensureStage(c: DuckDBConnection, spec: TableSpec): Promise<string> {
  const name = stageName(spec);
  const columns = spec.columns.map((col) => `${ident(col.name)} ${DUCKDB_TYPE[col.type]}`);
  await run(c, `CREATE TEMP TABLE IF NOT EXISTS ${ident(name)} (${columns.join(', ')})`);
  await run(c, `DELETE FROM temp.main.${ident(name)}`);
  return `temp.main.${ident(name)}`;
}

function stageName(spec: TableSpec): string {
  return `stage_${spec.name}`;
}

async function appendRows(
  c: DuckDBConnection,
  table: string,
  catalog: 'main' | 'temp',
  batches: Iterable<unknown[][]> | AsyncIterable<unknown[][]>,
): Promise<void> {
  const appender = await c.createAppender(table, 'main', catalog === 'temp' ? 'temp' : null);
  const chunkWriter = DuckDBDataChunkWriter.forAppender(appender, { converter: JSToDuckDBValueConverter });
  try {
    // Errors thrown by the source pass through unchanged; the appender's are DuckDB's.
    for await (const batch of batches) {
      try {
        for (const row of batch) chunkWriter.appendRow(row as never);
      } catch (cause) {
        throw asVigilError(cause);
      }
    }
    try {
      chunkWriter.flush();
      appender.closeSync(); // flushes
    } catch (cause) {
      throw asVigilError(cause);
    }
  } catch (error) {
    // A refused batch stays buffered in the appender, and DuckDB flushes it again when the garbage
    // collector destroys the appender: inside whatever transaction the connection is running then,
    // which that failure aborts. Clearing drops the buffer, so the failure happens only once.
    try {
      appender.clear();
      appender.closeSync();
    } catch {
      // Closing after a failure can repeat it: keep the first error.
    }
    throw error;
  }
}

/**
 * Fills the stage, refuses it when it repeats a key, then writes it with one INSERT (or, when
 * keys are already present, one INSERT OR REPLACE): one statement, so any failure (a bad value,
 * the source throwing) leaves the table as it was.
 * Not DELETE then INSERT in a transaction: DuckDB took 76 s for that on 1,000,000 rows whose keys
 * were all present (a reload), against 3 s for the upsert. INSERT OR REPLACE keeps one of two
 * rows with the same key without a word, hence the check first.
 */
async function replaceFromStage(c: DuckDBConnection, spec: TableSpec, fill: () => Promise<void>): Promise<void> {
  const stage = await ensureStage(c, spec);
  try {
    await fill();
    const keys = spec.key.map(ident).join(', ');
    const repeated = (await run(c, `SELECT 1 FROM ${stage} GROUP BY ${keys} HAVING count(*) > 1 LIMIT 1`)).currentRowCount;
    // The key's value stays out of the message: it may be a patient's id.
    if (repeated > 0) throw new VigilError('VALIDATION_FAILED', `the rows repeat a key of ${spec.name} (${spec.key.join(', ')})`);
    try {
      // New keys only (a first load): a plain insert is faster than the upsert.
      await run(c, `INSERT INTO ${ident(spec.name)} SELECT * FROM ${stage}`);
    } catch (error) {
      if (!isKeyConflict(error)) throw error;
      await run(c, `INSERT OR REPLACE INTO ${ident(spec.name)} SELECT * FROM ${stage}`);
    }
  } finally {
    await c.run(`DELETE FROM ${stage}`).catch(() => undefined);
  }
}

/** Runs one statement, reading its rows back; DuckDB's failure as a VigilError. */
async function run(c: DuckDBConnection, sql: string, params?: Readonly<Record<string, unknown>>) {
  try {
    return await c.runAndReadAll(sql, params ? toDuckDbParams(params) : undefined);
  } catch (cause) {
    throw asVigilError(cause);
  }
}

function isKeyConflict(error: unknown): boolean {
  const message = error instanceof VigilError && error.cause instanceof Error ? error.cause.message : (error as Error).message;
  return /duplicate key|violates primary key/i.test(message);
}

/** DuckDB reports constraint violations only in message text; they are the caller's data, not ours. */
function asVigilError(cause: unknown): VigilError {
  if (cause instanceof VigilError) return cause;
  const message = (cause as Error).message;
  const code = /constraint|duplicate key|NOT NULL/i.test(message) ? 'VALIDATION_FAILED' : 'BACKEND_REJECTED';
  return new VigilError(code, `DuckDB: ${message}`, { cause });
}

/** The row checked (core/check-warehouse-row.ts), its values in column order as DuckDB binds them. */
function toDuckDbRow(spec: TableSpec, row: WarehouseRow, index: number): unknown[] {
  return checkWarehouseRow(spec, row, index).map((value, i) =>
    // DATE binds as a Date at UTC midnight; the checked value is its YYYY-MM-DD day.
    spec.columns[i]!.type === 'DATE' && typeof value === 'string' ? new Date(`${value}T00:00:00.000Z`) : value);
}

/** Named parameters: Dates bind as TIMESTAMP; numbers, strings, booleans, bigint and null as they are. */
function toDuckDbParams(params: Readonly<Record<string, unknown>>) {
  const out: Record<string, never> = {};
  for (const [name, value] of Object.entries(params)) {
    let bound: unknown = value ?? null;
    if (value instanceof Date) bound = jsToDuckDBValue(value, TIMESTAMP);
    else if (!(value === null || value === undefined || ['string', 'number', 'boolean', 'bigint'].includes(typeof value))) {
      throw new VigilError('VALIDATION_FAILED', `query parameter ${name}: unsupported ${typeof value}`);
    }
    out[name] = bound as never;
  }
  return out;
}

/** bigint → number when it fits exactly; everything else the JS converter already made plain. */
function toPlainValue(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  }
  return value;
}

/** Column types named as the schema names them (STRING, INT64, ...), the same on every warehouse. */
function neutralTypeName(type: DuckDBType | undefined): string {
  if (!type) return 'UNKNOWN';
  switch (type.typeId) {
    case DuckDBTypeId.VARCHAR:
      return 'STRING';
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.UBIGINT:
      return 'INT64';
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
    case DuckDBTypeId.DECIMAL:
      return 'FLOAT64';
    case DuckDBTypeId.BOOLEAN:
      return 'BOOL';
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_NS:
    case DuckDBTypeId.TIMESTAMP_TZ:
      return 'TIMESTAMP';
    case DuckDBTypeId.DATE:
      return 'DATE';
    default:
      return type.toString();
  }
}

function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
