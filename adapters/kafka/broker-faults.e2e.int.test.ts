/**
 * The Kafka broker paused (SIGSTOP) and then killed and restarted (SIGKILL) while readings flow
 * (issue 13, item 4). The broker is this test's own (test-support/own-broker.ts: same jars as the
 * shared emulator, its own ports and data), so pausing it disturbs no other suite. A publisher
 * behaves as a device: a reading the bus did not confirm is sent again (same id) until it is. One
 * `vigil process` on the embedded stores (SQLite time series, DuckDB warehouse) consumes.
 *
 * Afterwards every accepted reading is in both stores exactly once and none is dead-lettered; on
 * failure the ledger says where each missing reading is.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { delay, waitFor } from '../../core/contracts/wait-for.ts';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/observability/logger.ts';
import type { Bus } from '../../core/ports/bus.ts';
import { decodeReading } from '../../core/wire/reading-codec.ts';
import { openTimeSeries } from '../../cli/wiring/open-backends.ts';
import { eventually, startVigil } from '../../cli/test-support/vigil-process.ts';
import type { VigilProcess } from '../../cli/test-support/vigil-process.ts';
import { createReadingLedger } from '../shared/test-support/reading-ledger.ts';
import { startDevicePublisher } from '../shared/test-support/device-publisher.ts';
import { embeddedWarehouseContents } from '../shared/test-support/embedded-warehouse-contents.ts';
import { createKafkaBus } from './bus-kafka.ts';
import { skipOrFail } from './test-support/kafka-gate.ts';
import { ownBrokerAvailable, startOwnBroker } from './test-support/own-broker.ts';
import type { OwnBroker } from './test-support/own-broker.ts';
import { deleteKafkaRun, kafkaRunEnv, runVigil } from './test-support/pipeline-env.ts';

const SUITE = 'adapters/kafka/broker-faults.e2e.int.test.ts';
const PAUSE_MS = 15_000;
const PATIENTS = 10;
const READINGS_PER_SECOND = 10;

const available = ownBrokerAvailable();
if (!available) skipOrFail(SUITE, 'no Kafka jars (.emulators/kafka/libs) or java', 'run `npm run emulators:up`');

if (available) {
  describe('Kafka broker paused (SIGSTOP), then killed and restarted, while readings flow', () => {
    let broker: OwnBroker | undefined;
    let processor: VigilProcess | undefined;
    let env: Record<string, string> = {};

    afterAll(async () => {
      await processor?.kill();
      if (broker && env.VIGIL_READINGS_TOPIC) {
        broker.resume();
        await deleteKafkaRun([broker.address], env).catch(() => undefined);
      }
      await broker?.close();
    }, 60_000);

    it('every accepted reading stored once in both stores, none dead-lettered', async () => {
      broker = await startOwnBroker();
      const own = broker;
      env = kafkaRunEnv([own.address], 'vigil-broker-faults', {
        VIGIL_KAFKA_PARTITIONS: '3', VIGIL_TIMESERIES: 'embedded', VIGIL_WAREHOUSE: 'duckdb',
        VIGIL_ACK_DEADLINE_MS: '5000', VIGIL_MAX_DELIVERY_ATTEMPTS: '3', VIGIL_BATCH_SIZE: '100', VIGIL_LOG_LEVEL: 'info',
      });
      const provisioned = await runVigil('provision', env);
      expect(provisioned.code, provisioned.output).toBe(0);
      processor = await startVigil('process', env, { timeoutMs: 60_000 });
      const config = loadConfig({ ...process.env, ...env });
      const logger = createLogger({ level: 'silent' });
      const ledger = createReadingLedger();

      // Independent record of dead letters: a consumer group of the test's own on the dead-letter topic.
      const watcher: Bus = createKafkaBus({ brokers: [own.address], logger });
      await watcher.provision([{ topic: env.VIGIL_DEAD_LETTER_TOPIC!, partitions: 1, subscriptions: [{ name: `${env.VIGIL_SUBSCRIPTION}-watch` }] }]);
      const deadWatch = await watcher.subscribe({
        topic: env.VIGIL_DEAD_LETTER_TOPIC!, subscription: `${env.VIGIL_SUBSCRIPTION}-watch`, maxBatchSize: 100, maxBatchWaitMs: 10, maxInFlight: 100, ackDeadlineMs: 30_000,
      }, async (batch) => {
        for (const m of batch) {
          try { ledger.deadLettered(decodeReading(m.data, m.attributes).readingId); } catch { ledger.deadLettered(`undecodable:${m.id}`); }
          await m.ack();
        }
      });

      const bus = createKafkaBus({ brokers: [own.address], logger });
      const timeseries = await openTimeSeries(config, logger);
      const storedIds = async (): Promise<string[]> => {
        const ids: string[] = [];
        for (const patient of await timeseries.listPatients()) ids.push(...(await timeseries.readReadings(patient, { from: 0, to: Date.now() + 86_400_000 })).map((r) => r.readingId));
        return ids;
      };
      // A device resends what the bus did not confirm, with the same reading id.
      const devices = startDevicePublisher({ bus, topic: env.VIGIL_READINGS_TOPIC!, ledger, patientPrefix: 'KF', patients: PATIENTS, perSecond: READINGS_PER_SECOND });
      const caughtUp = async (what: string, since: number): Promise<string> => {
        const target = ledger.counts.accepted;
        await eventually(async () => (new Set(await storedIds()).size >= target ? true : undefined), 120_000, what)
          .catch(async (error: unknown) => {
            throw new Error(`${(error as Error).message}\n${ledger.problems({ 'time series': await storedIds() }).join('\n')}\nprocessor log (tail):\n${processor!.output().slice(-3_000)}`);
          });
        return ((Date.now() - since) / 1000).toFixed(1);
      };

      const figures: string[] = [];
      try {
        await waitFor(() => ledger.counts.accepted >= 30, 30_000, '30 readings accepted before the broker is paused');
        const before = ledger.counts.accepted;
        own.pause();
        await delay(PAUSE_MS); // the pause itself: its length is the point
        const acceptedWhilePaused = ledger.counts.accepted - before;
        own.resume();
        const resumedAt = Date.now();
        // Readings flow again (a device's resends first), then the stores catch up with all of them.
        const afterPause = ledger.counts.accepted;
        await waitFor(() => ledger.counts.accepted >= afterPause + 50, 60_000, '50 more readings accepted after SIGCONT');
        figures.push(`SIGSTOP ${PAUSE_MS / 1000} s: ${acceptedWhilePaused} accepted during it (${before} before), every reading stored ${await caughtUp('the time series to catch up after the pause', resumedAt)} s after SIGCONT (50 more published meanwhile)`);

        const killedAt = Date.now();
        await own.restart(); // SIGKILL, then the same data and ports
        const restartedAt = Date.now();
        const afterRestart = ledger.counts.accepted;
        await waitFor(() => ledger.counts.accepted >= afterRestart + 50, 60_000, '50 more readings accepted after the broker restart');
        figures.push(`SIGKILL + restart (${((restartedAt - killedAt) / 1000).toFixed(1)} s down): every reading stored ${await caughtUp('the time series to catch up after the restart', restartedAt)} s after the restart (50 more published meanwhile)`);
      } finally {
        await devices.stop();
      }
      await caughtUp('every accepted reading in the time series', Date.now());
      await deadWatch.close();
      await watcher.close();
      await bus.close();

      // The warehouse is the processor's DuckDB file: read it once the processor has drained and exited.
      expect(await processor.stop(), processor.output().slice(-3_000)).toBe(0);
      const warehouse = await embeddedWarehouseContents(config, logger);
      const stores = { 'time series': await storedIds(), 'warehouse vitals': warehouse.vitals };
      await timeseries.close();
      console.log(`Kafka broker faults: ${ledger.counts.accepted} accepted, ${ledger.counts.deadLettered} dead-lettered on the bus, ${warehouse.deadLetterRows} dead-letter rows; ${figures.join('; ')}`);
      expect(ledger.problems(stores), 'where each problem reading is').toEqual([]);
      expect(ledger.counts.deadLettered).toBe(0);
      expect(warehouse.deadLetterRows).toBe(0);
    }, 480_000);
  });
}
