import { describe, expect, it } from 'vitest';
import { news2 } from '../core/domain/news2.ts';
import { createRandom } from '../core/seeded-random.ts';
import { featureValues, FEATURE_COUNT, FEATURE_NAMES, FEATURE_SPEC, computeFeatures, prepareFeatureInput, severityIndex, writeFeatures } from './features.ts';
import type { FeatureInput, FeatureOcclusion, FeatureReading } from './features.ts';

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 0, 1, 12);

function reading(hoursAgo: number, vitals: Partial<FeatureReading> = {}): FeatureReading {
  return {
    readingId: `r${hoursAgo}`, observedAt: NOW - hoursAgo * HOUR,
    heartRate: 80, systolic: 120, diastolic: 70, temperatureC: 37, spo2: 96, respiratoryRate: 16, onOxygen: false, consciousness: 'A',
    ...vitals,
  };
}

describe('recovery-risk features', () => {
  it('returns the declared features in order, as float32', () => {
    const row = computeFeatures({ now: NOW, readings: [reading(0.5)] });
    expect(row).toBeInstanceOf(Float32Array);
    expect(row).toHaveLength(FEATURE_COUNT);
    expect(FEATURE_COUNT).toBe(FEATURE_SPEC.features.length);
    expect(new Set(FEATURE_NAMES).size).toBe(FEATURE_COUNT);
  });

  it('uses only readings in (now − window, now]: none after now, none older than 6 h', () => {
    const v = featureValues({ now: NOW, readings: [reading(-1, { heartRate: 200 }), reading(7, { heartRate: 10 }), reading(3, { heartRate: 90 }), reading(0.5, { heartRate: 100 })] });
    expect(v.get('heartRate.6h.count')).toBe(2);
    expect(v.get('heartRate.6h.max')).toBe(100);
    expect(v.get('heartRate.6h.min')).toBe(90);
    expect(v.get('heartRate.1h.count')).toBe(1);
    expect(v.get('heartRate.1h.last')).toBe(100);
    expect(v.get('readings.6h.count')).toBe(2);
  });

  it('takes last, mean and the least-squares slope per hour whatever the input order', () => {
    const v = featureValues({ now: NOW, readings: [reading(0, { respiratoryRate: 24 }), reading(4, { respiratoryRate: 16 }), reading(2, { respiratoryRate: 20 })] });
    expect(v.get('respiratoryRate.6h.last')).toBe(24);
    expect(v.get('respiratoryRate.6h.mean')).toBe(20);
    expect(v.get('respiratoryRate.6h.slope')).toBeCloseTo(2, 12);
    expect(v.get('respiratoryRate.1h.slope')).toBe(0);
  });

  it('reads a missing vital as the reference value with count 0 and 6 h since last', () => {
    const v = featureValues({ now: NOW, readings: [reading(1, { spo2: null })] });
    expect(v.get('spo2.6h.count')).toBe(0);
    expect(v.get('spo2.6h.last')).toBe(FEATURE_SPEC.reference.spo2);
    expect(v.get('spo2.hoursSinceLast')).toBe(6);
    expect(v.get('heartRate.hoursSinceLast')).toBe(1);
  });

  it('derives a severity index that is 0 for the reference adult and rises as the vitals worsen', () => {
    const r = FEATURE_SPEC.reference;
    const well = reading(1, { heartRate: r.heartRate, respiratoryRate: r.respiratoryRate, systolic: r.systolic, temperatureC: r.temperatureC, spo2: r.spo2 });
    expect(severityIndex(well)).toBe(0);
    expect(severityIndex(reading(1, { heartRate: 120, respiratoryRate: 26, systolic: 95, temperatureC: 38.5, spo2: 90 }))!).toBeGreaterThan(2);
    // Missing vitals are left out of the mean, not read as normal.
    expect(severityIndex(reading(1, { heartRate: 105, respiratoryRate: null, systolic: null, temperatureC: null, spo2: null }))).toBe(2);
    expect(severityIndex(reading(1, { heartRate: null, respiratoryRate: null, systolic: null, temperatureC: null, spo2: null }))).toBeNull();
    const v = featureValues({ now: NOW, readings: [reading(2, { heartRate: 75 }), reading(1, { heartRate: 105 })] });
    expect(v.get('severityIndex.6h.slope')!).toBeGreaterThan(0);
  });

  it('carries NEWS2 and its components as the domain scores them, on the SpO2 scale given', () => {
    const readings = [reading(0.2, { spo2: 87, onOxygen: true, respiratoryRate: 26, consciousness: 'V' })];
    for (const spo2Scale of [1, 2] as const) {
      const v = featureValues({ now: NOW, readings, spo2Scale });
      const expected = news2({ ...readings[0]! }, { spo2Scale });
      expect(v.get('news2.score')).toBe(expected.score);
      for (const [parameter, points] of Object.entries(expected.components)) expect(v.get(`news2.${parameter}`)).toBe(points);
    }
  });

  it('scores baseline confusion recorded in the profile as 0 and new confusion as 3, as the domain NEWS2 does', () => {
    const readings = [reading(0.2, { consciousness: 'C' })];
    const recorded = featureValues({ now: NOW, readings, baselineConfusion: true });
    const unrecorded = featureValues({ now: NOW, readings });
    expect(recorded.get('news2.consciousness')).toBe(0);
    expect(unrecorded.get('news2.consciousness')).toBe(3);
    expect(unrecorded.get('news2.score')! - recorded.get('news2.score')!).toBe(3);
    expect(recorded.get('news2.score')).toBe(news2({ ...readings[0]! }, { baselineConfusion: true }).score);
  });

  it('does not let age, admission type or time since admission change a row: severe vitals are never scored down by context', () => {
    for (const name of FEATURE_NAMES) expect(name).not.toMatch(/^(age|admissionType|hoursSinceAdmission)/);
    const readings = [reading(2, { respiratoryRate: 26, spo2: 90, heartRate: 125 }), reading(0.5, { respiratoryRate: 28, spo2: 89, heartRate: 130, systolic: 95 })];
    const bare = computeFeatures({ now: NOW, readings });
    const early = computeFeatures({ now: NOW, readings, admission: { age: 30, admissionType: 'ELECTIVE', admittedAt: NOW - 6 * HOUR } });
    const late = computeFeatures({ now: NOW, readings, admission: { age: 90, admissionType: 'EMERGENCY', admittedAt: NOW - 72 * HOUR } });
    expect(early).toEqual(bare);
    expect(late).toEqual(bare);
  });
});

