import { normalizeReading } from '../core/domain/normalize-reading.ts';
import type { RawReading, VitalReading } from '../core/domain/reading.ts';
import type { DeliveredMessage } from '../core/ports/bus.ts';
import { decodeReading } from '../core/wire/reading-codec.ts';
import type { DeadLetter } from './dead-letter.ts';
import { rejectedDeadLetter, undecodableDeadLetter } from './dead-letter.ts';

/** One message's part of a reading: kept so a conflicting value can be traced to the message that offered it. */
export interface ReadingOrigin {
  readonly message: DeliveredMessage;
  readonly raw: RawReading;
  readonly reading: VitalReading;
}

export interface ParsedBatch {
  /**
   * Plausible readings in arrival order, a repeat of one already in the batch (same id, same
   * values) left out. Several readings may share an id (parts of one reading): the store merges
   * them in this order (core/domain/merge-reading.ts).
   */
  readonly readings: VitalReading[];
  readonly deadLetters: DeadLetter[];
  /** Deliveries of a readingId already in this batch (device re-sends, redelivery, or another part of the reading). */
  readonly duplicates: number;
  /** The message behind each reading: `origins[i]` gave `readings[i]`. */
  readonly origins: ReadingOrigin[];
}

/**
 * Decodes and judges every message of a bus batch. Never throws: input the processor cannot use
 * becomes a dead letter, so one bad message cannot stall the messages around it.
 */
export function parseBatch(messages: readonly DeliveredMessage[]): ParsedBatch {
  const readings: VitalReading[] = [];
  const origins: ReadingOrigin[] = [];
  const seen = new Map<string, string[]>();
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
    const { reading } = result;
    const values = JSON.stringify(vitalsOf(reading));
    const earlier = seen.get(reading.readingId);
    if (earlier) duplicates++;
    if (earlier?.includes(values)) continue;
    seen.set(reading.readingId, [...(earlier ?? []), values]);
    readings.push(reading);
    origins.push({ message, raw, reading });
  }
  return { readings, deadLetters: [...deadLetters.values()], duplicates, origins };
}

/** What a repeat must match to be left out: every vital (receivedAt may differ). */
function vitalsOf(r: VitalReading): unknown[] {
  return [r.heartRate, r.systolic, r.diastolic, r.temperatureC, r.spo2, r.respiratoryRate, r.onOxygen, r.consciousness];
}
