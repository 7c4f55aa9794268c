import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Bigtable } from '@google-cloud/bigtable';
import { PubSub } from '@google-cloud/pubsub';
import type { BenchResult } from './bench-result.ts';
import { runPrefix } from '../core/contracts/wait-for.ts';
import { normalizeReading } from '../core/domain/normalize-reading.ts';
import type { IngestReading, RawReading, VitalReading } from '../core/domain/reading.ts';
import { toRawReading } from '../core/domain/validate-ingest.ts';
import { createLogger } from '../core/observability/logger.ts';
import type { OutgoingMessage } from '../core/ports/bus.ts';
import { READING_ATTRIBUTES, encodeReading } from '../core/wire/reading-codec.ts';
import { resolveEmulatorEnv } from '../infra/emulator-env.ts';
import { startVigil } from '../cli/test-support/vigil-process.ts';
import { createWard } from '../simulators/ward.ts';
import { runVigil } from '../adapters/gcp/test-support/run-vigil.ts';
import { googleRunEnv } from '../adapters/gcp/test-support/google-run-env.ts';
import { NO_FAULTS } from '../simulators/simulation-parameters.ts';
import { vitalsRow } from '../stream-processor/vitals-row.ts';
import { boundedChunks } from '../adapters/gcp/bounded-chunks.ts';
import { readingKey } from '../adapters/gcp/bigtable-row-keys.ts';
import { createPubSubBus } from '../adapters/gcp/bus-pubsub.ts';
import { createBigQueryWarehouse } from '../adapters/gcp/warehouse-bigquery.ts';

const PUBLISH_BATCH = 500;

export interface GcpBenchOptions {
  /** Readings pushed through the pipeline (and through each floor). Default 5 000. */
  readonly readings?: number;
  readonly patients?: number;
}

/**
 * The Google pipeline on the emulators against the raw client floor measured in the same run:
 *
 * - pipeline: publish N Avro readings to Pub/Sub, one `vigil process` (Bigtable + BigQuery), time
 *   from the first publish until the processor counted all N processed;
 * - bus floor: publish the same N, pull them with a handler that only acks;
 * - Bigtable floor: raw MutateRows of the same N rows; BigQuery floor: raw insertAll of the same N.
 *
 * The floors run one after another, the pipeline runs them all at once plus decode, parsing,
 * de-duplication and scoring, so "where the time goes" compares the processor's summed batch time
 * and each floor with the pipeline's wall time.
 */
