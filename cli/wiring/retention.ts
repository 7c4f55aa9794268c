import type { VigilConfig } from '../../core/config.ts';
import type { Logger } from '../../core/observability/logger.ts';
import type { Metrics } from '../../core/observability/metrics.ts';
import { purgeOf } from '../../core/ports/retention.ts';
import type { RetentionTarget } from '../../stream-processor/retention-purge.ts';
import { startRetentionPurge } from '../../stream-processor/retention-purge.ts';
import { openAlertStore, openAuditLog } from './open-backends.ts';

/**
 * The processor's retention purge over the stores that expire nothing themselves (the embedded
 * ones; Bigtable and BigQuery adapters have no purge: their GC rules and partition expiration,
 * set by `vigil provision`, do it). A processor without a dashboard in its process still purges
 * the audit log and alert store of its data folder, opening them for that.
 */
export async function startStoreRetention(
  config: VigilConfig, logger: Logger, metrics: Metrics,
  held: { timeseries?: object | undefined; warehouse?: object | undefined; audit?: object | undefined; alertStore?: object | undefined },
): Promise<{ stop(): Promise<void> }> {
  const opened: { close(): Promise<void> }[] = [];
  const embedded = config.timeseries.kind === 'embedded';
  const audit = held.audit ?? (embedded && config.retention.auditDays > 0 ? track(await openAuditLog(config, logger), opened) : undefined);
  const alertStore = held.alertStore ?? (embedded && config.retention.days > 0 ? track(await openAlertStore(config, logger), opened) : undefined);
  const candidates: { name: string; store: object | undefined; days: number }[] = [
    { name: 'time series', store: held.timeseries, days: config.retention.days },
    { name: 'warehouse', store: held.warehouse, days: config.retention.days },
    { name: 'alert store', store: alertStore, days: config.retention.days },
    { name: 'audit log', store: audit, days: config.retention.auditDays },
  ];
  const targets: RetentionTarget[] = candidates.flatMap(({ name, store, days }) => {
    const purge = purgeOf(store);
    return purge ? [{ name, store: purge, days }] : [];
  });
  const purge = startRetentionPurge({ targets, intervalMs: config.retention.purgeIntervalMs, logger, metrics });
  return {
    async stop() {
      await purge.stop();
      for (const store of opened) await store.close();
    },
  };
}

function track<T extends { close(): Promise<void> }>(store: T, opened: { close(): Promise<void> }[]): T {
  opened.push(store);
  return store;
}
