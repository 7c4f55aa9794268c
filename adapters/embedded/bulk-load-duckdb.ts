import type { BulkLoad } from '../../core/ports/bulk-load.ts';
import { duckDbCsvSelect } from './duckdb-csv-select.ts';
import type { DuckDbWarehouse } from './warehouse-duckdb.ts';

/**
 * Bulk loads into the DuckDB warehouse (core/ports/bulk-load.ts): on the warehouse's own instance
 * (one process holds the file), through its load methods, which `vigil backup`'s snapshot waits for.
 * A CSV file is read, checked and converted by DuckDB itself (duckdb-csv-select.ts).
 */
export function createDuckDbBulkLoad(warehouse: DuckDbWarehouse): BulkLoad {
  return {
    kind: 'duckdb',
    replaceRowsFrom: (table, batches) => warehouse.replaceRowsFrom(table, batches),
    async replaceFromCsvFile(table, file, plan, { onProgress, commitIf } = {}) {
      const select = duckDbCsvSelect(file, plan.headerLength, plan.columns);
      if (!select) return undefined;
      return warehouse.replaceRowsFromQuery(table, select.sql, {
        params: select.params,
        ...(onProgress ? { onProgress } : {}),
        ...(commitIf ? { commitIf: commitIf() } : {}),
      });
    },
  };
}
