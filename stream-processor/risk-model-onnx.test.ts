import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VitalReading } from '../core/domain/reading.ts';
import { VigilError } from '../core/errors.ts';
import { loadOnnxRiskModel } from './risk-model-onnx.ts';
import type { OnnxRiskModel } from './risk-model-onnx.ts';
import type { ScoringInput } from './risk-model.ts';

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

  it('scores a batch exactly as it scores each patient alone', async () => {
    const batch = await model.score([stable, deteriorating, stable]);
    const alone = await model.score([deteriorating]);
    expect(batch[1]).toEqual(alone[0]);
    expect(batch[0]).toEqual(batch[2]);
    expect(await model.score([])).toEqual([]);
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
