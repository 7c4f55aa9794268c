import type { LatestVitals } from './patient-summary.ts';
import type { News2Level } from './reading.ts';

/**
 * NEWS2, the National Early Warning Score 2 (Royal College of Physicians, 2017), from a patient's
 * latest vitals.
 *
 * Bands are the chart's, written as inclusive upper bounds ("≤ 8 → 3, ≤ 11 → 1, …"), so a value
 * between two chart rows (a pulse of 90.5 from an averaging monitor, 35.05 °C after °F
 * conversion) lands in the higher row, which is the chart's reading at its own precision rounded
 * up: never scored lower than the chart would.
 *
 * Missing vitals are scored as nothing and listed in `missing`: the aggregate is then a lower
 * bound, and callers show it as such. When `onOxygen` is unknown the patient is taken to be on air
 * for the SpO2 scale 2 rule (the chart's default), and `onOxygen` is listed as missing.
 */

export type News2Parameter = 'respiratoryRate' | 'spo2' | 'onOxygen' | 'systolic' | 'heartRate' | 'consciousness' | 'temperatureC';

export const NEWS2_PARAMETERS: readonly News2Parameter[] = ['respiratoryRate', 'spo2', 'onOxygen', 'systolic', 'heartRate', 'consciousness', 'temperatureC'];

export interface News2Result {
  /** Aggregate 0–20 of the parameters present. */
  score: number;
  level: News2Level;
  /** Points per parameter; null when the vital is missing. */
  components: Record<News2Parameter, number | null>;
  /** Parameters that were not scored because no value was known. */
  missing: News2Parameter[];
  spo2Scale: 1 | 2;
}

export type News2Vitals = Pick<LatestVitals, 'respiratoryRate' | 'spo2' | 'onOxygen' | 'systolic' | 'heartRate' | 'consciousness' | 'temperatureC'>;

/** [inclusive upper bound, points]; the last row's bound is Infinity. */
type Bands = readonly (readonly [number, number])[];

export const NEWS2_BANDS = Object.freeze({
  respiratoryRate: [[8, 3], [11, 1], [20, 0], [24, 2], [Infinity, 3]],
  spo2Scale1: [[91, 3], [93, 2], [95, 1], [Infinity, 0]],
  /** Scale 2 (hypercapnic respiratory failure, target 88–92 %) up to 92 %; above, see `spo2Scale2OnOxygen`. */
  spo2Scale2: [[83, 3], [85, 2], [87, 1], [92, 0]],
  /** Scale 2 at ≥ 93 % on oxygen: over-oxygenation scores. On air ≥ 93 % scores 0. */
  spo2Scale2OnOxygen: [[94, 1], [96, 2], [Infinity, 3]],
  systolic: [[90, 3], [100, 2], [110, 1], [219, 0], [Infinity, 3]],
  heartRate: [[40, 3], [50, 1], [90, 0], [110, 1], [130, 2], [Infinity, 3]],
  temperatureC: [[35, 3], [36, 1], [38, 0], [39, 1], [Infinity, 2]],
} satisfies Record<string, Bands>);

/** Points for supplemental oxygen ("air or oxygen" row). */
const OXYGEN_POINTS = 2;
/** New confusion (C), or responding only to Voice, Pain, or Unresponsive. */
const NOT_ALERT_POINTS = 3;

export interface News2Options {
  /** SpO2 scale 2 only for patients a clinician prescribed it for (target 88–92 %). */
  readonly spo2Scale?: 1 | 2;
  /**
   * The patient's confusion is their baseline (recorded by a clinician): the chart scores only
   * *new* confusion, so C then scores 0; V, P and U still score 3.
   */
  readonly baselineConfusion?: boolean;
}

export function news2(vitals: News2Vitals, options: News2Options = {}): News2Result {
  const spo2Scale = options.spo2Scale ?? 1;
  const onOxygen = vitals.onOxygen ?? false;
  const components: Record<News2Parameter, number | null> = {
    respiratoryRate: scoreBand(vitals.respiratoryRate, NEWS2_BANDS.respiratoryRate),
    spo2: vitals.spo2 === null ? null : scoreSpo2(vitals.spo2, spo2Scale, onOxygen),
    onOxygen: vitals.onOxygen === null ? null : vitals.onOxygen ? OXYGEN_POINTS : 0,
    systolic: scoreBand(vitals.systolic, NEWS2_BANDS.systolic),
    heartRate: scoreBand(vitals.heartRate, NEWS2_BANDS.heartRate),
    consciousness: vitals.consciousness === null ? null : scoreConsciousness(vitals.consciousness, options.baselineConfusion ?? false),
    temperatureC: scoreBand(vitals.temperatureC, NEWS2_BANDS.temperatureC),
  };
  const points = NEWS2_PARAMETERS.map((p) => components[p]);
  const score = points.reduce<number>((sum, p) => sum + (p ?? 0), 0);
  return {
    score,
    level: news2Level(score, points.some((p) => p === 3)),
    components,
    missing: NEWS2_PARAMETERS.filter((p) => components[p] === null),
    spo2Scale,
  };
}

/** Clinical risk: high ≥ 7, medium 5–6, low-medium when one parameter scores 3 (aggregate ≤ 4), else low. */
export function news2Level(score: number, anySingleParameterThree: boolean): News2Level {
  if (score >= 7) return 'high';
  if (score >= 5) return 'medium';
  return anySingleParameterThree ? 'low-medium' : 'low';
}

function scoreConsciousness(acvpu: NonNullable<News2Vitals['consciousness']>, baselineConfusion: boolean): number {
  if (acvpu === 'A') return 0;
  return acvpu === 'C' && baselineConfusion ? 0 : NOT_ALERT_POINTS;
}

function scoreSpo2(spo2: number, scale: 1 | 2, onOxygen: boolean): number {
  if (scale === 1) return band(spo2, NEWS2_BANDS.spo2Scale1);
  if (spo2 <= 92) return band(spo2, NEWS2_BANDS.spo2Scale2);
  return onOxygen ? band(spo2, NEWS2_BANDS.spo2Scale2OnOxygen) : 0;
}

function scoreBand(value: number | null, bands: Bands): number | null {
  return value === null ? null : band(value, bands);
}

function band(value: number, bands: Bands): number {
  for (const [upper, points] of bands) if (value <= upper) return points;
  // Only reachable for a table without an Infinity row and a value above it (scale 2 is guarded).
  return bands.at(-1)![1];
}
