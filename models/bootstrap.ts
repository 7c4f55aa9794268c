import { createRandom } from '../simulators/seeded-random.ts';

/**
 * Patient-level bootstrap: each replicate draws patients with replacement (as many as there are)
 * and takes every prediction point of each drawn patient, as often as the patient was drawn. Points
 * of one patient are correlated, so resampling points would give intervals that are too narrow.
 * Seeded: the same points, seed and replicate count give the same intervals.
 */

export type Interval = [number, number];

export interface BootstrapOptions {
  readonly replicates: number;
  readonly seed: number;
  /** Called after each replicate (progress for long runs). */
  readonly onReplicate?: (done: number, total: number) => void;
}

/**
 * Runs `statistics` on `replicates` resamples of the points (given as indices into the caller's
 * arrays) and returns, per statistic name, the 2.5th and 97.5th percentiles of its finite values.
 * A statistic undefined in a replicate (NaN: e.g. AUROC without a positive) is left out of it.
 */
export function patientBootstrap<K extends string>(
  patientOfPoint: readonly string[],
  statistics: (indices: Uint32Array) => Record<K, number>,
  options: BootstrapOptions,
): Record<K, Interval> {
  const groups = new Map<string, number[]>();
  patientOfPoint.forEach((patient, i) => {
    const group = groups.get(patient);
    if (group) group.push(i);
    else groups.set(patient, [i]);
  });
  const patients = [...groups.values()];
  const random = createRandom(options.seed, 'patient-bootstrap');
  const samples = new Map<K, number[]>();
  for (let r = 0; r < options.replicates; r++) {
    const drawn: number[][] = [];
    let size = 0;
    for (let p = 0; p < patients.length; p++) {
      const group = patients[random.int(0, patients.length - 1)]!;
      drawn.push(group);
      size += group.length;
    }
    const indices = new Uint32Array(size);
    let at = 0;
    for (const group of drawn) for (const i of group) indices[at++] = i;
    for (const [name, value] of Object.entries(statistics(indices)) as [K, number][]) {
      if (!Number.isFinite(value)) continue;
      const list = samples.get(name);
      if (list) list.push(value);
      else samples.set(name, [value]);
    }
    options.onReplicate?.(r + 1, options.replicates);
  }
  return Object.fromEntries([...samples].map(([name, values]) => [name, percentileInterval(values)])) as Record<K, Interval>;
}

/** [2.5th, 97.5th] percentile by linear interpolation between order statistics. */
export function percentileInterval(values: readonly number[]): Interval {
  const sorted = [...values].sort((a, b) => a - b);
  return [quantile(sorted, 0.025), quantile(sorted, 0.975)];
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.min(sorted.length - 1, low + 1);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (at - low);
}
