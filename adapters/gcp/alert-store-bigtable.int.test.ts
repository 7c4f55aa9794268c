import { Bigtable } from '@google-cloud/bigtable';
import { afterAll } from 'vitest';
import { describeAlertStoreContract } from '../../core/contracts/alert-store-contract.ts';
import { runPrefix } from '../../core/contracts/wait-for.ts';
import { createLogger } from '../../core/observability/logger.ts';
import { createBigtableAlertStore } from './alert-store-bigtable.ts';
import { gcpEmulatorsOrSkip } from './test-support/emulator-gate.ts';

const env = gcpEmulatorsOrSkip('adapters/gcp/alert-store-bigtable.int.test.ts');

if (env) {
  // A table per run: cbtemulator has no instance admin, so the instance id is just a name.
  const location = { projectId: env.GOOGLE_CLOUD_PROJECT, instanceId: 'vigil', tableId: runPrefix('alerts-ct') };
  const handle = () => createBigtableAlertStore({ ...location, logger: createLogger({ level: 'silent' }) });

  // Two clients on one table: two Vigil instances.
  describeAlertStoreContract('bigtable (cbtemulator, two clients)', async () => [handle(), handle()]);

  afterAll(async () => {
    const client = new Bigtable({ projectId: location.projectId, metricsEnabled: false });
    await client.instance(location.instanceId).table(location.tableId).delete().catch(() => undefined);
    await client.close();
  });
}
