import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BigQuery } from '@google-cloud/bigquery';
import type { Dataset, Table, TableField } from '@google-cloud/bigquery';
import { PassThroughClient } from 'google-auth-library';
import { VigilError } from '../../core/errors.ts';
import type { Logger } from '../../core/observability/logger.ts';
import type { QueryResult, Warehouse, WarehouseRow } from '../../core/ports/warehouse.ts';
import { TABLES, TABLE_NAMES } from '../../core/warehouse-schema.ts';
import { mergeRowsByKey } from '../../core/merge-warehouse-rows.ts';
import type { TableName, TableSpec } from '../../core/warehouse-schema.ts';
import { boundedChunks } from './bounded-chunks.ts';
import { fromResultValue, standardType, toInsertRow, toQueryParams } from './bigquery-rows.ts';
import { backendError, createIfMissing } from './google-errors.ts';
import { createNamedQueries } from '../shared/named-queries.ts';

/**
 * The BigQuery warehouse (core/ports/warehouse.ts).
 *
 * Every table of core/warehouse-schema.ts is stored as `<name>_raw` (partitioned by day on
 * `partitionBy`, clustered by `clusterBy`, plus a `_written_at` column) and read through a view
 * `<name>` that keeps the newest row per key (for `vitals`, merges the versions per vital: first
 * non-null value by write order, the reading merge rule). Streaming inserts are at least once (a redelivered
 * reading is inserted again, and the emulator ignores insertIds entirely), so what analysts query
 * is de-duplicated by the view, not by the write path. README: "De-duplication".
 *
 * - `append`: insertAll into `<name>_raw`, insertId = the row's key (real BigQuery drops most
 *   retries of one request by it; the view removes the rest).
 * - `replaceRows` / `replaceRowsFrom`: rows are streamed into a private staging table, then ONE
 *   `INSERT ... SELECT` copies them into `<name>_raw` with a newer `_written_at`: the single
 *   statement is the atomic step, and the view shows the new version of every key from then on.
 * - `provision`: dataset, raw tables (new columns added to existing ones), the views, then the
 *   analyst views of analytics-sql/bigquery/*.sql in filename order.
 */
export interface BigQueryWarehouseOptions {
  readonly projectId: string;
  readonly dataset: string;
  /** Dataset location, e.g. US or europe-west2; queries run there. */
  readonly location: string;
  readonly logger: Logger;
  /** Folder of the analyst views (`${dataset}` placeholders); default analytics-sql/bigquery. */
  readonly viewsDir?: string;
  /** Rows per insertAll request (Google recommends about 500) ... */
  readonly insertBatchRows?: number;
  /** ... and bytes per request (the API allows 10 MB). */
  readonly insertBatchBytes?: number;
  /**
   * VIGIL_RETENTION_DAYS: the day partitions of the pipeline's tables (`vitals` by observed_at,
   * `risk_scores` by scored_at, `dead_letters` by received_at) expire this many days after their
   * day; 0 or absent keeps them. Analysts' loads (admissions, ICU stays, patients) never expire.
   */
  readonly retentionDays?: number;
}

/** The tables whose partitions expire with VIGIL_RETENTION_DAYS: what the stream writes. */
export const EXPIRING_TABLES: ReadonlySet<TableName> = new Set<TableName>(['vitals', 'risk_scores', 'dead_letters']);

export const RAW_SUFFIX = '_raw';
/** The raw tables' version column: the analyst views keep the newest row per key by it. */
export const WRITTEN_AT = '_written_at';
const DEFAULT_VIEWS_DIR = fileURLToPath(new URL('../../analytics-sql/bigquery/', import.meta.url));
const namedQuerySql = createNamedQueries(fileURLToPath(new URL('../../analytics-sql/bigquery/queries/', import.meta.url)));
/** A staging table left behind by a killed process deletes itself after this long. */
const STAGING_TTL_MS = 6 * 3_600_000;

/** The BigQuery warehouse; `replaceRowsFrom` is the bulk loads' streamed path (bulk-load-bigquery.ts). */
export interface BigQueryWarehouse extends Warehouse {
  replaceRowsFrom(table: TableName, batches: AsyncIterable<readonly WarehouseRow[]>): Promise<{ rows: number }>;
}

