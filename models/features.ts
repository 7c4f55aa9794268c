import { news2 } from '../core/domain/news2.ts';
import { latestVitals } from '../core/domain/patient-summary.ts';
import type { LatestVitals } from '../core/domain/patient-summary.ts';
import type { AdmissionContext } from '../core/domain/admission.ts';
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

// The admission the features read is a domain type (the port and the warehouse lookup use it too).
export type { AdmissionContext };

export type FeatureReading = Pick<VitalReading, 'readingId' | 'observedAt' | 'heartRate' | 'systolic' | 'diastolic' | 'temperatureC' | 'spo2' | 'respiratoryRate' | 'onOxygen' | 'consciousness'>;

export interface FeatureInput {
  /** Epoch ms the features are "as of"; readings after it are ignored. */
  readonly now: number;
  /** Any order; only those in (now − 6 h, now] count. */
  readonly readings: readonly FeatureReading[];
  /** Ignored by the features (see AdmissionContext). */
  readonly admission?: AdmissionContext;
  /** The patient's prescribed NEWS2 SpO2 scale (profile); 1 when not recorded. */
  readonly spo2Scale?: 1 | 2;
  /** Confusion is the patient's recorded baseline (profile): NEWS2 scores only new confusion. */
  readonly baselineConfusion?: boolean;
}

type NumericVital = 'heartRate' | 'respiratoryRate' | 'systolic' | 'diastolic' | 'temperatureC' | 'spo2';
const VITALS = FEATURE_SPEC.vitals as NumericVital[];
const REFERENCE = FEATURE_SPEC.reference;
const LONG_WINDOW_HOURS = FEATURE_SPEC.windowHours['6h'];
const SEVERITY_TERMS = Object.entries(FEATURE_SPEC.severityIndex.terms) as [NumericVital, { reference: number; scale: number; sign: number }][];

/**
 * Values that stand in for a reading's measured fields (unmeasured ones stay missing), and for
 * how a risk factor is occluded to explain a score
 * (features.json `factorReferences`). Computing with an occlusion equals computing on a copy of
 * the input with those fields replaced.
 */
export type FeatureOcclusion = Readonly<Record<string, number | boolean | string>>;

/** The reading's severity index (features.json `severityIndex`), null when none of its vitals was measured. */
export function severityIndex(reading: FeatureReading, occlusion?: FeatureOcclusion): number | null {
  let sum = 0, count = 0;
  for (const [vital, { reference, scale, sign }] of SEVERITY_TERMS) {
    const value = measured(reading, vital, occlusion) as number | null;
    if (value === null) continue;
    sum += sign * (value - reference) / scale;
    count++;
  }
  return count === 0 ? null : sum / count;
}

function measured(reading: FeatureReading, field: keyof FeatureReading, occlusion: FeatureOcclusion | undefined): FeatureReading[keyof FeatureReading] {
  const value = reading[field];
  if (value === null || value === undefined) return null;
  const stand = occlusion?.[field];
  return stand === undefined ? value : (stand as FeatureReading[keyof FeatureReading]);
}

const SLOT = new Map(FEATURE_NAMES.map((name, i) => [name, i]));
/** Where a computed value goes in the row; one not in the declared list goes past its end, unused. */
const UNDECLARED = FEATURE_COUNT;
const slot = (name: string): number => SLOT.get(name) ?? UNDECLARED;
const STAT_NAMES = ['last', 'mean', 'min', 'max', 'slope', 'count'] as const;
if (FEATURE_SPEC.stats.length !== STAT_NAMES.length || !STAT_NAMES.every((s) => FEATURE_SPEC.stats.includes(s))) {
  throw new Error(`features.json stats must be ${STAT_NAMES.join(', ')}`);
}
type StatSlots = Readonly<Record<(typeof STAT_NAMES)[number], number>>;
interface SeriesSlots {
  readonly name: NumericVital | 'severityIndex';
  readonly reference: number;
  readonly windows: readonly { readonly hours: number; readonly stats: StatSlots }[];
  readonly hoursSinceLast: number;
}
const SERIES: readonly SeriesSlots[] = [...VITALS, 'severityIndex' as const].map((name) => ({
  name,
  reference: REFERENCE[name as keyof typeof REFERENCE],
  windows: Object.entries(FEATURE_SPEC.windowHours).map(([label, hours]) => ({
    hours,
    stats: Object.fromEntries(STAT_NAMES.map((stat) => [stat, slot(`${name}.${label}.${stat}`)])) as StatSlots,
  })),
  hoursSinceLast: slot(`${name}.hoursSinceLast`),
}));
const NEWS2_SLOTS = FEATURE_SPEC.news2Parameters.map((parameter) => [parameter, slot(`news2.${parameter}`)] as const);
const S = {
  readings: slot('readings.6h.count'), onOxygenLast: slot('onOxygen.last'), onOxygenFraction: slot('onOxygen.6h.fraction'),
  notAlertLast: slot('consciousness.last.notAlert'), anyNotAlert: slot('consciousness.6h.anyNotAlert'), news2: slot('news2.score'),
};
if (new Set([...SERIES.flatMap((s) => [...s.windows.flatMap((w) => Object.values(w.stats)), s.hoursSinceLast]), ...NEWS2_SLOTS.map(([, i]) => i), ...Object.values(S)].filter((i) => i !== UNDECLARED)).size !== FEATURE_COUNT) {
  throw new Error('features.json declares a feature features.ts does not compute');
}

