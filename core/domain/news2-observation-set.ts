import type { News2Options, News2Parameter, News2Result } from './news2.ts';
import { news2 } from './news2.ts';
import { latestVitals } from './patient-summary.ts';
import type { News2ParameterName, VitalReading } from './reading.ts';
import { DEFAULTS } from '../defaults.ts';

/**
 * NEWS2 of one observation set, and whether that set is complete.
 *
 * A NEWS2 is a chart of one set of observations; a value from hours earlier is not part of the
 * patient's present state. So a vital counts only if it was observed within `maxAgeMs` of the
 * patient's newest reading (the anchor); everything older is missing, and the score says so
 * instead of looking whole.
 */

/** Internal parameter name → external name: the one place where `temperatureC` becomes `temperature`. */
const EXTERNAL_NAME: Record<News2Parameter, News2ParameterName> = {
  respiratoryRate: 'respiratoryRate',
  spo2: 'spo2',
  onOxygen: 'onOxygen',
  systolic: 'systolic',
  heartRate: 'heartRate',
  consciousness: 'consciousness',
  temperatureC: 'temperature',
};

/** One hour (core/defaults.ts says why). */
export const DEFAULT_NEWS2_MAX_AGE_MS = DEFAULTS.news2.maxAgeMs;

export interface News2ObservationSet {
  readonly result: News2Result;
  /** Every one of the seven parameters was observed within the maximum age. */
  readonly complete: boolean;
  /** The parameters that were not, in chart order, by their external names. */
  readonly missing: News2ParameterName[];
  /** Epoch ms of the anchor: the newest reading of the set. */
  readonly observedAt: number;
}

/** `readings` in any order; undefined when there are none. */
export function news2ObservationSet(
  readings: readonly VitalReading[],
  options: News2Options & { readonly maxAgeMs?: number } = {},
): News2ObservationSet | undefined {
  if (readings.length === 0) return undefined;
  const anchor = readings.reduce((newest, r) => Math.max(newest, r.observedAt), -Infinity);
  const oldestCounted = anchor - (options.maxAgeMs ?? DEFAULT_NEWS2_MAX_AGE_MS);
  const vitals = latestVitals(readings.filter((r) => r.observedAt >= oldestCounted))!;
  const result = news2(vitals, { ...(options.spo2Scale ? { spo2Scale: options.spo2Scale } : {}), baselineConfusion: options.baselineConfusion ?? false });
  const missing = result.missing.map((p) => EXTERNAL_NAME[p]);
  return { result, complete: missing.length === 0, missing, observedAt: anchor };
}
