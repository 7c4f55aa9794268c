import type { Batch, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from '../../core/observability/logger.ts';
import type { BatchHandler, DeliveredMessage, OutgoingMessage, SubscribeOptions, Subscription } from '../../core/ports/bus.ts';
import { kafkaError } from './kafka-errors.ts';
import { attributesOf, messageIdOf } from './kafka-message.ts';

/** Consumer-group timings; every default in one place. */
export interface ConsumerSettings {
  /** A member silent this long is removed and its partitions reassigned (the broker allows 6 s..30 min by default). */
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  /** How long members get to rejoin when the group rebalances. */
  readonly rebalanceTimeoutMs: number;
  /** On a rebalance, how long in-flight messages may still settle before they are left to the next owner. */
  readonly rebalanceGraceMs: number;
  /** On close, how long messages handed out (handler returned, not yet settled) may still settle. */
  readonly closeGraceMs: number;
  /** Backoff before a nacked or expired message is redelivered: initial, doubling up to max. */
  readonly redeliveryBackoffMs: { readonly initial: number; readonly max: number };
  /** Longest the broker holds an empty fetch (minBytes is 1: data is handed over as soon as it is there). */
  readonly maxFetchWaitMs: number;
  /** Partitions whose batches are handled at the same time by one subscriber. */
  readonly partitionsConcurrently: number;
}

export const DEFAULT_CONSUMER_SETTINGS: ConsumerSettings = Object.freeze({
  // 10 s: a killed processor's partitions move to the others within ~10 s, not kafkajs's 30 s.
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 1_000,
  rebalanceTimeoutMs: 30_000,
  rebalanceGraceMs: 3_000,
  closeGraceMs: 1_000,
  redeliveryBackoffMs: Object.freeze({ initial: 250, max: 10_000 }),
  maxFetchWaitMs: 500,
  partitionsConcurrently: 64,
});

type State = 'pending' | 'acked' | 'nacked' | 'expired' | 'abandoned' | 'dead';

interface Delivery {
  readonly offset: number;
  readonly attempt: number;
  state: State;
  message: DeliveredMessage;
  settle(state: State): void;
}

/** What this subscriber remembers of a partition between its batches (and across rebalances). */
interface PartitionMemory {
  /** Delivery attempts so far of offsets at or past the committed one. */
  readonly attempts: Map<number, number>;
  /** Offsets past the commit point already acked: skipped when the partition is read again. */
  readonly acked: Set<number>;
}

/** Resolves waiters whenever a delivery settles, so waits wake up without polling fast. */
function createChangeSignal() {
  let waiters: (() => void)[] = [];
  return {
    notify(): void {
      const woken = waiters;
      waiters = [];
      for (const wake of woken) wake();
    },
    wait(ms: number): Promise<void> {
      return new Promise((resolve) => {
        const timer = setTimeout(done, ms);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        waiters.push(done);
      });
    },
  };
}

/**
 * One subscriber: a kafkajs consumer in the group named after the subscription.
 *
 * Each partition batch kafkajs fetches is handed to the handler in chunks (maxBatchSize, and never
 * more than maxInFlight unsettled messages across partitions), then `eachBatch` waits until every
 * message of it is settled or its ack deadline passed, heart-beating meanwhile. Only then is the
 * offset committed: the first offset of the batch that is not acked (so the committed position
 * never passes an unsettled message), and the fetch position moves to the same place, so nacked and
 * expired messages are read again from the log, in order, after a backoff (the partition is paused
 * meanwhile). Messages after them that were acked are remembered and skipped. After
 * `maxDeliveryAttempts` a message goes to the dead-letter topic and counts as acked.
 *
 * A rebalance (seen as a failed heartbeat) or close gives in-flight messages a short grace, commits
 * what settled and returns, so the group is never held up longer than that; whatever did not settle
 * is redelivered to the partition's next owner.
 */
export async function openKafkaSubscription(deps: {
  readonly kafka: Kafka;
  readonly options: SubscribeOptions;
  readonly handler: BatchHandler;
  readonly settings: ConsumerSettings;
  readonly publish: (topic: string, messages: readonly OutgoingMessage[]) => Promise<string[]>;
  /** The group's committed offsets with their metadata, per partition. */
  readonly committed: (groupId: string, topic: string) => Promise<Map<number, { offset: string; metadata: string | null }>>;
  readonly logger: Logger;
}): Promise<Subscription> {
  const { options, handler, settings } = deps;
  const logger = deps.logger.child({ subscription: options.subscription, topic: options.topic });
  const memories = new Map<number, PartitionMemory>();
  const changed = createChangeSignal();
  const backoffTimers = new Set<NodeJS.Timeout>();
  let inFlight = 0;
  let closing = false;
  /** Bumped on every group join: a partition's first batch after it reads the attempts its last owner left. */
  let generation = 0;
  const partitionGeneration = new Map<number, number>();

  const consumer: Consumer = deps.kafka.consumer({
    groupId: options.subscription,
    sessionTimeout: settings.sessionTimeoutMs,
    heartbeatInterval: settings.heartbeatIntervalMs,
    rebalanceTimeout: settings.rebalanceTimeoutMs,
    // The broker answers as soon as any data is there (minBytes 1), so this only paces idle polls.
    maxWaitTimeInMs: settings.maxFetchWaitMs,
    minBytes: 1,
    allowAutoTopicCreation: false,
  });
  consumer.on(consumer.events.GROUP_JOIN, () => {
    generation++;
  });
  consumer.on(consumer.events.CRASH, (event) => {
    logger.warn({ error: event.payload.error.message, restart: event.payload.restart }, 'Kafka consumer crashed');
  });

  function memoryOf(partition: number): PartitionMemory {
    let memory = memories.get(partition);
    if (!memory) {
      memory = { attempts: new Map(), acked: new Set() };
      memories.set(partition, memory);
    }
    return memory;
  }

  function deliver(batch: Batch, m: KafkaMessage, memory: PartitionMemory): Delivery {
    const offset = Number(m.offset);
    const attempt = (memory.attempts.get(offset) ?? 0) + 1;
    memory.attempts.set(offset, attempt);
    inFlight++;
    let timer = setTimeout(() => delivery.settle('expired'), options.ackDeadlineMs);
    const delivery: Delivery = {
      offset,
      attempt,
      state: 'pending',
      message: undefined as unknown as DeliveredMessage,
      settle(state) {
        if (delivery.state !== 'pending') return;
        delivery.state = state;
        clearTimeout(timer);
        inFlight--;
        // Taken back by a rebalance or a close before the handler settled it: no delivery failed,
        // so the next owner (told through the commit's metadata) delivers it under the same number.
        if (state === 'abandoned') {
          if (attempt > 1) memory.attempts.set(offset, attempt - 1);
          else memory.attempts.delete(offset);
        }
        changed.notify();
      },
    };
    delivery.message = {
      id: messageIdOf(batch.partition, m.offset),
      data: m.value ?? new Uint8Array(0),
      attributes: attributesOf(m.headers),
      ...(m.key ? { orderingKey: m.key.toString('utf8') } : {}),
      deliveryAttempt: attempt,
      publishedAt: new Date(Number(m.timestamp)),
      ack: async () => delivery.settle('acked'),
      nack: async () => delivery.settle('nacked'),
      // Kafka has no per-message lease: the deadline is this subscriber's own timer, and eachBatch
      // keeps heart-beating while it waits, so a held message keeps its partition and its attempt.
      extendAckDeadline: async () => {
        if (delivery.state !== 'pending') return;
        clearTimeout(timer);
        timer = setTimeout(() => delivery.settle('expired'), options.ackDeadlineMs);
      },
    };
    return delivery;
  }

  /**
   * Attempt counts survive a move of the partition to another subscriber (or a restart) through
   * the commit's metadata: the offset it points at and how often that message already failed.
   */
  async function recallAttempts(batch: Batch, memory: PartitionMemory): Promise<void> {
    if (partitionGeneration.get(batch.partition) === generation) return;
    partitionGeneration.set(batch.partition, generation);
    try {
      const committed = (await deps.committed(options.subscription, batch.topic)).get(batch.partition);
      const left = parseAttemptsMetadata(committed?.metadata ?? null);
      if (left && left.offset === Number(committed!.offset)) {
        memory.attempts.set(left.offset, Math.max(memory.attempts.get(left.offset) ?? 0, left.attempts));
      }
    } catch (error) {
      logger.debug({ error: (error as Error).message, partition: batch.partition }, 'could not read the committed attempts; counting from here');
    }
  }

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const memory = memoryOf(batch.partition);
    await recallAttempts(batch, memory);
    let rebalancing = false;
    let lastBeat = 0;
    const beat = async (): Promise<void> => {
      if (Date.now() - lastBeat < settings.heartbeatIntervalMs / 2) return;
      lastBeat = Date.now();
      try {
        await payload.heartbeat();
      } catch {
        // Any failed heartbeat puts our membership in doubt: treat it as the rebalance it usually is.
        rebalancing = true;
      }
    };
    /** Waits while `condition` holds; once closing or rebalancing, at most `graceMs` longer. */
    const waitWhile = async (condition: () => boolean, graceMs: (reason: 'close' | 'rebalance') => number): Promise<void> => {
      let cutoff = Infinity;
      while (condition()) {
        if (cutoff === Infinity && (closing || rebalancing)) cutoff = Date.now() + graceMs(closing ? 'close' : 'rebalance');
        if (Date.now() >= cutoff) return;
        await changed.wait(Math.min(settings.heartbeatIntervalMs / 2, cutoff - Date.now()));
        await beat();
      }
    };

    const messages = batch.messages;
    const deliveries: Delivery[] = [];
    const chunkLimit = Math.min(options.maxBatchSize, options.maxInFlight);
    let handed = 0;
    let failed = false;
    while (handed < messages.length && !failed && !closing && !rebalancing && payload.isRunning() && !payload.isStale()) {
      let end = handed;
      const chunk: KafkaMessage[] = [];
      while (end < messages.length && chunk.length < chunkLimit) {
        const m = messages[end++]!;
        if (!memory.acked.has(Number(m.offset))) chunk.push(m);
      }
      await waitWhile(() => inFlight + chunk.length > options.maxInFlight, () => 0);
      if (inFlight + chunk.length > options.maxInFlight) break;
      handed = end;
      if (chunk.length === 0) continue;
      const delivered = chunk.map((m) => deliver(batch, m, memory));
      deliveries.push(...delivered);
      // A slow handler (stores retrying) must not cost the group membership.
      const beating = setInterval(() => void beat(), settings.heartbeatIntervalMs);
      try {
        await handler(delivered.map((d) => d.message));
      } catch (error) {
        logger.warn({ error: (error as Error)?.message, messages: delivered.length }, 'bus handler threw; its unsettled messages are nacked');
        for (const d of delivered) d.settle('nacked');
      } finally {
        clearInterval(beating);
      }
      // Stop handing out this partition past a failure: what follows is read again after it anyway.
      failed = delivered.some((d) => d.state === 'nacked' || d.state === 'expired');
      await beat();
    }

    await waitWhile(() => deliveries.some((d) => d.state === 'pending'), (reason) => (reason === 'close' ? settings.closeGraceMs : settings.rebalanceGraceMs));
    for (const d of deliveries) d.settle('abandoned');
    await deadLetter(batch, deliveries);

    for (const d of deliveries) if (d.state === 'acked' || d.state === 'dead') memory.acked.add(d.offset);
    const firstOpen = messages.find((m) => !memory.acked.has(Number(m.offset)));
    const next = firstOpen ? Number(firstOpen.offset) : Number(batch.lastOffset()) + 1;
    payload.resolveOffset(String(next - 1));
    for (const offset of memory.acked) if (offset < next) memory.acked.delete(offset);
    for (const offset of memory.attempts.keys()) if (offset < next) memory.attempts.delete(offset);
    const failedBefore = memory.attempts.get(next);
    // kafkajs passes `metadata` through to the OffsetCommit request, though its types omit it.
    const position = { partition: batch.partition, offset: String(next), metadata: failedBefore ? attemptsMetadata(next, failedBefore) : null };
    try {
      await payload.commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [position] }] });
    } catch (error) {
      // Usually a rebalance took the partition: its next owner starts from the last commit (at-least-once).
      logger.debug({ error: (error as Error).message, partition: batch.partition }, 'offset commit failed; messages since the last commit will be redelivered');
    }

    const retry = deliveries.find((d) => d.state === 'nacked' || d.state === 'expired');
    if (retry && !closing) {
      const backoff = Math.min(settings.redeliveryBackoffMs.max, settings.redeliveryBackoffMs.initial * 2 ** (retry.attempt - 1));
      const resume = payload.pause();
      const timer = setTimeout(() => {
        backoffTimers.delete(timer);
        resume();
      }, backoff);
      backoffTimers.add(timer);
    }
  }

  /** Moves messages out of attempts to the dead-letter topic; one that cannot be moved stays nacked. */
  async function deadLetter(batch: Batch, deliveries: readonly Delivery[]): Promise<void> {
    const { maxDeliveryAttempts, deadLetterTopic } = options;
    if (!deadLetterTopic || !maxDeliveryAttempts) return;
    const exhausted = deliveries.filter((d) => (d.state === 'nacked' || d.state === 'expired') && d.attempt >= maxDeliveryAttempts);
    if (exhausted.length === 0) return;
    try {
      await deps.publish(deadLetterTopic, exhausted.map((d) => ({
        data: d.message.data,
        attributes: {
          ...d.message.attributes,
          'vigil-dead-letter-source': `${batch.topic}/${batch.partition}/${d.offset}`,
          'vigil-dead-letter-subscription': options.subscription,
          'vigil-dead-letter-attempts': String(d.attempt),
        },
        ...(d.message.orderingKey === undefined ? {} : { orderingKey: d.message.orderingKey }),
      })));
      for (const d of exhausted) d.state = 'dead';
      logger.warn({ messages: exhausted.length, deadLetterTopic, partition: batch.partition }, 'messages moved to the dead-letter topic after maxDeliveryAttempts');
    } catch (error) {
      logger.error({ error: (error as Error).message, deadLetterTopic }, 'dead-letter publish failed; the messages will be redelivered');
    }
  }

  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [options.topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: settings.partitionsConcurrently,
      eachBatch,
    });
  } catch (error) {
    await consumer.disconnect().catch(() => {});
    throw kafkaError(error, `Kafka subscribe ${options.subscription}`, options.topic);
  }

  let closed: Promise<void> | undefined;
  return {
    close: () => (closed ??= (async () => {
      closing = true;
      changed.notify();
      for (const timer of backoffTimers) clearTimeout(timer);
      backoffTimers.clear();
      // Waits for the running eachBatch calls (they see `closing`), commits in them, leaves the group.
      await consumer.disconnect();
    })()),
  };
}

const ATTEMPTS_METADATA = /^vigil-attempts:(\d+):(\d+)$/;

/** Commit metadata saying how often the message at the committed offset already failed. */
export function attemptsMetadata(offset: number, attempts: number): string {
  return `vigil-attempts:${offset}:${attempts}`;
}

export function parseAttemptsMetadata(metadata: string | null): { offset: number; attempts: number } | undefined {
  const match = metadata ? ATTEMPTS_METADATA.exec(metadata) : null;
  return match ? { offset: Number(match[1]), attempts: Number(match[2]) } : undefined;
}
