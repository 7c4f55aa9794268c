import { news2 } from '../core/domain/news2.ts';
import { latestVitals } from '../core/domain/patient-summary.ts';
import type { VitalReading } from '../core/domain/reading.ts';
import FEATURE_SPEC from './features.json' with { type: 'json' };

/**
 * The recovery-risk model's features, computed for serving. `features.json` declares the list and
 * its order; `features.py` computes the same list for training, operation for operation, so the
 * float64 values are bit-identical before both round to float32 (the parity test checks this).
 * Change one, change the other.
 */

const HOUR_MS = 3_600_000;

export type FeatureSpec = typeof FEATURE_SPEC;
export { FEATURE_SPEC };
export const FEATURE_NAMES: readonly string[] = FEATURE_SPEC.features;
export const FEATURE_COUNT = FEATURE_NAMES.length;

/** Who the patient is, when the caller knows: the admission's start, age and type. */
export interface AdmissionContext {
  /** Epoch ms. */
  readonly admittedAt?: number | null;
  readonly age?: number | null;
  /** EMERGENCY, URGENT or ELECTIVE (anything else counts as unknown). */
  readonly admissionType?: string | null;
}

/**
 * Age in completed years at `at` (epoch ms or ISO instant), from a `YYYY-MM-DD` date of birth:
 * how training derives `age` from the cohort's CSVs and serving from the warehouse rows.
 */
export function completedYears(dateOfBirth: string, at: number | string): number {
  const [by, bm, bd] = dateOfBirth.split('-').map(Number) as [number, number, number];
  const when = new Date(at);
  const [y, m, d] = [when.getUTCFullYear(), when.getUTCMonth() + 1, when.getUTCDate()];
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
}

export type FeatureReading = Pick<VitalReading, 'readingId' | 'observedAt' | 'heartRate' | 'systolic' | 'diastolic' | 'temperatureC' | 'spo2' | 'respiratoryRate' | 'onOxygen' | 'consciousness'>;

export interface FeatureInput {
  /** Epoch ms the features are "as of"; readings after it are ignored. */
  readonly now: number;
  /** Any order; only those in (now − 6 h, now] count. */
  readonly readings: readonly FeatureReading[];
  readonly admission?: AdmissionContext;
  readonly spo2Scale?: 1 | 2;
}

type NumericVital = 'heartRate' | 'respiratoryRate' | 'systolic' | 'diastolic' | 'temperatureC' | 'spo2';
const VITALS = FEATURE_SPEC.vitals as NumericVital[];
const REFERENCE = FEATURE_SPEC.reference;
const LONG_WINDOW_HOURS = FEATURE_SPEC.windowHours['6h'];
const SEVERITY_TERMS = Object.entries(FEATURE_SPEC.severityIndex.terms) as [NumericVital, { reference: number; scale: number; sign: number }][];

/** The reading's severity index (features.json `severityIndex`), null when none of its vitals was measured. */
export function severityIndex(reading: FeatureReading): number | null {
  let sum = 0, count = 0;
  for (const [vital, { reference, scale, sign }] of SEVERITY_TERMS) {
    const value = reading[vital];
    if (value === null) continue;
    sum += sign * (value - reference) / scale;
    count++;
  }
  return count === 0 ? null : sum / count;
}