export function createBigQueryWarehouse(options: BigQueryWarehouseOptions): BigQueryWarehouse {
  if (!options?.projectId || !options.dataset) throw new VigilError('CONFIG_INVALID', 'createBigQueryWarehouse needs projectId and dataset');
  if (!/^\w{1,1024}$/.test(options.dataset)) throw new VigilError('CONFIG_INVALID', `VIGIL_BIGQUERY_DATASET=${options.dataset} is not a valid dataset name`);
  const logger = options.logger.child({ component: 'warehouse-bigquery' });
  const batchRows = options.insertBatchRows ?? 500;
  const batchBytes = options.insertBatchBytes ?? 5 * 1024 * 1024;
  const bigquery = new BigQuery({
    projectId: options.projectId,
    // The emulator wants no credentials, but the client authorises every request; send none.
    ...(process.env.BIGQUERY_EMULATOR_HOST ? { authClient: new PassThroughClient() } : {}),
  });
  const dataset = bigquery.dataset(options.dataset, { location: options.location });
  const qualified = (table: string): string => `\`${options.projectId}.${options.dataset}.${table}\``;
  let closed = false;

  const open = (): void => {
    if (closed) throw new VigilError('SHUTTING_DOWN', 'the BigQuery warehouse is closed');
  };

  const ownNames = [...TABLE_NAMES, ...TABLE_NAMES.map((n) => `${n}${RAW_SUFFIX}`), ...analystViewNames(options.viewsDir ?? DEFAULT_VIEWS_DIR)];
  const qualifyOwnTables = tableQualifier(ownNames, qualified);

  async function run(sql: string, params?: Readonly<Record<string, unknown>>): Promise<QueryResult> {
    open();
    sql = qualifyOwnTables(sql);
    const typed = params ? toQueryParams(params, (d) => bigquery.timestamp(d)) : undefined;
    try {
      const [job] = await bigquery.createQueryJob({
        query: sql,
        location: options.location,
        useLegacySql: false,
        defaultDataset: { projectId: options.projectId, datasetId: options.dataset },
        ...(typed ? { params: typed.params, types: typed.types } : {}),
      });
      const [rows, , response] = await job.getQueryResults({ autoPaginate: true });
      const fields: TableField[] = (response as { schema?: { fields?: TableField[] } } | undefined)?.schema?.fields ?? [];
      const columns = fields.map((f) => ({ name: f.name!, type: standardType(f.type ?? 'STRING') }));
      return {
        columns,
        rows: (rows as Record<string, unknown>[]).map((row) =>
          Object.fromEntries(columns.map((c) => [c.name, fromResultValue(c.type, row[c.name])]))),
      };
    } catch (error) {
      throw backendError(error, 'BigQuery query');
    }
  }

  /** insertAll in bounded requests; insertId = the row key, so BigQuery can drop retried requests. */
  async function insert(table: Table, spec: TableSpec, rows: readonly Record<string, unknown>[], writtenAt: string | undefined): Promise<void> {
    const entries = rows.map((row) => {
      const json = writtenAt ? { ...row, [WRITTEN_AT]: writtenAt } : row;
      return { insertId: insertIdOf(spec, row), json, bytes: JSON.stringify(json).length };
    });
    for (const chunk of boundedChunks(entries, { maxCount: batchRows, maxBytes: batchBytes }, (e) => e.bytes)) {
      try {
        await table.insert(chunk.map(({ insertId, json }) => ({ insertId, json })), { raw: true });
      } catch (error) {
        throw backendError(error, `BigQuery insert into ${spec.name}`);
      }
    }
  }

  const validated = (spec: TableSpec, rows: readonly WarehouseRow[], offset = 0): Record<string, unknown>[] =>
    rows.map((row, i) => toInsertRow(spec, row, offset + i));

  const retentionDays = options.retentionDays ?? 0;
  /** Partition expiration of a table: a string of milliseconds, or null for none. */
  const expirationOf = (spec: TableSpec): string | null =>
    EXPIRING_TABLES.has(spec.name) && retentionDays > 0 ? String(retentionDays * 86_400_000) : null;

  async function provisionTable(spec: TableSpec): Promise<void> {
    const schema = [
      ...spec.columns.map((c) => ({
        name: c.name, type: c.type, mode: c.required ? 'REQUIRED' : 'NULLABLE', ...(c.description ? { description: c.description } : {}),
      })),
      { name: WRITTEN_AT, type: 'TIMESTAMP', mode: 'NULLABLE', description: 'When Vigil wrote this version of the row; the view keeps the newest per key.' },
    ];
    const raw = dataset.table(`${spec.name}${RAW_SUFFIX}`);
    const outcome = await createUnlessExists(raw, () => raw.create({
      schema: { fields: schema },
      description: `${spec.description} Every version written; query the view ${spec.name} instead.`,
      ...(spec.partitionBy ? { timePartitioning: { type: 'DAY', field: spec.partitionBy, ...(expirationOf(spec) ? { expirationMs: expirationOf(spec) } : {}) } } : {}),
      ...(spec.clusterBy ? { clustering: { fields: [...spec.clusterBy] } } : {}),
    }));
    if (outcome === 'existed') {
      // Additive schema changes only: BigQuery can add NULLABLE columns in place.
      const [metadata] = await raw.getMetadata();
      const expiration = expirationOf(spec);
      if (spec.partitionBy && (metadata.timePartitioning?.expirationMs ?? null) !== expiration) {
        // Retention changed: null clears the expiration (keep forever).
        // null is what the API takes to clear it; the client's type only knows strings.
        await raw.setMetadata({ timePartitioning: { type: 'DAY', field: spec.partitionBy, expirationMs: expiration as string } });
        logger.info({ table: spec.name, partitionExpirationDays: retentionDays > 0 ? retentionDays : null }, 'partition expiration set');
      }
      const have = new Set(((metadata.schema?.fields ?? []) as TableField[]).map((f) => f.name));
      const missing = schema.filter((f) => !have.has(f.name));
      if (missing.length > 0) {
        await raw.setMetadata({ schema: { fields: [...(metadata.schema?.fields ?? []), ...missing.map((f) => ({ ...f, mode: 'NULLABLE' }))] } });
        logger.info({ table: spec.name, added: missing.map((f) => f.name) }, 'columns added');
      }
    }
    await run(`CREATE OR REPLACE VIEW ${qualified(spec.name)} OPTIONS (description = ${JSON.stringify(spec.description)}) AS
${spec.mergeColumns ? mergedViewSql(spec, qualified(`${spec.name}${RAW_SUFFIX}`)) : newestViewSql(spec, qualified(`${spec.name}${RAW_SUFFIX}`))}`);
  }

  async function replaceFrom(name: TableName, batches: AsyncIterable<readonly WarehouseRow[]>): Promise<{ rows: number }> {
    open();
    const spec = specOf(name);
    const stagingName = `_staging_${name}_${randomUUID().replaceAll('-', '')}`;
    const staging = dataset.table(stagingName);
    const columns = spec.columns.map((c) => c.name).join(', ');
    let total = 0;
    try {
      await createStagingTable(dataset, stagingName, spec);
      for await (const batch of batches) {
        await insert(staging, spec, validated(spec, batch, total), undefined);
        total += batch.length;
      }
      if (total > 0) {
        // The one statement that changes what analysts see: all of the load, or (if it fails) none.
        await run(`INSERT INTO ${qualified(`${name}${RAW_SUFFIX}`)} (${columns}, ${WRITTEN_AT})
SELECT ${columns}, CURRENT_TIMESTAMP() FROM ${qualified(stagingName)}`);
      }
      return { rows: total };
    } finally {
      // Awaited, not left in the background: the emulator corrupts its catalog when a table is
      // dropped while other requests run. A table not dropped expires on its own.
      await staging.delete().catch((error: unknown) => logger.warn({ err: error, table: stagingName }, 'staging table not deleted; it expires on its own'));
    }
  }

  return {
    kind: 'bigquery',
    dialect: 'googlesql',

    async provision() {
      open();
      try {
        const created = await createUnlessExists(dataset, () => dataset.create({ location: options.location }));
        if (created === 'created') logger.info({ dataset: options.dataset }, 'dataset created');
        for (const name of TABLE_NAMES) await provisionTable(TABLES[name]);
        for (const file of analystViewFiles(options.viewsDir ?? DEFAULT_VIEWS_DIR)) {
          await run(readFileSync(file, 'utf8').replaceAll('${dataset}', options.dataset));
        }
      } catch (error) {
        throw backendError(error, 'BigQuery provision');
      }
    },

    async append(name, rows) {
      open();
      if (rows.length === 0) return;
      const spec = specOf(name);
      // One version per key per call: versions of one call share their _written_at.
      const checked = validated(spec, mergeRowsByKey(spec, rows));
      await insert(dataset.table(`${name}${RAW_SUFFIX}`), spec, checked, new Date().toISOString());
    },

    async replaceRows(name, rows) {
      await replaceFrom(name, (async function* () {
        yield rows;
      })());
    },

    replaceRowsFrom: replaceFrom,

    query: run,

    async namedQuery(name, params, literals) {
      return run(namedQuerySql(name, literals), params);
    },

    async ping() {
      open();
      try {
        await dataset.getMetadata();
      } catch (error) {
        throw backendError(error, 'BigQuery ping');
      }
    },

    async close() {
      closed = true;
    },
  };
}

