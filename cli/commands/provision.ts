import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/observability/logger.ts';
import { openAlertStore, openAuditLog, openBus, openDeviceAssociations, openObjectStore, openTimeSeries, openWarehouse } from '../wiring/open-backends.ts';
import { provisionSteps } from '../wiring/provision.ts';
import type { CliCommand } from '../command.ts';
import { parseCommandArgs } from '../command.ts';

const help = `Usage: vigil provision [--only bus,timeseries,warehouse,objects]

Creates or updates every topic, subscription, dead-letter topic, time-series table and column
family, the audit log's table, warehouse dataset, table and view, and the landing bucket for the configured backends.
Idempotent: safe to re-run after an upgrade.

Options:
  --only <list>   provision only these parts (comma-separated: bus, timeseries, warehouse, objects;
                  timeseries includes the audit log, which lives beside it)
  -h, --help      show this help

Environment:
  VIGIL_BUS (embedded|pubsub|kafka), VIGIL_TIMESERIES (embedded|bigtable),
  VIGIL_WAREHOUSE (duckdb|bigquery), VIGIL_DATA_DIR, GOOGLE_CLOUD_PROJECT, KAFKA_BROKERS,
  PUBSUB_EMULATOR_HOST, BIGTABLE_EMULATOR_HOST, BIGQUERY_EMULATOR_HOST, STORAGE_EMULATOR_HOST.
  Against real Google Cloud it uses Application Default Credentials (see README, "Running at scale").`;

const PARTS = ['bus', 'timeseries', 'warehouse', 'objects'] as const;

const provision: CliCommand = {
  name: 'provision',
  summary: 'create or update topics, tables and views',
  help,
  async run(argv) {
    const { values } = parseCommandArgs(argv, { only: { type: 'string' } });
    const only = new Set(values.only ? values.only.split(',').map((s) => s.trim()) : PARTS);
    for (const part of only) {
      if (!(PARTS as readonly string[]).includes(part)) {
        console.error(`vigil provision: unknown part "${part}" (expected ${PARTS.join(', ')})`);
        return 2;
      }
    }
    const config = loadConfig();
    const logger = createLogger({ level: config.logLevel, name: 'vigil-provision' });
    const backends = {
      bus: only.has('bus') ? await openBus(config, logger) : undefined,
      timeseries: only.has('timeseries') ? await openTimeSeries(config, logger) : undefined,
      auditLog: only.has('timeseries') ? await openAuditLog(config, logger) : undefined,
      alertStore: only.has('timeseries') ? await openAlertStore(config, logger) : undefined,
      associations: only.has('timeseries') ? await openDeviceAssociations(config, logger) : undefined,
      warehouse: only.has('warehouse') ? await openWarehouse(config, logger) : undefined,
      objectStore: only.has('objects') ? await openObjectStore(config, logger) : undefined,
    };
    try {
      for (const step of provisionSteps(config, backends)) {
        const started = performance.now();
        await step.run();
        console.log(`provisioned ${step.name} (${Math.round(performance.now() - started)} ms)`);
      }
      return 0;
    } finally {
      await Promise.allSettled(Object.values(backends).map((b) => b?.close()));
    }
  },
};

export default provision;
