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
    const rulesOf = async (): Promise<Record<string, string>> => {
      const client = new Bigtable({ projectId: location.projectId, metricsEnabled: false });
      try {
        const [families] = await client.instance(location.instanceId).table(location.tableId).getFamilies();
        return Object.fromEntries(families.map((f) => [f.id, JSON.stringify(f.metadata?.gcRule ?? null)]));
      } finally {
        await client.close();
      }
    };
    const provisionWith = async (retentionDays: number | undefined): Promise<void> => {
      const store = createBigtableTimeSeriesStore({ ...location, logger, ...(retentionDays === undefined ? {} : { retentionDays }) });
      try {
        await store.provision();
      } finally {
        await store.close();
      }
    };

    it('provision follows VIGIL_RETENTION_DAYS: by default no age rule (kept forever); with 30 days an age rule on readings (every version: the oldest is a vital\'s value) and scores (one version); back to 0 clears it', async () => {
      await provisionWith(undefined);
      let rules = await rulesOf();
      expect(Object.keys(rules).sort()).toEqual(['i', 'p', 's', 'v']);
      expect(rules.v, 'readings family GC rule by default').not.toContain('maxAge');
      expect(rules.s, 'scores family GC rule by default').not.toContain('maxAge');
      expect(rules.s).toContain('"maxNumVersions":1');
      expect(rules.p).toContain('"maxNumVersions":1');

      await provisionWith(30);
      rules = await rulesOf();
      for (const family of ['v', 's']) expect(rules[family], `family ${family} with 30 days`).toContain(String(30 * 86_400));
      expect(rules.s).toContain('"maxNumVersions":1');
      expect(rules.v).not.toContain('maxNumVersions');

      await provisionWith(0);
      rules = await rulesOf();
      expect(rules.v, 'readings family after going back to 0 days').not.toContain('maxAge');
      expect(rules.s, 'scores family after going back to 0 days').not.toContain('maxAge');
    });
  });

  afterAll(async () => {
    const client = new Bigtable({ projectId: location.projectId, metricsEnabled: false });
    await client.instance(location.instanceId).table(location.tableId).delete().catch(() => undefined);
    await client.close();
  });
}
