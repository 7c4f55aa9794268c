import { randomUUID } from 'node:crypto';
import { Bigtable } from '@google-cloud/bigtable';
import { afterAll, describe, expect, it } from 'vitest';
import { describeAlertStoreContract } from '../../core/contracts/alert-store-contract.ts';
import { budget, runPrefix } from '../../core/contracts/wait-for.ts';
import type { Alert } from '../../core/domain/alert.ts';
import { createLogger } from '../../core/observability/logger.ts';
import { createBigtableAlertStore } from './alert-store-bigtable.ts';
import { gcpEmulatorsOrSkip } from './test-support/emulator-gate.ts';

const env = gcpEmulatorsOrSkip('adapters/gcp/alert-store-bigtable.int.test.ts');

if (env) {
  // A table per run: cbtemulator has no instance admin, so the instance id is just a name.
  const location = { projectId: env.GOOGLE_CLOUD_PROJECT, instanceId: 'vigil', tableId: runPrefix('alerts-ct') };
  const handle = () => createBigtableAlertStore({ ...location, logger: createLogger({ level: 'silent' }) });
  const client = new Bigtable({ projectId: location.projectId, metricsEnabled: false });
  const table = client.instance(location.instanceId).table(location.tableId);

  // Two clients on one table: two Vigil instances.
  describeAlertStoreContract('bigtable (cbtemulator, two clients)', async () => [handle(), handle()]);

  describe('Bigtable alert store: an instance that died between its two writes', () => {
    const offer = (patientId: string): Alert => ({
      id: randomUUID(), patientId, status: 'open', openedAt: Date.now(), closedAt: null, reasons: ['news2'],
      news2Score: 6, riskScore: null, peakNews2: 6, peakRisk: null, belowSince: null, acknowledgedAt: null, acknowledgedBy: null,
    });

    it('an episode claimed but never written is completed by the next opener, under the claimed id', async () => {
      const store = handle();
      await store.provision();
      const patientId = runPrefix('claimed');
      const claimedId = randomUUID();
      await table.insert([{ key: `open#${patientId}`, data: { a: { episode: claimedId } } }]);
      const result = await store.openOnce(offer(patientId));
      expect(result).toMatchObject({ opened: false, alert: { id: claimedId, patientId, status: 'open' } });
      expect(await store.openFor(patientId)).toMatchObject({ id: claimedId });
      await store.close();
    }, budget(30_000));

    it('a marker left pointing at a closed episode is released, and a new episode opens', async () => {
      const store = handle();
      const patientId = runPrefix('stale');
      const first = offer(patientId);
      await store.openOnce(first);
      await store.update({ ...first, status: 'closed', closedAt: Date.now() });
      // The closer died before releasing the marker: put it back as it would have been left.
      await table.insert([{ key: `open#${patientId}`, data: { a: { episode: first.id } } }]);
      expect(await store.openFor(patientId)).toBeUndefined();
      const second = offer(patientId);
      expect(await store.openOnce(second)).toMatchObject({ opened: true, alert: { id: second.id } });
      expect(await store.get(first.id)).toMatchObject({ status: 'closed' });
      await store.close();
    }, budget(30_000));
  });

  describe('Bigtable alert store: the visible-alerts index', () => {
    it('drops entries of alerts no longer visible, and entries left without an alert row, as it is read', async () => {
      const store = handle();
      const patientId = runPrefix('index');
      const alert: Alert = {
        id: randomUUID(), patientId, status: 'open', openedAt: Date.now(), closedAt: null, reasons: ['news2'],
        news2Score: 6, riskScore: null, peakNews2: 6, peakRisk: null, belowSince: null, acknowledgedAt: null, acknowledgedBy: null,
      };
      await store.openOnce(alert);
      await store.acknowledge(alert.id, Date.now(), 'n');
      await store.update({ ...alert, status: 'closed', closedAt: Date.now() });
      const orphan = `visible#${randomUUID()}`;
      const fresh = `visible#${randomUUID()}`;
      await table.insert([
        { key: orphan, data: { a: { shown: { value: '1', timestamp: new Date(Date.now() - 120_000) } } } },
        { key: fresh, data: { a: { shown: '1' } } },
      ]);
      expect((await store.list({ visibleOnly: true, limit: 500 })).map((a) => a.id)).not.toContain(alert.id);
      const [rows] = await table.getRows({ prefix: 'visible#' });
      const keys = rows.map((r) => r.id);
      expect(keys, 'the closed and acknowledged alert left the index').not.toContain(`visible#${alert.id}`);
      expect(keys, 'an old entry without its alert row was dropped').not.toContain(orphan);
      expect(keys, 'a fresh one is kept: its writer may be about to write the row').toContain(fresh);
      await store.close();
    }, budget(30_000));
  });

  afterAll(async () => {
    await table.delete().catch(() => undefined);
    await client.close();
  });
}
