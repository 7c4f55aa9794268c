import { describe, expect, it } from 'vitest';
import { readingIdOf } from '../wire/reading-codec.ts';
import { MAX_CLOCK_SKEW_MS, toRawReading } from './validate-ingest.ts';
import type { FieldError } from './validate-ingest.ts';

const NOW = Date.parse('2026-11-22T10:05:00Z');
const context = { receivedAt: NOW, source: 'json' };
const valid = {
  deviceId: 'bed-12', patientId: 'P0012', observedAt: '2026-11-22T10:00:00Z',
  heartRate: 72, bloodPressure: '120/80', temperature: 37.1, temperatureUnit: 'C',
  spo2: 97, respiratoryRate: 16, onOxygen: false, consciousness: 'A',
};

function errorsOf(input: unknown): FieldError[] {
  const result = toRawReading(input, context);
  if (result.ok) throw new Error('expected the reading to be refused');
  return result.errors;
}

describe('toRawReading', () => {
  it('turns the the README example into the bus record with a deterministic id', () => {
    const result = toRawReading(valid, context);
    expect(result).toEqual({
      ok: true,
      reading: {
        readingId: readingIdOf('bed-12', 'P0012', Date.parse('2026-11-22T10:00:00Z')),
        deviceId: 'bed-12', patientId: 'P0012', observedAt: Date.parse('2026-11-22T10:00:00Z'),
        receivedAt: NOW, source: 'json',
        heartRate: 72, bloodPressure: '120/80', temperature: 37.1, temperatureUnit: 'C',
        spo2: 97, respiratoryRate: 16, onOxygen: false, consciousness: 'A',
      },
    });
  });

  it('accepts epoch milliseconds and any subset of vitals, defaulting the unit to C', () => {
    const result = toRawReading({ deviceId: 'd1', patientId: 'p1', observedAt: NOW - 1000, temperature: 98.6 }, context);
    expect(result.ok && result.reading).toMatchObject({ observedAt: NOW - 1000, temperature: 98.6, temperatureUnit: 'C', heartRate: null, bloodPressure: null, onOxygen: null });
  });

  it('treats null vitals as absent', () => {
    const result = toRawReading({ deviceId: 'd1', patientId: 'p1', observedAt: NOW, heartRate: 60, spo2: null }, context);
    expect(result.ok && result.reading.spo2).toBeNull();
  });

  it.each([
    ['120/', 'bloodPressure'],
    ['abc', 'bloodPressure'],
    [120, 'bloodPressure'],
  ])('refuses blood pressure %j with a reason', (bloodPressure, field) => {
    expect(errorsOf({ ...valid, bloodPressure })).toEqual([{ field, value: bloodPressure, reason: expect.stringContaining('120/80') }]);
  });

  it.each([
    ['heartRate', 'abc', 'must be a number'],
    ['spo2', '97', 'must be a number'],
    ['temperature', null, undefined],
    ['respiratoryRate', true, 'must be a number'],
    ['temperatureUnit', 'K', 'must be C or F'],
    ['onOxygen', 'no', 'must be true or false'],
    ['consciousness', 'X', 'must be one of A, C, V, P, U (ACVPU)'],
    ['consciousness', 'a', 'must be one of A, C, V, P, U (ACVPU)'],
  ])('checks %s = %j', (field, value, reason) => {
    const result = toRawReading({ ...valid, [field]: value }, context);
    if (reason === undefined) expect(result.ok).toBe(true);
    else expect(result.ok ? [] : result.errors).toEqual([{ field, value, reason }]);
  });

  it.each([
    ['missing', undefined, 'is required'],
    ['empty', '', 'must be a non-empty string'],
    ['a number', 12, 'must be a non-empty string'],
    ['too long', 'x'.repeat(129), 'must be at most 128 characters'],
    ['with a slash', 'P/12', expect.stringContaining('may contain only')],
    ['with a space', 'P 12', expect.stringContaining('may contain only')],
  ])('refuses a patientId that is %s', (_what, patientId, reason) => {
    const body: Record<string, unknown> = { ...valid, patientId };
    if (patientId === undefined) delete body.patientId;
    expect(errorsOf(body)).toEqual([expect.objectContaining({ field: 'patientId', reason })]);
  });

  it('accepts ids with the usual separators, up to 128 characters', () => {
    expect(toRawReading({ ...valid, deviceId: 'ward-3.bed_12:mon@a', patientId: 'p'.repeat(128) }, context).ok).toBe(true);
  });

  it.each([
    ['a zoneless time', '2026-11-22T10:00:00', 'must be ISO 8601'],
    ['a date only', '2026-11-22', 'must be ISO 8601'],
    ['epoch seconds', 1_795_000_000, 'not seconds'],
    ['a negative number', -5, 'must be ISO 8601'],
    ['missing', undefined, 'is required'],
  ])('refuses observedAt as %s', (_what, observedAt, reason) => {
    const body: Record<string, unknown> = { ...valid, observedAt };
    if (observedAt === undefined) delete body.observedAt;
    expect(errorsOf(body)).toEqual([expect.objectContaining({ field: 'observedAt', reason: expect.stringContaining(reason) })]);
  });

  it('allows clock skew up to the allowance and refuses beyond it', () => {
    expect(toRawReading({ ...valid, observedAt: NOW + MAX_CLOCK_SKEW_MS }, context).ok).toBe(true);
    expect(errorsOf({ ...valid, observedAt: NOW + MAX_CLOCK_SKEW_MS + 1 })).toEqual([expect.objectContaining({ field: 'observedAt', reason: expect.stringContaining('future') })]);
  });

  it('accepts offsets other than Z', () => {
    const result = toRawReading({ ...valid, observedAt: '2026-11-22T11:00:00+01:00' }, context);
    expect(result.ok && result.reading.observedAt).toBe(Date.parse('2026-11-22T10:00:00Z'));
  });

  it('refuses unknown fields', () => {
    expect(errorsOf({ ...valid, heartrate: 72 })).toEqual([{ field: 'heartrate', value: 72, reason: 'is not a field of a reading' }]);
  });

  it('requires at least one vital', () => {
    expect(errorsOf({ deviceId: 'd', patientId: 'p', observedAt: NOW, temperatureUnit: 'F' })).toEqual([{ field: 'vitals', reason: 'at least one vital sign must be present' }]);
  });

  it('reports every problem at once', () => {
    const fields = errorsOf({ patientId: '', observedAt: 'yesterday', heartRate: 'fast', bloodPressure: '120/' }).map((e) => e.field);
    expect(fields.sort()).toEqual(['bloodPressure', 'deviceId', 'heartRate', 'observedAt', 'patientId']);
  });

  it.each([null, 'text', 42, [valid]])('refuses %j as not an object', (input) => {
    expect(errorsOf(input)).toEqual([{ field: 'reading', reason: 'must be a JSON object' }]);
  });
});
