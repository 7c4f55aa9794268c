import { existsSync, readFileSync } from 'node:fs';
import { VigilError } from '../core/errors.ts';
import { calibrationFit } from './model-metrics.ts';

/**
 * A site's logistic recalibration of the served model: p' = σ(a + b·logit(p)), fitted on the
 * site's own outcomes (`vigil model recalibrate`). Monotone, so it changes no ranking (AUROC,
 * AUPRC, the order of patients on the ward) but moves probabilities, alert decisions at a fixed
 * threshold and the calibration to the site's event rate.
 *
 * The file is JSON (`format: "vigil-local-calibration"`); models/README.md documents its fields.
 * The server loads it from VIGIL_RISK_CALIBRATION or `<VIGIL_DATA_DIR>/local-calibration.json`.
 */

export const CALIBRATION_FORMAT = 'vigil-local-calibration';

export interface CalibrationParameters {
  /** Intercept on the log-odds scale. */
  readonly a: number;
  /** Slope on logit(p). */
  readonly b: number;
}

export interface LocalCalibration extends CalibrationParameters {
  readonly format: typeof CALIBRATION_FORMAT;
  /** `local-<n>`, one more than the file it replaced; the served model name carries it. */
  readonly version: string;
  /** The served model it was fitted for (e.g. `recovery-risk@1`); another model ignores it. */
  readonly model: string;
  /** ISO instant. */
  readonly fittedAt: string;
  readonly cohort: {
    readonly dir: string;
    readonly admissions: number;
    readonly patients: number;
    /** Patients with an event in the horizon of at least one prediction point. */
    readonly positives: number;
    readonly predictionPoints: number;
    /** Positive prediction points. */
    readonly events: number;
  };
  /** Calibration of the served model on this cohort before and after (in-sample). */
  readonly before: { readonly calibrationSlope: number; readonly calibrationIntercept: number };
  readonly after: { readonly calibrationSlope: number; readonly calibrationIntercept: number };
  /** `vigil model evaluate`'s report on this cohort, with the recalibration applied. */
  readonly evaluation: { readonly metrics: { readonly model: { readonly auroc: number } } } & Record<string, unknown>;
}

const EPS = 1e-12;

export function logit(p: number): number {
  const q = Math.min(1 - EPS, Math.max(EPS, p));
  return Math.log(q / (1 - q));
}

export function applyCalibration(p: number, { a, b }: CalibrationParameters): number {
  return 1 / (1 + Math.exp(-(a + b * logit(p))));
}

/** Newton's method on y ~ σ(a + b·logit(p)) (model-metrics' calibrationFit): deterministic. */
export function fitRecalibration(probabilities: ArrayLike<number>, labels: readonly boolean[]): CalibrationParameters {
  const positives = labels.filter(Boolean).length;
  if (positives === 0 || positives === labels.length) {
    throw new Error(`cannot fit a recalibration on ${labels.length} prediction points with ${positives} positive: needs both outcomes`);
  }
  const { intercept, slope } = calibrationFit(Array.from(probabilities), labels);
  if (!Number.isFinite(intercept) || !Number.isFinite(slope)) throw new Error('the recalibration fit did not converge (outcomes perfectly separated?)');
  return { a: intercept, b: slope };
}

/** The version after `previous` (`local-1` when there is none or it is not `local-<n>`). */
export function nextCalibrationVersion(previous: string | undefined): string {
  const n = previous === undefined ? 0 : Number(/^local-(\d+)$/.exec(previous)?.[1] ?? 0);
  return `local-${n + 1}`;
}

/** Reads and checks a calibration file; throws an Error naming the file and the reason. */
export function readLocalCalibration(file: string): LocalCalibration {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`local calibration ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not JSON (${(error as Error).message})`}`, { cause: error });
  }
  const c = parsed as Partial<LocalCalibration>;
  const problems = [
    c.format !== CALIBRATION_FORMAT && `format is not "${CALIBRATION_FORMAT}"`,
    typeof c.version !== 'string' && 'no version',
    typeof c.model !== 'string' && 'no model',
    !(typeof c.a === 'number' && Number.isFinite(c.a)) && 'a is not a number',
    !(typeof c.b === 'number' && Number.isFinite(c.b) && c.b > 0) && 'b is not a positive number',
    typeof c.fittedAt !== 'string' && 'no fittedAt',
    typeof c.cohort?.predictionPoints !== 'number' && 'no cohort size',
  ].filter(Boolean);
  if (problems.length > 0) throw new Error(`local calibration ${file}: ${problems.join('; ')}`);
  return c as LocalCalibration;
}

export interface CalibrationSetting {
  /** The file (VIGIL_RISK_CALIBRATION, else `<VIGIL_DATA_DIR>/local-calibration.json`). */
  readonly path: string;
  /** Named explicitly: it must exist and fit the model, or the server refuses to start. */
  readonly explicit: boolean;
}

export type ResolvedCalibration =
  | { readonly calibration: LocalCalibration; readonly ignored?: undefined }
  | { readonly calibration: null; readonly ignored?: string };

/**
 * The local calibration the server applies to `model` (its uncalibrated name, e.g. recovery-risk@1).
 * None at the default place: none applied. One fitted for another model is never applied (its
 * numbers describe a different model): refused when named explicitly, else ignored with a reason.
 */
export function resolveLocalCalibration(setting: CalibrationSetting, model: string): ResolvedCalibration {
  if (!setting.explicit && !existsSync(setting.path)) return { calibration: null };
  let calibration: LocalCalibration;
  try {
    calibration = readLocalCalibration(setting.path);
  } catch (error) {
    throw new VigilError('CONFIG_INVALID', `${(error as Error).message}${setting.explicit ? ' (VIGIL_RISK_CALIBRATION)' : ''}`, { cause: error });
  }
  if (calibration.model === model) return { calibration };
  const reason = `local calibration ${setting.path} (${calibration.version}) was fitted for ${calibration.model}, not the served ${model}: run vigil model recalibrate again`;
  if (setting.explicit) throw new VigilError('CONFIG_INVALID', reason);
  return { calibration: null, ignored: reason };
}
