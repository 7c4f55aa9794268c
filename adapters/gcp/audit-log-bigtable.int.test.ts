import { Bigtable } from '@google-cloud/bigtable';
import { afterAll, describe, expect, it } from 'vitest';
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

  describe('bigtable audit table retention', () => {
    it('provision follows VIGIL_AUDIT_RETENTION_DAYS: an age rule (by entry time) or, with 0, one version only', async () => {
      const rule = async (retentionDays: number): Promise<string> => {
        const log = createBigtableAuditLog({ ...location, tableId: `${location.tableId}-rule`, retentionDays, logger: createLogger({ level: 'silent' }) });
        await log.provision();
        await log.close();
        const client = new Bigtable({ projectId: location.projectId, metricsEnabled: false });
        try {
          const [families] = await client.instance(location.instanceId).table(`${location.tableId}-rule`).getFamilies();
          return JSON.stringify(families.find((f) => f.id === 'e')?.metadata?.gcRule ?? null);
        } finally {
          await client.close();
        }
      };
      const sixYears = await rule(2190);
      expect(sixYears).toContain(String(2190 * 86_400));
      expect(sixYears).toContain('"maxNumVersions":1');
      const forever = await rule(0);
      expect(forever).not.toContain('maxAge');
      expect(forever).toContain('"maxNumVersions":1');
    }, 60_000);
  });

  afterAll(async () => {
    const client = new Bigtable({ projectId: location.projectId, metricsEnabled: false });
    await client.instance(location.instanceId).table(location.tableId).delete().catch(() => undefined);
    await client.instance(location.instanceId).table(`${location.tableId}-rule`).delete().catch(() => undefined);
    await client.close();
  });
}
