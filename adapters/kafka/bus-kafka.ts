import { Kafka, Partitioners, logLevel } from 'kafkajs';
import type { Admin, LogEntry, Producer } from 'kafkajs';
import { VigilError, isTransientFailure } from '../../core/errors.ts';
import { sleep, withRetry } from '../../core/retry.ts';
import type { Logger } from '../../core/observability/logger.ts';
import type { Bus, TopicSpec } from '../../core/ports/bus.ts';
import { isUnknownTopic, kafkaError } from './kafka-errors.ts';
import { DEFAULT_PUBLISHER_LIMITS, createKafkaPublisher } from './kafka-publisher.ts';
import type { PublisherLimits } from './kafka-publisher.ts';
import { DEFAULT_CONSUMER_SETTINGS, openKafkaSubscription } from './kafka-subscriber.ts';
import type { ConsumerSettings } from './kafka-subscriber.ts';
import { createOpenSubscriptions } from '../shared/open-subscriptions.ts';
import { checkSubscribeOptions } from '../../core/ports/check-subscribe-options.ts';

/** How long provisioning waits for the broker's metadata to show a topic change. */
const PROVISION_SETTLE_MS = 30_000;

export interface KafkaBusOptions {
  /** `host:port` of one or more brokers (KAFKA_BROKERS). */
  readonly brokers: readonly string[];
  /** Partitions of a topic whose spec does not say (config.bus.kafkaPartitions). Default 12. */
  readonly partitions?: number;
  readonly logger: Logger;
  readonly clientId?: string;
  readonly publisher?: Partial<PublisherLimits>;
  readonly consumer?: Partial<ConsumerSettings>;
}

/**
 * The bus port (core/ports/bus.ts) on Apache Kafka with kafkajs. See adapters/kafka/README.md for
 * the design: message key = ordering key (patient id), attributes = headers, ids = partition and
 * offset, one consumer group per subscription with offsets committed only past settled messages,
 * nack = read the partition again from the nacked offset, dead letters after maxDeliveryAttempts.
 */
