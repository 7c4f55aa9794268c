import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VitalReading } from '../core/domain/reading.ts';
import { VigilError } from '../core/errors.ts';
import { loadOnnxRiskModel } from './risk-model-onnx.ts';
import type { OnnxRiskModel } from './risk-model-onnx.ts';
import type { ScoringInput } from '../core/ports/risk-model.ts';
import { FEATURE_COUNT, FEATURE_SPEC, writeFeatures } from './features.ts';
import type { FeatureOcclusion } from './features.ts';

const MODEL = path.join(import.meta.dirname, '..', 'models', 'recovery-risk.onnx');
const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 0, 1, 12);

/** Hourly readings over 6 h, each vital moving linearly from `from` to `to`. */
function window(patientId: string, from: Partial<VitalReading>, to: Partial<VitalReading>): ScoringInput {
  const readings: VitalReading[] = [];
  for (let h = 5; h >= 0; h--) {
    const f = (5 - h) / 5;
    const at = (key: 'heartRate' | 'systolic' | 'diastolic' | 'temperatureC' | 'spo2' | 'respiratoryRate') => Math.round(((from[key] ?? 0) + f * ((to[key] ?? 0) - (from[key] ?? 0))) * 10) / 10;
    readings.push({
      readingId: `${patientId}-${h}`, patientId, deviceId: 'bed-01', observedAt: NOW - h * HOUR, receivedAt: NOW - h * HOUR,
      heartRate: at('heartRate'), systolic: at('systolic'), diastolic: at('diastolic'), temperatureC: at('temperatureC'),
      spo2: at('spo2'), respiratoryRate: at('respiratoryRate'), onOxygen: h <= 1 ? (to.onOxygen ?? false) : false, consciousness: 'A',
    });
  }
  return { patientId, now: NOW, readings, admission: { age: 74, admissionType: 'EMERGENCY', admittedAt: NOW - 40 * HOUR } };
}

const WELL = { heartRate: 72, systolic: 130, diastolic: 78, temperatureC: 36.8, spo2: 97, respiratoryRate: 14 };
const stable = window('P-stable', WELL, WELL);
const deteriorating = window('P-sick', WELL, { heartRate: 124, systolic: 96, diastolic: 58, temperatureC: 38.6, spo2: 90, respiratoryRate: 27, onOxygen: true });

