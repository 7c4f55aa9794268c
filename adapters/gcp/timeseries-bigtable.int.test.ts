import { Bigtable } from '@google-cloud/bigtable';
import { afterAll, describe, expect, it } from 'vitest';
import { describeTimeSeriesContract } from '../../core/contracts/timeseries-contract.ts';
import { runPrefix } from '../../core/contracts/wait-for.ts';
import { createLogger } from '../../core/observability/logger.ts';
import { createBigtableTimeSeriesStore } from './timeseries-bigtable.ts';
import { gcpEmulatorsOrSkip } from './test-support/emulator-gate.ts';

const env = gcpEmulatorsOrSkip('adapters/gcp/timeseries-bigtable.int.test.ts');

if (env) {
  // A table per run: cbtemulator has no instance admin, so the instance id is just a name.
  const location = { projectId: env.GOOGLE_CLOUD_PROJECT, instanceId: 'vigil', tableId: runPrefix('vitals-ct') };
  const logger = createLogger({ level: 'silent' });

  describeTimeSeriesContract('bigtable (cbtemulator)', async () => createBigtableTimeSeriesStore({ ...location, logger }));

  describe('bigtable table layout', () => {
    it('provision gives each family its GC rule: 30 days for readings (every version: the oldest is a vital\'s value), 30 days and one version for scores', async () => {
      const client = new Bigtable({ projectId: location.projectId, metricsEnabled: false });
      try {
        const [families] = await client.instance(location.instanceId).table(location.tableId).getFamilies();
        const rules = Object.fromEntries(families.map((f) => [f.id, JSON.stringify(f.metadata?.gcRule)]));
        expect(Object.keys(rules).sort()).toEqual(['i', 'p', 's', 'v']);
        for (const family of ['v', 's']) expect(rules[family]).toContain(String(30 * 86_400));
        expect(rules.s).toContain('"maxNumVersions":1');
        expect(rules.v).not.toContain('maxNumVersions');
        expect(rules.p).toContain('"maxNumVersions":1');
      } finally {
        await client.close();
      }
    });
  });

  afterAll(async () => {
    const client = new Bigtable({ projectId: location.projectId, metricsEnabled: false });
    await client.instance(location.instanceId).table(location.tableId).delete().catch(() => undefined);
    await client.close();
  });
}