describe('occluded features (how a risk factor is explained)', () => {
  /** The definition: the same input with the occluded fields replaced where they were measured. */
  function occludedCopy(input: FeatureInput, occlusion: FeatureOcclusion): FeatureInput {
    const readings = input.readings.map((r) => {
      const copy: Record<string, unknown> = { ...r };
      for (const [field, value] of Object.entries(occlusion)) if (copy[field] !== null) copy[field] = value;
      return copy as unknown as FeatureReading;
    });
    return { ...input, readings };
  }

  it('equal the features of a copy with those fields replaced, for every declared factor, bit for bit', () => {
    const random = createRandom(2026, 'occlusion-test');
    const maybe = (low: number, high: number) => (random.chance(0.15) ? null : Math.round(random.between(low, high) * 10) / 10);
    const occlusions = Object.values(FEATURE_SPEC.factorReferences) as FeatureOcclusion[];
    for (let p = 0; p < 200; p++) {
      const readings = Array.from({ length: Math.floor(random.between(0, 40)) }, (_, i): FeatureReading => ({
        readingId: `r${i}`, observedAt: NOW - Math.floor(random.between(-1, 8) * HOUR),
        heartRate: maybe(50, 150), systolic: maybe(75, 170), diastolic: maybe(40, 95), temperatureC: maybe(34.5, 40.5),
        spo2: maybe(80, 100), respiratoryRate: maybe(6, 34), onOxygen: random.chance(0.2) ? null : random.chance(0.3),
        consciousness: random.chance(0.3) ? null : random.chance(0.85) ? 'A' : random.chance(0.5) ? 'C' : 'V',
      }));
      const input: FeatureInput = {
        now: NOW, readings, spo2Scale: random.chance(0.2) ? 2 : 1, baselineConfusion: random.chance(0.1),
      };
      const prepared = prepareFeatureInput(input);
      // An occlusion asked for first computes the base row itself; later ones reuse it.
      const first = occlusions[p % occlusions.length]!;
      expect(writeFeatures(prepared, new Float32Array(FEATURE_COUNT), 0, first)).toEqual(computeFeatures(occludedCopy(input, first)));
      expect(writeFeatures(prepared, new Float32Array(FEATURE_COUNT), 0)).toEqual(computeFeatures(input));
      for (const occlusion of occlusions) {
        const fast = writeFeatures(prepared, new Float32Array(FEATURE_COUNT), 0, occlusion);
        expect(fast).toEqual(computeFeatures(occludedCopy(input, occlusion)));
      }
    }
  });
});
