import { readFileSync } from 'node:fs';
import path from 'node:path';
import { news2 } from '../core/domain/news2.ts';
import { latestVitals } from '../core/domain/patient-summary.ts';
import type { VitalReading } from '../core/domain/reading.ts';
import { loadOnnxRiskModel } from './risk-model-onnx.ts';
import { FEATURE_COUNT, writeFeatures } from './features.ts';
import { readCohort } from './local-cohort.ts';
import type { CohortReading, CohortStay } from './local-cohort.ts';
import { applyCalibration } from './local-calibration.ts';
import type { CalibrationParameters } from './local-calibration.ts';
import { alertBurden, auroc, averagePrecision, bootstrapIntervals, brier, calibrationFit, earlyStay } from './model-metrics.ts';
import type { AlertBurden, BurdenPoint, Interval } from './model-metrics.ts';
import TRAINING_CONFIG from './training-config.json' with { type: 'json' };

/**
 * The model card's evaluation on a site's own cohort (`vigil model evaluate`): prediction points
 * as the card defines them, scored by the served ONNX model (features.ts, as in serving) and by
 * NEWS2 (with each patient's recorded SpO2 scale and baseline confusion); metrics with 95 %
 * intervals from a seeded patient-level bootstrap, the AUROC difference, alert burden, early-stay
 * sensitivity and subgroups, under the card's key names. models/README.md defines each figure.
 */

const HOUR_MS = 3_600_000;
const WINDOW_MS = 6 * HOUR_MS;
const EARLY_STAY_MS = 24 * HOUR_MS;
/** Used only when the card has no deployedThreshold (the dashboard's default alert threshold). */
export const FALLBACK_THRESHOLD = 0.33;

export const DEFAULT_MODEL_PATH = path.join(import.meta.dirname, 'recovery-risk.onnx');

/** What the evaluation reads from the model card beside the model. */
export interface EvaluationCard {
  readonly name?: string;
  readonly version: number | string;
  readonly horizonHours?: number;
  readonly deployedThreshold?: number;
  /** NEWS2 score → probability (logistic), for NEWS2's Brier and calibration. */
  readonly news2Probability?: { readonly intercept: number; readonly slope: number };
}

export function readCard(modelPath: string): EvaluationCard {
  const file = modelPath.replace(/\.onnx$/, '.card.json');
  return JSON.parse(readFileSync(file, 'utf8')) as EvaluationCard;
}

/** Every prediction point of a cohort, scored. Arrays are indexed by point. */
export interface ScoredCohort {
  readonly model: string;
  readonly stays: readonly CohortStay[];
  readonly stayOf: Uint32Array;
  readonly patientOf: readonly string[];
  readonly at: Float64Array;
  readonly labels: readonly boolean[];
  /** The served model's probability, uncalibrated. */
  readonly probability: Float64Array;
  readonly news2: Float64Array;
  /** Points of expected deaths under palliative care, left out. */
  readonly excludedPoints: number;
}

export interface ScoreOptions {
  readonly modelPath?: string;
  readonly onProgress?: (message: string) => void;
}

/**
 * Prediction points (common definition with training and the card): t = admission + 6 h, then every
 * 4 h while on the ward; the window holds readings arrived by t (received_at ≤ t) with observed_at
 * in (t − 6 h, t], as served; label = the event in (t, t + horizon].
 */
export function* cohortPoints(stays: readonly CohortStay[]): Generator<{ stay: number; at: number; label: boolean; window: CohortReading[] }> {
  const first = TRAINING_CONFIG.predictionTimes.firstAfterHours * HOUR_MS;
  const every = TRAINING_CONFIG.predictionTimes.everyHours * HOUR_MS;
  const horizon = TRAINING_CONFIG.horizonHours * HOUR_MS;
  for (let s = 0; s < stays.length; s++) {
    const stay = stays[s]!;
    if (stay.expectedDeath) continue;
    for (let at = stay.admittedAt + first; at < stay.endsAt; at += every) {
      const window = stay.readings.filter((r) => r.receivedAt <= at && r.observedAt > at - WINDOW_MS && r.observedAt <= at);
      yield { stay: s, at, label: stay.eventAt !== null && stay.eventAt > at && stay.eventAt - at <= horizon, window };
    }
  }
}