export function createKafkaBus(options: KafkaBusOptions): Bus {
  if (!options?.brokers?.length) throw new VigilError('CONFIG_INVALID', 'createKafkaBus needs at least one broker (KAFKA_BROKERS)');
  const defaultPartitions = options.partitions ?? 12;
  if (!Number.isInteger(defaultPartitions) || defaultPartitions < 1) {
    throw new VigilError('CONFIG_INVALID', `createKafkaBus: partitions must be a positive integer, got ${defaultPartitions}`);
  }
  const logger = options.logger.child({ component: 'bus-kafka' });
  const consumerSettings: ConsumerSettings = { ...DEFAULT_CONSUMER_SETTINGS, ...options.consumer };
  const kafka = new Kafka({
    clientId: options.clientId ?? 'vigil',
    brokers: [...options.brokers],
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 100, maxRetryTime: 5_000, retries: 8 },
    logLevel: logLevel.WARN,
    logCreator: () => (entry: LogEntry) => logKafkajs(logger, entry),
  });

  let producer: Promise<Producer> | undefined;
  let admin: Promise<Admin> | undefined;
  const connectProducer = (): Promise<Producer> => (producer ??= connect(() => {
    // Idempotent: a retried produce request cannot duplicate or reorder messages. It requires
    // acks from all in-sync replicas (each send asks -1) and one request in flight per broker.
    // Retries are bounded so a publish fails (and ingest answers 503) instead of hanging while the
    // broker is away; a caller's retry may then duplicate a message, which readers de-duplicate.
    const p = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 3_000 },
    });
    return p.connect().then(() => p);
  }, () => (producer = undefined)));
  const connectAdmin = (): Promise<Admin> => (admin ??= connect(() => {
    const a = kafka.admin();
    return a.connect().then(() => a);
  }, () => (admin = undefined)));

  const publisher = createKafkaPublisher({
    producer: connectProducer,
    admin: connectAdmin,
    limits: { ...DEFAULT_PUBLISHER_LIMITS, ...options.publisher },
    logger,
  });
  const subscriptions = createOpenSubscriptions();
  let closed = false;

  async function provisionTopic(a: Admin, spec: TopicSpec): Promise<void> {
    // listTopics first: metadata of a missing topic is retried by kafkajs for seconds before it fails.
    const exists = (await a.listTopics()).includes(spec.topic);
    const existing = exists ? (await a.fetchTopicMetadata({ topics: [spec.topic] })).topics[0] : undefined;
    if (!existing) {
      await a.createTopics({ topics: [{ topic: spec.topic, numPartitions: spec.partitions ?? defaultPartitions }], waitForLeaders: true });
      await waitForPartitions(a, spec.topic, spec.partitions ?? defaultPartitions);
      logger.info({ topic: spec.topic, partitions: spec.partitions ?? defaultPartitions }, 'topic created');
    } else if (spec.partitions !== undefined && existing.partitions.length < spec.partitions) {
      // More partitions let more processors share the topic, but keys hash anew: a patient's
      // readings published around the change may be delivered out of order once.
      await a.createPartitions({ topicPartitions: [{ topic: spec.topic, count: spec.partitions }] });
      await waitForPartitions(a, spec.topic, spec.partitions);
      logger.warn({ topic: spec.topic, from: existing.partitions.length, to: spec.partitions }, 'topic partitions increased');
    }
    for (const sub of spec.subscriptions ?? []) {
      // A topic just created may not be in every metadata answer yet (UNKNOWN_TOPIC_OR_PARTITION, retriable).
      await withRetry(() => startGroupAtEnd(a, spec.topic, sub.name), { attempts: 12, initialDelayMs: 100, maxDelayMs: 2_000, retryOn: settling });
    }
  }

  /** While a topic change settles the broker may still call the topic unknown. */
  function settling(error: unknown): boolean {
    return isTransientFailure(error) || isUnknownTopic(error);
  }

  /**
   * A broker acknowledges a topic or partition change before its metadata shows it; a busy broker
   * can take seconds. Provisioning is done when the metadata shows every partition with a leader.
   */
  async function waitForPartitions(a: Admin, topic: string, partitions: number): Promise<void> {
    const deadline = Date.now() + PROVISION_SETTLE_MS;
    for (;;) {
      try {
        const [found] = (await a.fetchTopicMetadata({ topics: [topic] })).topics;
        if (found && found.partitions.length >= partitions && found.partitions.every((p) => p.leader >= 0)) return;
      } catch (error) {
        if (!settling(error) || Date.now() > deadline) throw error;
      }
      if (Date.now() > deadline) {
        throw new VigilError('BACKEND_UNAVAILABLE', `Kafka topic ${topic}: the broker did not show ${partitions} partitions with leaders within ${PROVISION_SETTLE_MS / 1000} s`);
      }
      await sleep(200);
    }
  }

  /**
   * A subscription receives what is published after it was provisioned, like Pub/Sub: a consumer
   * group without offsets gets them committed at the current end of each partition. Groups that
   * have offsets (or live members) are left alone. Partitions added later start from the beginning.
   */
  async function startGroupAtEnd(a: Admin, topic: string, groupId: string): Promise<void> {
    const [committed] = await a.fetchOffsets({ groupId, topics: [topic] });
    const missing = new Set((committed?.partitions ?? []).filter((p) => Number(p.offset) < 0).map((p) => p.partition));
    if (missing.size === 0) return;
    const ends = await a.fetchTopicOffsets(topic);
    await commitGroupOffsets(groupId, topic, ends.filter((e) => missing.has(e.partition)).map((e) => ({ partition: e.partition, offset: e.high })));
  }

  /**
   * What admin.setOffsets does (join the group with a paused consumer, seek, stop after the first
   * fetch), with a short fetch wait: setOffsets's consumer waits kafkajs's default 5 s for that fetch.
   */
  async function commitGroupOffsets(groupId: string, topic: string, partitions: { partition: number; offset: string }[]): Promise<void> {
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 50, allowAutoTopicCreation: false });
    await consumer.connect();
    try {
      const { state, members } = await consumer.describeGroup();
      if (members.length > 0 || !['Empty', 'Dead', 'Unknown'].includes(state)) {
        // A group with running members keeps its own positions.
        logger.info({ groupId, topic, state }, 'consumer group is running: offsets left as they are');
        return;
      }
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        consumer.on(consumer.events.FETCH, () => resolve());
        consumer.on(consumer.events.CRASH, (event) => reject(event.payload.error));
        // autoCommit (the default) is what makes seek commit the offset.
        consumer.run({ eachBatchAutoResolve: false, eachBatch: async () => {} }).catch(reject);
        consumer.pause([{ topic }]);
        for (const p of partitions) consumer.seek({ topic, ...p });
      });
    } finally {
      await consumer.disconnect();
    }
  }

  const bus: Bus = {
    kind: 'kafka',

    async provision(specs) {
      try {
        const a = await connectAdmin();
        for (const spec of specs) await provisionTopic(a, spec);
        publisher.forgetMetadata();
      } catch (error) {
        throw kafkaError(error, 'Kafka provision');
      }
    },

    async publish(topic, messages) {
      if (closed) throw new VigilError('SHUTTING_DOWN', 'the Kafka bus is closed');
      return publisher.publish(topic, messages);
    },

    async subscribe(subscribeOptions, handler) {
      if (closed) throw new VigilError('SHUTTING_DOWN', 'the Kafka bus is closed');
      checkSubscribeOptions(subscribeOptions);
      const subscription = await openKafkaSubscription({
        kafka,
        options: subscribeOptions,
        handler,
        settings: consumerSettings,
        publish: (topic, messages) => publisher.publish(topic, messages),
        committed: async (groupId, topic) => {
          const [offsets] = await (await connectAdmin()).fetchOffsets({ groupId, topics: [topic] });
          return new Map((offsets?.partitions ?? []).map((p) => [p.partition, { offset: p.offset, metadata: p.metadata }]));
        },
        logger,
      });
      return subscriptions.track(subscription);
    },

    async ping() {
      try {
        await (await connectAdmin()).describeCluster();
      } catch (error) {
        throw kafkaError(error, 'Kafka ping');
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      await subscriptions.closeAll();
      await publisher.flush();
      const clients = await Promise.allSettled([producer, admin]);
      await Promise.allSettled(clients.map((c) => (c.status === 'fulfilled' ? c.value?.disconnect() : undefined)));
    },
  };
  return bus;
}

/** Connects once; a failed connection is forgotten so the next call tries again. */
function connect<T>(open: () => Promise<T>, forget: () => void): Promise<T> {
  return open().catch((error: unknown) => {
    forget();
    throw kafkaError(error, 'Kafka connect');
  });
}

/** kafkajs's own log lines, through our logger (they carry broker and group names, never payloads). */
function logKafkajs(logger: Logger, entry: LogEntry): void {
  const { message, ...extra } = entry.log;
  const fields = { kafkajs: entry.namespace, ...extra };
  // Said once per producer because its retries are bounded on purpose (see connectProducer).
  if (message.startsWith('Limiting retries for the idempotent producer')) logger.debug(fields, message);
  else if (entry.level === logLevel.ERROR) logger.error(fields, message);
  else if (entry.level === logLevel.WARN) logger.warn(fields, message);
  else logger.debug(fields, message);
}
