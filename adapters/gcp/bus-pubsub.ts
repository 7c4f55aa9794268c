import { Duration, PubSub } from '@google-cloud/pubsub';
import type { Message, Subscription as PubSubSubscription, Topic } from '@google-cloud/pubsub';
import { VigilError } from '../../core/errors.ts';
import type { Logger } from '../../core/observability/logger.ts';
import type { BatchHandler, Bus, DeliveredMessage, OutgoingMessage, SubscribeOptions, TopicSpec } from '../../core/ports/bus.ts';
import { createBatchDispatcher } from './batch-dispatcher.ts';
import { backendError, createIfMissing } from './google-errors.ts';
import { createOpenSubscriptions } from '../shared/open-subscriptions.ts';
import { checkSubscribeOptions } from '../../core/ports/check-subscribe-options.ts';

/**
 * The Pub/Sub bus (core/ports/bus.ts) on the official client. With PUBSUB_EMULATOR_HOST set the
 * client talks to the emulator without credentials; otherwise it uses Application Default
 * Credentials.
 *
 * - Publishing goes through the client's batcher (count, bytes and age bounded) and its publisher
 *   flow control, so a large publish waits instead of buffering without limit; a call resolves once
 *   Pub/Sub has acknowledged every message of it.
 * - Ordering: topics publish with message ordering and subscriptions are created with ordering
 *   enabled; the ordering key is the patient id. One batch is in the handler at a time per
 *   subscriber, so a key's messages reach the handler in order.
 * - Subscriber flow control: at most `maxInFlight` delivered-but-unsettled messages per subscriber
 *   (`allowExcessMessages: false`); leases are extended only up to `ackDeadlineMs`, after which an
 *   unsettled message is redelivered, as the port promises.
 * - Dead letters: `provision` sets the subscription's dead-letter policy; Pub/Sub counts delivery
 *   attempts and forwards the message after `maxDeliveryAttempts`.
 */
export interface PubSubBusOptions {
  readonly projectId: string;
  readonly logger: Logger;
  readonly publisher?: Partial<PublisherLimits>;
  /**
   * Streaming pulls per subscriber (default 4). Pub/Sub keeps an ordering key on one stream; more
   * streams spread keys. The emulator delivers a fixed amount per stream and tick, so one stream
   * caps it near 80 messages/s (bench-gcp.ts).
   */
  readonly streamsPerSubscriber?: number;
}

export interface PublisherLimits {
  /** A batch is sent at this many messages (Pub/Sub's limit is 1 000). */
  readonly batchMessages: number;
  /** ... or at this many bytes (Pub/Sub's request limit is 10 MB). */
  readonly batchBytes: number;
  /** ... or when its first message has waited this long. */
  readonly batchDelayMs: number;
  /** Publisher flow control: messages accepted but not yet acknowledged by Pub/Sub. */
  readonly maxOutstandingMessages: number;
  readonly maxOutstandingBytes: number;
}

export const DEFAULT_PUBLISHER_LIMITS: PublisherLimits = Object.freeze({
  batchMessages: 1_000,
  batchBytes: 4 * 1024 * 1024,
  // Ingest answers 202 only after the publish resolves: a short age keeps that answer quick.
  batchDelayMs: 5,
  maxOutstandingMessages: 20_000,
  maxOutstandingBytes: 64 * 1024 * 1024,
});

/** Pub/Sub's bounds on a subscription's ack deadline and dead-letter attempts. */
const ACK_DEADLINE_SECONDS = { min: 10, max: 600 } as const;
const DELIVERY_ATTEMPTS = { min: 5, max: 100 } as const;
/** Backoff between redeliveries of a nacked message (Pub/Sub's retry policy; the emulator ignores it). */
const RETRY_BACKOFF_SECONDS = { min: 1, max: 60 } as const;