export async function scoreCohort(stays: readonly CohortStay[], options: ScoreOptions = {}): Promise<ScoredCohort> {
  const modelPath = options.modelPath ?? DEFAULT_MODEL_PATH;
  const model = await loadOnnxRiskModel({ path: modelPath, topFactors: 0, threads: 1 });
  try {
    const stayOf: number[] = [], at: number[] = [], labels: boolean[] = [], news2Scores: number[] = [];
    const probability: number[] = [];
    const CHUNK = 4096;
    let rows = new Float32Array(CHUNK * FEATURE_COUNT);
    let inChunk = 0;
    const flush = async (): Promise<void> => {
      if (inChunk === 0) return;
      probability.push(...(await model.run(rows, inChunk)));
      rows = new Float32Array(CHUNK * FEATURE_COUNT);
      inChunk = 0;
      options.onProgress?.(`scored ${probability.length} prediction points`);
    };
    for (const point of cohortPoints(stays)) {
      const stay = stays[point.stay]!;
      writeFeatures({
        now: point.at,
        readings: point.window,
        admission: { admittedAt: stay.admittedAt, age: stay.age, admissionType: stay.admissionType },
        spo2Scale: stay.spo2Scale,
        baselineConfusion: stay.baselineConfusion,
      }, rows, inChunk++);
      const latest = latestVitals(point.window as unknown as VitalReading[]);
      news2Scores.push(latest ? news2(latest, { spo2Scale: stay.spo2Scale, baselineConfusion: stay.baselineConfusion }).score : 0);
      stayOf.push(point.stay);
      at.push(point.at);
      labels.push(point.label);
      if (inChunk === CHUNK) await flush();
    }
    await flush();
    const excludedPoints = [...cohortPoints(stays.filter((s) => s.expectedDeath).map((s) => ({ ...s, expectedDeath: false })))].length;
    return {
      model: model.name,
      stays,
      stayOf: Uint32Array.from(stayOf),
      patientOf: stayOf.map((s) => stays[s]!.patientId),
      at: Float64Array.from(at),
      labels,
      probability: Float64Array.from(probability),
      news2: Float64Array.from(news2Scores),
      excludedPoints,
    };
  } finally {
    await model.close();
  }
}

export interface EvaluateOptions {
  readonly card: EvaluationCard;
  /** Applied to the model's probabilities before every figure (a local recalibration). */
  readonly calibration?: (CalibrationParameters & { readonly version: string }) | null;
  /** Bootstrap replicates (default 200) and seed (default 20261204). */
  readonly replicates?: number;
  readonly seed?: number;
  readonly onProgress?: (message: string) => void;
}

type Metric = 'auroc' | 'auprc' | 'brier' | 'calibrationSlope' | 'calibrationIntercept';
type MetricSet = Record<Metric, number | null> & { ci95: Partial<Record<Metric, Interval>> };

