import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createSqliteBus } from '../../../adapters/embedded/bus-sqlite.ts';
import type { RawReading } from '../../../core/domain/reading.ts';
import { createMetrics } from '../../../core/observability/metrics.ts';
import type { Metrics } from '../../../core/observability/metrics.ts';
import type { Bus } from '../../../core/ports/bus.ts';
import { decodeReading } from '../../../core/wire/reading-codec.ts';
import { createReadingPublisher } from '../../reading-publisher.ts';
import type { ReadingPublisher } from '../../reading-publisher.ts';

/**
 * The real embedded bus behind an edge, in a throwaway folder: what the integration tests and the
 * MLLP bench publish to. `readAll` drains a subscription and decodes what is on the bus.
 */
export interface EmbeddedEdge {
  readonly bus: Bus;
  readonly publisher: ReadingPublisher;
  readonly metrics: Metrics;
  readonly topic: string;
  readAll(count: number, timeoutMs?: number): Promise<RawReading[]>;
  close(): Promise<void>;
}

export async function openEmbeddedEdge(prefix = 'vigil-hl7-'): Promise<EmbeddedEdge> {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const topic = 'vigil-readings';
  const bus = createSqliteBus({ path: path.join(dir, 'bus.sqlite') });
  await bus.provision([{ topic, subscriptions: [{ name: 'edge-check' }] }]);
  const metrics = createMetrics({ defaultMetrics: false });
  const publisher = createReadingPublisher({ bus, topic, metrics });
  return {
    bus, publisher, metrics, topic,
    async readAll(count, timeoutMs = 10_000) {
      const received: RawReading[] = [];
      let done!: () => void;
      const all = new Promise<void>((resolve) => {
        done = resolve;
      });
      const subscription = await bus.subscribe(
        { topic, subscription: 'edge-check', maxBatchSize: 500, maxBatchWaitMs: 5, maxInFlight: 1000, ackDeadlineMs: 10_000 },
        async (batch) => {
          for (const message of batch) {
            received.push(decodeReading(message.data, message.attributes));
            await message.ack();
          }
          if (received.length >= count) done();
        },
      );
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([all, new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`only ${received.length} of ${count} readings on the bus`)), timeoutMs);
        })]);
      } finally {
        clearTimeout(timer);
        await subscription.close();
      }
      return received;
    },
    async close() {
      await publisher.close();
      await bus.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