export function createPubSubBus(options: PubSubBusOptions): Bus {
  if (!options?.projectId) throw new VigilError('CONFIG_INVALID', 'createPubSubBus needs a projectId (GOOGLE_CLOUD_PROJECT)');
  const limits: PublisherLimits = { ...DEFAULT_PUBLISHER_LIMITS, ...options.publisher };
  const logger = options.logger.child({ component: 'bus-pubsub' });
  const client = new PubSub({ projectId: options.projectId });
  const topics = new Map<string, Topic>();
  const subscriptions = createOpenSubscriptions();
  let closed = false;

  const topicFor = (name: string): Topic => {
    let topic = topics.get(name);
    if (!topic) {
      topic = client.topic(name, {
        messageOrdering: true,
        batching: { maxMessages: limits.batchMessages, maxBytes: limits.batchBytes, maxMilliseconds: limits.batchDelayMs },
        flowControlOptions: { maxOutstandingMessages: limits.maxOutstandingMessages, maxOutstandingBytes: limits.maxOutstandingBytes },
      });
      topics.set(name, topic);
    }
    return topic;
  };

  const fullTopicName = (name: string): string => `projects/${options.projectId}/topics/${name}`;

  async function provisionSubscription(topic: string, spec: NonNullable<TopicSpec['subscriptions']>[number]): Promise<void> {
    const wanted = subscriptionSettings(spec, fullTopicName);
    const subscription = client.subscription(spec.name);
    const outcome = await createIfMissing(() => client.topic(topic).createSubscription(spec.name, { ...wanted, enableMessageOrdering: true }));
    if (outcome === 'created') return;
    const [metadata] = await subscription.getMetadata();
    if (metadata.topic && metadata.topic !== fullTopicName(topic)) {
      throw new VigilError('BACKEND_REJECTED', `subscription ${spec.name} exists on another topic (${metadata.topic})`);
    }
    if (!metadata.enableMessageOrdering) {
      logger.warn({ subscription: spec.name }, 'subscription was created without message ordering; Pub/Sub cannot turn it on later: recreate it to get per-patient order');
    }
    const update: Record<string, unknown> = {};
    if (wanted.ackDeadlineSeconds !== undefined && Number(metadata.ackDeadlineSeconds) !== wanted.ackDeadlineSeconds) {
      update.ackDeadlineSeconds = wanted.ackDeadlineSeconds;
    }
    if (wanted.deadLetterPolicy && (metadata.deadLetterPolicy?.deadLetterTopic !== wanted.deadLetterPolicy.deadLetterTopic
      || Number(metadata.deadLetterPolicy?.maxDeliveryAttempts) !== wanted.deadLetterPolicy.maxDeliveryAttempts)) {
      update.deadLetterPolicy = wanted.deadLetterPolicy;
      update.retryPolicy = wanted.retryPolicy;
    }
    if (Object.keys(update).length > 0) {
      await subscription.setMetadata(update);
      logger.info({ subscription: spec.name, updated: Object.keys(update) }, 'subscription settings updated');
    }
  }

  const bus: Bus = {
    kind: 'pubsub',

    async provision(specs) {
      try {
        // Topics first: a subscription's dead-letter topic must exist before the subscription names it.
        for (const spec of specs) await createIfMissing(() => client.createTopic(spec.topic));
        for (const spec of specs) {
          for (const sub of spec.subscriptions ?? []) await provisionSubscription(spec.topic, sub);
        }
      } catch (error) {
        throw backendError(error, 'Pub/Sub provision');
      }
    },

    async publish(topicName, messages) {
      if (closed) throw new VigilError('SHUTTING_DOWN', 'the Pub/Sub bus is closed');
      if (messages.length === 0) return [];
      const topic = topicFor(topicName);
      const publisher = topic.flowControlled();
      try {
        for (const message of messages) {
          const wait = publisher.publish(toPubSubMessage(message));
          if (wait) await wait;
        }
        return await publisher.all();
      } catch (error) {
        // A failed publish pauses its ordering keys until resumed; the caller retries the whole call.
        for (const key of new Set(messages.map((m) => m.orderingKey).filter(Boolean))) topic.resumePublishing(key!);
        throw backendError(error, `Pub/Sub publish to ${topicName}`);
      }
    },

    async subscribe(subscribeOptions, handler) {
      if (closed) throw new VigilError('SHUTTING_DOWN', 'the Pub/Sub bus is closed');
      checkSubscribeOptions(subscribeOptions);
      const deadLetter = async (message: DeliveredMessage): Promise<void> => {
        await bus.publish(subscribeOptions.deadLetterTopic!, [{
          data: message.data,
          attributes: {
            ...message.attributes,
            // The attributes Pub/Sub itself adds when it forwards a dead letter.
            CloudPubSubDeadLetterSourceSubscription: subscribeOptions.subscription,
            CloudPubSubDeadLetterSourceDeliveryCount: String(message.deliveryAttempt),
          },
          ...(message.orderingKey ? { orderingKey: message.orderingKey } : {}),
        }]);
      };
      const subscription = openSubscription(client, subscribeOptions, handler, deadLetter, logger, options.streamsPerSubscriber ?? 4);
      return subscriptions.track(subscription);
    },

    async ping() {
      try {
        await client.getTopics({ pageSize: 1, autoPaginate: false });
      } catch (error) {
        throw backendError(error, 'Pub/Sub ping');
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      await subscriptions.closeAll();
      await Promise.allSettled([...topics.values()].map((t) => t.flush()));
      await client.close();
    },
  };
  return bus;
}

function subscriptionSettings(spec: NonNullable<TopicSpec['subscriptions']>[number], fullTopicName: (name: string) => string) {
  const ackDeadlineSeconds = spec.ackDeadlineMs === undefined
    ? undefined
    : clamp(Math.ceil(spec.ackDeadlineMs / 1000), ACK_DEADLINE_SECONDS.min, ACK_DEADLINE_SECONDS.max);
  const deadLetterPolicy = spec.deadLetterTopic
    ? {
      deadLetterTopic: fullTopicName(spec.deadLetterTopic),
      maxDeliveryAttempts: clamp(spec.maxDeliveryAttempts ?? DELIVERY_ATTEMPTS.min, DELIVERY_ATTEMPTS.min, DELIVERY_ATTEMPTS.max),
    }
    : undefined;
  const retryPolicy = deadLetterPolicy
    ? { minimumBackoff: { seconds: RETRY_BACKOFF_SECONDS.min }, maximumBackoff: { seconds: RETRY_BACKOFF_SECONDS.max } }
    : undefined;
  return {
    ...(ackDeadlineSeconds === undefined ? {} : { ackDeadlineSeconds }),
    ...(deadLetterPolicy ? { deadLetterPolicy, retryPolicy } : {}),
  } as { ackDeadlineSeconds?: number; deadLetterPolicy?: { deadLetterTopic: string; maxDeliveryAttempts: number }; retryPolicy?: object };
}

function toPubSubMessage(message: OutgoingMessage) {
  return {
    data: Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength),
    ...(message.attributes ? { attributes: { ...message.attributes } } : {}),
    ...(message.orderingKey ? { orderingKey: message.orderingKey } : {}),
  };
}

