import type { Logger } from '../../../core/observability/logger.ts';
import { createBigtableTimeSeriesStore } from '../timeseries-bigtable.ts';
import { createBigQueryWarehouse } from '../warehouse-bigquery.ts';

/** What a fault test reads back from the Google stores of one run. */
export interface GoogleStoreContents {
  /** Reading ids in Bigtable and in BigQuery's `vitals`, one per row (a doubled reading shows twice). */
  readingIds(): Promise<Record<'Bigtable' | 'BigQuery vitals', string[]>>;
  /** Rows in BigQuery's `dead_letters`. */
  deadLetterRows(): Promise<number>;
  close(): Promise<void>;
}

/** Reads the stores a `vigil` process with `vigilEnv` (googleRunEnv) writes to. */
export function googleStoreContents(vigilEnv: Readonly<Record<string, string>>, logger: Logger): GoogleStoreContents {
  const projectId = vigilEnv.GOOGLE_CLOUD_PROJECT!;
  const timeseries = createBigtableTimeSeriesStore({ projectId, instanceId: 'vigil', tableId: vigilEnv.VIGIL_BIGTABLE_TABLE!, logger });
  const warehouse = createBigQueryWarehouse({ projectId, dataset: vigilEnv.VIGIL_BIGQUERY_DATASET!, location: 'US', logger });
  return {
    async readingIds() {
      const bigtable: string[] = [];
      for (const patient of await timeseries.listPatients()) {
        bigtable.push(...(await timeseries.readReadings(patient, { from: 0, to: Date.now() + 86_400_000 })).map((r) => r.readingId));
      }
      const rows = (await warehouse.query('SELECT reading_id, COUNT(*) AS n FROM vitals GROUP BY reading_id')).rows as { reading_id: string; n: number }[];
      return { Bigtable: bigtable, 'BigQuery vitals': rows.flatMap((row) => Array.from({ length: Number(row.n) }, () => row.reading_id)) };
    },
    async deadLetterRows() {
      const rows = (await warehouse.query('SELECT COUNT(*) AS n FROM dead_letters')).rows as { n: number }[];
      return Number(rows[0]?.n);
    },
    async close() {
      await timeseries.close();
      await warehouse.close();
    },
  };
}
