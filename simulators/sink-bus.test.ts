import { describe, expect, it } from 'vitest';
import { VigilError } from '../core/errors.ts';
import type { Bus, OutgoingMessage } from '../core/ports/bus.ts';
import { CONTENT_TYPE_JSON, READING_ATTRIBUTES, decodeReading } from '../core/wire/reading-codec.ts';
import { generateCohort } from './cohort.ts';
import { createBusSink } from './sink-bus.ts';

/**
 * A bus that records what is published and fails the first publish with a retriable error.
 * (The bus contract suite covers real adapters; this checks what the sink hands them.)
 */
function recordingBus(): Bus & { published: { topic: string; messages: readonly OutgoingMessage[] }[] } {
  let calls = 0;
  const published: { topic: string; messages: readonly OutgoingMessage[] }[] = [];
  const unsupported = (): never => { throw new Error('not used by the sink'); };
  return {
    kind: 'recording',
    published,
    provision: async () => {},
    async publish(topic, messages) {
      if (calls++ === 0) throw new VigilError('BACKEND_UNAVAILABLE', 'first publish fails');
      published.push({ topic, messages });
      return messages.map((_, i) => `${calls}-${i}`);
    },
    subscribe: unsupported,
    ping: async () => {},
    close: async () => {},
  };
}

describe('createBusSink', () => {
  it('publishes Avro readings keyed by patient, and edge-refused ones as JSON for the dead letters', async () => {
    const readings = [...generateCohort({ seed: 4, admissions: 40, faults: { dropField: 0.1, duplicate: 0, late: 0, malformed: 0.2, fahrenheitDevices: 0.3 } })].flatMap((s) => s.deliveries);
    const bus = recordingBus();
    const sink = createBusSink({ bus, topic: 'vigil-readings', maxBatchSize: 100, clock: () => Date.UTC(2026, 0, 1) });
    await sink.write(readings);
    await sink.flush();

    const messages = bus.published.flatMap((p) => p.messages);
    expect(bus.published.every((p) => p.topic === 'vigil-readings' && p.messages.length <= 100)).toBe(true);
    expect(messages).toHaveLength(readings.length);
    const stats = sink.stats();
    expect(stats).toMatchObject({ written: readings.length, retries: 1 });
    expect(stats.rejected).toBeGreaterThan(0);
    expect(stats.accepted + stats.rejected).toBe(readings.length);

    readings.forEach((reading, i) => {
      const message = messages[i]!;
      expect(message.orderingKey).toBe(reading.patientId);
      if (message.attributes?.['content-type'] === CONTENT_TYPE_JSON) {
        expect(JSON.parse(Buffer.from(message.data).toString('utf8'))).toEqual(reading.body);
        return;
      }
      expect(message.attributes).toEqual(READING_ATTRIBUTES);
      const raw = decodeReading(message.data, message.attributes);
      expect(raw).toMatchObject({ patientId: reading.patientId, deviceId: reading.deviceId, observedAt: reading.observedAt, source: 'simulator' });
      expect(raw.bloodPressure).toBe(reading.body.bloodPressure ?? null);
    });
  });
});