export interface CohortEvaluation {
  model: { name: string; calibration: string | null };
  deployedThreshold: number;
  notes: string[];
  testSet: { patients: number; positives: number; admissions: number; predictionPoints: number; positivePredictionPoints: number; excludedExpectedDeathPoints: number };
  metrics: { model: MetricSet; news2: MetricSet; difference: { auroc: number; ci95: { auroc: Interval | null } } };
  calibrationCurve: { predicted: number; observed: number; n: number }[];
  alertBurden: AlertBurden[];
  earlyStay: Record<string, { sensitivity: number | null; alertsPer100PatientDays: number }>;
  subgroups: { name: string; n: number; positives: number; patients: number; model: { auroc: number | null }; news2: { auroc: number | null } }[];
  bootstrap: { replicates: number; seed: number; unit: 'patient' };
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

export function evaluateScored(scored: ScoredCohort, options: EvaluateOptions): CohortEvaluation {
  const notes: string[] = [];
  const threshold = options.card.deployedThreshold ?? FALLBACK_THRESHOLD;
  if (options.card.deployedThreshold === undefined) notes.push(`the model card has no deployedThreshold: the model's alert rule uses ${FALLBACK_THRESHOLD}`);
  const calibration = options.calibration ?? null;
  const model = calibration ? scored.probability.map((p) => applyCalibration(p, calibration)) : scored.probability;
  const mapping = options.card.news2Probability;
  if (!mapping) notes.push('the model card has no news2Probability: NEWS2 Brier and calibration are not computed');
  const news2Probability = mapping ? scored.news2.map((s) => sigmoid(mapping.intercept + mapping.slope * s)) : null;
  const { labels } = scored;
  const all = Uint32Array.from(labels.keys());

  const metricsOf = (scores: ArrayLike<number>, probabilities: ArrayLike<number> | null, indices: Uint32Array): Record<Metric, number> => {
    const y = Array.from(indices, (i) => labels[i]!);
    const s = Array.from(indices, (i) => scores[i]!);
    const base = { auroc: auroc(s, y), auprc: averagePrecision(s, y) };
    if (!probabilities) return { ...base, brier: NaN, calibrationSlope: NaN, calibrationIntercept: NaN };
    const p = probabilities === scores ? s : Array.from(indices, (i) => probabilities[i]!);
    const fit = calibrationFit(p, y);
    return { ...base, brier: brier(p, y), calibrationSlope: fit.slope, calibrationIntercept: fit.intercept };
  };
  const pointModel = metricsOf(model, model, all);
  const pointNews2 = metricsOf(scored.news2, news2Probability, all);

  const replicates = options.replicates ?? 200;
  const seed = options.seed ?? 20261204;
  // The card's bootstrap (model-metrics.ts, as evaluation.py): patients resampled, their points together.
  let intervals: Partial<Record<string, Interval>> = {};
  if (replicates > 0) {
    options.onProgress?.(`bootstrap: ${replicates} patient-level replicates`);
    const news2Scored = news2Probability ? { probabilities: news2Probability, rankScores: scored.news2 } : { probabilities: scored.news2 };
    const result = bootstrapIntervals(labels, scored.patientOf, [{ probabilities: model }, news2Scored], { resamples: replicates, seed });
    const [modelIntervals, news2Intervals] = result.intervals;
    const prefixed = (prefix: string, values: Record<string, Interval>) => Object.fromEntries(Object.entries(values).map(([k, v]) => [`${prefix}.${k}`, v]));
    intervals = { ...prefixed('model', modelIntervals!), ...prefixed('news2', news2Intervals!), difference: result.aurocDifference };
    options.onProgress?.(`bootstrap: ${replicates}/${replicates} replicates`);
  }
  const withIntervals = (prefix: string, values: Record<Metric, number>): MetricSet => {
    const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);
    const ci95: Partial<Record<Metric, Interval>> = {};
    for (const key of Object.keys(values) as Metric[]) {
      const interval = intervals[`${prefix}.${key}`];
      if (interval && Number.isFinite(values[key]) && interval.every(Number.isFinite)) ci95[key] = interval;
    }
    return {
      auroc: finite(values.auroc), auprc: finite(values.auprc), brier: finite(values.brier),
      calibrationSlope: finite(values.calibrationSlope), calibrationIntercept: finite(values.calibrationIntercept), ci95,
    };
  };

  const rules = { model: threshold, 'news2>=5': 5, 'news2>=7': 7 } as const;
  const scoresOf = (rule: keyof typeof rules): ArrayLike<number> => (rule === 'model' ? model : scored.news2);
  // The card's own alert definitions (model-metrics.ts, as models/evaluation.py computes them).
  const burdenPoints: BurdenPoint[] = Array.from(scored.labels, (label, i) => ({ patientId: scored.patientOf[i]!, now: scored.at[i]!, label, stay: scored.stays[scored.stayOf[i]!]! }));
  const days = patientDays(scored.stays), earlyDays = patientDays(scored.stays, EARLY_STAY_MS);
  const patients = new Set(scored.patientOf);
  const positivePatients = new Set(scored.patientOf.filter((_, i) => labels[i]));
  const stayCount = new Set(scored.stayOf).size;

  return {
    model: { name: calibration ? `${scored.model}+${calibration.version}` : scored.model, calibration: calibration?.version ?? null },
    deployedThreshold: threshold,
    notes,
    testSet: {
      patients: patients.size, positives: positivePatients.size, admissions: stayCount,
      predictionPoints: labels.length, positivePredictionPoints: labels.filter(Boolean).length, excludedExpectedDeathPoints: scored.excludedPoints,
    },
    metrics: {
      model: withIntervals('model', pointModel),
      news2: withIntervals('news2', pointNews2),
      difference: { auroc: pointModel.auroc - pointNews2.auroc, ci95: { auroc: intervals.difference?.every(Number.isFinite) ? intervals.difference : null } },
    },
    calibrationCurve: calibrationCurve(model, labels),
    alertBurden: (Object.keys(rules) as (keyof typeof rules)[]).map((rule) => alertBurden(rule, scoresOf(rule), rules[rule], burdenPoints, days)),
    earlyStay: Object.fromEntries((['model', 'news2>=5'] as const).map((rule) => {
      const { sensitivity, alertsPer100PatientDays } = earlyStay(scoresOf(rule), rules[rule], burdenPoints, earlyDays, EARLY_STAY_MS / HOUR_MS);
      return [rule, { sensitivity, alertsPer100PatientDays }];
    })),
    subgroups: subgroups(scored, model),
    bootstrap: { replicates, seed, unit: 'patient' },
  };
}

