import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_MODEL_PATH, evaluateScored, readCard, scoreCohort } from './evaluate-cohort.ts';
import { readCohort } from './local-cohort.ts';
import { CALIBRATION_FORMAT, fitRecalibration, nextCalibrationVersion, readLocalCalibration } from './local-calibration.ts';
import type { LocalCalibration } from './local-calibration.ts';
import { calibrationFit } from './model-metrics.ts';

export interface RecalibrateOptions {
  readonly cohortDir: string;
  /** Where the calibration is written; an existing file there sets the next version. */
  readonly out: string;
  readonly modelPath?: string;
  readonly replicates?: number;
  readonly seed?: number;
  readonly now?: () => Date;
  readonly onProgress?: (message: string) => void;
}

/**
 * `vigil model recalibrate`: scores the site's cohort with the served model, fits p' = σ(a + b·logit p)
 * on its outcomes, evaluates the recalibrated model on the same cohort (in-sample: the honest check
 * is `vigil model evaluate --calibration` on another cohort) and writes the versioned file
 * atomically (a server starting meanwhile reads the old file or the new one, never half of one).
 */
export async function recalibrateCohort(options: RecalibrateOptions): Promise<LocalCalibration> {
  const modelPath = options.modelPath ?? DEFAULT_MODEL_PATH;
  const card = readCard(modelPath);
  const stays = await readCohort(options.cohortDir, options.onProgress);
  const scored = await scoreCohort(stays, { modelPath, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
  const fit = fitRecalibration(scored.probability, scored.labels);
  let previous: string | undefined;
  if (existsSync(options.out)) {
    try {
      previous = readLocalCalibration(options.out).version;
    } catch {
      previous = undefined;
    }
  }
  const version = nextCalibrationVersion(previous);
  const before = calibrationFit(Array.from(scored.probability), scored.labels);
  const evaluation = evaluateScored(scored, {
    card, calibration: { ...fit, version },
    ...(options.replicates === undefined ? {} : { replicates: options.replicates }),
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const calibration: LocalCalibration = {
    format: CALIBRATION_FORMAT,
    version,
    model: scored.model,
    fittedAt: (options.now?.() ?? new Date()).toISOString(),
    cohort: {
      dir: path.resolve(options.cohortDir),
      admissions: evaluation.testSet.admissions,
      patients: evaluation.testSet.patients,
      positives: evaluation.testSet.positives,
      predictionPoints: evaluation.testSet.predictionPoints,
      events: evaluation.testSet.positivePredictionPoints,
    },
    a: fit.a,
    b: fit.b,
    before: { calibrationSlope: before.slope, calibrationIntercept: before.intercept },
    after: { calibrationSlope: evaluation.metrics.model.calibrationSlope!, calibrationIntercept: evaluation.metrics.model.calibrationIntercept! },
    evaluation: evaluation as unknown as LocalCalibration['evaluation'],
  };
  mkdirSync(path.dirname(options.out), { recursive: true });
  const temporary = `${options.out}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(calibration, null, 2)}\n`);
  renameSync(temporary, options.out);
  return calibration;
}
