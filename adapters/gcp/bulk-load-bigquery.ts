import { randomUUID } from 'node:crypto';
import { BigQuery } from '@google-cloud/bigquery';
import { PassThroughClient } from 'google-auth-library';
import { VigilError } from '../../core/errors.ts';
import type { Logger } from '../../core/observability/logger.ts';
import type { BulkLoad } from '../../core/ports/bulk-load.ts';
import type { ObjectStore } from '../../core/ports/object-store.ts';
import { TABLES } from '../../core/warehouse-schema.ts';
import type { TableSpec } from '../../core/warehouse-schema.ts';
import { backendError } from './google-errors.ts';
import { createStagingTable, RAW_SUFFIX, WRITTEN_AT } from './warehouse-bigquery.ts';
import type { BigQueryWarehouse, BigQueryWarehouseOptions } from './warehouse-bigquery.ts';
import { stageRowsAsNdjson } from './stage-ndjson.ts';

/**
 * Bulk loads into BigQuery (core/ports/bulk-load.ts). Given an object store, the rows are staged as
 * NDJSON in it (stage-ndjson.ts) and a load job reads the staged object (gs://…) into a private
 * staging table, then ONE `INSERT ... SELECT` copies it into `<table>_raw` with a newer
 * `_written_at`, exactly as the warehouse's `replaceRows` applies its staging table. So the
 * newest-per-key view shows every key of the file in its new version (a reload changes nothing
 * analysts see), and a failed job or statement leaves the table as it was. Without an object store
 * the rows stream through the warehouse's own staging table. BigQuery does not read local CSV
 * files: `replaceFromCsvFile` always leaves the file to the loader's streamed path.
 */
export function createBigQueryBulkLoad(options: BigQueryWarehouseOptions & { readonly warehouse: BigQueryWarehouse; readonly objectStore?: ObjectStore }): BulkLoad {
  const { warehouse, objectStore } = options;
  const bigquery = new BigQuery({
    projectId: options.projectId,
    ...(process.env.BIGQUERY_EMULATOR_HOST ? { authClient: new PassThroughClient() } : {}),
  });
  const deps: StagedFileLoadDeps = {
    bigquery,
    projectId: options.projectId,
    datasetId: options.dataset,
    location: options.location,
    logger: options.logger.child({ component: 'bulk-load-bigquery' }),
    run: (sql) => warehouse.query(sql),
  };
  return {
    kind: 'bigquery',
    async replaceRowsFrom(name, batches) {
      if (!objectStore) return warehouse.replaceRowsFrom(name, batches);
      const spec = TABLES[name];
      if (!spec) throw new VigilError('VALIDATION_FAILED', `unknown warehouse table ${String(name)}`);
      const staged = await stageRowsAsNdjson(objectStore, spec, batches);
      if (staged.rows > 0) await loadStagedFileIntoBigQuery(deps, spec, staged.uri);
      return { rows: staged.rows, stagedUri: staged.uri };
    },
    replaceFromCsvFile: () => Promise.resolve(undefined),
  };
}

interface StagedFileLoadDeps {
  readonly bigquery: BigQuery;
  readonly projectId: string;
  readonly datasetId: string;
  readonly location: string;
  readonly logger: Logger;
  /** Runs one GoogleSQL statement in the dataset (the warehouse's `query`). */
  readonly run: (sql: string) => Promise<unknown>;
}

async function loadStagedFileIntoBigQuery(deps: StagedFileLoadDeps, spec: TableSpec, uri: string): Promise<{ rows: number }> {
  if (!uri.startsWith('gs://')) throw new VigilError('VALIDATION_FAILED', `a BigQuery load job reads gs:// objects, not ${uri}`);
  const stagingName = `_load_${spec.name}_${randomUUID().replaceAll('-', '')}`;
  const dataset = deps.bigquery.dataset(deps.datasetId, { location: deps.location });
  const staging = dataset.table(stagingName);
  const qualified = (table: string): string => `\`${deps.projectId}.${deps.datasetId}.${table}\``;
  const columns = spec.columns.map((c) => c.name).join(', ');
  try {
    await createStagingTable(dataset, stagingName, spec);
    const rows = await runLoadJob(deps, stagingName, uri);
    if (rows > 0) {
      await deps.run(`INSERT INTO ${qualified(`${spec.name}${RAW_SUFFIX}`)} (${columns}, ${WRITTEN_AT})
SELECT ${columns}, CURRENT_TIMESTAMP() FROM ${qualified(stagingName)}`);
    }
    return { rows };
  } finally {
    await staging.delete().catch((error: unknown) => deps.logger.warn({ err: error, table: stagingName }, 'staging table not deleted; it expires on its own'));
  }
}

/** Runs the load job to completion; returns the rows it wrote (counted in the table if the job does not say). */
async function runLoadJob(deps: StagedFileLoadDeps, tableId: string, uri: string): Promise<number> {
  try {
    const [job] = await deps.bigquery.createJob({
      configuration: {
        load: {
          sourceUris: [uri],
          sourceFormat: 'NEWLINE_DELIMITED_JSON',
          destinationTable: { projectId: deps.projectId, datasetId: deps.datasetId, tableId },
          writeDisposition: 'WRITE_TRUNCATE',
          // Unknown fields mean the file and the schema disagree: refuse, never drop data silently.
          ignoreUnknownValues: false,
          maxBadRecords: 0,
        },
      },
      location: deps.location,
    });
    const [metadata] = await job.promise().then(() => job.getMetadata());
    const status = metadata.status as { errorResult?: { message?: string }; errors?: { message?: string }[] } | undefined;
    if (status?.errorResult) {
      throw new VigilError('BACKEND_REJECTED', `BigQuery load job from ${uri} failed: ${status.errorResult.message ?? 'no reason given'}`, {
        details: status.errors ?? [],
      });
    }
    const output = (metadata.statistics as { load?: { outputRows?: string } } | undefined)?.load?.outputRows;
    if (output !== undefined) return Number(output);
    const [counted] = await deps.bigquery.query({
      query: `SELECT COUNT(*) AS n FROM \`${deps.projectId}.${deps.datasetId}.${tableId}\``,
      location: deps.location,
    });
    return Number((counted[0] as { n: number | string }).n);
  } catch (error) {
    if (error instanceof VigilError) throw error;
    throw backendError(error, `BigQuery load job from ${uri}`);
  }
}
