import { Bigtable } from '@google-cloud/bigtable';
import { afterAll } from 'vitest';
import { describeAuditLogContract } from '../../core/contracts/audit-log-contract.ts';
import { runPrefix } from '../../core/contracts/wait-for.ts';
import { createLogger } from '../../core/observability/logger.ts';
import { createBigtableAuditLog } from './audit-log-bigtable.ts';
import { gcpEmulatorsOrSkip } from './test-support/emulator-gate.ts';

const env = gcpEmulatorsOrSkip('adapters/gcp/audit-log-bigtable.int.test.ts');

if (env) {
  // A table per run: cbtemulator has no instance admin, so the instance id is just a name.
  const location = { projectId: env.GOOGLE_CLOUD_PROJECT, instanceId: 'vigil', tableId: runPrefix('audit-ct') };

  // Every call opens another client on the same table, as a second dashboard instance would.
  describeAuditLogContract('bigtable (cbtemulator)', async () =>
    createBigtableAuditLog({ ...location, logger: createLogger({ level: 'silent' }) }), { testTimeoutMs: 60_000 });

  afterAll(async () => {
    const client = new Bigtable({ projectId: location.projectId, metricsEnabled: false });
    await client.instance(location.instanceId).table(location.tableId).delete().catch(() => undefined);
    await client.close();
  });
}
