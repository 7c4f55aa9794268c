import { Bigtable } from '@google-cloud/bigtable';
import { afterAll } from 'vitest';
import { describeDeviceAssociationsContract } from '../../core/contracts/device-associations-contract.ts';
import { runPrefix } from '../../core/contracts/wait-for.ts';
import { createLogger } from '../../core/observability/logger.ts';
import { createBigtableDeviceAssociations } from './device-associations-bigtable.ts';
import { gcpEmulatorsOrSkip } from './test-support/emulator-gate.ts';

const env = gcpEmulatorsOrSkip('adapters/gcp/device-associations-bigtable.int.test.ts');

if (env) {
  // A table per run: cbtemulator has no instance admin, so the instance id is just a name.
  const location = { projectId: env.GOOGLE_CLOUD_PROJECT, instanceId: 'vigil', tableId: runPrefix('associations-ct') };

  describeDeviceAssociationsContract('bigtable (cbtemulator)', async () =>
    createBigtableDeviceAssociations({ ...location, logger: createLogger({ level: 'silent' }) }));

  afterAll(async () => {
    const client = new Bigtable({ projectId: location.projectId, metricsEnabled: false });
    await client.instance(location.instanceId).table(location.tableId).delete().catch(() => undefined);
    await client.close();
  });
}