/** Feature name → value, for the declared list. */
export function featureValues(input: FeatureInput): Map<string, number> {
  const { now } = input;
  const longWindow = input.readings
    .filter((r) => r.observedAt > now - LONG_WINDOW_HOURS * HOUR_MS && r.observedAt <= now)
    .sort((a, b) => a.observedAt - b.observedAt || (a.readingId < b.readingId ? -1 : a.readingId > b.readingId ? 1 : 0));
  const values = new Map<string, number>();

  const severities = longWindow.map(severityIndex);
  const series: [string, (r: FeatureReading, i: number) => number | null][] = [
    ...VITALS.map((vital): [string, (r: FeatureReading) => number | null] => [vital, (r) => r[vital]]),
    ['severityIndex', (_, i) => severities[i]!],
  ];
  for (const [name, valueOf] of series) {
    const reference = REFERENCE[name as keyof typeof REFERENCE];
    const present = longWindow.flatMap((r, i) => {
      const value = valueOf(r, i);
      return value === null ? [] : [{ at: r.observedAt, value }];
    });
    for (const [label, hours] of Object.entries(FEATURE_SPEC.windowHours)) {
      const points = present.filter((p) => p.at > now - hours * HOUR_MS);
      const stats = windowStats(points.map((p) => (p.at - now) / HOUR_MS), points.map((p) => p.value), reference);
      for (const [stat, value] of Object.entries(stats)) values.set(`${name}.${label}.${stat}`, value);
    }
    const last = present.at(-1);
    values.set(`${name}.hoursSinceLast`, last ? (now - last.at) / HOUR_MS : LONG_WINDOW_HOURS);
  }

  values.set('readings.6h.count', longWindow.length);
  const oxygen = longWindow.filter((r) => r.onOxygen !== null);
  values.set('onOxygen.last', oxygen.at(-1)?.onOxygen ? 1 : 0);
  values.set('onOxygen.6h.fraction', oxygen.length === 0 ? 0 : oxygen.filter((r) => r.onOxygen).length / oxygen.length);
  const consciousness = longWindow.filter((r) => r.consciousness !== null);
  const lastConsciousness = consciousness.at(-1)?.consciousness;
  values.set('consciousness.last.notAlert', lastConsciousness !== undefined && lastConsciousness !== 'A' ? 1 : 0);
  values.set('consciousness.6h.anyNotAlert', consciousness.some((r) => r.consciousness !== 'A') ? 1 : 0);

  const latest = latestVitals(longWindow as VitalReading[]);
  const early = latest ? news2(latest, { spo2Scale: input.spo2Scale ?? 1 }) : null;
  values.set('news2.score', early ? early.score : 0);
  for (const parameter of FEATURE_SPEC.news2Parameters) {
    values.set(`news2.${parameter}`, early?.components[parameter as keyof typeof early.components] ?? 0);
  }

  const { age, admissionType, admittedAt } = input.admission ?? {};
  const knownAge = typeof age === 'number' && Number.isFinite(age);
  values.set('age', knownAge ? age : REFERENCE.age);
  values.set('age.missing', knownAge ? 0 : 1);
  for (const type of FEATURE_SPEC.admissionTypes) values.set(`admissionType.${type}`, admissionType === type ? 1 : 0);
  const knownAdmittedAt = typeof admittedAt === 'number' && Number.isFinite(admittedAt);
  values.set('hoursSinceAdmission', knownAdmittedAt ? (now - admittedAt) / HOUR_MS : REFERENCE.hoursSinceAdmission);
  values.set('hoursSinceAdmission.missing', knownAdmittedAt ? 0 : 1);
  return values;
}

/** The model's input row: the declared features in order, as float32. */
export function computeFeatures(input: FeatureInput): Float32Array {
  return writeFeatures(input, new Float32Array(FEATURE_COUNT), 0);
}

/** Writes one input's row into `out` at row `row` (for batches without per-row allocation). */
export function writeFeatures(input: FeatureInput, out: Float32Array, row: number): Float32Array {
  const values = featureValues(input);
  FEATURE_NAMES.forEach((name, i) => {
    out[row * FEATURE_COUNT + i] = values.get(name)!;
  });
  return out;
}

/**
 * last/mean/min/max/slope/count of one vital in one window. An empty window reads as the
 * reference (a typical well adult) with count 0; slope is the least-squares change per hour, 0
 * with fewer than two distinct times. Sums run in reading order (features.py does the same).
 */
function windowStats(hours: readonly number[], values: readonly number[], reference: number) {
  const n = values.length;
  if (n === 0) return { last: reference, mean: reference, min: reference, max: reference, slope: 0, count: 0 };
  let sumX = 0, sumY = 0, min = values[0]!, max = values[0]!;
  for (let i = 0; i < n; i++) {
    sumX += hours[i]!;
    sumY += values[i]!;
    if (values[i]! < min) min = values[i]!;
    if (values[i]! > max) max = values[i]!;
  }
  const meanX = sumX / n, meanY = sumY / n;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (hours[i]! - meanX) * (values[i]! - meanY);
    sxx += (hours[i]! - meanX) * (hours[i]! - meanX);
  }
  return { last: values[n - 1]!, mean: meanY, min, max, slope: sxx > 0 ? sxy / sxx : 0, count: n };
}
