import { toRawReading } from '../core/domain/validate-ingest.ts';
import { withRetry } from '../core/retry.ts';
import type { Bus, OutgoingMessage } from '../core/ports/bus.ts';
import { CONTENT_TYPE_JSON, READING_ATTRIBUTES, encodeReading } from '../core/wire/reading-codec.ts';
import type { SimulatedReading } from './device-faults.ts';
import type { ReadingSink, SinkStats } from './reading-sink.ts';

export interface BusSinkOptions {
  readonly bus: Bus;
  /** The readings topic (config.bus.readingsTopic). */
  readonly topic: string;
  /** Messages per publish call at most (default 500). */
  readonly maxBatchSize?: number;
  readonly signal?: AbortSignal;
  /** Receive time stamped on each reading; default Date.now. */
  readonly clock?: () => number;
}

/**
 * Publishes readings straight onto the bus, as the edge would: checked by `toRawReading`, Avro
 * encoded, ordered by patient. A reading the edge check refuses cannot be Avro, so it goes as its
 * JSON body with `content-type: application/json`; the processor then refuses it into the dead
 * letters, which is the path such readings take in production (kcat, other producers).
 */
export function createBusSink(options: BusSinkOptions): ReadingSink {
  const maxBatchSize = options.maxBatchSize ?? 500;
  const clock = options.clock ?? Date.now;
  let written = 0, accepted = 0, rejected = 0, retries = 0;

  function toMessage(reading: SimulatedReading, receivedAt: number): { message: OutgoingMessage; valid: boolean } {
    const result = toRawReading(reading.body, { receivedAt, source: 'simulator' });
    if (result.ok) {
      return { message: { data: encodeReading(result.reading), attributes: READING_ATTRIBUTES, orderingKey: result.reading.patientId }, valid: true };
    }
    const data = Buffer.from(JSON.stringify(reading.body), 'utf8');
    return { message: { data, attributes: { 'content-type': CONTENT_TYPE_JSON }, orderingKey: reading.patientId }, valid: false };
  }

  return {
    async write(readings) {
      for (let start = 0; start < readings.length; start += maxBatchSize) {
        const receivedAt = clock();
        const converted = readings.slice(start, start + maxBatchSize).map((r) => toMessage(r, receivedAt));
        written += converted.length;
        await withRetry(() => options.bus.publish(options.topic, converted.map((c) => c.message)), {
          attempts: 6, initialDelayMs: 100, maxDelayMs: 5_000,
          ...(options.signal ? { signal: options.signal } : {}),
          onRetry: () => { retries++; },
        });
        const valid = converted.filter((c) => c.valid).length;
        accepted += valid;
        rejected += converted.length - valid;
      }
    },
    flush: async () => {},
    stats: (): SinkStats => ({ written, accepted, rejected, retries }),
  };
}
