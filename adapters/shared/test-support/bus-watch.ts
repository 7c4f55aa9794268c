import type { Bus, Subscription } from '../../../core/ports/bus.ts';
import { decodeReading } from '../../../core/wire/reading-codec.ts';
import type { ReadingLedger } from './reading-ledger.ts';

/**
 * A fault test's independent record of the bus: its own subscriptions on the readings topic and on
 * the dead-letter topic (`<name>` and `<name>-dead`) record each reading id in the ledger as on the
 * bus or dead-lettered, so a failure can say where a missing reading is.
 */
export async function watchBus(bus: Bus, ledger: ReadingLedger, topics: { readings: string; deadLetters: string; name: string }): Promise<Subscription[]> {
  const { readings, deadLetters, name } = topics;
  await bus.provision([
    { topic: readings, subscriptions: [{ name, ackDeadlineMs: 60_000 }] },
    { topic: deadLetters, subscriptions: [{ name: `${name}-dead`, ackDeadlineMs: 60_000 }] },
  ]);
  const subscriptions: Subscription[] = [];
  for (const [subscription, topic, record] of [[name, readings, ledger.onBus], [`${name}-dead`, deadLetters, ledger.deadLettered]] as const) {
    subscriptions.push(await bus.subscribe({ topic, subscription, maxBatchSize: 500, maxBatchWaitMs: 20, maxInFlight: 5_000, ackDeadlineMs: 60_000 }, async (batch) => {
      for (const m of batch) {
        try {
          record(decodeReading(m.data, m.attributes).readingId);
        } catch {
          record(`undecodable:${m.id}`);
        }
        await m.ack();
      }
    }));
  }
  return subscriptions;
}
