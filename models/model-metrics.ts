import { auroc } from '../simulators/news2-reference.ts';

/**
 * The model card's metrics in TypeScript, so the card test re-checks the committed model without
 * the Python stack. Definitions match metrics.py (scikit-learn's): AUROC by ranks with ties
 * counted half; AUPRC as average precision, Σ (Rₙ − Rₙ₋₁)·Pₙ over distinct thresholds; Brier as
 * mean squared error; calibration slope and intercept from the logistic fit y ~ a + b·logit(p).
 */

export { auroc };

export interface ProbabilityMetrics {
  auroc: number;
  auprc: number;
  brier: number;
  calibrationSlope: number;
  calibrationIntercept: number;
}

export function probabilityMetrics(scores: ArrayLike<number>, labels: readonly boolean[]): ProbabilityMetrics {
  const p = Array.from(scores);
  const { intercept, slope } = calibrationFit(p, labels);
  return { auroc: auroc(p, labels), auprc: averagePrecision(p, labels), brier: brier(p, labels), calibrationSlope: slope, calibrationIntercept: intercept };
}

export function averagePrecision(scores: readonly number[], labels: readonly boolean[]): number {
  const order = scores.map((score, i) => ({ score, positive: labels[i]! })).sort((a, b) => b.score - a.score);
  const positives = order.filter((o) => o.positive).length;
  let truePositives = 0, previousRecall = 0, sum = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j < order.length && order[j]!.score === order[i]!.score) {
      if (order[j]!.positive) truePositives++;
      j++;
    }
    const recall = truePositives / positives;
    sum += (recall - previousRecall) * (truePositives / j);
    previousRecall = recall;
    i = j;
  }
  return sum;
}

export function brier(scores: readonly number[], labels: readonly boolean[]): number {
  return scores.reduce((sum, p, i) => sum + (p - (labels[i] ? 1 : 0)) ** 2, 0) / scores.length;
}

/** Newton's method on the two-parameter logistic recalibration. */
export function calibrationFit(scores: readonly number[], labels: readonly boolean[]): { intercept: number; slope: number } {
  const eps = 1e-12;
  const x = scores.map((p) => {
    const q = Math.min(1 - eps, Math.max(eps, p));
    return Math.log(q / (1 - q));
  });
  let a = 0, b = 0;
  for (let iteration = 0; iteration < 50; iteration++) {
    let ga = 0, gb = 0, haa = 0, hab = 0, hbb = 0;
    x.forEach((xi, i) => {
      const mu = 1 / (1 + Math.exp(-(a + b * xi)));
      const r = (labels[i] ? 1 : 0) - mu;
      const w = mu * (1 - mu);
      ga += r;
      gb += r * xi;
      haa += w;
      hab += w * xi;
      hbb += w * xi * xi;
    });
    const det = haa * hbb - hab * hab;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    a += da;
    b += db;
    if (Math.max(Math.abs(da), Math.abs(db)) < 1e-12) break;
  }
  return { intercept: a, slope: b };
}

/** One alert rule's burden on a cohort (card `alertBurden[]`); models/README.md defines each figure. */
export interface AlertBurden {
  readonly rule: string;
  readonly threshold: number;
  readonly alerts: number;
  readonly patientDays: number;
  readonly alertsPer100PatientDays: number;
  readonly eventPatients: number;
  readonly sensitivity: number | null;
  readonly medianLeadHours: number | null;
}

/** What alert burden needs of a prediction point (prediction-points.ts PredictionPoint has it). */
export interface BurdenPoint {
  readonly patientId: string;
  readonly now: number;
  readonly label: boolean;
  readonly stay: { readonly admittedAt: number; readonly eventAt: number | null };
}

const HOUR_MS = 3_600_000;

/**
 * An alert is a prediction point whose score is at or above the threshold. Per 100 patient-days
 * of ward time (`patientDays`, prediction-points.ts); sensitivity = share of event patients (with a
 * positive point, i.e. one in the 24 h before the event) alerted at a positive point; lead = event
 * time minus that patient's first such alert, median over alerted event patients. As
 * evaluation.py alert_burden computes it.
 */
export function alertBurden(rule: string, scores: ArrayLike<number>, threshold: number, points: readonly BurdenPoint[], patientDays: number): AlertBurden {
  let alerts = 0;
  const eventPatients = new Set<string>();
  const leads = new Map<string, number>();
  points.forEach((point, i) => {
    const alerted = scores[i]! >= threshold;
    if (alerted) alerts++;
    if (!point.label) return;
    eventPatients.add(point.patientId);
    if (alerted && !leads.has(point.patientId)) leads.set(point.patientId, (point.stay.eventAt! - point.now) / HOUR_MS);
  });
  return {
    rule, threshold, alerts, patientDays,
    alertsPer100PatientDays: (alerts / patientDays) * 100,
    eventPatients: eventPatients.size,
    sensitivity: eventPatients.size ? leads.size / eventPatients.size : null,
    medianLeadHours: leads.size ? median([...leads.values()]) : null,
  };
}

/**
 * Early in the stay (card `earlyStay`): of the positive points in the first `hours` after
 * admission, the share at or above the threshold; and the alerts among all points of those first
 * hours per 100 patient-days of first-hours ward time (`patientDays(stays, hours)`).
 */
export function earlyStay(scores: ArrayLike<number>, threshold: number, points: readonly BurdenPoint[], earlyPatientDays: number, hours = 24): { positivePoints: number; sensitivity: number | null; alertsPer100PatientDays: number } {
  let positives = 0, caught = 0, alerts = 0;
  points.forEach((point, i) => {
    if (point.now - point.stay.admittedAt > hours * HOUR_MS) return;
    const alerted = scores[i]! >= threshold;
    if (alerted) alerts++;
    if (point.label) {
      positives++;
      if (alerted) caught++;
    }
  });
  return { positivePoints: positives, sensitivity: positives ? caught / positives : null, alertsPer100PatientDays: (alerts / earlyPatientDays) * 100 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
