import { describe, expect, it } from 'vitest';
import type { RawReading } from '../core/domain/reading.ts';
import type { DeliveredMessage } from '../core/ports/bus.ts';
import { CONTENT_TYPE_JSON } from '../core/wire/reading-codec.ts';
import { conflictDeadLetters } from './conflicting-values.ts';
import { parseBatch } from './parse-batch.ts';

const T0 = 1_795_000_000_000;
let nextId = 0;
function json(value: Record<string, unknown>): DeliveredMessage {
  return {
    id: String(++nextId), data: Buffer.from(JSON.stringify(value)), attributes: { 'content-type': CONTENT_TYPE_JSON },
    deliveryAttempt: 1, publishedAt: new Date(T0 + 1_000), ack: async () => {}, nack: async () => {}, extendAckDeadline: async () => {},
  };
}
const body = (vitals: Partial<RawReading>) => ({ deviceId: 'bed-1', patientId: 'P1', observedAt: T0, ...vitals });

describe('conflictDeadLetters', () => {
  it('names the message that offered a value the store did not take, by its position in the batch', () => {
    const parsed = parseBatch([json(body({ bloodPressure: '150/92' })), json(body({ heartRate: 88 }))]);
    const readingId = parsed.readings[0]!.readingId;
    const letters = conflictDeadLetters(parsed, [{ readingId, vital: 'heartRate', held: '70', offered: '88', index: 1 }]);
    expect(letters).toEqual([expect.objectContaining({
      reason: 'conflicting-value', field: 'heartRate', patientId: 'P1', payload: JSON.stringify(body({ heartRate: 88 })), metricReason: 'conflicting-value:heartRate',
    })]);
  });

  it('gives one dead letter per message, naming every vital it conflicted on; a redelivery gives the same dead-letter id', () => {
    const batch = () => parseBatch([json(body({ heartRate: 88, spo2: 97 })), json(body({ heartRate: 90, bloodPressure: '120/80' }))]);
    const parsed = batch();
    const readingId = parsed.readings[0]!.readingId;
    const conflicts = [
      { readingId, vital: 'heartRate', held: '88', offered: '90', index: 1 },
      { readingId, vital: 'bloodPressure', held: '110/70', offered: '120/80', index: 1 },
    ] as const;
    const letters = conflictDeadLetters(parsed, conflicts);
    expect(letters).toEqual([expect.objectContaining({ field: 'heartRate,bloodPressure', payload: JSON.stringify(body({ heartRate: 90, bloodPressure: '120/80' })) })]);
    expect(conflictDeadLetters(batch(), conflicts)[0]!.deadLetterId).toBe(letters[0]!.deadLetterId);
  });

  it('gives none when nothing conflicted', () => {
    expect(conflictDeadLetters(parseBatch([json(body({ heartRate: 88 })), json(body({ heartRate: 88 }))]), [])).toEqual([]);
  });
});
