/**
 * The Google pipeline end to end on the emulators, as separate processes: `vigil provision`, then
 * `vigil simulate --target bus` → Pub/Sub → TWO `vigil process` instances → Bigtable + BigQuery.
 * One processor is SIGKILLed mid-run. Afterwards every reading that reached the bus is in Bigtable
 * and in BigQuery's analyst-facing `vitals` exactly once, compared id by id.
 *
 * "Every reading that reached the bus" comes from an audit subscription on the readings topic
 * (each subscription receives every message), decoded with the wire codec: an independent record
 * of what was accepted, not something the processors wrote.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { budget, runPrefix } from '../../core/contracts/wait-for.ts';
import { createLogger } from '../../core/observability/logger.ts';
import type { Subscription } from '../../core/ports/bus.ts';
import { decodeReading } from '../../core/wire/reading-codec.ts';
import { eventually, startVigil } from '../../cli/test-support/vigil-process.ts';
import type { VigilProcess } from '../../cli/test-support/vigil-process.ts';
import { createPubSubBus } from './bus-pubsub.ts';
import { createBigtableTimeSeriesStore } from './timeseries-bigtable.ts';
import { createBigQueryWarehouse } from './warehouse-bigquery.ts';
import { gcpEmulatorsOrSkip } from './test-support/emulator-gate.ts';
import { runVigil } from './test-support/run-vigil.ts';

const env = gcpEmulatorsOrSkip('adapters/gcp/pipeline.e2e.int.test.ts');

if (env) {
  describe('Google pipeline on the emulators: simulate → Pub/Sub → 2 processors (one SIGKILLed) → Bigtable + BigQuery', () => {
    const run = runPrefix('e2e');
    const names = {
      topic: `${run}-readings`,
      deadTopic: `${run}-readings-dead`,
      subscription: `${run}-processor`,
      table: `${run}-vitals`,
      dataset: run.replaceAll('-', '_'),
      bucket: `${run}-landing`,
    };
    const dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-gcp-e2e-'));
    const vigilEnv: Record<string, string> = {
      ...env,
      VIGIL_BUS: 'pubsub',
      VIGIL_TIMESERIES: 'bigtable',
      VIGIL_WAREHOUSE: 'bigquery',
      VIGIL_READINGS_TOPIC: names.topic,
      VIGIL_DEAD_LETTER_TOPIC: names.deadTopic,
      VIGIL_SUBSCRIPTION: names.subscription,
      VIGIL_BIGTABLE_TABLE: names.table,
      VIGIL_BIGQUERY_DATASET: names.dataset,
      VIGIL_BUCKET: names.bucket,
      VIGIL_DATA_DIR: dataDir,
      VIGIL_AUTH_SECRET: 'e2e-secret-0123456789abcdef',
      // Pub/Sub's smallest ack deadline: what the killed processor held comes back soonest.
      VIGIL_ACK_DEADLINE_MS: '10000',
      VIGIL_BATCH_SIZE: '200',
      VIGIL_LOG_LEVEL: 'warn',
    };
    const logger = createLogger({ level: 'silent' });
    const audit = createPubSubBus({ projectId: env.GOOGLE_CLOUD_PROJECT, logger });
    const auditIds = new Set<string>();
    let auditSubscription: Subscription | undefined;
    const processors: VigilProcess[] = [];

    beforeAll(async () => {
      const provisioned = await runVigil(['provision'], vigilEnv, 240_000);
      expect(provisioned).toMatch(/provisioned bus/);
      // Re-running is safe (and is what an upgrade does).
      await runVigil(['provision', '--only', 'bus,timeseries'], vigilEnv, 120_000);
      await audit.provision([{ topic: names.topic, subscriptions: [{ name: `${names.subscription}-audit`, ackDeadlineMs: 60_000 }] }]);
      auditSubscription = await audit.subscribe({
        topic: names.topic, subscription: `${names.subscription}-audit`,
        maxBatchSize: 500, maxBatchWaitMs: 20, maxInFlight: 5_000, ackDeadlineMs: 60_000,
      }, async (batch) => {
        for (const m of batch) {
          auditIds.add(decodeReading(m.data, m.attributes).readingId);
          await m.ack();
        }
      });
    }, budget(400_000));

    afterAll(async () => {
      for (const p of processors) await p.kill();
      await auditSubscription?.close();
      await audit.close();
      rmSync(dataDir, { recursive: true, force: true });
    }, budget(60_000));

    it('stores every accepted reading exactly once in Bigtable and in BigQuery vitals, though a processor was SIGKILLed', async () => {
      processors.push(await startVigil('process', vigilEnv, { timeoutMs: 60_000 }));
      processors.push(await startVigil('process', vigilEnv, { timeoutMs: 60_000 }));
      const [victim, survivor] = processors as [VigilProcess, VigilProcess];

      const simulation = runVigil(
        ['simulate', '--target', 'bus', '--patients', '12', '--rate', '40', '--duration', '20s', '--faults', 'none', '--seed', '7'],
        vigilEnv, 120_000,
      );
      // Mid-run: once the victim is processing, it holds leased, unacked messages; Pub/Sub must hand
      // them to the survivor. (A condition, not a fixed wait: on a busy machine 8 s was sometimes before its first batch.)
      const processedBy = async (p: VigilProcess): Promise<number> =>
        Number(/^vigil_readings_processed_total (\S+)$/m.exec(await (await fetch(`${p.url}/metrics`)).text())?.[1] ?? 0);
      await eventually(async () => ((await processedBy(victim)) >= 20 ? true : undefined), 90_000, 'the victim processor to store its first readings');
      await victim.kill();
      const summary = await simulation;
      expect(summary).toMatch(/readings sent/);
      // The simulator's own count of readings the bus took (its last line; progress lines come first).
      const published = Number(/readings sent \([^)]*\), (\d+) accepted/.exec(summary)?.[1] ?? NaN);
      expect(published, `the simulator's summary names how many readings the bus accepted: ${summary}`).toBeGreaterThan(300);
      // The audit subscription has seen the whole run once it holds nearly that many ids (two readings
      // may share an id: same device, patient and instant) and has not grown for 5 s. A single quiet
      // poll is not the end on a busy machine: that once "settled" 14 readings short.
      let lastSize = -1, lastGrowth = Date.now();
      await eventually(async () => {
        if (auditIds.size !== lastSize) [lastSize, lastGrowth] = [auditIds.size, Date.now()];
        return auditIds.size >= published * 0.99 && Date.now() - lastGrowth >= 5_000 ? true : undefined;
      }, 180_000, `the audit subscription to see the ${published} published readings and settle`);
      const expected = [...auditIds].sort();
      expect(expected.length, 'distinct readings on the topic, against the simulator\'s count').toBeLessThanOrEqual(published);
      expect(expected.length).toBeGreaterThan(300);

      const store = createBigtableTimeSeriesStore({
        projectId: env.GOOGLE_CLOUD_PROJECT, instanceId: 'vigil', tableId: names.table, logger,
      });
      const warehouse = createBigQueryWarehouse({ projectId: env.GOOGLE_CLOUD_PROJECT, dataset: names.dataset, location: 'US', logger });
      try {
        const bigtableIds = async (): Promise<string[]> => {
          const ids: string[] = [];
          for (const patient of await store.listPatients()) {
            ids.push(...(await store.readReadings(patient, { from: 0, to: Date.now() + 86_400_000 })).map((r) => r.readingId));
          }
          return ids.sort();
        };
        const visibleInBigQuery = async (): Promise<{ reading_id: string; n: number }[]> =>
          (await warehouse.query('SELECT reading_id, COUNT(*) AS n FROM vitals GROUP BY reading_id ORDER BY reading_id')).rows as { reading_id: string; n: number }[];

        // Processing catches up (the survivor gets the victim's messages after their ack deadline).
        await eventually(async () => ((await bigtableIds()).length >= expected.length ? true : undefined), 240_000, 'Bigtable to hold every reading');
        await eventually(async () => ((await visibleInBigQuery()).length >= expected.length ? true : undefined), 240_000, 'BigQuery to hold every reading');

        // Exactly once, by id: nothing missing, nothing extra, no id twice.
        expect(await bigtableIds()).toEqual(expected);
        const visible = await visibleInBigQuery();
        expect(visible.map((r) => r.reading_id)).toEqual(expected);
        expect(visible.filter((r) => r.n !== 1)).toEqual([]);

        // The raw table may hold redeliveries (at least once); the view is what makes it exactly once.
        const raw = await warehouse.query('SELECT COUNT(*) AS n FROM vitals_raw');
        console.log(`e2e: ${expected.length} readings accepted; Bigtable ${expected.length} rows; BigQuery vitals ${visible.length} rows, vitals_raw ${String(raw.rows[0]?.n)} rows`);
        expect(Number(raw.rows[0]?.n)).toBeGreaterThanOrEqual(expected.length);
        expect((await fetch(`${survivor.url}/healthz`)).ok).toBe(true);
      } finally {
        await store.close();
        await warehouse.close();
      }
    }, budget(600_000));
  });
}
