import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { VigilConfig } from '../../core/config.ts';
import { VigilError } from '../../core/errors.ts';
import type { Logger } from '../../core/observability/logger.ts';
import type { AuditLog } from '../../core/ports/audit-log.ts';
import type { AlertStore } from '../../core/ports/alert-store.ts';
import type { DeviceAssociations } from '../../core/ports/device-associations.ts';
import type { Bus } from '../../core/ports/bus.ts';
import type { BulkLoad } from '../../core/ports/bulk-load.ts';
import type { ObjectStore } from '../../core/ports/object-store.ts';
import type { SessionRevocations } from '../../core/ports/session-revocations.ts';
import type { TimeSeriesStore } from '../../core/ports/timeseries-store.ts';
import type { Warehouse } from '../../core/ports/warehouse.ts';
import type { BigtableTableOptions } from '../../adapters/gcp/bigtable-table.ts';

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

/** How one store beside the time series opens on each backend. */
interface BesideTimeSeries<T> {
  /** Its file in the data folder, embedded. */
  readonly sqliteFile: string;
  /** Its table in the time series' Bigtable instance. */
  readonly bigtableTable: string;
  embedded(path: string): Promise<T>;
  bigtable(options: BigtableTableOptions): Promise<T>;
}

/**
 * Shared ward state lives where the time series lives: embedded, the processes of one host share
 * a file in the data folder; on Bigtable, every instance using the same instance shares one table.
 */
function openBesideTimeSeries<T>(config: VigilConfig, logger: Logger, store: BesideTimeSeries<T>): Promise<T> {
  switch (config.timeseries.kind) {
    case 'embedded':
      return store.embedded(dataFile(config, store.sqliteFile));
    case 'bigtable':
      return store.bigtable({
        projectId: config.googleCloudProject,
        instanceId: config.timeseries.bigtableInstance,
        tableId: store.bigtableTable,
        logger,
      });
  }
}

export function openTimeSeries(config: VigilConfig, logger: Logger): Promise<TimeSeriesStore> {
  return openBesideTimeSeries(config, logger, {
    sqliteFile: 'timeseries.sqlite',
    bigtableTable: config.timeseries.bigtableTable,
    embedded: async (path) => (await import('../../adapters/embedded/timeseries-sqlite.ts')).createSqliteTimeSeriesStore({ path }),
    bigtable: async (options) => (await import('../../adapters/gcp/timeseries-bigtable.ts')).createBigtableTimeSeriesStore({ ...options, retentionDays: config.retention.days }),
  });
}

/** Signed-out sessions: a sign-out on one instance holds on all of them. */
export function openSessionRevocations(config: VigilConfig, logger: Logger): Promise<SessionRevocations> {
  return openBesideTimeSeries(config, logger, {
    sqliteFile: 'sessions.sqlite',
    bigtableTable: config.timeseries.bigtableSessionsTable,
    embedded: async (path) => (await import('../../adapters/embedded/session-revocations-sqlite.ts')).createSqliteSessionRevocations({ path }),
    bigtable: async (options) => (await import('../../adapters/gcp/session-revocations-bigtable.ts')).createBigtableSessionRevocations(options),
  });
}

/** The audit log: every dashboard instance appends to and reads one trail. */
export function openAuditLog(config: VigilConfig, logger: Logger): Promise<AuditLog> {
  return openBesideTimeSeries(config, logger, {
    sqliteFile: 'audit.sqlite',
    bigtableTable: config.timeseries.bigtableAuditTable,
    embedded: async (path) => (await import('../../adapters/embedded/audit-log-sqlite.ts')).createSqliteAuditLog({ path }),
    bigtable: async (options) => (await import('../../adapters/gcp/audit-log-bigtable.ts')).createBigtableAuditLog({ ...options, retentionDays: config.retention.auditDays }),
  });
}

/**
 * Bed and device associations (the ward census from ADT): every edge that records ADT and every
 * dashboard that shows the ward read the same intervals.
 */
