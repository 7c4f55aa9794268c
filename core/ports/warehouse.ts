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
 * - `replaceRows` (ADT updates; batch loads go through the BulkLoad port) replaces the rows with the same keys atomically: after it resolves
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

export interface Warehouse {
  readonly kind: string;
  /** SQL dialect of `query`: "duckdb" or "googlesql". */
  readonly dialect: 'duckdb' | 'googlesql';
  provision(): Promise<void>;
  append(table: TableName, rows: readonly WarehouseRow[]): Promise<void>;
  replaceRows(table: TableName, rows: readonly WarehouseRow[]): Promise<void>;
  query(sql: string, params?: Readonly<Record<string, unknown>>): Promise<QueryResult>;
  namedQuery<N extends WarehouseQueryName>(name: N, params: WarehouseQueryParams<N>, literals: WarehouseQueryLiterals<N>): Promise<QueryResult>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
