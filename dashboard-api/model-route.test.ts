import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeServedModel } from '../models/provenance.ts';
import { bearer, readSideApp } from './test-fixtures.ts';

const MODEL = path.join(import.meta.dirname, '..', 'models', 'recovery-risk.onnx');
const CARD = JSON.parse(readFileSync(MODEL.replace(/\.onnx$/, '.card.json'), 'utf8')) as { name: string; version: number | string };
const BASE = `${CARD.name}@${CARD.version}`;
const dir = mkdtempSync(path.join(tmpdir(), 'vigil-model-route-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The app as `vigil start` builds it: provenance from the card beside the model and the calibration setting. */
function appWith(calibrationPath: string) {
  const { provenance } = describeServedModel({ modelPath: MODEL, calibration: { path: calibrationPath, explicit: false } });
  return readSideApp({ modelProvenance: provenance });
}

describe('GET /v1/model', () => {
  it('says what the risk score is, trained on simulated data and not validated at this site', async () => {
    const ctx = appWith(path.join(dir, 'none.json'));
    try {
      const res = await ctx.app.inject({ method: 'GET', url: '/v1/model', headers: bearer('clinician') });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual({
        model: BASE, target: 'death or ICU escalation', horizonHours: 24, trainedOn: 'simulated data',
        validatedLocally: false, localValidation: null, localValidationIgnored: null,
        summary: 'Risk of death or ICU escalation within 24 h — trained on simulated data, not validated at this site',
      });
      expect((await ctx.app.inject({ method: 'GET', url: '/v1/model' })).statusCode).toBe(401);
      expect((await ctx.app.inject({ method: 'GET', url: '/v1/model', headers: bearer('device') })).statusCode).toBe(403);
    } finally {
      await ctx.app.close();
      await ctx.audit.close();
    }
  });

  it('reports the local validation (version, date, n, AUROC) once a local calibration is loaded', async () => {
    const file = path.join(dir, 'local-calibration.json');
    writeFileSync(file, JSON.stringify({
      format: 'vigil-local-calibration', version: 'local-3', model: BASE, fittedAt: '2026-12-01T09:30:00.000Z',
      cohort: { dir: '/site/cohort', admissions: 2400, patients: 2400, positives: 80, predictionPoints: 52000, events: 430 },
      a: -1.6, b: 1.01, before: { calibrationSlope: 1.02, calibrationIntercept: -1.7 }, after: { calibrationSlope: 1, calibrationIntercept: 0 },
      evaluation: { metrics: { model: { auroc: 0.861 } } },
    }));
    const ctx = appWith(file);
    try {
      const body = (await ctx.app.inject({ method: 'GET', url: '/v1/model', headers: bearer('clinician') })).json();
      expect(body).toMatchObject({
        model: `${BASE}+local-3`, validatedLocally: true,
        localValidation: { version: 'local-3', fittedAt: '2026-12-01T09:30:00.000Z', patients: 2400, predictionPoints: 52000, auroc: 0.861 },
      });
      expect(body.summary).toBe('Risk of death or ICU escalation within 24 h — trained on simulated data; validated and recalibrated at this site (local-3, 2026-12-01: 2400 patients, AUROC 0.86)');
    } finally {
      await ctx.app.close();
      await ctx.audit.close();
    }
  });
});