export async function benchGcpPipeline(options: GcpBenchOptions = {}): Promise<BenchResult> {
  const name = 'Google pipeline on the emulators (Pub/Sub → process → Bigtable + BigQuery) vs raw client floors';
  const env = resolveEmulatorEnv();
  if (!env) return { name, figures: {}, skipped: 'no emulator addresses (npm run emulators:up)' };
  Object.assign(process.env, env);
  const count = options.readings ?? 5_000;
  const patients = options.patients ?? 200;
  const logger = createLogger({ level: 'silent' });
  const run = runPrefix('bench');
  const readings = wardReadings(patients, count);
  const messages: OutgoingMessage[] = readings.map(({ raw }) => ({ data: encodeReading(raw), attributes: READING_ATTRIBUTES, orderingKey: raw.patientId }));

  const progress = (what: string): void => void process.stderr.write(`bench-gcp: ${what}\n`);
  progress(`${count} readings generated`);
  // Floor 1: the raw Pub/Sub client alone: publish with ordering keys, pull and ack, no processing.
  const pubsub = new PubSub({ projectId: env.GOOGLE_CLOUD_PROJECT });
  const floorTopic = `${run}-floor`;
  const [topic] = await pubsub.createTopic(floorTopic);
  await topic.createSubscription(`${floorTopic}-s`, { enableMessageOrdering: true });
  topic.setPublishOptions({ messageOrdering: true, batching: { maxMessages: 1_000, maxMilliseconds: 5 } });
  let pulled = 0;
  const floorSubscription = pubsub.subscription(`${floorTopic}-s`, { streamingOptions: { maxStreams: 4 }, flowControl: { maxMessages: 10_000 } });
  floorSubscription.on('message', (m: { ack(): void }) => {
    pulled++;
    m.ack();
  });
  const busStarted = performance.now();
  for (const chunk of boundedChunks(messages, { maxCount: PUBLISH_BATCH, maxBytes: Infinity }, () => 0)) {
    await Promise.all(chunk.map((m) => topic.publishMessage({ data: Buffer.from(m.data), attributes: { ...m.attributes }, orderingKey: m.orderingKey! })));
  }
  const publishSeconds = (performance.now() - busStarted) / 1000;
  await until(() => pulled >= count, 300_000);
  const busSeconds = (performance.now() - busStarted) / 1000;
  await floorSubscription.close();
  await pubsub.close();
  const bus = createPubSubBus({ projectId: env.GOOGLE_CLOUD_PROJECT, logger });
  progress(`bus floor done (${round(busSeconds)} s)`);

  // Floor 2: raw MutateRows of the same rows, the adapter's chunk size.
  const tableId = `${run}-floor`;
  const bigtable = new Bigtable({ projectId: env.GOOGLE_CLOUD_PROJECT, metricsEnabled: false });
  const table = bigtable.instance('vigil').table(tableId);
  await table.create({ families: ['v'] });
  const mutateStarted = performance.now();
  for (const chunk of boundedChunks(readings, { maxCount: 5_000, maxBytes: Infinity }, () => 0)) {
    await table.mutate(chunk.map(({ vital }) => ({
      key: readingKey(vital.patientId, vital.observedAt, vital.readingId), method: 'insert',
      data: { v: { j: { value: JSON.stringify(vital), timestamp: new Date(vital.observedAt) } } },
    })));
  }
  const mutateSeconds = (performance.now() - mutateStarted) / 1000;
  await table.delete().catch(() => undefined);
  await bigtable.close();
  progress(`Bigtable floor done (${round(mutateSeconds)} s)`);

  // Floor 3: raw insertAll of the same rows through the adapter's append (one request per 500 rows).
  const floorDataset = `${run.replaceAll('-', '_')}_floor`;
  const floorWarehouse = createBigQueryWarehouse({ projectId: env.GOOGLE_CLOUD_PROJECT, dataset: floorDataset, location: 'US', logger, viewsDir: '/nonexistent' });
  await floorWarehouse.provision();
  const insertStarted = performance.now();
  await floorWarehouse.append('vitals', readings.map(({ vital }) => vitalsRow(vital)));
  const insertSeconds = (performance.now() - insertStarted) / 1000;
  await floorWarehouse.close();
  progress(`BigQuery floor done (${round(insertSeconds)} s)`);

  // The pipeline: one processor, the same readings published once more.
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-gcp-'));
  const vigilEnv = googleRunEnv(env, run, { VIGIL_DATA_DIR: dataDir, VIGIL_AUTH_SECRET: 'bench-secret-0123456789abcdef', VIGIL_LOG_LEVEL: 'error' });
  await runVigil(['provision', '--only', 'bus,timeseries,warehouse'], vigilEnv);
  const processor = await startVigil('process', vigilEnv, { timeoutMs: 60_000 });
  try {
    const pipelineStarted = performance.now();
    for (const chunk of boundedChunks(messages, { maxCount: PUBLISH_BATCH, maxBytes: Infinity }, () => 0)) await bus.publish(`${run}-readings`, chunk);
    await until(async () => (await metric(processor.url, 'vigil_readings_processed_total')) >= count, 600_000);
    const pipelineSeconds = (performance.now() - pipelineStarted) / 1000;
    const batchSum = await metric(processor.url, 'vigil_processor_batch_seconds_sum');
    const batches = await metric(processor.url, 'vigil_processor_batch_seconds_count');
    const floorSeconds = busSeconds + mutateSeconds + insertSeconds;
    return {
      name,
      figures: {
        readings: count,
        'pipeline (readings/s)': Math.round(count / pipelineSeconds),
        'pipeline wall (s)': round(pipelineSeconds),
        'floor: raw publish (readings/s)': Math.round(count / publishSeconds),
        'floor: raw publish + pull, ack only (readings/s)': Math.round(count / busSeconds),
        'floor: raw MutateRows (rows/s)': Math.round(count / mutateSeconds),
        'floor: raw insertAll (rows/s)': Math.round(count / insertSeconds),
        'floors summed (s)': round(floorSeconds),
        'ratio pipeline / summed floors (throughput)': round(floorSeconds / pipelineSeconds),
        'processor batches': batches,
        'processor time in batches (s)': round(batchSum),
        'mean batch (ms)': batches > 0 ? round((batchSum / batches) * 1000) : 0,
        'share of wall in processor batches': round(batchSum / pipelineSeconds),
      },
    };
  } finally {
    await processor.stop();
    await bus.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Clean ward readings, each as its bus record and as the parsed reading the stores hold. */
function wardReadings(patients: number, count: number): { raw: RawReading; vital: VitalReading }[] {
  const ward = createWard({ patients, seed: 11, faults: NO_FAULTS, timeScale: 1 });
  const start = Date.now() - 3_600_000;
  const out: { raw: RawReading; vital: VitalReading }[] = [];
  for (let i = 0; out.length < count; i++) {
    for (const observed of ward.observe(i % patients, start + Math.floor(i / patients) * 1000)) {
      const raw = rawOf(observed.body as unknown as IngestReading);
      if (!raw) continue;
      const parsed = normalizeReading(raw);
      if (parsed.ok) out.push({ raw, vital: parsed.reading });
    }
  }
  return out.slice(0, count);
}

function rawOf(input: IngestReading): RawReading | undefined {
  const result = toRawReading(input, { receivedAt: Date.now(), source: 'bench' });
  return result.ok ? result.reading : undefined;
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`bench-gcp: timed out after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').pop()) : 0;
}

const round = (n: number): number => Number(n.toFixed(2));