/**
 * Looks before creating: the emulator answers a duplicate create with a 500 (which the client
 * retries for seconds) where BigQuery answers 409; a 409 from a concurrent provision still counts.
 */
async function createUnlessExists(resource: { exists(): Promise<[boolean]> }, create: () => Promise<unknown>): Promise<'created' | 'existed'> {
  const [exists] = await resource.exists();
  return exists ? 'existed' : createIfMissing(create);
}

/**
 * BigQuery drops a second insert with the same insertId for about a minute. A merging table's
 * later version of a key (a vital filled in) must not be dropped as a retry: its id names the content too.
 */
function insertIdOf(spec: TableSpec, row: Record<string, unknown>): string {
  const key = spec.key.map((k) => String(row[k])).join('|');
  return spec.mergeColumns ? `${key}|${createHash('sha256').update(JSON.stringify(row)).digest('hex').slice(0, 16)}` : key;
}

/** The newest version of each key (batch loads replace rows by writing a newer version). */
function newestViewSql(spec: TableSpec, raw: string): string {
  return `SELECT * EXCEPT (${WRITTEN_AT}, _version) FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY ${spec.key.join(', ')} ORDER BY ${WRITTEN_AT} DESC) AS _version
  FROM ${raw}
) WHERE _version = 1`;
}

