import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { VigilConfig } from '../../core/config.ts';
import { VigilError } from '../../core/errors.ts';
import type { Logger } from '../../core/observability/logger.ts';
import type { AuditLog } from '../../core/ports/audit-log.ts';
import type { AlertStore } from '../../core/ports/alert-store.ts';
import type { Bus } from '../../core/ports/bus.ts';
import type { ObjectStore } from '../../core/ports/object-store.ts';
import type { SessionRevocations } from '../../core/ports/session-revocations.ts';
import type { TimeSeriesStore } from '../../core/ports/timeseries-store.ts';
import type { Warehouse } from '../../core/ports/warehouse.ts';

/**
 * Opens the adapters the configuration names. Adapter modules are imported lazily so a process
 * only loads the SDKs it uses (the embedded default never loads a Google client).
 */
export async function openBus(config: VigilConfig, logger: Logger): Promise<Bus> {
  switch (config.bus.kind) {
    case 'embedded': {
      const { createSqliteBus } = await import('../../adapters/embedded/bus-sqlite.ts');
      return createSqliteBus({ path: dataFile(config, 'bus.sqlite'), logger });
    }
    case 'pubsub': {
      const { createPubSubBus } = await import('../../adapters/gcp/bus-pubsub.ts');
      return createPubSubBus({ projectId: config.googleCloudProject, logger });
    }
    case 'kafka': {
      const { createKafkaBus } = await import('../../adapters/kafka/bus-kafka.ts');
      return createKafkaBus({ brokers: config.bus.kafkaBrokers, partitions: config.bus.kafkaPartitions, logger });
    }
  }
}

export async function openTimeSeries(config: VigilConfig, logger: Logger): Promise<TimeSeriesStore> {
  switch (config.timeseries.kind) {
    case 'embedded': {
      const { createSqliteTimeSeriesStore } = await import('../../adapters/embedded/timeseries-sqlite.ts');
      return createSqliteTimeSeriesStore({ path: dataFile(config, 'timeseries.sqlite') });
    }
    case 'bigtable': {
      const { createBigtableTimeSeriesStore } = await import('../../adapters/gcp/timeseries-bigtable.ts');
      return createBigtableTimeSeriesStore({
        projectId: config.googleCloudProject,
        instanceId: config.timeseries.bigtableInstance,
        tableId: config.timeseries.bigtableTable,
        retentionDays: config.retention.days,
        logger,
      });
    }
  }
}

/** Signed-out sessions, beside the time-series store: shared by every instance using the same backend. */
export async function openSessionRevocations(config: VigilConfig, logger: Logger): Promise<SessionRevocations> {
  switch (config.timeseries.kind) {
    case 'embedded': {
      const { createSqliteSessionRevocations } = await import('../../adapters/embedded/session-revocations-sqlite.ts');
      return createSqliteSessionRevocations({ path: dataFile(config, 'sessions.sqlite') });
    }
    case 'bigtable': {
      const { createBigtableSessionRevocations } = await import('../../adapters/gcp/session-revocations-bigtable.ts');
      return createBigtableSessionRevocations({
        projectId: config.googleCloudProject,
        instanceId: config.timeseries.bigtableInstance,
        tableId: config.timeseries.bigtableSessionsTable,
        logger,
      });
    }
  }
}

/**
 * The audit log, beside the time-series store: on Bigtable every dashboard instance appends to and
 * reads one trail; embedded, the processes of one host share `audit.sqlite`.
 */
export async function openAuditLog(config: VigilConfig, logger: Logger): Promise<AuditLog> {
  switch (config.timeseries.kind) {
    case 'embedded': {
      const { createSqliteAuditLog } = await import('../../adapters/embedded/audit-log-sqlite.ts');
      return createSqliteAuditLog({ path: dataFile(config, 'audit.sqlite') });
    }
    case 'bigtable': {
      const { createBigtableAuditLog } = await import('../../adapters/gcp/audit-log-bigtable.ts');
      return createBigtableAuditLog({
        projectId: config.googleCloudProject,
        instanceId: config.timeseries.bigtableInstance,
        tableId: config.timeseries.bigtableAuditTable,
        retentionDays: config.retention.auditDays,
        logger,
      });
    }
  }
}