/** One subscriber: client flow control in front, the batch dispatcher behind, settle bookkeeping between. */
function openSubscription(
  client: PubSub,
  options: SubscribeOptions,
  handler: BatchHandler,
  deadLetter: (message: DeliveredMessage) => Promise<void>,
  logger: Logger,
  streams: number,
): { close(): Promise<void> } {
  const unsettled = new Map<Message, DeliveredMessage>();
  const leaseLimit = Duration.from({ millis: Math.max(options.ackDeadlineMs, 10_000) });
  const subscription: PubSubSubscription = client.subscription(options.subscription, {
    flowControl: { maxMessages: options.maxInFlight, allowExcessMessages: false },
    // Leases are extended only up to the ack deadline: a message the handler neither acks nor nacks
    // in that time is dropped from leasing and Pub/Sub redelivers it (the port's promise).
    maxExtensionTime: Duration.from({ millis: options.ackDeadlineMs }),
    minAckDeadline: Duration.from({ seconds: 10 }),
    maxAckDeadline: leaseLimit,
    streamingOptions: { maxStreams: streams },
  });

  const handedOut = new WeakSet<Message>();
  const extensionSeconds = clamp(Math.ceil(options.ackDeadlineMs / 1000), ACK_DEADLINE_SECONDS.min, ACK_DEADLINE_SECONDS.max);
  /**
   * The client's lease manager keeps modAck-ing a message until `maxExtensionTime` after it was
   * received, then drops it (Pub/Sub redelivers it, attempt + 1) and lets a new one in. Holding a
   * message restarts that clock (`Message.received`) and modAcks at once; messages queued behind it
   * in the dispatcher wait for the same store, so their clocks restart too. The client then keeps
   * the flow-control window full: nothing more is pulled while the handler holds.
   */
  const hold = (message: Message): void => {
    const now = Date.now();
    message.received = now;
    message.modAck(extensionSeconds);
    for (const queued of unsettled.keys()) if (!handedOut.has(queued)) queued.received = now;
  };

  const lastAttempt = options.deadLetterTopic && options.maxDeliveryAttempts ? options.maxDeliveryAttempts : Infinity;

  const wrap = (message: Message): DeliveredMessage => {
    let settled = false;
    const settle = async (how: 'ack' | 'nack'): Promise<void> => {
      if (settled) return;
      settled = true;
      unsettled.delete(message);
      if (how === 'nack' && delivered.deliveryAttempt >= lastAttempt) {
        // The last attempt failed: forward it ourselves, then ack. Pub/Sub's own dead-letter policy
        // (set by provision) stays as the backstop for messages that are never settled at all;
        // forwarding here keeps one copy per dead letter on the emulator too (README, "Emulator gaps").
        try {
          await deadLetter(delivered);
          message.ack();
          return;
        } catch (error) {
          logger.warn({ err: error, subscription: options.subscription }, 'dead-letter forward failed; nacking for redelivery');
        }
      }
      if (how === 'ack') message.ack();
      else message.nack();
    };
    const delivered: DeliveredMessage = {
      id: message.id,
      data: new Uint8Array(message.data.buffer, message.data.byteOffset, message.data.byteLength),
      attributes: Object.freeze({ ...message.attributes }),
      ...(message.orderingKey ? { orderingKey: message.orderingKey } : {}),
      // Pub/Sub counts attempts only on subscriptions with a dead-letter policy; 0 means "not counted".
      deliveryAttempt: Math.max(1, message.deliveryAttempt || 0),
      publishedAt: new Date(message.publishTime.getTime()),
      ack: () => settle('ack'),
      nack: () => settle('nack'),
      extendAckDeadline: async () => {
        if (!settled) hold(message);
      },
    };
    unsettled.set(message, delivered);
    return delivered;
  };

  const dispatcher = createBatchDispatcher<{ message: Message; delivered: DeliveredMessage }>(options, async (items) => {
    for (const item of items) handedOut.add(item.message);
    const batch = items.map((item) => item.delivered);
    try {
      await handler(batch);
    } catch (error) {
      logger.warn({ err: error, messages: batch.length }, 'handler failed; nacking the unsettled messages of its batch');
      await Promise.all(batch.map((m) => m.nack()));
    }
  });

  let stopping = false;
  subscription.on('message', (message: Message) => {
    // The listener stays until the client is closed (removing it closes the client before the nacks below).
    if (stopping) message.nack();
    else dispatcher.push({ message, delivered: wrap(message) });
  });
  subscription.on('error', (error: unknown) => {
    // The client reconnects streaming pulls on transient errors; anything reaching here is logged, not thrown.
    logger.error({ err: error, subscription: options.subscription }, 'Pub/Sub subscription error');
  });

  let closing: Promise<void> | undefined;
  return {
    close() {
      closing ??= (async () => {
        stopping = true;
        await dispatcher.stop();
        // Hand unsettled messages back now rather than after their lease runs out.
        await Promise.all([...unsettled.values()].map((m) => m.nack()));
        await subscription.close();
        subscription.removeAllListeners();
      })();
      return closing;
    },
  };
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