export function openDeviceAssociations(config: VigilConfig, logger: Logger): Promise<DeviceAssociations> {
  return openBesideTimeSeries(config, logger, {
    sqliteFile: 'associations.sqlite',
    bigtableTable: config.timeseries.bigtableAssociationsTable,
    embedded: async (path) => (await import('../../adapters/embedded/device-associations-sqlite.ts')).createSqliteDeviceAssociations({ path }),
    bigtable: async (options) => (await import('../../adapters/gcp/device-associations-bigtable.ts')).createBigtableDeviceAssociations(options),
  });
}

/**
 * Alert episodes and acknowledgements: every instance sees one set of alerts, so an episode opens
 * once per patient and an acknowledgement on one dashboard shows on all of them.
 */
export function openAlertStore(config: VigilConfig, logger: Logger): Promise<AlertStore> {
  return openBesideTimeSeries(config, logger, {
    sqliteFile: 'alerts.sqlite',
    bigtableTable: config.timeseries.bigtableAlertsTable,
    embedded: async (path) => (await import('../../adapters/embedded/alert-store-sqlite.ts')).createSqliteAlertStore({ path }),
    bigtable: async (options) => (await import('../../adapters/gcp/alert-store-bigtable.ts')).createBigtableAlertStore(options),
  });
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
        memoryLimitMb: config.warehouse.duckdbMemoryMb,
        ...(options.readOnly ? { readOnly: true } : {}),
        ...(options.lockedDown ? { lockedDown: true } : {}),
      });
    }
    case 'bigquery': {
      const { createBigQueryWarehouse } = await import('../../adapters/gcp/warehouse-bigquery.ts');
      return createBigQueryWarehouse(bigQueryOptions(config, logger));
    }
  }
}

/** What `vigil load` writes through: the warehouse (to provision and close) and its bulk loads. */
export interface BulkLoadBackends {
  readonly warehouse: Warehouse;
  readonly bulkLoad: BulkLoad;
  /** Where BigQuery's loads stage their files (Cloud Storage); provisioned and closed by the caller. */
  readonly objectStore?: ObjectStore;
}

/**
 * The warehouse with its bulk loads (core/ports/bulk-load.ts). On DuckDB both go through one
 * instance (one process holds the file, and `vigil backup`'s snapshot waits for its loads); on
 * BigQuery the rows are staged in Cloud Storage and a load job reads them.
 */
export async function openBulkLoad(config: VigilConfig, logger: Logger): Promise<BulkLoadBackends> {
  switch (config.warehouse.kind) {
    case 'duckdb': {
      const { createDuckDbBulkLoad } = await import('../../adapters/embedded/bulk-load-duckdb.ts');
      const { createDuckDbWarehouse } = await import('../../adapters/embedded/warehouse-duckdb.ts');
      const warehouse = await createDuckDbWarehouse({ path: dataFile(config, 'warehouse.duckdb'), memoryLimitMb: config.warehouse.duckdbMemoryMb });
      return { warehouse, bulkLoad: createDuckDbBulkLoad(warehouse) };
    }
    case 'bigquery': {
      const { createBigQueryBulkLoad } = await import('../../adapters/gcp/bulk-load-bigquery.ts');
      const { createBigQueryWarehouse } = await import('../../adapters/gcp/warehouse-bigquery.ts');
      const options = bigQueryOptions(config, logger);
      const warehouse = createBigQueryWarehouse(options);
      const objectStore = await openObjectStore(config, logger);
      return { warehouse, objectStore, bulkLoad: createBigQueryBulkLoad({ ...options, warehouse, objectStore }) };
    }
  }
}

function bigQueryOptions(config: VigilConfig, logger: Logger) {
  return {
    projectId: config.googleCloudProject,
    dataset: config.warehouse.bigqueryDataset,
    location: config.warehouse.bigqueryLocation,
    retentionDays: config.retention.days,
    logger,
  };
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