/**
 * Alert episodes and acknowledgements, beside the time-series store: every instance using the same
 * backend (data folder or Bigtable) sees one set of alerts, so an episode opens once per patient
 * and an acknowledgement on one dashboard shows on all of them.
 */
export async function openAlertStore(config: VigilConfig, logger: Logger): Promise<AlertStore> {
  switch (config.timeseries.kind) {
    case 'embedded': {
      const { createSqliteAlertStore } = await import('../../adapters/embedded/alert-store-sqlite.ts');
      return createSqliteAlertStore({ path: dataFile(config, 'alerts.sqlite') });
    }
    case 'bigtable': {
      const { createBigtableAlertStore } = await import('../../adapters/gcp/alert-store-bigtable.ts');
      return createBigtableAlertStore({
        projectId: config.googleCloudProject,
        instanceId: config.timeseries.bigtableInstance,
        tableId: config.timeseries.bigtableAlertsTable,
        logger,
      });
    }
  }
}

/**
 * `readOnly` (the analyst's `vigil sql`): on DuckDB, the file opened read-only with external access,
 * extension auto-install and auto-load off and the configuration locked; on BigQuery, the
 * credentials' IAM role decides (grant analysts roles/bigquery.dataViewer + jobUser only).
 * `lockedDown` (the servers): writable, but without file, network or extension access, so the
 * server can answer analysts' SELECTs (`POST /v1/sql`) while it holds the DuckDB file.
 */
export async function openWarehouse(config: VigilConfig, logger: Logger, options: { readOnly?: boolean; lockedDown?: boolean } = {}): Promise<Warehouse> {
  switch (config.warehouse.kind) {
    case 'duckdb': {
      const { createDuckDbWarehouse } = await import('../../adapters/embedded/warehouse-duckdb.ts');
      return createDuckDbWarehouse({
        path: dataFile(config, 'warehouse.duckdb'),
        ...(options.readOnly ? { readOnly: true } : {}),
        ...(options.lockedDown ? { lockedDown: true } : {}),
      });
    }
    case 'bigquery': {
      // With load jobs: `vigil load` stages its file in Cloud Storage and BigQuery loads it from there.
      const { createBigQueryWarehouseWithLoadJobs } = await import('../../adapters/gcp/warehouse-bigquery-load-job.ts');
      return createBigQueryWarehouseWithLoadJobs({
        projectId: config.googleCloudProject,
        dataset: config.warehouse.bigqueryDataset,
        location: config.warehouse.bigqueryLocation,
        retentionDays: config.retention.days,
        logger,
      });
    }
  }
}

/** Batch files land in Cloud Storage when the warehouse is BigQuery, else in a local folder. */
export async function openObjectStore(config: VigilConfig, logger: Logger): Promise<ObjectStore> {
  if (config.warehouse.kind === 'bigquery') {
    const { createGcsObjectStore } = await import('../../adapters/gcp/object-store-gcs.ts');
    return createGcsObjectStore({ projectId: config.googleCloudProject, bucket: config.objectStore.bucket, logger });
  }
  const { createFsObjectStore } = await import('../../adapters/embedded/object-store-fs.ts');
  return createFsObjectStore({ dir: dataFile(config, 'objects') });
}

function dataFile(config: VigilConfig, name: string): string {
  try {
    mkdirSync(config.dataDir, { recursive: true });
  } catch (cause) {
    throw new VigilError('CONFIG_INVALID', `VIGIL_DATA_DIR=${config.dataDir} cannot be created`, { cause });
  }
  return path.join(config.dataDir, name);
}
