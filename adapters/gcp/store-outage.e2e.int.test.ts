/**
 * Store outages on the Google stores (issue 13, items 1 and 4): Bigtable, then BigQuery, made
 * unreachable (a TCP proxy in front of each emulator refuses connections; the emulators keep their
 * data) while readings flow through the bus to a `vigil process` — on Pub/Sub, and on Kafka (the
 * Bigtable outage only: the hold path is the bus adapter's part, the store side is the same). Each
 * outage (15 s) outlasts the shrunk redelivery budget: the smallest ack deadline Pub/Sub allows
 * (10 s) and its fewest attempts (5); the same on Kafka, where the deadline is the subscriber's own
 * timer. Before the hold path, the processor nacked after ~3 s of retries and the bus redelivered
 * at once, so readings were dead-lettered within such an outage.
 *
 * Afterwards every accepted reading is in Bigtable and in BigQuery's `vitals` exactly once and none
 * is dead-lettered; on failure the ledger says where each missing reading is.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPrefix, waitFor } from '../../core/contracts/wait-for.ts';
import { createLogger } from '../../core/observability/logger.ts';
import type { Bus, Subscription } from '../../core/ports/bus.ts';
import { eventually, startVigil } from '../../cli/test-support/vigil-process.ts';
import type { VigilProcess } from '../../cli/test-support/vigil-process.ts';
import { createReadingLedger } from '../shared/test-support/reading-ledger.ts';
import { watchBus } from '../shared/test-support/bus-watch.ts';
import { startDevicePublisher } from '../shared/test-support/device-publisher.ts';
import { startTcpFaultProxy } from '../shared/test-support/tcp-fault-proxy.ts';
import type { TcpFaultProxy } from '../shared/test-support/tcp-fault-proxy.ts';
import { createKafkaBus } from '../kafka/bus-kafka.ts';
import { kafkaBrokersOrSkip } from '../kafka/test-support/kafka-gate.ts';
import { deleteKafkaRun, kafkaRunEnv } from '../kafka/test-support/pipeline-env.ts';
import { createPubSubBus } from './bus-pubsub.ts';
import { gcpEmulatorsOrSkip } from './test-support/emulator-gate.ts';
import { googleRunEnv } from './test-support/google-run-env.ts';
import { googleStoreContents } from './test-support/google-store-contents.ts';
import { runVigil } from './test-support/run-vigil.ts';

const SUITE = 'adapters/gcp/store-outage.e2e.int.test.ts';
const env = gcpEmulatorsOrSkip(SUITE);
const brokers = env ? kafkaBrokersOrSkip(SUITE) : undefined;

const OUTAGE_MS = 15_000;
const PATIENTS = 12;
// Low on purpose: on a busy 2-core machine one BigQuery-emulator append takes seconds, and the
// emulator delivers one ordering key's messages only after the previous ones are acked.
const READINGS_PER_SECOND = 2;

function hostPort(address: string): { host: string; port: number } {
  const url = new URL(address.includes('://') ? address : `tcp://${address}`);
  return { host: url.hostname, port: Number(url.port) };
}

type StoreName = 'Bigtable' | 'BigQuery';

/** One bus the processor reads from: its `vigil` environment and a client for the test's ledger. */
interface BusUnderTest {
  readonly name: string;
  readonly outages: readonly StoreName[];
  env(run: string, common: Record<string, string>): Record<string, string>;
  open(): Bus;
  cleanUp(vigilEnv: Record<string, string>): Promise<void>;
}

