import { VigilError } from '../errors.ts';
import type { SubscribeOptions } from './bus.ts';

/**
 * The one check of `Bus.subscribe` options, which every bus adapter runs before it subscribes, so
 * the same mistake fails the same way on every backend (the bus contract suite checks it): a
 * CONFIG_INVALID naming the option, never a hang or a bus that quietly holds nothing.
 */
export function checkSubscribeOptions(o: SubscribeOptions): void {
  const fail = (what: string): never => { throw new VigilError('CONFIG_INVALID', `subscribe: ${what}`); };
  if (typeof o.topic !== 'string' || o.topic === '') fail('topic must be a non-empty string');
  if (typeof o.subscription !== 'string' || o.subscription === '') fail('subscription must be a non-empty string');
  for (const key of ['maxBatchSize', 'maxInFlight', 'ackDeadlineMs'] as const) {
    if (!Number.isInteger(o[key]) || o[key] < 1) fail(`${key} must be a positive integer`);
  }
  if (!Number.isFinite(o.maxBatchWaitMs) || o.maxBatchWaitMs < 0) fail('maxBatchWaitMs must be a number >= 0');
  if (o.maxDeliveryAttempts !== undefined && (!Number.isInteger(o.maxDeliveryAttempts) || o.maxDeliveryAttempts < 1)) {
    fail('maxDeliveryAttempts must be a positive integer');
  }
  if (o.deadLetterTopic !== undefined && (typeof o.deadLetterTopic !== 'string' || o.deadLetterTopic === '')) {
    fail('deadLetterTopic must be a non-empty string when given');
  }
}
