import type { ParameterOverrides } from './simulation-parameters.ts';

/**
 * Distribution shifts a model card reports against: each a `parameters` override for
 * `generateCohort` / `writeCohortCsv` (`vigil simulate --write-csv <dir> --shift <name>`).
 * simulators/PHYSIOLOGY.md says what each changes and why.
 */
export const COHORT_SHIFTS = {
  /** About 3 % of admissions with an event (default ≈ 4 %): fewer patients deteriorate. */
  'low-prevalence': { risk: { intercept: -3.15 } },
  /** Every observation set 4–12-hourly whatever the score; no continuously monitored patients. */
  'intermittent-observations': { observation: { continuousShare: 0, fixedHours: [4, 12] } },
  /**
   * Worse resting vitals (higher HR and RR, lower systolic and SpO2, warmer) and twice the chronic
   * conditions; the risk of deteriorating is unchanged, so only what the vitals look like shifts.
   */
  'sicker-baseline': {
    baseline: {
      heartRate: { mean: 84, range: [60, 108] },
      respiratoryRate: { mean: 17.5, range: [13, 22] },
      systolic: { mean: 124, range: [102, 170] },
      temperature: { mean: 37.1, range: [36.4, 37.8] },
      spo2: { mean: 96, range: [93, 99] },
    },
    chronic: {
      copd: { probability: 0.12 },
      tachycardia: { probability: 0.12 },
      lowBloodPressure: { probability: 0.08 },
      confusion: { probability: 0.12 },
      lowGradeFever: { probability: 0.08 },
    },
  },
  /** Deterioration ramps take twice as long (gradual and abrupt alike). */
  'slower-deterioration': { deterioration: { rampMedianHours: 48, rampHours: [12, 192], abruptHours: [1, 6] } },
} as const satisfies Readonly<Record<string, ParameterOverrides>>;

export type CohortShiftName = keyof typeof COHORT_SHIFTS;

export const COHORT_SHIFT_NAMES = Object.keys(COHORT_SHIFTS) as CohortShiftName[];

export function isCohortShiftName(name: string): name is CohortShiftName {
  return Object.hasOwn(COHORT_SHIFTS, name);
}
