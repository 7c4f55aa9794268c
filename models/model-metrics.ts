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
