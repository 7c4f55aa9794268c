import { describe, expect, it } from 'vitest';
import type { RawReading } from '../core/domain/reading.ts';
import type { DeliveredMessage } from '../core/ports/bus.ts';
import { CONTENT_TYPE_JSON, READING_ATTRIBUTES, encodeReading } from '../core/wire/reading-codec.ts';
import { payloadText } from './dead-letter.ts';
import { parseBatch } from './parse-batch.ts';

const raw: RawReading = {
  readingId: 'r1', deviceId: 'bed-1', patientId: 'P1', observedAt: 1_795_000_000_000, receivedAt: 1_795_000_000_500, source: 'json',
  heartRate: 72, bloodPressure: '120/80', temperature: 98.6, temperatureUnit: 'F', spo2: 97, respiratoryRate: 16, onOxygen: false, consciousness: 'A',
};

let nextId = 0;
function delivered(data: Uint8Array, attributes: Record<string, string> = READING_ATTRIBUTES): DeliveredMessage {
  return { id: String(++nextId), data, attributes, deliveryAttempt: 1, publishedAt: new Date(1_795_000_001_000), ack: async () => {}, nack: async () => {}, extendAckDeadline: async () => {} };
}
const avro = (r: RawReading) => delivered(encodeReading(r));
const json = (value: unknown) => delivered(Buffer.from(JSON.stringify(value)), { 'content-type': CONTENT_TYPE_JSON });

describe('parseBatch', () => {
  it('normalizes Avro readings: blood pressure split, °F to °C', () => {
    const { readings, deadLetters } = parseBatch([avro(raw)]);
    expect(deadLetters).toEqual([]);
    expect(readings).toEqual([expect.objectContaining({ readingId: 'r1', systolic: 120, diastolic: 80, temperatureC: 37 })]);
  });

  it('keeps one reading per id and counts the duplicates', () => {
    const { readings, duplicates } = parseBatch([avro(raw), avro(raw), avro({ ...raw, readingId: 'r2' })]);
    expect(readings.map((r) => r.readingId)).toEqual(['r1', 'r2']);
    expect(duplicates).toBe(1);
  });

  it('keeps every part of one reading id in arrival order for the store to merge, leaving out exact repeats', () => {
    const none = { heartRate: null, bloodPressure: null, temperature: null, temperatureUnit: null, spo2: null, respiratoryRate: null, onOxygen: null, consciousness: null };
    const nibp = avro({ ...raw, ...none, bloodPressure: '150/92' });
    const pulse = avro({ ...raw, ...none, heartRate: 88 });
    const otherPulse = avro({ ...raw, ...none, heartRate: 120, spo2: 95 });
    const { readings, duplicates, origins, deadLetters } = parseBatch([nibp, pulse, otherPulse, pulse]);
    expect(readings.map((r) => [r.readingId, r.systolic, r.heartRate])).toEqual([['r1', 150, null], ['r1', null, 88], ['r1', null, 120]]);
    expect(origins.map((o) => o.message)).toEqual([nibp, pulse, otherPulse]);
    expect(duplicates).toBe(3);
    expect(deadLetters).toEqual([]);
  });

  it('turns an implausible reading into a dead letter with every reason, the patient and the original bytes', () => {
    const body = { deviceId: 'bed-1', patientId: 'P1', observedAt: '2026-11-22T10:00:00Z', heartRate: 900, bloodPressure: '120/' };
    const { readings, deadLetters } = parseBatch([json(body), avro(raw)]);
    expect(readings).toHaveLength(1);
    expect(deadLetters).toEqual([expect.objectContaining({
      source: 'json', patientId: 'P1', field: 'heartRate,bloodPressure', payload: JSON.stringify(body),
      reason: 'heartRate must be between 20 and 300 bpm; bloodPressure must look like 120/80 (systolic/diastolic mmHg)',
      metricReason: 'implausible:heartRate',
    })]);
  });

  it('turns undecodable bytes into a dead letter with a base64 payload', () => {
    const bytes = new Uint8Array([0xff, 0xfe, 0x00, 0x01]);
    const { deadLetters } = parseBatch([delivered(bytes)]);
    expect(deadLetters).toEqual([expect.objectContaining({
      source: 'bus', patientId: null, field: 'payload', reason: 'payload is not a valid Avro reading',
      payload: `base64:${Buffer.from(bytes).toString('base64')}`, metricReason: 'undecodable:payload', receivedAt: 1_795_000_001_000,
    })]);
  });

  it('names the missing identity field of a JSON message', () => {
    const { deadLetters } = parseBatch([json({ deviceId: 'bed-1', observedAt: 1_795_000_000_000, heartRate: 70 })]);
    expect(deadLetters[0]).toMatchObject({ field: 'patientId', reason: 'patientId must be a non-empty string', metricReason: 'undecodable:patientId' });
  });

  it('gives the same bad message the same dead-letter id, however often it arrives', () => {
    const body = { deviceId: 'bed-1', patientId: 'P1', observedAt: 1_795_000_000_000, spo2: 140 };
    const first = parseBatch([json(body)]).deadLetters[0]!;
    const again = parseBatch([json(body), json(body)]).deadLetters;
    expect(again).toHaveLength(1);
    expect(again[0]!.deadLetterId).toBe(first.deadLetterId);
    expect(parseBatch([json({ ...body, spo2: 141 })]).deadLetters[0]!.deadLetterId).not.toBe(first.deadLetterId);
  });
});

describe('payloadText', () => {
  it('keeps UTF-8 JSON as text and anything else as base64', () => {
    expect(payloadText(Buffer.from('{"a":"é"}'))).toBe('{"a":"é"}');
    expect(payloadText(Buffer.from('not json'))).toBe(`base64:${Buffer.from('not json').toString('base64')}`);
    expect(payloadText(new Uint8Array([0x7b, 0xc3]))).toBe('base64:e8M=');
  });
});
