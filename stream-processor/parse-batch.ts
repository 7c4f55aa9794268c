import { normalizeReading } from '../core/domain/normalize-reading.ts';
import type { VitalReading } from '../core/domain/reading.ts';
import type { DeliveredMessage } from '../core/ports/bus.ts';
import { decodeReading } from '../core/wire/reading-codec.ts';
import type { DeadLetter } from './dead-letter.ts';
import { rejectedDeadLetter, undecodableDeadLetter } from './dead-letter.ts';

export interface ParsedBatch {
  /** Plausible readings, one per readingId. */
  readonly readings: VitalReading[];
  readonly deadLetters: DeadLetter[];
  /** Deliveries of a readingId already in this batch (device re-sends, redelivery). */
  readonly duplicates: number;
}

/**
 * Decodes and judges every message of a bus batch. Never throws: input the processor cannot use
 * becomes a dead letter, so one bad message cannot stall the messages around it.
 */
export function parseBatch(messages: readonly DeliveredMessage[]): ParsedBatch {
  const byId = new Map<string, VitalReading>();
  const deadLetters = new Map<string, DeadLetter>();
  let duplicates = 0;
  for (const message of messages) {
    let raw;
    try {
      raw = decodeReading(message.data, message.attributes);
    } catch (error) {
      const letter = undecodableDeadLetter(message, error);
      deadLetters.set(letter.deadLetterId, letter);
      continue;
    }
    const result = normalizeReading(raw);
    if (!result.ok) {
      const letter = rejectedDeadLetter(message, raw, result.problems);
      deadLetters.set(letter.deadLetterId, letter);
      continue;
    }
    if (byId.has(result.reading.readingId)) duplicates++;
    // Same id means same device, patient and time; the later delivery wins, as in the stores.
    byId.set(result.reading.readingId, result.reading);
  }
  return { readings: [...byId.values()], deadLetters: [...deadLetters.values()], duplicates };
}
