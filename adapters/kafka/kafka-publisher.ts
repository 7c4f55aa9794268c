import { Partitioners } from 'kafkajs';
import type { Admin, Message, PartitionMetadata, Producer, RecordMetadata, TopicMessages } from 'kafkajs';
import { VigilError } from '../../core/errors.ts';
import type { Logger } from '../../core/observability/logger.ts';
import type { OutgoingMessage } from '../../core/ports/bus.ts';
import { kafkaError } from './kafka-errors.ts';
import { messageIdOf } from './kafka-message.ts';

/** How the publisher groups messages into produce requests (kafkajs has no linger of its own). */
export interface PublisherLimits {
  /** A produce request carries at most this many messages... */
  readonly batchMessages: number;
  /** ...and about this many bytes (the broker refuses record batches over message.max.bytes, 1 MiB by default). */
  readonly batchBytes: number;
  /** ...and is sent once its oldest message has waited this long, if not full earlier. */
  readonly lingerMs: number;
  /** Bytes accepted but not yet acknowledged; beyond, `publish` waits for room. */
  readonly maxPendingBytes: number;
  /** How long partition counts are trusted before the metadata is read again. */
  readonly metadataMaxAgeMs: number;
}

export const DEFAULT_PUBLISHER_LIMITS: PublisherLimits = Object.freeze({
  batchMessages: 2_000,
  batchBytes: 900 * 1024,
  // Ingest answers 202 only once publish resolves: a short linger keeps that answer quick, and
  // while one request is in flight the next batch fills anyway.
  lingerMs: 2,
  maxPendingBytes: 32 * 1024 * 1024,
  metadataMaxAgeMs: 60_000,
});

interface Pending {
  readonly topic: string;
  readonly partition: number;
  readonly message: Message;
  readonly bytes: number;
  id?: string;
  readonly done: (error?: unknown) => void;
}

export interface KafkaPublisher {
  publish(topic: string, messages: readonly OutgoingMessage[]): Promise<string[]>;
  /** Forget cached partition counts (after provisioning changed them). */
  forgetMetadata(): void;
  /** Sends everything pending and waits for the acknowledgements. */
  flush(): Promise<void>;
}

/**
 * Batches publishes into produce requests bounded by count, bytes and age, one request in flight
 * at a time (what kafkajs's idempotent producer needs to keep its sequence numbers gapless).
 *
 * Partitions are chosen here with kafkajs's default (Java-compatible murmur2) partitioner, so a
 * patient's key always lands on the same partition and every message's offset, hence its id, is
 * known from the broker's answer: `<partition>-<offset>`, the same id its deliveries carry.
 */
