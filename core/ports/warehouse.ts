import type { TableName } from '../warehouse-schema.ts';

/**
 * The analytics warehouse port (DuckDB embedded, BigQuery at scale).
 *
 * Lifecycle: create → `provision()` (creates tables and views from core/warehouse-schema.ts and
 * analytics-sql/, idempotent) → append/upsert/query → `close()`.
 *
 * Promises (checked by the warehouse contract suite):
 * - `append` is idempotent on the table's key columns: rows whose key is already present do not
 *   create a second analyst-visible row (DuckDB ignores them; BigQuery de-duplicates in the
 *   analyst-facing view). For a table with `mergeColumns` (`vitals`) such a row fills in the
 *   merge columns the held row has null and changes nothing else: the first non-null value of each
 *   stands (the reading merge rule, core/domain/merge-reading.ts); rows of one key within a call
 *   apply in array order. A call resolves once the rows are accepted; it rejects as a whole.
 * - `replaceRows` (batch loads) replaces the rows with the same keys atomically: after it resolves
 *   the table holds the new rows; if it rejects the table is as it was.
 * - `query` runs SQL in the adapter's dialect and returns plain JS values: numbers, strings,
 *   booleans, null, and `Date` for TIMESTAMP/DATE columns. INT64 values come back as `number`
 *   when they fit in a double. It is for analysts and tools (`vigil sql`, the parity test).
 * - `namedQuery` runs one of the queries the product itself needs (WAREHOUSE_QUERIES), whose SQL
 *   lives per dialect with the views (analytics-sql/<dialect>/queries/<name>.sql), so no feature
 *   writes SQL in a dialect; same parameters, same columns, same rows on every adapter.
 */
export type WarehouseRow = Record<string, unknown>;

/**
 * The product's own queries, by name, with the parameters each binds and the integer literals it
 * takes (LIMIT, bucket widths: validated integers written into the SQL, since not every engine binds
 * them). The warehouse contract runs each on every adapter.
 */
export const WAREHOUSE_QUERIES = {
  /** GET /v1/dead-letters, newest first. `patient_id` '' = any. */
  dead_letters_newest: { params: ['since', 'patient_id'], literals: ['limit'] },
  /** vigil dead-letters list|replay, oldest first. `patient_id`, `reason` '' = any. */
  dead_letters_oldest: { params: ['since', 'patient_id', 'reason'], literals: ['limit', 'offset'] },
  /** GET /v1/patients/:patientId/rejected. */
  rejected_readings_of_patient: { params: ['patient_id', 'from', 'to'], literals: ['limit'] },
  /** GET /v1/ward/trends: vitals means per patient and bucket since `from`. */
  ward_trends: { params: ['from'], literals: ['bucket_ms'] },
  /** The processor's admission lookup: `patient_ids` joined by commas. */
  admissions_of_patients: { params: ['patient_ids'], literals: [] },
  /** ADT's read-modify-write: every column of the patient's admissions, cancelled too, oldest first. */
  admission_records_of_patient: { params: ['patient_id'], literals: [] },
  /** ADT's read-modify-write: every column of the patient's row (none when unknown). */
  patient_record: { params: ['patient_id'], literals: [] },
} as const satisfies Record<string, { readonly params: readonly string[]; readonly literals: readonly string[] }>;

export type WarehouseQueryName = keyof typeof WAREHOUSE_QUERIES;
export type WarehouseQueryParams<N extends WarehouseQueryName> = { readonly [K in (typeof WAREHOUSE_QUERIES)[N]['params'][number]]: string | Date };
export type WarehouseQueryLiterals<N extends WarehouseQueryName> = { readonly [K in (typeof WAREHOUSE_QUERIES)[N]['literals'][number]]: number };

export interface QueryResult {
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  readonly rows: readonly WarehouseRow[];
}

export interface ReplaceFromQueryOptions {
  readonly params?: Readonly<Record<string, unknown>>;
  /** The query's estimated fraction done, when the engine knows it. */
  readonly onProgress?: (fractionDone: number) => void;
  /**
   * A check that runs beside the query (the loader's scan of the file): the rows are committed
   * only if it resolves true; false (or a rejection) rejects the call and changes nothing.
   */
  readonly commitIf?: Promise<boolean>;
}

export interface Warehouse {
  readonly kind: string;
  /** SQL dialect of `query`: "duckdb" or "googlesql". */
  readonly dialect: 'duckdb' | 'googlesql';
  provision(): Promise<void>;
  append(table: TableName, rows: readonly WarehouseRow[]): Promise<void>;
  replaceRows(table: TableName, rows: readonly WarehouseRow[]): Promise<void>;
  /**
   * Optional streamed form of `replaceRows` for batch loads too big to hold in memory: atomic over
   * every batch. If the source throws (a load over its bad-row limit) or a batch is refused, the
   * table is as it was. Callers fall back to `replaceRows` when an adapter lacks it.
   */
  replaceRowsFrom?(table: TableName, batches: AsyncIterable<readonly WarehouseRow[]>): Promise<{ rows: number }>;
  /**
   * Optional bulk path for batch loads: the warehouse loads a file already staged in the object
   * store (`uri` from ObjectStore.uri; NDJSON, one row per line, TIMESTAMPs as ISO 8601 instants,
   * DATEs as YYYY-MM-DD) and replaces the rows with the same keys atomically, with the guarantees
   * of `replaceRows`. The batch loader uses it, when present and given an object store, instead
   * of `replaceRowsFrom`.
   */
  loadStagedFile?(table: TableName, uri: string, format: 'ndjson'): Promise<{ rows: number }>;
  /**
   * Optional bulk path for batch loads whose rows the warehouse can produce itself: replaces the
   * rows with the same keys by the rows `sql` (a SELECT in this warehouse's dialect, naming its
   * columns as the table does) returns, atomically, with the guarantees of `replaceRows`: if the
   * query fails or returns a key twice, it rejects and the table is as it was. Its errors may
   * quote the rows (engines show the offending line or value): never log their messages.
   */
  replaceRowsFromQuery?(table: TableName, sql: string, options?: ReplaceFromQueryOptions): Promise<{ rows: number }>;
  query(sql: string, params?: Readonly<Record<string, unknown>>): Promise<QueryResult>;
  namedQuery<N extends WarehouseQueryName>(name: N, params: WarehouseQueryParams<N>, literals: WarehouseQueryLiterals<N>): Promise<QueryResult>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