describe('loadOnnxRiskModel', () => {
  let model: OnnxRiskModel;
  beforeAll(async () => {
    model = await loadOnnxRiskModel({ path: MODEL });
  });
  afterAll(() => model.close());

  it('is named by its card: recovery-risk@<version>', () => {
    expect(model.name).toMatch(/^recovery-risk@\d+$/);
  });

  it('scores a deteriorating patient far above a stable one, with the vitals that drove it', async () => {
    const [calm, sick] = await model.score([stable, deteriorating]);
    expect(calm!.probability).toBeLessThan(0.1);
    expect(sick!.probability).toBeGreaterThan(0.3);
    expect(sick!.factors.length).toBeGreaterThan(0);
    expect(sick!.factors.length).toBeLessThanOrEqual(3);
    const contributions = sick!.factors.map((f) => f.contribution);
    expect(contributions).toEqual([...contributions].sort((a, b) => b - a));
    expect(contributions.every((c) => c > 0 && c <= sick!.probability)).toBe(true);
    expect(sick!.factors.map((f) => f.feature)).toEqual(expect.arrayContaining([expect.stringMatching(/respiratoryRate|heartRate|spo2|oxygen|bloodPressure|temperature/)]));
  });

  it('lists no factor for a patient whose vitals are all in their normal band', async () => {
    // Normal by NEWS2 (every parameter scores 0) but not the reference values: RR 18, HR 88, SBP 112, 37.9 °C, SpO2 96 %.
    const normal = window('P-normal', { heartRate: 80, systolic: 118, diastolic: 70, temperatureC: 37.4, spo2: 97, respiratoryRate: 17 }, { heartRate: 88, systolic: 112, diastolic: 66, temperatureC: 37.9, spo2: 96, respiratoryRate: 18 });
    const [calm, high] = await model.score([stable, normal]);
    expect(calm!.factors).toEqual([]);
    expect(high!.factors).toEqual([]);
  });

  it('lists an abnormal respiratory rate, and never a normal vital beside it', async () => {
    const fastBreathing = window('P-rr', WELL, { ...WELL, respiratoryRate: 27 });
    const [out] = await model.score([fastBreathing]);
    expect(out!.factors.map((f) => f.feature)).toContain('respiratoryRate');
    expect(out!.factors.find((f) => f.feature === 'respiratoryRate')!.value).toBe(27);
    expect(out!.factors.map((f) => f.feature).filter((f) => f !== 'respiratoryRate')).toEqual([]);

    // Fever and tachycardia with RR 16: RR is normal and must not be named, whatever occlusion credits it with.
    const febrile = window('P-fever', WELL, { ...WELL, heartRate: 128, temperatureC: 39.4, respiratoryRate: 16, systolic: 104 });
    const [fever] = await model.score([febrile]);
    const named = fever!.factors.map((f) => f.feature);
    expect(named).not.toContain('respiratoryRate');
    expect(named).not.toContain('spo2');
    expect(named.every((f) => ['heartRate', 'temperature', 'bloodPressure'].includes(f))).toBe(true);
  });

  it('scores a batch exactly as it scores each patient alone', async () => {
    const batch = await model.score([stable, deteriorating, stable]);
    const alone = await model.score([deteriorating]);
    expect(batch[1]).toEqual(alone[0]);
    expect(batch[0]).toEqual(batch[2]);
    expect(await model.score([])).toEqual([]);
  });

  it('runs occluded rows only for out-of-band vitals, each factor the drop when its vital is made typical', async () => {
    const before = model.rowsRun;
    await model.score([stable]);
    expect(model.rowsRun - before, 'rows run for a patient with every vital in band (its own row only)').toBe(1);

    const [sick] = await model.score([deteriorating]);
    const sickRows = model.rowsRun - before - 1;
    // Out of band at the latest reading: heart rate 124, systolic 96, temperature 38.6, SpO2 90, RR 27, on oxygen.
    expect(sickRows, 'rows run for the deteriorating patient: its own plus one per out-of-band vital').toBe(1 + 6);
    const references = FEATURE_SPEC.factorReferences as Record<string, FeatureOcclusion>;
    const input = { now: deteriorating.now, readings: deteriorating.readings, admission: deteriorating.admission! };
    for (const factor of sick!.factors) {
      const rows = new Float32Array(2 * FEATURE_COUNT);
      writeFeatures(input, rows, 0);
      writeFeatures(input, rows, 1, references[factor.feature]);
      const [base, occluded] = await model.run(rows, 2);
      expect(factor.contribution, `contribution of ${factor.feature}`).toBeCloseTo(base! - occluded!, 6);
    }
  });

  it('serves without admission context and without factors when asked', async () => {
    const bare = await loadOnnxRiskModel({ path: MODEL, card: { version: 'test' }, topFactors: 0 });
    try {
      expect(bare.name).toBe('recovery-risk@test');
      const { admission: _admission, ...withoutAdmission } = deteriorating;
      const [out] = await bare.score([withoutAdmission]);
      expect(out!.factors).toEqual([]);
      expect(out!.probability).toBeGreaterThan(0.1);
    } finally {
      await bare.close();
    }
  });

  it('refuses a missing model file with CONFIG_INVALID', async () => {
    await expect(loadOnnxRiskModel({ path: '/nonexistent/model.onnx', card: { version: 1 } })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(loadOnnxRiskModel({ path: '/nonexistent/model.onnx' })).rejects.toBeInstanceOf(VigilError);
  });
});
