import { rmSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, startVigil } from '../../cli/test-support/vigil-process.ts';
import type { VigilProcess } from '../../cli/test-support/vigil-process.ts';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/observability/logger.ts';
import { openTimeSeries, openWarehouse } from '../../core/wiring/open-backends.ts';
import { readingIdOf } from '../../core/wire/reading-codec.ts';
import { resolveEmulatorEnv } from '../../infra/emulator-env.ts';
import { createBusSink } from '../../simulators/sink-bus.ts';
import { createKafkaBus } from './bus-kafka.ts';
import { kafkaBrokersOrSkip } from './test-support/kafka-gate.ts';
import { kafkaRunEnv, runVigil, wardReading } from './test-support/pipeline-env.ts';

const SUITE = 'adapters/kafka/pipeline.e2e.int.test.ts';
const brokers = kafkaBrokersOrSkip(SUITE);
const google = brokers ? resolveEmulatorEnv() : undefined;
if (brokers && !google) {
  if (process.env.CI === 'true') {
    it(`${SUITE} needs the Google emulators`, () => {
      throw new Error('CI=true but no emulator addresses: run `npm run emulators:up` before the tests');
    });
  } else {
    console.warn(`\n⚠⚠⚠ ${SUITE} SKIPPED: no Bigtable/BigQuery emulators (run \`npm run emulators:up\`). With CI=true it fails instead. ⚠⚠⚠\n`);
  }
}

/**
 * Simulated ward → Kafka → three `vigil process` instances in one consumer group → Bigtable and
 * BigQuery (emulators: the embedded stores are single-process files). One instance is SIGKILLed
 * and one added while readings flow; afterwards every accepted reading is stored exactly once.
 */
if (brokers && google) {
  describe('pipeline on Kafka: three processors, one killed, one added', () => {
    const run = `k${Date.now().toString(36)}`;
    const env = kafkaRunEnv(brokers, 'vigil-e2e', {
      ...google,
      VIGIL_KAFKA_PARTITIONS: '6',
      VIGIL_TIMESERIES: 'bigtable',
      VIGIL_BIGTABLE_TABLE: `vitals_${run}`,
      VIGIL_WAREHOUSE: 'bigquery',
      VIGIL_BIGQUERY_DATASET: `vigil_${run}`,
      VIGIL_BATCH_SIZE: '200',
      VIGIL_ACK_DEADLINE_MS: '20000',
      VIGIL_RESCORE_DEBOUNCE_MS: '2000',
    });
    const processors: VigilProcess[] = [];

    afterAll(async () => {
      await Promise.allSettled(processors.map((p) => p.kill()));
      const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      await admin.deleteGroups([env.VIGIL_SUBSCRIPTION!, `${env.VIGIL_SUBSCRIPTION}-dead`]).catch(() => {});
      await admin.deleteTopics({ topics: [env.VIGIL_READINGS_TOPIC!, env.VIGIL_DEAD_LETTER_TOPIC!] }).catch(() => {});
      await admin.disconnect();
      rmSync(env.VIGIL_DATA_DIR!, { recursive: true, force: true });
    }, 60_000);

    it('stores every accepted reading exactly once', async () => {
      const provisioned = await runVigil('provision', env);
      expect(provisioned.code, provisioned.output).toBe(0);

      for (let i = 0; i < 3; i++) processors.push(await startVigil('process', env, { timeoutMs: 60_000 }));

      const logger = createLogger({ level: 'silent' });
      const bus = createKafkaBus({ brokers, logger });
      const sink = createBusSink({ bus, topic: env.VIGIL_READINGS_TOPIC!, maxBatchSize: 100 });
      const patients = 30;
      const waves = 60;
      const start = Date.UTC(2026, 10, 22, 8, 0, 0);
      const expected = new Map<string, string>();
      try {
        for (let wave = 0; wave < waves; wave++) {
          const readings = Array.from({ length: patients }, (_, p) => wardReading(p, start + wave * 60_000));
          await sink.write(readings);
          for (const r of readings) expected.set(readingIdOf(r.deviceId, r.patientId, r.observedAt), r.patientId);
          if (wave === 15) await processors[0]!.kill();
          if (wave === 30) processors.push(await startVigil('process', env, { timeoutMs: 60_000 }));
          await new Promise((r) => setTimeout(r, 150));
        }
      } finally {
        await bus.close();
      }
      expect(sink.stats().accepted).toBe(patients * waves);

      const config = loadConfig({ ...process.env, ...env });
      const warehouse = await openWarehouse(config, logger);
      const timeseries = await openTimeSeries(config, logger);
      try {
        // The killed instance's partitions move after the session timeout (10 s), then redeliver.
        const stored = await eventually(async () => {
          const result = await warehouse.query('SELECT reading_id, COUNT(*) AS n FROM vitals GROUP BY reading_id');
          return result.rows.length >= expected.size ? result.rows : undefined;
        }, 120_000, `${expected.size} readings in the warehouse`);
        expect(stored.filter((r) => Number(r.n) !== 1)).toEqual([]);
        expect(new Set(stored.map((r) => String(r.reading_id)))).toEqual(new Set(expected.keys()));

        for (let p = 0; p < patients; p++) {
          const patientId = wardReading(p, start).patientId;
          const series = await timeseries.readReadings(patientId, { from: start, to: start + waves * 60_000 });
          expect(series.map((r) => r.readingId).sort(), patientId).toEqual(
            [...expected].filter(([, owner]) => owner === patientId).map(([id]) => id).sort());
        }
      } finally {
        await Promise.allSettled([warehouse.close(), timeseries.close()]);
      }

      // The survivors drain and exit cleanly.
      for (const p of processors.slice(1)) expect(await p.stop()).toBe(0);
    }, 300_000);
  });
}
