import { describe, expect, it } from 'vitest';
import { DEFAULT_NEWS2_MAX_AGE_MS, news2ObservationSet } from './news2-observation-set.ts';
import type { VitalReading } from './reading.ts';

const T0 = Date.parse('2026-12-04T10:00:00Z');
const MIN = 60_000;
const EMPTY = { heartRate: null, systolic: null, diastolic: null, temperatureC: null, spo2: null, respiratoryRate: null, onOxygen: null, consciousness: null };
const FULL = { heartRate: 70, systolic: 120, diastolic: 80, temperatureC: 37, spo2: 97, respiratoryRate: 16, onOxygen: false, consciousness: 'A' as const };

let n = 0;
const reading = (minutes: number, vitals: Partial<VitalReading>): VitalReading => ({
  readingId: `r${n++}`, patientId: 'P1', deviceId: 'd', observedAt: T0 + minutes * MIN, receivedAt: T0 + minutes * MIN, ...EMPTY, ...vitals,
});

describe('NEWS2 of one observation set', () => {
  it('is complete when every parameter was observed within the maximum age of the newest reading', () => {
    const set = news2ObservationSet([reading(-50, FULL), reading(0, { heartRate: 72 })])!;
    expect(set).toMatchObject({ complete: true, missing: [], observedAt: T0 });
    expect(set.result.score).toBe(0);
  });

  it('names what is missing by the external names, temperature included, in chart order', () => {
    const set = news2ObservationSet([reading(0, { heartRate: 75, systolic: 118, diastolic: 76 })])!;
    expect(set.complete).toBe(false);
    expect(set.missing).toEqual(['respiratoryRate', 'spo2', 'onOxygen', 'consciousness', 'temperature']);
    expect(set.result.score).toBe(0);
  });

  it('counts a value observed exactly at the maximum age, not one a minute older (default 1 h)', () => {
    expect(DEFAULT_NEWS2_MAX_AGE_MS).toBe(60 * MIN);
    const atEdge = news2ObservationSet([reading(-60, FULL), reading(0, { heartRate: 80 })])!;
    expect(atEdge.complete).toBe(true);
    const beyond = news2ObservationSet([reading(-61, FULL), reading(0, { heartRate: 80 })])!;
    expect(beyond.complete).toBe(false);
    expect(beyond.missing).toEqual(['respiratoryRate', 'spo2', 'onOxygen', 'systolic', 'consciousness', 'temperature']);
  });

  it('never stitches values from different hours: an old severe value neither counts nor hides as present', () => {
    // Three hours ago the patient was hypotensive and tachypnoeic; now only heart rate and SpO2 are known.
    const set = news2ObservationSet([reading(-180, { ...FULL, systolic: 85, respiratoryRate: 28 }), reading(-5, { spo2: 96 }), reading(0, { heartRate: 95 })])!;
    expect(set.result.components).toMatchObject({ systolic: null, respiratoryRate: null, heartRate: 1, spo2: 0 });
    expect(set.missing).toEqual(['respiratoryRate', 'onOxygen', 'systolic', 'consciousness', 'temperature']);
    expect(set.result.score).toBe(1);
  });

  it('takes the maximum age as configured', () => {
    const readings = [reading(-90, FULL), reading(0, { heartRate: 70 })];
    expect(news2ObservationSet(readings, { maxAgeMs: 120 * MIN })!.complete).toBe(true);
    expect(news2ObservationSet(readings, { maxAgeMs: 30 * MIN })!.complete).toBe(false);
  });

  it('passes the SpO2 scale and baseline confusion to the chart', () => {
    const confused = [reading(0, { ...FULL, consciousness: 'C', spo2: 89 })];
    expect(news2ObservationSet(confused)!.result.score).toBe(6);
    expect(news2ObservationSet(confused, { baselineConfusion: true })!.result.score).toBe(3);
    expect(news2ObservationSet(confused, { baselineConfusion: true, spo2Scale: 2 })!.result.score).toBe(0);
  });

  it('is undefined without readings', () => {
    expect(news2ObservationSet([])).toBeUndefined();
  });
});
