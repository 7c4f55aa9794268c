import { VigilError } from '../../core/errors.ts';

/** kafkajs errors that mean "the broker or the network is not there right now". */
const UNAVAILABLE = new Set([
  'KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaJSRequestTimeoutError',
  'KafkaJSNumberOfRetriesExceeded', 'KafkaJSBrokerNotFound', 'KafkaJSNoBrokerAvailableError',
  'KafkaJSLockTimeout', 'KafkaJSMetadataNotLoaded', 'KafkaJSTimeout',
]);

/** The broker does not know the topic (or partition): missing, or created moments ago and not in its metadata yet. */
export function isUnknownTopic(error: unknown): boolean {
  const e = (error ?? {}) as { type?: string; message?: string };
  return e.type === 'UNKNOWN_TOPIC_OR_PARTITION' || /does not host this topic-partition|unknown topic/i.test(e.message ?? '');
}

/**
 * A kafkajs error as a VigilError: retriable (BACKEND_UNAVAILABLE) when kafkajs says so or the
 * broker is unreachable, else BACKEND_REJECTED. A missing topic says what to run. The original
 * error stays as `cause`.
 */
export function kafkaError(error: unknown, what: string, topic?: string): VigilError {
  if (error instanceof VigilError) return error;
  const e = (error ?? {}) as { name?: string; type?: string; retriable?: boolean; message?: string };
  if (isUnknownTopic(error)) {
    return new VigilError('BACKEND_REJECTED', `${what}: Kafka topic ${topic ?? '?'} does not exist (run vigil provision)`, { cause: error });
  }
  const unavailable = e.retriable === true || (e.name !== undefined && UNAVAILABLE.has(e.name));
  return new VigilError(unavailable ? 'BACKEND_UNAVAILABLE' : 'BACKEND_REJECTED', `${what} failed: ${e.message ?? String(error)}`, { cause: error });
}
