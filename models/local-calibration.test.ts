import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCohortCsv } from '../simulators/cohort-csv.ts';
import { COHORT_SHIFTS } from '../simulators/shift-presets.ts';
import { loadOnnxRiskModel } from './risk-model-onnx.ts';
import { evaluateCohort } from './evaluate-cohort.ts';
import type { CohortEvaluation } from './evaluate-cohort.ts';
import { applyCalibration, readLocalCalibration, resolveLocalCalibration } from './local-calibration.ts';
import type { LocalCalibration } from './local-calibration.ts';
import { describeServedModel } from './provenance.ts';
import { recalibrateCohort } from './recalibrate-cohort.ts';
import { budget } from '../core/contracts/wait-for.ts';

/**
 * Local recalibration end to end: fit on one cohort of the `low-prevalence` shift (≈ 3 % of
 * admissions with an event), check on a second one of the same shift (another seed), then serve it.
 */
const LOW_PREVALENCE = COHORT_SHIFTS['low-prevalence'];
const MODEL = path.join(import.meta.dirname, 'recovery-risk.onnx');
const CARD = JSON.parse(readFileSync(MODEL.replace(/\.onnx$/, '.card.json'), 'utf8')) as { name: string; version: number | string };
/** The served model's own name (recovery-risk@<card version>). */
const BASE = `${CARD.name}@${CARD.version}`;
const dir = mkdtempSync(path.join(tmpdir(), 'vigil-recalibrate-'));
const fitCohort = path.join(dir, 'site-2025');
const checkCohort = path.join(dir, 'site-2026');
const out = path.join(dir, 'data', 'local-calibration.json');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Mean predicted over observed rate (calibration in the large), from the report's calibration curve. */
function predictedOverObserved(report: CohortEvaluation): number {
  const predicted = report.calibrationCurve.reduce((sum, bin) => sum + bin.predicted * bin.n, 0);
  const observed = report.calibrationCurve.reduce((sum, bin) => sum + bin.observed * bin.n, 0);
  return predicted / observed;
}

describe('vigil model recalibrate on a 3 %-prevalence site', () => {
  let calibration: LocalCalibration;
  let before: CohortEvaluation;
  let after: CohortEvaluation;

  beforeAll(async () => {
    await writeCohortCsv({ dir: fitCohort, seed: 101, admissions: 4000, parameters: LOW_PREVALENCE });
    await writeCohortCsv({ dir: checkCohort, seed: 202, admissions: 4000, parameters: LOW_PREVALENCE });
    // No bootstrap: the intervals are not what this test checks, and they cost the most time.
    calibration = await recalibrateCohort({ cohortDir: fitCohort, out, replicates: 0, now: () => new Date('2026-12-04T12:00:00Z') });
    before = await evaluateCohort({ cohortDir: checkCohort, replicates: 0 });
    after = await evaluateCohort({ cohortDir: checkCohort, replicates: 0, calibration: readLocalCalibration(out) });
    // The figures the report quotes.
    console.log(`recalibration ${calibration.version}: a=${calibration.a.toFixed(3)} b=${calibration.b.toFixed(3)}; second cohort: slope ${before.metrics.model.calibrationSlope!.toFixed(3)} -> ${after.metrics.model.calibrationSlope!.toFixed(3)}, intercept ${before.metrics.model.calibrationIntercept!.toFixed(3)} -> ${after.metrics.model.calibrationIntercept!.toFixed(3)}, predicted/observed ${predictedOverObserved(before).toFixed(2)} -> ${predictedOverObserved(after).toFixed(2)}`);
  }, budget(240_000));

  it('writes a versioned file recording the cohort, the fit and the evaluation', () => {
    const written = readLocalCalibration(out);
    expect(written).toEqual(calibration);
    expect(written).toMatchObject({ format: 'vigil-local-calibration', version: 'local-1', model: BASE, fittedAt: '2026-12-04T12:00:00.000Z' });
    const eventRate = calibration.cohort.positives / calibration.cohort.patients;
    expect(eventRate).toBeGreaterThan(0.015);
    expect(eventRate).toBeLessThan(0.045);
    expect(calibration.b).toBeGreaterThan(0);
    expect(calibration.after.calibrationSlope).toBeCloseTo(1, 6);
    expect(calibration.evaluation.metrics.model.auroc).toBeGreaterThan(0.5);
  });

  it('brings the calibration on a second cohort of the same shift within 0.8–1.2, and the predicted rate to the observed one', () => {
    // Before: quoted in the log line of beforeAll (the served model as trained, on this shift).
    const slope = after.metrics.model.calibrationSlope!;
    expect(slope).toBeGreaterThanOrEqual(0.8);
    expect(slope).toBeLessThanOrEqual(1.2);
    expect(predictedOverObserved(after)).toBeGreaterThan(0.7);
    expect(predictedOverObserved(after)).toBeLessThan(1.4);
    expect(after.model.name).toBe(`${BASE}+local-1`);
    // Monotone: the ranking, hence AUROC, is unchanged.
    expect(after.metrics.model.auroc).toBeCloseTo(before.metrics.model.auroc!, 6);
  });

  it('is served: the model name carries the version and every probability is recalibrated', async () => {
    const served = describeServedModel({ modelPath: MODEL, calibration: { path: out, explicit: false } });
    expect(served.provenance).toMatchObject({ model: `${BASE}+local-1`, validatedLocally: true, localValidation: { version: 'local-1', patients: calibration.cohort.patients } });
    const bare = await loadOnnxRiskModel({ path: MODEL, topFactors: 0 });
    const local = await loadOnnxRiskModel({ path: MODEL, calibration: served.calibration! });
    try {
      expect(local.name).toBe(`${BASE}+local-1`);
      const now = Date.UTC(2026, 0, 1, 12);
      const readings = [0, 1, 2].map((h) => ({
        readingId: `r${h}`, patientId: 'P1', deviceId: 'bed-01', observedAt: now - h * 3_600_000, receivedAt: now - h * 3_600_000,
        heartRate: 118, systolic: 98, diastolic: 60, temperatureC: 38.4, spo2: 92, respiratoryRate: 25, onOxygen: false, consciousness: 'A' as const,
      }));
      const input = { patientId: 'P1', now, readings };
      const [raw] = await bare.score([input]);
      const [calibrated] = await local.score([input]);
      expect(calibrated!.probability).toBeCloseTo(applyCalibration(raw!.probability, calibration), 6);
      expect(calibrated!.probability).toBeLessThan(raw!.probability);
    } finally {
      await bare.close();
      await local.close();
    }
  });

  it('never applies a calibration fitted for another model: ignored with a reason, or refused when named explicitly', () => {
    const other = path.join(dir, 'other-model.json');
    writeFileSync(other, JSON.stringify({ ...calibration, model: 'recovery-risk@0' }));
    const ignored = resolveLocalCalibration({ path: other, explicit: false }, BASE);
    expect(ignored.calibration).toBeNull();
    expect(ignored.ignored).toContain('fitted for recovery-risk@0');
    expect(() => resolveLocalCalibration({ path: other, explicit: true }, BASE)).toThrow(/fitted for recovery-risk@0/);
    expect(() => resolveLocalCalibration({ path: path.join(dir, 'absent.json'), explicit: true }, BASE)).toThrow(/no such file/);
    expect(resolveLocalCalibration({ path: path.join(dir, 'absent.json'), explicit: false }, BASE)).toEqual({ calibration: null });
  });
});
