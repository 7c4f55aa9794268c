import type { ColumnSpec, TableName } from '../warehouse-schema.ts';
import type { WarehouseRow } from './warehouse.ts';

/**
 * The batch loads' port (`vigil load`, batch-loader/): whole files of rows into a warehouse table,
 * kept apart from the Warehouse port because each engine loads in bulk its own way (DuckDB reads
 * the CSV itself; BigQuery stages a file in Cloud Storage and runs a load job).
 *
 * Promises (checked by the bulk-load contract suite, core/contracts/bulk-load-contract.ts):
 * - `replaceRowsFrom` replaces the rows with the same keys by every row of every batch, atomically:
 *   after it resolves the table holds the new rows (other keys untouched); if the source throws (a
 *   load over its bad-row limit) or a batch is refused, it rejects and the table is as it was.
 *   Loading the same rows twice leaves what loading them once did.
 * - `replaceFromCsvFile` is the engine reading, checking and converting the file itself, with the
 *   same guarantees. It accepts only values the loader's own rules accept and converts them the
 *   same way; it resolves undefined when the plan is outside what the engine reads (the caller then
 *   streams the rows through `replaceRowsFrom`), and rejects, changing nothing, on any value it
 *   refuses or when `commitIf()` does not resolve true. Its errors may quote the rows: never log them.
 */
export interface BulkLoad {
  readonly kind: string;
  replaceRowsFrom(table: TableName, batches: AsyncIterable<readonly WarehouseRow[]>): Promise<BulkLoadResult>;
  replaceFromCsvFile(table: TableName, file: string, plan: CsvFilePlan, options?: CsvFileLoadOptions): Promise<BulkLoadResult | undefined>;
}

export interface BulkLoadResult {
  readonly rows: number;
  /** The staged object the warehouse loaded from, when it loaded that way. */
  readonly stagedUri?: string;
}

/** How the loader reads a CSV file: the header's length and, per warehouse column, its source field. */
export interface CsvFilePlan {
  readonly headerLength: number;
  readonly columns: readonly CsvColumnPlan[];
}

export interface CsvColumnPlan {
  /** Position of the source field in each record. */
  readonly index: number;
  readonly column: ColumnSpec;
  readonly dates: CsvDateReading;
}

export interface CsvDateReading {
  readonly formats: readonly ('iso' | 'us')[];
  /** IANA zone for timestamps without an offset. */
  readonly timeZone: string;
  /** The first two digits put before a two-digit year; absent: refused. */
  readonly century?: number;
}

export interface CsvFileLoadOptions {
  /** The load's estimated fraction done, when the engine knows it. */
  readonly onProgress?: (fractionDone: number) => void;
  /**
   * A check to run beside the load (the loader's scan of the file), started by the engine once it
   * takes the file (so a file left to the streamed path is not scanned for nothing): the rows
   * commit only if it resolves true.
   */
  readonly commitIf?: () => Promise<boolean>;
}
