import { describe, expect, it } from 'vitest';
import { PLAUSIBLE_RANGES, fahrenheitToCelsius, normalizeReading } from './normalize-reading.ts';
import type { RawReading } from './reading.ts';

const raw: RawReading = {
  readingId: 'r1', deviceId: 'bed-12', patientId: 'P0012', observedAt: 1_795_000_000_000, receivedAt: 1_795_000_001_000, source: 'json',
  heartRate: 72, bloodPressure: '120/80', temperature: 37.1, temperatureUnit: 'C',
  spo2: 97, respiratoryRate: 16, onOxygen: false, consciousness: 'A',
};

function problemsOf(changes: Partial<RawReading>) {
  const result = normalizeReading({ ...raw, ...changes });
  if (result.ok) throw new Error('expected the reading to be rejected');
  return result.problems;
}

describe('normalizeReading', () => {
  it('splits blood pressure and keeps the rest', () => {
    expect(normalizeReading(raw)).toEqual({
      ok: true,
      reading: {
        readingId: 'r1', patientId: 'P0012', deviceId: 'bed-12', observedAt: raw.observedAt, receivedAt: raw.receivedAt,
        heartRate: 72, systolic: 120, diastolic: 80, temperatureC: 37.1, spo2: 97, respiratoryRate: 16, onOxygen: false, consciousness: 'A',
      },
    });
  });

  it.each([
    [98.6, 37], [96.8, 36], [104, 40], [95, 35],
  ])('converts %d °F to %d °C', (fahrenheit, celsius) => {
    const result = normalizeReading({ ...raw, temperature: fahrenheit, temperatureUnit: 'F' });
    expect(result.ok && result.reading.temperatureC).toBe(celsius);
  });

  it('takes a missing unit as °C', () => {
    const result = normalizeReading({ ...raw, temperatureUnit: null });
    expect(result.ok && result.reading.temperatureC).toBe(37.1);
  });

  it('keeps absent vitals as null', () => {
    const result = normalizeReading({ ...raw, heartRate: null, bloodPressure: null, temperature: null, consciousness: null });
    expect(result.ok && result.reading).toMatchObject({ heartRate: null, systolic: null, diastolic: null, temperatureC: null, consciousness: null, spo2: 97 });
  });

  // Every limit, both sides: the limit itself is plausible, one step beyond is not.
  it.each([
    ['heartRate', 'heartRate', PLAUSIBLE_RANGES.heartRate],
    ['spo2', 'spo2', PLAUSIBLE_RANGES.spo2],
    ['respiratoryRate', 'respiratoryRate', PLAUSIBLE_RANGES.respiratoryRate],
    ['temperature', 'temperatureC', PLAUSIBLE_RANGES.temperatureC],
  ] as const)('%s: plausible at its limits, implausible just beyond', (field, stored, { min, max }) => {
    for (const ok of [min, max]) {
      const result = normalizeReading({ ...raw, [field]: ok });
      expect(result.ok && result.reading[stored]).toBe(ok);
    }
    for (const bad of [min - 0.5, max + 0.5]) {
      expect(problemsOf({ [field]: bad })).toEqual([{ kind: 'implausible', field, value: bad, reason: expect.stringMatching(/^must be between/) }]);
    }
  });

  it.each([
    ['40/10', true], ['300/200', true], ['39/20', 'systolic must be between 40 and 300 mmHg'], ['301/80', 'systolic must be between 40 and 300 mmHg'],
    ['120/9', 'diastolic must be between 10 and 200 mmHg'], ['250/201', 'diastolic must be between 10 and 200 mmHg'],
    ['80/80', 'diastolic must be below systolic'], ['80/120', 'diastolic must be below systolic'],
  ])('blood pressure %s', (bloodPressure, expected) => {
    if (expected === true) expect(normalizeReading({ ...raw, bloodPressure }).ok).toBe(true);
    else expect(problemsOf({ bloodPressure })).toEqual([{ kind: 'implausible', field: 'bloodPressure', value: bloodPressure, reason: expected }]);
  });

  it.each(['120/', 'abc'])('rejects malformed blood pressure %j (bus producers that skip the edge)', (bloodPressure) => {
    expect(problemsOf({ bloodPressure })).toEqual([{ kind: 'invalid', field: 'bloodPressure', value: bloodPressure, reason: 'must look like 120/80 (systolic/diastolic mmHg)' }]);
  });

  it('says a °F temperature was converted when it is implausible', () => {
    expect(problemsOf({ temperature: 120, temperatureUnit: 'F' })).toEqual([
      { kind: 'implausible', field: 'temperature', value: 120, reason: 'must be between 25 and 45 °C (after conversion from °F)' },
    ]);
  });

  it.each([
    [{ temperatureUnit: 'K' }, 'temperatureUnit'],
    [{ consciousness: 'X' }, 'consciousness'],
    [{ heartRate: Number.NaN }, 'heartRate'],
  ] as const)('rejects invalid %j', (changes, field) => {
    expect(problemsOf(changes)).toEqual([expect.objectContaining({ kind: 'invalid', field })]);
  });

  it('rejects the whole reading for one implausible vital and reports every problem', () => {
    expect(problemsOf({ heartRate: 900, spo2: 140, respiratoryRate: -4 }).map((p) => p.field)).toEqual(['heartRate', 'spo2', 'respiratoryRate']);
  });

  it('rejects a reading without any vital', () => {
    expect(problemsOf({ heartRate: null, bloodPressure: null, temperature: null, spo2: null, respiratoryRate: null, onOxygen: null, consciousness: null }))
      .toEqual([expect.objectContaining({ field: 'vitals' })]);
  });
});

describe('fahrenheitToCelsius', () => {
  it('is exact to 0.01 °C', () => {
    expect(fahrenheitToCelsius(32)).toBe(0);
    expect(fahrenheitToCelsius(100.4)).toBe(38);
    expect(fahrenheitToCelsius(99.1)).toBe(37.28);
  });
});
