import { existsSync, readFileSync } from 'node:fs';
import { VigilError } from '../core/errors.ts';
import { resolveLocalCalibration } from './local-calibration.ts';
import type { CalibrationSetting, LocalCalibration } from './local-calibration.ts';

/**
 * What the risk score on a clinician's screen is (`GET /v1/model`, the dashboard's note beside the
 * risk figures): the model, its target and horizon, that it was trained on simulated data, and
 * whether this site has validated it (a local calibration file, with its evaluation, is loaded).
 */
export interface ModelProvenance {
  /** The name every score carries (`recovery-risk@1+local-2`); null when no model is served. */
  readonly model: string | null;
  /** In a clinician's words. */
  readonly target: string;
  readonly horizonHours: number;
  readonly trainedOn: 'simulated data';
  readonly validatedLocally: boolean;
  readonly localValidation: {
    readonly version: string;
    readonly fittedAt: string;
    readonly patients: number;
    readonly predictionPoints: number;
    readonly positives: number;
    readonly auroc: number;
    readonly calibrationSlopeBefore: number;
    readonly calibrationSlopeAfter: number;
  } | null;
  /** Why a calibration file present was not applied (fitted for another model), else null. */
  readonly localValidationIgnored: string | null;
  /** One sentence for the screen. */
  readonly summary: string;
}

/** The card's target, in the words a clinician reads (the card's `target` is a full definition). */
const TARGET = 'death or ICU escalation';

export interface ServedModel {
  readonly provenance: ModelProvenance;
  /** The calibration to apply while serving, or null. */
  readonly calibration: LocalCalibration | null;
}

/** Reads the card beside `modelPath` and resolves the local calibration (throws CONFIG_INVALID as resolveLocalCalibration does). */
export function describeServedModel(options: { modelPath: string; calibration: CalibrationSetting }): ServedModel {
  if (!existsSync(options.modelPath)) {
    return {
      calibration: null,
      provenance: {
        model: null, target: TARGET, horizonHours: 24, trainedOn: 'simulated data', validatedLocally: false, localValidation: null, localValidationIgnored: null,
        summary: 'No risk model is served: NEWS2 only.',
      },
    };
  }
  const cardPath = options.modelPath.replace(/\.onnx$/, '.card.json');
  let card: { name?: string; version?: number | string; horizonHours?: number };
  try {
    card = JSON.parse(readFileSync(cardPath, 'utf8')) as typeof card;
  } catch (error) {
    throw new VigilError('CONFIG_INVALID', `risk model card ${cardPath} is missing or not JSON`, { cause: error });
  }
  const base = `${card.name ?? 'recovery-risk'}@${String(card.version)}`;
  const horizonHours = card.horizonHours ?? 24;
  const resolved = resolveLocalCalibration(options.calibration, base);
  const c = resolved.calibration;
  const what = `Risk of ${TARGET} within ${horizonHours} h — trained on simulated data`;
  return {
    calibration: c,
    provenance: {
      model: c ? `${base}+${c.version}` : base,
      target: TARGET,
      horizonHours,
      trainedOn: 'simulated data',
      validatedLocally: c !== null,
      localValidation: c && {
        version: c.version,
        fittedAt: c.fittedAt,
        patients: c.cohort.patients,
        predictionPoints: c.cohort.predictionPoints,
        positives: c.cohort.positives,
        auroc: c.evaluation.metrics.model.auroc,
        calibrationSlopeBefore: c.before.calibrationSlope,
        calibrationSlopeAfter: c.after.calibrationSlope,
      },
      localValidationIgnored: resolved.ignored ?? null,
      summary: c
        ? `${what}; validated and recalibrated at this site (${c.version}, ${c.fittedAt.slice(0, 10)}: ${c.cohort.patients} patients, AUROC ${c.evaluation.metrics.model.auroc.toFixed(2)})`
        : `${what}, not validated at this site`,
    },
  };
}
