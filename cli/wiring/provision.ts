import type { VigilConfig } from '../../core/config.ts';
import type { AlertStore } from '../../core/ports/alert-store.ts';
import type { DeviceAssociations } from '../../core/ports/device-associations.ts';
import type { AuditLog } from '../../core/ports/audit-log.ts';
import type { Bus } from '../../core/ports/bus.ts';
import type { ObjectStore } from '../../core/ports/object-store.ts';
import type { TimeSeriesStore } from '../../core/ports/timeseries-store.ts';
import type { Warehouse } from '../../core/ports/warehouse.ts';

/** The bus topology every backend gets: readings, their subscription, and the dead-letter topic. */
export function busTopology(config: VigilConfig) {
  return [
    {
      topic: config.bus.readingsTopic,
      partitions: config.bus.kafkaPartitions,
      subscriptions: [
        {
          name: config.bus.subscription,
          ackDeadlineMs: config.processor.ackDeadlineMs,
          deadLetterTopic: config.bus.deadLetterTopic,
          maxDeliveryAttempts: config.processor.maxDeliveryAttempts,
        },
      ],
    },
    // The dead-letter topic keeps a subscription so dead letters are retained until someone reads them.
    { topic: config.bus.deadLetterTopic, partitions: 1, subscriptions: [{ name: `${config.bus.subscription}-dead` }] },
  ];
}

export interface ProvisionStep {
  readonly name: string;
  run(): Promise<void>;
}

/** Everything `vigil provision` creates or updates, in dependency order; each step is idempotent. */
export function provisionSteps(config: VigilConfig, backends: {
  bus?: Bus; timeseries?: TimeSeriesStore; warehouse?: Warehouse; objectStore?: ObjectStore; auditLog?: AuditLog; alertStore?: AlertStore; associations?: DeviceAssociations;
}): ProvisionStep[] {
  const steps: ProvisionStep[] = [];
  const { bus, timeseries, warehouse, objectStore, auditLog, alertStore, associations } = backends;
  if (bus) steps.push({ name: `bus (${bus.kind}): topics and subscriptions`, run: () => bus.provision(busTopology(config)) });
  if (timeseries) steps.push({ name: `time series (${timeseries.kind}): tables and families`, run: () => timeseries.provision() });
  if (auditLog) steps.push({ name: `audit log (${auditLog.kind}): table`, run: () => auditLog.provision() });
  if (alertStore) steps.push({ name: `alert store (${alertStore.kind}): table`, run: () => alertStore.provision() });
  if (associations) steps.push({ name: `device associations (${associations.kind}): table`, run: () => associations.provision() });
  if (warehouse) steps.push({ name: `warehouse (${warehouse.kind}): tables and views`, run: () => warehouse.provision() });
  if (objectStore) steps.push({ name: `object store (${objectStore.kind}): bucket`, run: () => objectStore.provision() });
  return steps;
}
