import { createRandom } from '../core/seeded-random.ts';

/**
 * The model card's metrics in TypeScript, so the card test re-checks the committed model without
 * the Python stack. Definitions match metrics.py (scikit-learn's): AUROC by ranks with ties
 * counted half; AUPRC as average precision, Σ (Rₙ − Rₙ₋₁)·Pₙ over distinct thresholds; Brier as
 * mean squared error; calibration slope and intercept from the logistic fit y ~ a + b·logit(p).
 */

/** Area under the ROC curve by the rank (Mann–Whitney) formula, ties counted half. */
export function auroc(scores: readonly number[], labels: readonly boolean[]): number {
  const order = scores.map((score, i) => ({ score, positive: labels[i]! })).sort((a, b) => a.score - b.score);
  let rankSumPositive = 0;
  let positives = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j < order.length && order[j]!.score === order[i]!.score) j++;
    const averageRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (order[k]!.positive) { rankSumPositive += averageRank; positives++; }
    i = j;
  }
  const negatives = order.length - positives;
  return (rankSumPositive - (positives * (positives + 1)) / 2) / (positives * negatives);
}

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

export type Interval = [number, number];
export type MetricIntervals = Record<keyof ProbabilityMetrics, Interval>;

/** One score vector ranked once, so each resample's weighted AUROC and AUPRC are O(n) sums over tie groups. */
function ranked(scores: ArrayLike<number>, labels: readonly boolean[]) {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  const group = new Int32Array(order.length);
  let groups = 0;
  order.forEach((index, k) => {
    if (k > 0 && scores[index] !== scores[order[k - 1]!]) groups++;
    group[k] = groups;
  });
  groups++;
  const pos = new Float64Array(groups), neg = new Float64Array(groups);
  return (weights: Float64Array): { auroc: number; auprc: number } => {
    pos.fill(0);
    neg.fill(0);
    order.forEach((index, k) => {
      if (labels[index]) pos[group[k]!]! += weights[index]!;
      else neg[group[k]!]! += weights[index]!;
    });
    let below = 0, area = 0, totalPos = 0, totalNeg = 0;
    for (let g = 0; g < groups; g++) {
      area += pos[g]! * (below + 0.5 * neg[g]!);
      below += neg[g]!;
      totalPos += pos[g]!;
      totalNeg += neg[g]!;
    }
    let tp = 0, all = 0, previousRecall = 0, ap = 0;
    for (let g = groups - 1; g >= 0; g--) {
      tp += pos[g]!;
      all += pos[g]! + neg[g]!;
      const recall = tp / totalPos;
      if (all > 0) ap += (recall - previousRecall) * (tp / all);
      previousRecall = recall;
    }
    return { auroc: area / (totalPos * totalNeg), auprc: ap };
  };
}

function weightedCalibration(logits: Float64Array, labels: readonly boolean[], weights: Float64Array, start: { intercept: number; slope: number }): { intercept: number; slope: number } {
  let a = start.intercept, b = start.slope;
  for (let iteration = 0; iteration < 6; iteration++) {
    let ga = 0, gb = 0, haa = 0, hab = 0, hbb = 0;
    for (let i = 0; i < logits.length; i++) {
      const w = weights[i]!;
      if (w === 0) continue;
      const x = logits[i]!;
      const mu = 1 / (1 + Math.exp(-(a + b * x)));
      const r = w * ((labels[i] ? 1 : 0) - mu);
      const h = w * mu * (1 - mu);
      ga += r; gb += r * x; haa += h; hab += h * x; hbb += h * x * x;
    }
    const det = haa * hbb - hab * hab;
    a += (hbb * ga - hab * gb) / det;
    b += (haa * gb - hab * ga) / det;
  }
  return { intercept: a, slope: b };
}

/**
 * 95 % percentile intervals from a patient-level bootstrap (evaluation.py bootstrap_intervals):
 * patients resampled with replacement, all of a patient's points moving together. AUROC and AUPRC
 * rank by `rankScores` (NEWS2's raw score), Brier and calibration use `probabilities`. Also the
 * interval of the AUROC difference first minus second. Seeded; the resamples differ from
 * Python's (another generator), so the bounds agree only within sampling noise.
 */
export function bootstrapIntervals(
  labels: readonly boolean[],
  patients: readonly string[],
  scored: readonly { probabilities: ArrayLike<number>; rankScores?: ArrayLike<number> }[],
  options: { resamples?: number; seed?: number } = {},
): { intervals: MetricIntervals[]; aurocDifference: Interval } {
  const resamples = options.resamples ?? 1000;
  const random = createRandom(options.seed ?? 11, 'bootstrap');
  const ids = new Map<string, number>();
  const patientOf = Int32Array.from(patients, (id) => {
    if (!ids.has(id)) ids.set(id, ids.size);
    return ids.get(id)!;
  });
  const prepared = scored.map(({ probabilities, rankScores }) => {
    const fit = calibrationFit(Array.from(probabilities), labels);
    const logits = Float64Array.from(probabilities, (p) => {
      const q = Math.min(1 - 1e-12, Math.max(1e-12, p));
      return Math.log(q / (1 - q));
    });
    return { probabilities, rank: ranked(rankScores ?? probabilities, labels), logits, fit };
  });
  const draws = scored.map(() => ({ auroc: [] as number[], auprc: [] as number[], brier: [] as number[], calibrationSlope: [] as number[], calibrationIntercept: [] as number[] }));
  const differences: number[] = [];
  const counts = new Float64Array(ids.size);
  const weights = new Float64Array(labels.length);
  for (let r = 0; r < resamples; r++) {
    counts.fill(0);
    for (let k = 0; k < ids.size; k++) counts[random.int(0, ids.size - 1)]!++;
    let total = 0;
    for (let i = 0; i < weights.length; i++) total += (weights[i] = counts[patientOf[i]!]!);
    prepared.forEach(({ probabilities, rank, logits, fit }, m) => {
      const { auroc: area, auprc } = rank(weights);
      let squared = 0;
      for (let i = 0; i < weights.length; i++) squared += weights[i]! * (probabilities[i]! - (labels[i] ? 1 : 0)) ** 2;
      const calibration = weightedCalibration(logits, labels, weights, fit);
      const d = draws[m]!;
      d.auroc.push(area);
      d.auprc.push(auprc);
      d.brier.push(squared / total);
      d.calibrationSlope.push(calibration.slope);
      d.calibrationIntercept.push(calibration.intercept);
    });
    if (draws.length > 1) differences.push(draws[0]!.auroc.at(-1)! - draws[1]!.auroc.at(-1)!);
  }
  const interval = (values: number[]): Interval => [percentile(values, 2.5), percentile(values, 97.5)];
  return {
    intervals: draws.map((d) => Object.fromEntries(Object.entries(d).map(([key, values]) => [key, interval(values)])) as MetricIntervals),
    aurocDifference: differences.length ? interval(differences) : [Number.NaN, Number.NaN],
  };
}

/** Linear-interpolated percentile, as numpy's default. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = (p / 100) * (sorted.length - 1);
  const low = Math.floor(position);
  const high = Math.min(sorted.length - 1, low + 1);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
}
