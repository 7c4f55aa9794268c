import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, startVigil } from '../../cli/test-support/vigil-process.ts';
import type { VigilProcess } from '../../cli/test-support/vigil-process.ts';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/observability/logger.ts';
import { openTimeSeries, openWarehouse } from '../../cli/wiring/open-backends.ts';
import { readingIdOf } from '../../core/wire/reading-codec.ts';
import { gcpEmulatorsOrSkip } from '../gcp/test-support/emulator-gate.ts';
import { createBusSink } from '../../simulators/sink-bus.ts';
import { createKafkaBus } from './bus-kafka.ts';
import { kafkaBrokersOrSkip } from './test-support/kafka-gate.ts';
import { deleteKafkaRun, kafkaRunEnv, runVigil, wardReading } from './test-support/pipeline-env.ts';
import { budget } from '../../core/contracts/wait-for.ts';

const SUITE = 'adapters/kafka/pipeline.e2e.int.test.ts';

/** Readings a running processor has stored, from its /metrics; 0 while it cannot answer. */
async function processedBy(processor: VigilProcess): Promise<number> {
  try {
    const text = await (await fetch(`${processor.url}/metrics`)).text();
    return Number(/^vigil_readings_processed_total (\d+)/m.exec(text)?.[1] ?? 0);
  } catch {
    return 0;
  }
}
const brokers = kafkaBrokersOrSkip(SUITE);
const google = brokers ? gcpEmulatorsOrSkip(SUITE) : undefined;

/**
 * Simulated ward → Kafka → three `vigil process` instances in one consumer group → stores. One
 * instance is SIGKILLed and one added while readings flow; afterwards every accepted reading is in
 * the shared time-series store exactly once, and in the warehouses.
 *
 * Stores: the time series in Bigtable (emulator), shared by every instance. The warehouse is each
 * instance's own DuckDB file (DuckDB is a single-process file, and provisioning the BigQuery
 * emulator alone takes minutes on a loaded 2-core machine): across those files a reading may
 * appear twice (the killed instance's uncommitted work is redone by another: at-least-once), so
 * they are checked for loss and for duplicates within each file.
 */
if (brokers && google) {
  // The Google clients this test opens itself read their emulator addresses from process.env.
  Object.assign(process.env, google);
  describe('pipeline on Kafka: three processors, one killed, one added', () => {
    const run = `k${Date.now().toString(36)}`;
    const env = kafkaRunEnv(brokers, 'vigil-e2e', {
      ...google,
      VIGIL_KAFKA_PARTITIONS: '6',
      VIGIL_TIMESERIES: 'bigtable',
      VIGIL_BIGTABLE_TABLE: `vitals_${run}`,
      VIGIL_WAREHOUSE: 'duckdb',
      VIGIL_BATCH_SIZE: '200',
      VIGIL_ACK_DEADLINE_MS: '20000',
      VIGIL_RESCORE_DEBOUNCE_MS: '2000',
    });
    const processors: VigilProcess[] = [];
    const dataDirs: string[] = [];

    afterAll(async () => {
      await Promise.allSettled(processors.map((p) => p.kill()));
      await deleteKafkaRun(brokers, env);
      for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
    }, budget(60_000));

    /** A processor with its own data folder (its DuckDB warehouse), provisioned first. */
    async function startProcessor(): Promise<VigilProcess> {
      const dir = mkdtempSync(path.join(tmpdir(), 'vigil-e2e-processor-'));
      dataDirs.push(dir);
      const provisioned = await runVigil('provision', { ...env, VIGIL_DATA_DIR: dir });
      expect(provisioned.code, provisioned.output).toBe(0);
      const processor = await startVigil('process', { ...env, VIGIL_DATA_DIR: dir }, { timeoutMs: 60_000 });
      processors.push(processor);
      return processor;
    }

    it('stores every accepted reading exactly once', async () => {
      for (let i = 0; i < 3; i++) await startProcessor();

      const logger = createLogger({ level: 'silent' });
      const bus = createKafkaBus({ brokers, logger });
      const sink = createBusSink({ bus, topic: env.VIGIL_READINGS_TOPIC!, maxBatchSize: 100 });
      const patients = 30;
      const waves = 60; // at least; more while a processor waits for its partitions
      const start = Date.UTC(2026, 10, 22, 8, 0, 0);
      const expected = new Map<string, string>();
      let wave = 0;
      const publishWave = async () => {
        const readings = Array.from({ length: patients }, (_, p) => wardReading(p, start + wave * 60_000));
        await sink.write(readings);
        for (const r of readings) expected.set(readingIdOf(r.deviceId, r.patientId, r.observedAt), r.patientId);
        wave++;
        await new Promise((r) => setTimeout(r, 150));
      };
      /**
       * Publishes waves until the processor has stored readings (at most a minute): a consumer
       * group's partitions reach a new member only after a rebalance, which on a busy machine can
       * outlast a fixed number of waves.
       */
      const publishUntilWorking = async (processor: VigilProcess, minWaves: number) => {
        const deadline = Date.now() + 60_000;
        for (let n = 0; n < minWaves || ((await processedBy(processor)) === 0 && Date.now() < deadline); n++) await publishWave();
      };
      try {
        await publishUntilWorking(processors[0]!, 15);
        await processors[0]!.kill();
        for (let n = 0; n < 15; n++) await publishWave();
        const added = await startProcessor();
        await publishUntilWorking(added, 15);
        while (wave < waves) await publishWave();
      } finally {
        await bus.close();
      }
      expect(sink.stats().accepted).toBe(patients * wave);

      // The killed instance's partitions move after the session timeout (10 s), then are redelivered.
      const timeseries = await openTimeSeries(loadConfig({ ...process.env, ...env }), logger);
      const storedIds = async (): Promise<string[]> => {
        const ids: string[] = [];
        for (let p = 0; p < patients; p++) {
          const series = await timeseries.readReadings(wardReading(p, start).patientId, { from: start, to: start + wave * 60_000 });
          ids.push(...series.map((r) => r.readingId));
        }
        return ids;
      };
      try {
        const ids = await eventually(async () => {
          const found = await storedIds();
          return found.length >= expected.size ? found : undefined;
        }, 120_000, `${expected.size} readings in the time-series store`);
        expect(ids.length).toBe(expected.size);
        expect(new Set(ids)).toEqual(new Set(expected.keys()));
      } finally {
        await timeseries.close();
      }

      // The survivors drain and exit cleanly; then their warehouses can be opened.
      for (const p of processors.slice(1)) expect(await p.stop()).toBe(0);
      const inWarehouses = new Set<string>();
      for (const dir of dataDirs) {
        const warehouse = await openWarehouse(loadConfig({ ...process.env, ...env, VIGIL_DATA_DIR: dir }), logger);
        try {
          const { rows } = await warehouse.query('SELECT reading_id, COUNT(*) AS n FROM vitals GROUP BY reading_id');
          expect(rows.filter((r) => Number(r.n) !== 1), `duplicates in ${dir}`).toEqual([]);
          // Each instance did a share of the work, the killed one before it died, the added one after it joined.
          expect(rows.length, `readings stored by the processor of ${dir}`).toBeGreaterThan(0);
          for (const r of rows) inWarehouses.add(String(r.reading_id));
        } finally {
          await warehouse.close();
        }
      }
      expect(inWarehouses).toEqual(new Set(expected.keys()));
    }, budget(300_000));
  });
}
