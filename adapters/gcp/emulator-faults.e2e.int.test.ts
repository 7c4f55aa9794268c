/**
 * The Google backends faulted while readings flow (issue 13, item 4): Pub/Sub made unreachable for
 * the processor (a TCP proxy in front refuses connections; the emulator keeps its messages), then
 * Pub/Sub, Bigtable and BigQuery each paused (SIGSTOP), each fault longer than the shrunk
 * redelivery budget (10 s ack deadline, 5 attempts). The emulators are the test's own (the shared
 * binaries on their own ports, test-support/own-emulators.ts), so pausing them disturbs no other
 * suite. A ward of devices publishes the whole time, straight to Pub/Sub, resending what was not
 * confirmed. One `vigil process` stores into Bigtable and BigQuery.
 *
 * Afterwards every accepted reading is in both stores exactly once and none is dead-lettered; on
 * failure the ledger says where each missing reading is. The BigQuery emulator reads a request
 * within 15 s (its ReadTimeout): one caught mid-body by the pause gets a 400, a rejection the
 * processor nacks by design; such a nack may cost a delivery attempt, never a reading.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { delay, runPrefix, waitFor } from '../../core/contracts/wait-for.ts';
import { createLogger } from '../../core/observability/logger.ts';
import type { Bus, Subscription } from '../../core/ports/bus.ts';
import { eventually, startVigil } from '../../cli/test-support/vigil-process.ts';
import type { VigilProcess } from '../../cli/test-support/vigil-process.ts';
import { startDevicePublisher } from '../shared/test-support/device-publisher.ts';
import type { DevicePublisher } from '../shared/test-support/device-publisher.ts';
import { createReadingLedger } from '../shared/test-support/reading-ledger.ts';
import { watchBus } from '../shared/test-support/bus-watch.ts';
import { startTcpFaultProxy } from '../shared/test-support/tcp-fault-proxy.ts';
import type { TcpFaultProxy } from '../shared/test-support/tcp-fault-proxy.ts';
import { skipOrFail } from '../kafka/test-support/kafka-gate.ts';
import { createPubSubBus } from './bus-pubsub.ts';
import { googleRunEnv } from './test-support/google-run-env.ts';
import { googleStoreContents } from './test-support/google-store-contents.ts';
import { ownEmulatorsAvailable, startOwnBigQuery, startOwnBigtable, startOwnPubSub, startOwnStorage } from './test-support/own-emulators.ts';
import type { OwnEmulator } from './test-support/own-emulators.ts';
import { runVigil } from './test-support/run-vigil.ts';

const SUITE = 'adapters/gcp/emulator-faults.e2e.int.test.ts';
const FAULT_MS = 15_000;
const PATIENTS = 10;
const READINGS_PER_SECOND = 5;
const PROJECT = 'vigil-faults';

if (!ownEmulatorsAvailable()) skipOrFail(SUITE, 'no emulator binaries in .emulators/bin', 'run `npm run emulators:up`');
else {
  describe('Pub/Sub unreachable, then Pub/Sub, Bigtable and BigQuery paused, while readings flow', () => {
    const logger = createLogger({ level: 'silent' });
    const dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-emulator-faults-'));
    const ledger = createReadingLedger();
    const subscriptions: Subscription[] = [];
    let pubsub: OwnEmulator | undefined;
    let bigtable: OwnEmulator | undefined;
    let bigquery: OwnEmulator | undefined;
    let storage: OwnEmulator | undefined;
    let proxy: TcpFaultProxy | undefined;
    let bus: Bus | undefined;
    let processor: VigilProcess | undefined;
    let devices: DevicePublisher | undefined;

    afterAll(async () => {
      pubsub?.resume();
      bigtable?.resume();
      bigquery?.resume();
      await devices?.stop().catch(() => undefined);
      await processor?.kill();
      for (const s of subscriptions) await s.close().catch(() => undefined);
      await bus?.close().catch(() => undefined);
      await proxy?.close();
      await pubsub?.close();
      await bigtable?.close();
      await bigquery?.close();
      await storage?.close();
      rmSync(dataDir, { recursive: true, force: true });
    }, 60_000);

    it('every accepted reading stored once in Bigtable and BigQuery, none dead-lettered', async () => {
      pubsub = await startOwnPubSub();
      bigtable = await startOwnBigtable();
      bigquery = await startOwnBigQuery(PROJECT);
      storage = await startOwnStorage(); // for the landing bucket `vigil provision` creates
      const [ownPubSub, ownBigtable, ownBigQuery] = [pubsub, bigtable, bigquery];
      // The processor reaches Pub/Sub through the proxy, so it alone loses the bus; the devices do not.
      proxy = await startTcpFaultProxy({ host: '127.0.0.1', port: ownPubSub.port });
      const emulators = {
        GOOGLE_CLOUD_PROJECT: PROJECT, PUBSUB_EMULATOR_HOST: ownPubSub.address, BIGTABLE_EMULATOR_HOST: ownBigtable.address, BIGQUERY_EMULATOR_HOST: ownBigQuery.address,
        STORAGE_EMULATOR_HOST: `${storage.address}/storage/v1`,
      };
      Object.assign(process.env, emulators); // the test's own Google clients read these when constructed
      const env = googleRunEnv(emulators, runPrefix('faults'), {
        VIGIL_DATA_DIR: dataDir, VIGIL_AUTH_SECRET: 'faults-secret-0123456789abcdef',
        VIGIL_ACK_DEADLINE_MS: '10000', VIGIL_MAX_DELIVERY_ATTEMPTS: '5', VIGIL_BATCH_SIZE: '100', VIGIL_LOG_LEVEL: 'info',
      });
      await runVigil(['provision'], env, 120_000);

      bus = createPubSubBus({ projectId: PROJECT, logger });
      const topic = env.VIGIL_READINGS_TOPIC!;
      subscriptions.push(...await watchBus(bus, ledger, { readings: topic, deadLetters: env.VIGIL_DEAD_LETTER_TOPIC!, name: `${env.VIGIL_SUBSCRIPTION}-ledger` }));

      processor = await startVigil('process', { ...env, PUBSUB_EMULATOR_HOST: proxy.address }, { timeoutMs: 60_000 });
      const running = processor;
      const contents = googleStoreContents(env, logger);
      const stored = () => contents.readingIds();
      const caughtUp = async (what: string, since: number): Promise<string> => {
        const target = ledger.counts.accepted;
        await eventually(async () => {
          const s = await stored();
          return Math.min(new Set(s.Bigtable).size, new Set(s['BigQuery vitals']).size) >= target ? true : undefined;
        }, 180_000, what).catch(async (error: unknown) => {
          throw new Error(`${(error as Error).message}\n${ledger.problems(await stored()).join('\n')}\nprocessor log (tail):\n${running.output().slice(-4_000)}`);
        });
        return ((Date.now() - since) / 1000).toFixed(1);
      };

      devices = startDevicePublisher({ bus, topic, ledger, patientPrefix: 'FLT', patients: PATIENTS, perSecond: READINGS_PER_SECOND });
      const faults: { name: string; start(): Promise<void> | void; end(): Promise<void> | void }[] = [
        { name: 'Pub/Sub unreachable for the processor', start: () => proxy!.refuse(), end: () => proxy!.restore() },
        { name: 'Pub/Sub paused (SIGSTOP)', start: () => ownPubSub.pause(), end: () => ownPubSub.resume() },
        { name: 'Bigtable paused (SIGSTOP)', start: () => ownBigtable.pause(), end: () => ownBigtable.resume() },
        { name: 'BigQuery paused (SIGSTOP)', start: () => ownBigQuery.pause(), end: () => ownBigQuery.resume() },
      ];
      const figures: string[] = [];
      try {
        await waitFor(() => ledger.counts.accepted >= 30, 30_000, '30 readings accepted before the first fault');
        for (const fault of faults) {
          const before = ledger.counts.accepted;
          await fault.start();
          await delay(FAULT_MS); // the fault itself: its length is the point
          const during = ledger.counts.accepted - before;
          await fault.end();
          const endedAt = Date.now();
          // Readings flow again (resends first), then both stores catch up with all of them.
          const afterFault = ledger.counts.accepted;
          await waitFor(() => ledger.counts.accepted >= afterFault + 25, 60_000, `25 more readings accepted after: ${fault.name}`);
          figures.push(`${fault.name} ${FAULT_MS / 1000} s: ${during} accepted during it, every reading in both stores ${await caughtUp(`both stores to catch up after: ${fault.name}`, endedAt)} s after it ended`);
          console.log(`emulator faults: ${figures.at(-1)}`);
        }
      } finally {
        await devices.stop();
      }
      await caughtUp('every accepted reading in both stores', Date.now());
      await delay(3_000); // a dead letter forwarded at the end would arrive in this time

      const stores = await stored();
      const deadRows = await contents.deadLetterRows();
      const nacks = running.output().split('\n').filter((line) => line.includes('nacked for redelivery')).length;
      console.log(`emulator faults: ${ledger.counts.accepted} accepted, ${ledger.counts.deadLettered} dead-lettered on the bus, ${deadRows} dead-letter rows, ${nacks} batches nacked; ${figures.join('; ')}`);
      expect(ledger.problems(stores), 'where each problem reading is').toEqual([]);
      expect(ledger.counts.deadLettered).toBe(0);
      expect(deadRows).toBe(0);
      expect(await processor.stop(), processor.output().slice(-3_000)).toBe(0);
      await contents.close();
    }, 600_000);
  });
}
