/**
 * The message bus port: how readings travel from the edge (ingest) to the processors.
 *
 * Lifecycle: create the adapter → `publish` / `subscribe` → `close()`. `close()` stops every
 * subscription (no new deliveries), waits for in-flight handlers to settle, and flushes pending
 * publishes.
 *
 * Promises every adapter keeps (and the bus contract suite checks):
 * - `publish` resolves only once the bus has durably accepted every message of the call; a
 *   message it resolved for is never lost, even if this process is killed right after.
 * - Delivery is at-least-once, like Pub/Sub: a message is redelivered when it is nacked, when the
 *   handler throws, or when neither ack nor nack arrives within the ack deadline. Consumers
 *   de-duplicate (readings carry a deterministic id); the bus does not promise exactly-once.
 * - Messages with the same `orderingKey` (the patient id) are delivered in publish order within one
 *   subscription, as long as nothing is redelivered.
 * - Several subscribers on the same subscription share its messages (competing consumers); each
 *   subscription receives every message published after it was created.
 * - After `maxDeliveryAttempts` failed deliveries a message goes to the dead-letter topic
 *   (`deadLetterTopic`) instead of being redelivered again.
 * - `extendAckDeadline` keeps an unsettled message from being redelivered for one more ack
 *   deadline and does not count as a delivery attempt (how each bus does it: its README).
 * - In-flight work is bounded: a subscriber never holds more than `maxInFlight` unacked messages.
 */

export interface OutgoingMessage {
  /** Encoded payload (Avro for readings; see core/wire). */
  readonly data: Uint8Array;
  readonly attributes?: Readonly<Record<string, string>>;
  /** Messages with the same key keep their order. Readings use the patient id. */
  readonly orderingKey?: string;
}

export interface DeliveredMessage {
  /** Bus-assigned id, unique per published message (not per delivery). */
  readonly id: string;
  readonly data: Uint8Array;
  readonly attributes: Readonly<Record<string, string>>;
  readonly orderingKey?: string;
  /** 1 on first delivery, incremented on each redelivery. */
  readonly deliveryAttempt: number;
  readonly publishedAt: Date;
  /** Settle the message for good. Idempotent; later calls are ignored. */
  ack(): Promise<void>;
  /** Ask for redelivery (after the adapter's backoff). Idempotent; ignored after `ack`. */
  nack(): Promise<void>;
  /**
   * Keep holding the message: its ack deadline starts again from now (one `ackDeadlineMs` more),
   * without a redelivery and without counting a delivery attempt. A consumer waiting out a sick
   * store calls it well inside each deadline. Best effort: it resolves even when the bus could not
   * be told (the message is then redelivered as usual); ignored once the message is settled.
   */
  extendAckDeadline(): Promise<void>;
}

export interface SubscribeOptions {
  readonly topic: string;
  readonly subscription: string;
  /** Largest batch handed to the handler at once. */
  readonly maxBatchSize: number;
  /** How long the adapter may wait to fill a batch before handing over what it has. */
  readonly maxBatchWaitMs: number;
  /** Upper bound on delivered-but-unsettled messages held by this subscriber. */
  readonly maxInFlight: number;
  /** A delivered message neither acked nor nacked within this time is redelivered. */
  readonly ackDeadlineMs: number;
  /** Failed deliveries before the message is moved to `deadLetterTopic` (when set). */
  readonly maxDeliveryAttempts?: number;
  readonly deadLetterTopic?: string;
}

/**
 * Receives batches of delivered messages. The handler settles each message with ack or nack.
 * If it throws, every message of the batch it left unsettled is nacked.
 */
export type BatchHandler = (batch: readonly DeliveredMessage[]) => Promise<void>;

export interface Subscription {
  /** Stop receiving and wait for in-flight handlers; unsettled messages will be redelivered. */
  close(): Promise<void>;
}

export interface Bus {
  /** Human-readable adapter name for logs and metrics, e.g. "sqlite", "pubsub", "kafka". */
  readonly kind: string;
  /** Create topics/subscriptions if missing. Idempotent. */
  provision(topics: readonly TopicSpec[]): Promise<void>;
  /** Resolves with one bus message id per message, in order, once all are durably accepted. */
  publish(topic: string, messages: readonly OutgoingMessage[]): Promise<string[]>;
  subscribe(options: SubscribeOptions, handler: BatchHandler): Promise<Subscription>;
  /** Cheap reachability check for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface TopicSpec {
  readonly topic: string;
  readonly subscriptions?: readonly {
    readonly name: string;
    readonly ackDeadlineMs?: number;
    readonly deadLetterTopic?: string;
    readonly maxDeliveryAttempts?: number;
  }[];
  /** Kafka partitions; ignored by buses without partitions. */
  readonly partitions?: number;
}