/**
 * One input made ready to compute from: its 6 h window sorted by (observedAt, readingId), each
 * reading's time in hours relative to `now`. Computing several variants of one input (a score and
 * its occluded factors) prepares once.
 */
export interface PreparedFeatureInput {
  readonly input: FeatureInput;
  readonly window: readonly FeatureReading[];
  readonly hours: Float64Array;
  /** Filled as the rows are computed: the unoccluded row, and the latest vitals NEWS2 scores. */
  readonly computed: { base?: Float64Array; latest?: LatestVitals | null };
}

export function prepareFeatureInput(input: FeatureInput): PreparedFeatureInput {
  const { now } = input;
  const window = input.readings
    .filter((r) => r.observedAt > now - LONG_WINDOW_HOURS * HOUR_MS && r.observedAt <= now)
    .sort((a, b) => a.observedAt - b.observedAt || (a.readingId < b.readingId ? -1 : a.readingId > b.readingId ? 1 : 0));
  return { input, window, hours: Float64Array.from(window, (r) => (r.observedAt - now) / HOUR_MS), computed: {} };
}

// Scratch: the row being computed (plus the unused slot), and one series' points, grown with the longest window seen.
const row64 = new Float64Array(FEATURE_COUNT + 1);
let xs = new Float64Array(512);
let ys = new Float64Array(512);
let ats = new Float64Array(512);

/** Whether occluding these fields can change the series (else an occluded row keeps the base value). */
function occludes(series: SeriesSlots, occlusion: FeatureOcclusion): boolean {
  if (series.name !== 'severityIndex') return series.name in occlusion;
  return SEVERITY_TERMS.some(([vital]) => vital in occlusion);
}

/**
 * Computes every feature into the scratch row, in float64. Sums run in reading order and each
 * value is computed operation for operation as features.py does. An occluded row starts from the
 * input's base row (computed once, on the first occlusion) and recomputes only what the
 * occlusion can change.
 */
