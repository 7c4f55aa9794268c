import { Kafka, logLevel } from 'kafkajs';
import { percentile } from './bench-result.ts';
import type { BenchResult } from './bench-result.ts';
import { startVigil } from '../cli/test-support/vigil-process.ts';
import { createLogger } from '../core/observability/logger.ts';
import type { Bus } from '../core/ports/bus.ts';
import { signToken } from '../http/auth.ts';
import { resolveEmulatorEnv } from '../infra/emulator-env.ts';
import { createBusSink } from '../simulators/sink-bus.ts';
import { createKafkaBus } from '../adapters/kafka/bus-kafka.ts';
import { deleteKafkaRun, kafkaRunEnv, runVigil, wardReading } from '../adapters/kafka/test-support/pipeline-env.ts';

export interface KafkaBenchOptions {
  /** Readings in the backlog both consumers read. Default 100 000. */
  readonly readings?: number;
  readonly patients?: number;
  readonly partitions?: number;
  /** Length of the latency phase. Default 15 s. */
  readonly latencySeconds?: number;
  /** Background readings per second during the latency phase (a few wards). Default 200. */
  readonly latencyLoad?: number;
  readonly brokers?: readonly string[];
}

/**
 * Vigil on Kafka: `VIGIL_BUS=kafka vigil start` (embedded stores, simulator off) works off a
 * backlog of N Avro readings, against a raw kafkajs consumer reading the same topic in the same
 * run (no decoding, no stores): the ratio is what parsing, storing and committing cost. Then, at a
 * steady ward-like load, probe readings posted to /v1/readings measure the delay from the edge's
 * 202 to the SSE update that carries them (edge → Kafka → processor → stores → stream).
 */