/**
 * The reading merge rule over every appended version of a key (core/warehouse-schema.ts
 * `mergeColumns`): each merge column is its first non-null value by write order, every other
 * column the first version's. Appends are never rewritten, so this is what the DuckDB upsert holds.
 */
function mergedViewSql(spec: TableSpec, raw: string): string {
  const merge = new Set(spec.mergeColumns);
  // The partitioning and clustering columns are grouped on too, so a filter on them (observed_at,
  // patient_id) still prunes partitions and blocks through the view. For `vitals` they are parts of
  // the reading id, the same in every version of it, so grouping on them changes no result.
  const groupBy = [...new Set([...spec.key, ...(spec.partitionBy ? [spec.partitionBy] : []), ...(spec.clusterBy ?? [])])];
  const grouped = new Set(groupBy);
  const columns = spec.columns.map(({ name }) => {
    if (grouped.has(name)) return name;
    const ignoreNulls = merge.has(name) ? ' IGNORE NULLS' : '';
    return `ARRAY_AGG(${name}${ignoreNulls} ORDER BY ${WRITTEN_AT} LIMIT 1)[SAFE_OFFSET(0)] AS ${name}`;
  });
  return `SELECT ${columns.join(',\n  ')}\nFROM ${raw}\nGROUP BY ${groupBy.join(', ')}`;
}

function specOf(name: TableName): TableSpec {
  const spec = TABLES[name];
  if (!spec) throw new VigilError('VALIDATION_FAILED', `unknown warehouse table ${String(name)}`);
  return spec;
}

/**
 * Rewrites `FROM vitals` / `JOIN patients` (this dataset's tables and views, unqualified) to the
 * fully qualified name. BigQuery resolves them through the job's default dataset as well; the
 * emulator does not (it binds an unqualified name to whichever dataset first had that table), and
 * qualified names keep a query meaning the same thing wherever it runs.
 */
/** A nullable copy of the table's columns that deletes itself if a killed process leaves it behind. */
export async function createStagingTable(dataset: Dataset, stagingName: string, spec: TableSpec): Promise<Table> {
  try {
    const [table] = await dataset.table(stagingName).create({
      schema: { fields: spec.columns.map((c) => ({ name: c.name, type: c.type, mode: 'NULLABLE' })) },
      expirationTime: String(Date.now() + STAGING_TTL_MS),
    });
    return table;
  } catch (error) {
    throw backendError(error, `BigQuery staging table for ${spec.name}`);
  }
}

export function tableQualifier(names: readonly string[], qualify: (name: string) => string): (sql: string) => string {
  const pattern = new RegExp(`\\b(FROM|JOIN)(\\s+)\`?(${names.join('|')})\`?(?![\\w.\`-])`, 'gi');
  return (sql) => sql.replace(pattern, (_match, keyword: string, space: string, name: string) => `${keyword}${space}${qualify(name.toLowerCase())}`);
}

function analystViewNames(dir: string): string[] {
  return analystViewFiles(dir).flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/VIEW\s+`\$\{dataset\}\.(\w+)`/gi)].map((m) => m[1]!));
}

/** The analyst views in filename order; a missing folder means none (yet). */
function analystViewFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.sql')).sort().map((f) => path.join(dir, f));
}