export function createKafkaPublisher(deps: {
  readonly producer: () => Promise<Producer>;
  readonly admin: () => Promise<Admin>;
  readonly limits: PublisherLimits;
  readonly logger: Logger;
}): KafkaPublisher {
  const { limits } = deps;
  const partitioner = Partitioners.DefaultPartitioner();
  const metadata = new Map<string, { partitions: PartitionMetadata[]; readAt: number }>();
  let queue: Pending[] = [];
  let pendingBytes = 0;
  let sending: Promise<void> | undefined;
  let lingerTimer: NodeJS.Timeout | undefined;
  const roomWaiters: (() => void)[] = [];

  async function partitionsOf(topic: string): Promise<PartitionMetadata[]> {
    const cached = metadata.get(topic);
    if (cached && Date.now() - cached.readAt < limits.metadataMaxAgeMs) return cached.partitions;
    let partitions: PartitionMetadata[];
    try {
      const answer = await (await deps.admin()).fetchTopicMetadata({ topics: [topic] });
      partitions = answer.topics[0]?.partitions ?? [];
    } catch (error) {
      throw kafkaError(error, `Kafka metadata of ${topic}`, topic);
    }
    if (partitions.length === 0) throw new VigilError('BACKEND_REJECTED', `Kafka topic ${topic} has no partitions: run vigil provision`);
    metadata.set(topic, { partitions, readAt: Date.now() });
    return partitions;
  }

  async function waitForRoom(bytes: number): Promise<void> {
    // A single call larger than the whole budget still goes through once the queue is empty.
    while (pendingBytes > 0 && pendingBytes + bytes > limits.maxPendingBytes) {
      await new Promise<void>((resolve) => roomWaiters.push(resolve));
    }
  }

  function schedule(): void {
    if (sending) return;
    if (queue.length >= limits.batchMessages || queuedBytes() >= limits.batchBytes) {
      startSend();
    } else if (!lingerTimer && queue.length > 0) {
      lingerTimer = setTimeout(startSend, limits.lingerMs);
    }
  }

  function queuedBytes(): number {
    let total = 0;
    for (const p of queue) total += p.bytes;
    return total;
  }

  function startSend(): void {
    clearTimeout(lingerTimer);
    lingerTimer = undefined;
    if (sending || queue.length === 0) return;
    let count = 0, bytes = 0;
    while (count < queue.length && count < limits.batchMessages && (count === 0 || bytes + queue[count]!.bytes <= limits.batchBytes)) {
      bytes += queue[count]!.bytes;
      count++;
    }
    const batch = queue.slice(0, count);
    queue = queue.slice(count);
    sending = send(batch).finally(() => {
      sending = undefined;
      pendingBytes -= bytes;
      for (const wake of roomWaiters.splice(0)) wake();
      // Whatever queued meanwhile has already waited at least one round trip: send it now.
      if (queue.length > 0) startSend();
    });
  }

  async function send(batch: Pending[]): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    for (const p of batch) {
      const list = byTopic.get(p.topic) ?? [];
      list.push(p.message);
      byTopic.set(p.topic, list);
    }
    const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    let answer: RecordMetadata[];
    try {
      answer = await (await deps.producer()).sendBatch({ topicMessages, acks: -1 });
    } catch (error) {
      // Partition counts may have changed (or the topic vanished): read them again next time.
      for (const topic of byTopic.keys()) metadata.delete(topic);
      const failure = kafkaError(error, 'Kafka publish', [...byTopic.keys()].join(','));
      for (const p of batch) p.done(failure);
      return;
    }
    // kafkajs writes one record batch per partition, in the order given: offsets are consecutive.
    const next = new Map<string, bigint>();
    for (const r of answer) next.set(`${r.topicName}\u0000${r.partition}`, BigInt(r.baseOffset ?? '-1'));
    for (const p of batch) {
      const key = `${p.topic}\u0000${p.partition}`;
      const offset = next.get(key);
      if (offset === undefined || offset < 0n) {
        p.done(new VigilError('BACKEND_UNAVAILABLE', `Kafka did not report an offset for ${p.topic}/${p.partition}`));
        continue;
      }
      next.set(key, offset + 1n);
      p.id = messageIdOf(p.partition, offset.toString());
      p.done();
    }
  }

  return {
    async publish(topic, messages) {
      if (messages.length === 0) return [];
      const partitions = await partitionsOf(topic);
      const pending: Pending[] = [];
      const settled: Promise<void>[] = [];
      let bytes = 0;
      for (const m of messages) {
        const message: Message = {
          key: m.orderingKey ?? null,
          value: Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength),
          headers: m.attributes ? { ...m.attributes } : {},
          timestamp: String(Date.now()),
        };
        const partition = partitioner({ topic, partitionMetadata: partitions, message });
        message.partition = partition;
        const size = sizeOf(m);
        bytes += size;
        settled.push(new Promise<void>((resolve, reject) => {
          pending.push({ topic, partition, message, bytes: size, done: (error) => (error ? reject(error) : resolve()) });
        }));
      }
      await waitForRoom(bytes);
      pendingBytes += bytes;
      queue.push(...pending);
      schedule();
      await Promise.all(settled);
      return pending.map((p) => p.id!);
    },

    forgetMetadata() {
      metadata.clear();
    },

    async flush() {
      while (sending || queue.length > 0) {
        if (!sending) startSend();
        await sending;
      }
    },
  };
}

/** Bytes a message takes on the wire, near enough for batching (record overhead ~ 20 bytes). */
function sizeOf(m: OutgoingMessage): number {
  let size = m.data.byteLength + (m.orderingKey?.length ?? 0) + 24;
  for (const [k, v] of Object.entries(m.attributes ?? {})) size += k.length + v.length + 4;
  return size;
}