export async function benchKafkaPipeline(options: KafkaBenchOptions = {}): Promise<BenchResult> {
  const name = 'Kafka pipeline (Avro on Kafka → vigil start processor → SQLite + DuckDB) vs raw kafkajs consume';
  const brokers = options.brokers ?? (process.env.KAFKA_BROKERS ?? resolveEmulatorEnv()?.KAFKA_BROKERS)?.split(',');
  if (!brokers?.length) return { name, figures: {}, skipped: 'no Kafka broker: run `npm run emulators:up` (or set KAFKA_BROKERS)' };
  const total = options.readings ?? 100_000;
  const patients = options.patients ?? 1_000;
  const partitions = options.partitions ?? 6;
  const env = kafkaRunEnv(brokers, 'vigil-bench-kafka', { VIGIL_KAFKA_PARTITIONS: String(partitions), VIGIL_LOG_LEVEL: 'error' });
  const topic = env.VIGIL_READINGS_TOPIC!;
  const logger = createLogger({ level: 'silent' });
  const kafka = new Kafka({ brokers: [...brokers], logLevel: logLevel.NOTHING });

  const provisioned = await runVigil('provision', { ...env, VIGIL_WAREHOUSE: 'duckdb' });
  if (provisioned.code !== 0) throw new Error(`vigil provision failed:\n${provisioned.output}`);

  // The backlog: N readings published through the adapter, as the edge would.
  const bus = createKafkaBus({ brokers, logger });
  const sink = createBusSink({ bus, topic, maxBatchSize: 1_000 });
  const start = Date.now() - 24 * 3_600_000;
  const publishStarted = performance.now();
  // Four writers at once, as several edge instances would: the publisher batches across them.
  const chunk = 5_000;
  let next = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    for (let i = next; i < total; i = next) {
      next += chunk;
      const n = Math.min(chunk, total - i);
      await sink.write(Array.from({ length: n }, (_, j) => wardReading((i + j) % patients, start + Math.floor((i + j) / patients) * 1_000)));
    }
  }));
  const publishRate = total / ((performance.now() - publishStarted) / 1000);

  const raw = await rawConsumeRate(kafka, topic, `${env.VIGIL_SUBSCRIPTION}-raw`, total);

  const secret = env.VIGIL_AUTH_SECRET!;
  const vigil = await startVigil('start', env, { timeoutMs: 60_000 });
  const abort = new AbortController();
  try {
    // Throughput: from the first reading processed to the last, so start-up and group join don't count.
    let first = 0;
    let processed = 0;
    const deadline = performance.now() + 600_000;
    while (processed < total && performance.now() < deadline) {
      processed = await metric(vigil.url, 'vigil_readings_processed_total');
      if (processed > 0 && first === 0) first = performance.now();
      await new Promise((r) => setTimeout(r, 50));
    }
    const pipelineRate = processed / ((performance.now() - first) / 1000);

    // Latency at a steady load through the bus (waves every 250 ms), probes through the HTTP edge.
    const load = options.latencyLoad ?? 200;
    const device = `Bearer ${signToken(secret, { sub: 'bench', role: 'device', expiresIn: '1h' })}`;
    const clinician = `Bearer ${signToken(secret, { sub: 'bench', role: 'clinician', expiresIn: '1h' })}`;
    const seen = await watchProbes(vigil.url, clinician, abort.signal);
    // Let the re-scoring of the backlog's patients finish, so probes measure the steady state.
    await new Promise((r) => setTimeout(r, 3_000));
    const stopAt = performance.now() + (options.latencySeconds ?? 15) * 1000;
    const background = (async () => {
      for (let wave = 0; performance.now() < stopAt; wave++) {
        if (load > 0) await sink.write(Array.from({ length: Math.ceil(load / 4) }, (_, j) => wardReading(j % patients, Date.now() - 60_000 + wave)));
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const delays: number[] = [];
    for (let n = 0; performance.now() < stopAt - 500; n++) {
      const observedAt = Date.now() - n;
      const response = await fetch(`${vigil.url}/v1/readings`, {
        method: 'POST',
        headers: { authorization: device, 'content-type': 'application/json' },
        body: JSON.stringify({ deviceId: 'bench-probe', patientId: 'KAFKA-PROBE', observedAt, heartRate: 70 + (n % 30) }),
      });
      const acceptedAt = performance.now();
      await response.arrayBuffer();
      const until = acceptedAt + 5_000;
      while (!seen.has(observedAt) && performance.now() < until) await new Promise((r) => setTimeout(r, 1));
      const at = seen.get(observedAt);
      if (at !== undefined) delays.push(at - acceptedAt);
      await new Promise((r) => setTimeout(r, 100));
    }
    await background;
    delays.sort((a, b) => a - b);
    const hop = await busHopDelays(bus, topic, `${env.VIGIL_SUBSCRIPTION}-hop`);
    return {
      name,
      figures: {
        readings: total, patients, partitions,
        'publish through the adapter (readings/s)': Math.round(publishRate),
        'raw kafkajs consume floor (messages/s)': Math.round(raw),
        'pipeline: consume+decode+parse+store+commit (readings/s)': Math.round(pipelineRate),
        'ratio pipeline / raw consume': Number((pipelineRate / raw).toFixed(3)),
        'latency phase: offered load (readings/s)': load,
        // Includes the processor's re-score throttle (VIGIL_RESCORE_DEBOUNCE_MS, 250 ms), as in the embedded figure.
        'edge 202 → SSE update, p50 (ms)': Number(percentile(delays, 0.5).toFixed(1)),
        'edge 202 → SSE update, p99 (ms)': Number(percentile(delays, 0.99).toFixed(1)),
        probes: delays.length,
        'bus hop alone (publish call → handler), p50 (ms)': Number(percentile(hop, 0.5).toFixed(1)),
        'bus hop alone (publish call → handler), p99 (ms)': Number(percentile(hop, 0.99).toFixed(1)),
      },
    };
  } finally {
    abort.abort();
    await vigil.stop();
    await bus.close();
    await deleteKafkaRun(brokers, env, [`${env.VIGIL_SUBSCRIPTION}-raw`, `${env.VIGIL_SUBSCRIPTION}-hop`]);
  }
}

/** The floor: a bare kafkajs consumer group reading the topic from the start, touching nothing. */
async function rawConsumeRate(kafka: Kafka, topic: string, groupId: string, total: number): Promise<number> {
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let count = 0;
  let first = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => (done = resolve));
  await consumer.run({
    partitionsConsumedConcurrently: 16,
    eachBatch: async ({ batch }) => {
      if (first === 0) first = performance.now();
      count += batch.messages.length;
      if (count >= total) done();
    },
  });
  // The give-up timer is cleared: a pending 5-minute timer kept `npm run bench` alive after its last bench.
  let giveUp: NodeJS.Timeout | undefined;
  await Promise.race([finished, new Promise((r) => (giveUp = setTimeout(r, 300_000)))]);
  clearTimeout(giveUp);
  const rate = count / ((performance.now() - first) / 1000);
  await consumer.disconnect();
  return rate;
}

/** The adapter alone: one message every 20 ms for 5 s, from the publish call to the handler of another group. */
async function busHopDelays(bus: Bus, topic: string, subscription: string): Promise<number[]> {
  await bus.provision([{ topic, subscriptions: [{ name: subscription }] }]);
  const sentAt = new Map<string, number>();
  const delays: number[] = [];
  const sub = await bus.subscribe({ topic, subscription, maxBatchSize: 100, maxBatchWaitMs: 10, maxInFlight: 1_000, ackDeadlineMs: 30_000 }, async (batch) => {
    const now = performance.now();
    for (const m of batch) {
      const at = sentAt.get(m.attributes['bench-hop'] ?? '');
      if (at !== undefined) delays.push(now - at);
      await m.ack();
    }
  });
  await new Promise((r) => setTimeout(r, 2_000)); // the group join
  for (let n = 0; n < 250; n++) {
    sentAt.set(String(n), performance.now());
    await bus.publish(topic, [{ data: Buffer.from('hop'), attributes: { 'bench-hop': String(n) }, orderingKey: `HOP-${n % 10}` }]);
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 1_000));
  await sub.close();
  return delays.sort((a, b) => a - b);
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** Follows /v1/stream and notes when each probe's update (by observedAt) first arrives. */
async function watchProbes(url: string, authorization: string, signal: AbortSignal): Promise<Map<number, number>> {
  const seen = new Map<number, number>();
  const response = await fetch(`${url}/v1/stream`, { headers: { authorization }, signal });
  const lines = response.body!.pipeThrough(new TextDecoderStream());
  void (async () => {
    let pending = '';
    try {
      for await (const text of lines) {
        pending += text;
        const events = pending.split('\n\n');
        pending = events.pop() ?? '';
        for (const event of events) {
          const data = event.split('\n').find((l) => l.startsWith('data: '))?.slice(6);
          if (!data?.includes('KAFKA-PROBE')) continue;
          const observedAt = Date.parse((JSON.parse(data) as { latest?: { observedAt?: string } }).latest?.observedAt ?? '');
          if (!seen.has(observedAt)) seen.set(observedAt, performance.now());
        }
      }
    } catch {
      // aborted at the end
    }
  })();
  return seen;
}