/** Ten bins of equal size by predicted probability: mean predicted vs observed rate. */
function calibrationCurve(p: ArrayLike<number>, labels: readonly boolean[]): CohortEvaluation['calibrationCurve'] {
  const order = Array.from(labels.keys()).sort((a, b) => p[a]! - p[b]!);
  const bins = Math.min(10, order.length);
  return Array.from({ length: bins }, (_, b) => {
    const slice = order.slice(Math.floor((b * order.length) / bins), Math.floor(((b + 1) * order.length) / bins));
    return {
      predicted: slice.reduce((sum, i) => sum + p[i]!, 0) / slice.length,
      observed: slice.filter((i) => labels[i]).length / slice.length,
      n: slice.length,
    };
  });
}

const DAY_MS = 24 * HOUR_MS;

/** Ward days of the evaluated stays (expected deaths left out); with `firstMs`, only each stay's first hours. */
function patientDays(stays: readonly CohortStay[], firstMs?: number): number {
  let total = 0;
  for (const stay of stays) {
    if (stay.expectedDeath) continue;
    const length = stay.endsAt - stay.admittedAt;
    total += firstMs === undefined ? length : Math.min(length, firstMs);
  }
  return total / DAY_MS;
}

const SUBGROUPS: readonly (readonly [string, (stay: CohortStay, at: number) => boolean])[] = [
  ['age 18-64', (s) => s.age < 65],
  ['age 65-79', (s) => s.age >= 65 && s.age < 80],
  ['age 80+', (s) => s.age >= 80],
  ['admission EMERGENCY', (s) => s.admissionType === 'EMERGENCY'],
  ['admission URGENT', (s) => s.admissionType === 'URGENT'],
  ['admission ELECTIVE', (s) => s.admissionType === 'ELECTIVE'],
  ['spo2 scale 2', (s) => s.spo2Scale === 2],
  ['baseline confusion', (s) => s.baselineConfusion],
  ['first 24h of stay', (s, at) => at - s.admittedAt <= EARLY_STAY_MS],
  ['continuous observation', (s) => s.observationMode === 'continuous'],
  ['intermittent observation', (s) => s.observationMode === 'intermittent'],
];

/** n and positives count prediction points; AUROC is null when a subgroup lacks either outcome. */
function subgroups(scored: ScoredCohort, model: ArrayLike<number>): CohortEvaluation['subgroups'] {
  return SUBGROUPS.map(([name, member]) => {
    const indices = Array.from(scored.labels.keys()).filter((i) => member(scored.stays[scored.stayOf[i]!]!, scored.at[i]!));
    const y = indices.map((i) => scored.labels[i]!);
    const positives = y.filter(Boolean).length;
    const defined = positives > 0 && positives < y.length;
    return {
      name, n: indices.length, positives, patients: new Set(indices.map((i) => scored.patientOf[i])).size,
      model: { auroc: defined ? auroc(indices.map((i) => model[i]!), y) : null },
      news2: { auroc: defined ? auroc(indices.map((i) => scored.news2[i]!), y) : null },
    };
  });
}

export interface EvaluateCohortOptions {
  readonly cohortDir: string;
  readonly modelPath?: string;
  /** A local calibration (`vigil model recalibrate`'s file, already read) to apply first. */
  readonly calibration?: (CalibrationParameters & { readonly version: string }) | null;
  readonly replicates?: number;
  readonly seed?: number;
  readonly onProgress?: (message: string) => void;
}

/** `vigil model evaluate`: read the cohort, score it, evaluate. */
export async function evaluateCohort(options: EvaluateCohortOptions): Promise<CohortEvaluation> {
  const modelPath = options.modelPath ?? DEFAULT_MODEL_PATH;
  const card = readCard(modelPath);
  const progress = options.onProgress ? { onProgress: options.onProgress } : {};
  const scored = await scoreCohort(await readCohort(options.cohortDir, options.onProgress), { modelPath, ...progress });
  return evaluateScored(scored, {
    card, calibration: options.calibration ?? null, ...progress,
    ...(options.replicates === undefined ? {} : { replicates: options.replicates }),
    ...(options.seed === undefined ? {} : { seed: options.seed }),
  });
}