if (env) {
  const logger = createLogger({ level: 'silent' });
  const buses: BusUnderTest[] = [{
    name: 'Pub/Sub',
    outages: ['Bigtable', 'BigQuery'],
    env: (run, common) => googleRunEnv(env, run, common),
    open: () => createPubSubBus({ projectId: env.GOOGLE_CLOUD_PROJECT, logger }),
    cleanUp: async () => {},
  }];
  if (brokers) {
    buses.push({
      name: 'Kafka',
      outages: ['Bigtable'],
      // Kafka's topics and group, Google's stores: what the processor stores through is the same.
      env: (run, common) => {
        const google = googleRunEnv(env, run, common);
        return { ...google, ...kafkaRunEnv(brokers, 'vigil-outage', { ...common, VIGIL_DATA_DIR: google.VIGIL_DATA_DIR! }) };
      },
      open: () => createKafkaBus({ brokers, clientId: 'store-outage-ledger', logger }),
      cleanUp: (vigilEnv) => deleteKafkaRun(brokers, vigilEnv, [`${vigilEnv.VIGIL_SUBSCRIPTION}-ledger`, `${vigilEnv.VIGIL_SUBSCRIPTION}-ledger-dead`]),
    });
  }

  describe.each(buses)('store outages on $name: Google stores refused for longer than the redelivery budget', (busUnderTest) => {
    const run = runPrefix('outage');
    const dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-outage-'));
    const vigilEnv = busUnderTest.env(run, {
      VIGIL_DATA_DIR: dataDir,
      VIGIL_AUTH_SECRET: 'outage-secret-0123456789abcdef',
      VIGIL_ACK_DEADLINE_MS: '10000',
      VIGIL_MAX_DELIVERY_ATTEMPTS: '5',
      VIGIL_BATCH_SIZE: '100',
      VIGIL_LOG_LEVEL: 'info',
    });
    const ledger = createReadingLedger();
    let bus: Bus;
    const subscriptions: Subscription[] = [];
    const proxies: TcpFaultProxy[] = [];
    let processor: VigilProcess | undefined;

    beforeAll(async () => {
      await runVigil(['provision'], vigilEnv, 240_000);
      bus = busUnderTest.open();
      // Independent records of what reached the bus and what was dead-lettered.
      subscriptions.push(...await watchBus(bus, ledger, { readings: vigilEnv.VIGIL_READINGS_TOPIC!, deadLetters: vigilEnv.VIGIL_DEAD_LETTER_TOPIC!, name: `${vigilEnv.VIGIL_SUBSCRIPTION}-ledger` }));
    }, 300_000);

    afterAll(async () => {
      await processor?.kill();
      for (const s of subscriptions) await s.close();
      await bus?.close();
      for (const p of proxies) await p.close();
      await busUnderTest.cleanUp(vigilEnv).catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    }, 60_000);

    it('holds the batches through each outage: every accepted reading stored once in both stores, none dead-lettered', async () => {
      const bigtable = await startTcpFaultProxy(hostPort(env.BIGTABLE_EMULATOR_HOST));
      const bigqueryHttp = await startTcpFaultProxy(hostPort(env.BIGQUERY_EMULATOR_HOST));
      proxies.push(bigtable, bigqueryHttp);
      processor = await startVigil('process', {
        ...vigilEnv,
        BIGTABLE_EMULATOR_HOST: bigtable.address,
        BIGQUERY_EMULATOR_HOST: `http://${bigqueryHttp.address}`,
      }, { timeoutMs: 60_000 });

      // Readings flow the whole time, published to the bus as the edge does (the bus is not down).
      const devices = startDevicePublisher({ bus, topic: vigilEnv.VIGIL_READINGS_TOPIC!, ledger, patientPrefix: 'OUT', patients: PATIENTS, perSecond: READINGS_PER_SECOND });

      const contents = googleStoreContents(vigilEnv, logger);
      const stored = () => contents.readingIds();
      const figures: string[] = [];
      const vigilMetrics = async (): Promise<string> => (await (await fetch(`${processor!.url}/metrics`)).text()).split('\n').filter((l) => l.startsWith('vigil_')).join('\n');

      try {
        await waitFor(() => ledger.counts.accepted >= 30, 30_000, '30 readings accepted before the first outage');
        const proxyOf: Record<StoreName, TcpFaultProxy> = { Bigtable: bigtable, BigQuery: bigqueryHttp };
        for (const name of busUnderTest.outages) {
          const proxy = proxyOf[name];
          const before = ledger.counts.accepted;
          await proxy.refuse();
          if (name === 'Bigtable') {
            // /readyz names the store while it is down (the processor's writes fail even if a ping were cached).
            const ready = await eventually(async () => {
              const res = await fetch(`${processor!.url}/readyz`);
              return res.status === 503 ? await res.text() : undefined;
            }, OUTAGE_MS, '/readyz to answer 503 during the Bigtable outage');
            expect(ready).toContain('timeseries (bigtable)');
          }
          await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS)); // the outage itself: its length is the point
          const metrics = await (await fetch(`${processor.url}/metrics`)).text();
          // Held, not nacked: the oldest unacked message has waited through the outage (the client may
          // still be retrying inside one write, so the retry counter need not have moved yet).
          expect(Number(/^vigil_processor_oldest_unacked_seconds (\S+)$/m.exec(metrics)?.[1]), 'oldest unacked age at the end of the outage').toBeGreaterThan(OUTAGE_MS / 2000);
          const retries = /vigil_store_write_retries_total\{backend="(?:bigtable|bigquery)"\} (\d+)/.exec(metrics)?.[1] ?? '0';
          const duringOutage = ledger.counts.accepted - before;
          const restoredAt = Date.now();
          await proxy.restore();
          // Caught up: every reading accepted up to the restore is in both stores.
          const target = ledger.counts.accepted;
          await eventually(async () => {
            const s = await stored();
            return Math.min(new Set(s.Bigtable).size, new Set(s['BigQuery vitals']).size) >= target ? true : undefined;
          }, 240_000, `both stores to catch up after the ${name} outage`).catch(async (error: unknown) => {
            throw new Error(`${(error as Error).message}\n${ledger.problems(await stored(), 10).join('\n')}\nprocessor metrics:\n${await vigilMetrics()}\nprocessor log (tail):\n${processor!.output().slice(-6_000)}`);
          });
          figures.push(`${name} refused ${OUTAGE_MS / 1000} s: ${duringOutage} readings accepted during it, caught up ${((Date.now() - restoredAt) / 1000).toFixed(1)} s after (write retries so far: ${retries})`);
          console.log(`store outage e2e (${busUnderTest.name}): ${figures.at(-1)}; accepted so far ${ledger.counts.accepted}`);
        }
      } finally {
        await devices.stop();
      }

      // Everything accepted is stored, once, in both; the dead-letter topic saw nothing.
      await eventually(async () => (ledger.missing(await stored()) === 0 ? true : undefined), 180_000, 'every accepted reading in both stores')
        .catch(async (error: unknown) => {
          throw new Error(`${(error as Error).message}\n${ledger.problems(await stored()).join('\n')}\nprocessor log (tail):\n${processor!.output().slice(-4_000)}`);
        });
      await new Promise((resolve) => setTimeout(resolve, 3_000)); // a dead letter forwarded at the end would arrive in this time
      const problems = ledger.problems(await stored());
      console.log(`store outage e2e (${busUnderTest.name}): processor metrics at the end:\n${await vigilMetrics()}`);
      console.log(`store outage e2e (${busUnderTest.name}): ${ledger.counts.accepted} accepted, ${ledger.counts.refused} refused, ${ledger.counts.deadLettered} dead-lettered; ${figures.join('; ')}`);
      expect(problems, 'where each problem reading is').toEqual([]);
      expect(ledger.counts.deadLettered).toBe(0);
      // Held, never nacked for the outage. Whether the Google client retried inside one write (the
      // hold path extends deadlines during a slow write too) or failed it (and the hold path retried)
      // is the client's choice, so no log line is required; the oldest-unacked age during each outage
      // showed the hold. A write the store rejected (not retriable) is nacked by design: on a starved
      // machine the BigQuery emulator answers 400 to a body it could not read within its 15 s read
      // timeout; those are counted, and must not have cost a reading (checked above).
      const nacks = processor.output().split('\n').filter((line) => line.includes('nacked for redelivery'))
        .map((line) => (JSON.parse(line) as { error?: { code?: string; retriable?: boolean } }).error);
      console.log(`store outage e2e (${busUnderTest.name}): ${nacks.length} batches nacked, codes: ${JSON.stringify(nacks.map((e) => e?.code))}`);
      expect(nacks.filter((e) => e?.retriable !== false).map((e) => e?.code), 'batches nacked for a retriable (outage) error').toEqual([]);
      await contents.close();
    }, 600_000);
  });
}