function computeRow(prepared: PreparedFeatureInput, occlusion?: FeatureOcclusion): Float64Array {
  const out = row64;
  const { input, window, hours, computed } = prepared;
  if (occlusion) {
    computed.base ??= computeRow(prepared).slice();
    out.set(computed.base);
  }
  const { now } = input;
  const n = window.length;
  if (xs.length < n) {
    xs = new Float64Array(n * 2);
    ys = new Float64Array(n * 2);
    ats = new Float64Array(n * 2);
  }
  for (const series of SERIES) {
    if (occlusion && !occludes(series, occlusion)) continue;
    // The points where this series was measured, oldest first: x hours before now, y the value.
    let count = 0;
    for (let i = 0; i < n; i++) {
      const reading = window[i]!;
      const value = series.name === 'severityIndex' ? severityIndex(reading, occlusion) : measured(reading, series.name, occlusion) as number | null;
      if (value === null) continue;
      xs[count] = hours[i]!;
      ys[count] = value;
      ats[count] = reading.observedAt;
      count++;
    }
    for (const { hours: windowHours, stats } of series.windows) {
      // Sorted oldest first, so a shorter window is a suffix of the points.
      let start = count;
      while (start > 0 && ats[start - 1]! > now - windowHours * HOUR_MS) start--;
      writeWindowStats(start, count, series.reference, out, stats);
    }
    out[series.hoursSinceLast] = count > 0 ? (now - ats[count - 1]!) / HOUR_MS : LONG_WINDOW_HOURS;
  }

  out[S.readings] = n;
  if (!occlusion || 'onOxygen' in occlusion || 'consciousness' in occlusion) {
    let oxygenKnown = 0, oxygenOn = 0, lastOxygen: boolean | null = null;
    let lastConsciousness: string | null = null, anyNotAlert = false;
    for (const reading of window) {
      const oxygen = measured(reading, 'onOxygen', occlusion) as boolean | null;
      if (oxygen !== null) {
        oxygenKnown++;
        if (oxygen) oxygenOn++;
        lastOxygen = oxygen;
      }
      const consciousness = measured(reading, 'consciousness', occlusion) as string | null;
      if (consciousness !== null) {
        lastConsciousness = consciousness;
        if (consciousness !== 'A') anyNotAlert = true;
      }
    }
    out[S.onOxygenLast] = lastOxygen ? 1 : 0;
    out[S.onOxygenFraction] = oxygenKnown === 0 ? 0 : oxygenOn / oxygenKnown;
    out[S.notAlertLast] = lastConsciousness !== null && lastConsciousness !== 'A' ? 1 : 0;
    out[S.anyNotAlert] = anyNotAlert ? 1 : 0;
  }

  if (computed.latest === undefined) computed.latest = latestVitals(window as VitalReading[]);
  const latest = computed.latest && occlusion ? { ...computed.latest } : computed.latest;
  if (latest && occlusion) {
    for (const [field, value] of Object.entries(occlusion)) {
      if (field in latest && (latest as unknown as Record<string, unknown>)[field] !== null) (latest as unknown as Record<string, unknown>)[field] = value;
    }
  }
  const early = latest ? news2(latest, { spo2Scale: input.spo2Scale ?? 1, baselineConfusion: input.baselineConfusion ?? false }) : null;
  out[S.news2] = early ? early.score : 0;
  for (const [parameter, i] of NEWS2_SLOTS) out[i] = early?.components[parameter as keyof typeof early.components] ?? 0;

  return out;
}

/** Feature name → value (float64), for the declared list. */
export function featureValues(input: FeatureInput): Map<string, number> {
  const values = computeRow(prepareFeatureInput(input));
  return new Map(FEATURE_NAMES.map((name, i) => [name, values[i]!]));
}

/** The model's input row: the declared features in order, as float32. */
export function computeFeatures(input: FeatureInput): Float32Array {
  return writeFeatures(input, new Float32Array(FEATURE_COUNT), 0);
}

/** Writes one input's row (optionally occluded) into `out` at row `row`, rounding to float32 once. */
export function writeFeatures(input: FeatureInput | PreparedFeatureInput, out: Float32Array, row: number, occlusion?: FeatureOcclusion): Float32Array {
  const values = computeRow('window' in input ? input : prepareFeatureInput(input), occlusion);
  out.set(values.subarray(0, FEATURE_COUNT), row * FEATURE_COUNT);
  return out;
}

/**
 * last/mean/min/max/slope/count of the points [start, end) of the scratch series. An empty window
 * reads as the reference (a typical well adult) with count 0; slope is the least-squares change
 * per hour, 0 with fewer than two distinct times.
 */
function writeWindowStats(start: number, end: number, reference: number, out: Float64Array, slots: StatSlots): void {
  const n = end - start;
  if (n === 0) {
    out[slots.last] = reference;
    out[slots.mean] = reference;
    out[slots.min] = reference;
    out[slots.max] = reference;
    out[slots.slope] = 0;
    out[slots.count] = 0;
    return;
  }
  let sumX = 0, sumY = 0, min = ys[start]!, max = ys[start]!;
  for (let i = start; i < end; i++) {
    sumX += xs[i]!;
    sumY += ys[i]!;
    if (ys[i]! < min) min = ys[i]!;
    if (ys[i]! > max) max = ys[i]!;
  }
  const meanX = sumX / n, meanY = sumY / n;
  let sxy = 0, sxx = 0;
  for (let i = start; i < end; i++) {
    sxy += (xs[i]! - meanX) * (ys[i]! - meanY);
    sxx += (xs[i]! - meanX) * (xs[i]! - meanX);
  }
  out[slots.last] = ys[end - 1]!;
  out[slots.mean] = meanY;
  out[slots.min] = min;
  out[slots.max] = max;
  out[slots.slope] = sxx > 0 ? sxy / sxx : 0;
  out[slots.count] = n;
}
