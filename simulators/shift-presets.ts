import type { ParameterOverrides } from './simulation-parameters.ts';

/**
 * Distribution shifts a model card reports against: each a `parameters` override for
 * `generateCohort` / `writeCohortCsv` (`vigil simulate --write-csv <dir> --shift <name>`).
 * simulators/PHYSIOLOGY.md says what each changes and why.
 */
export const COHORT_SHIFTS = {
  /** About 3 % of admissions with an event (a quieter ward than the default). */
  'low-prevalence': {},
  /** Every observation set 4–12-hourly whatever the score; no continuously monitored patients. */
  'intermittent-observations': {},
  /** Worse resting vitals and more chronic conditions. */
  'sicker-baseline': {},
  /** Deterioration ramps take twice as long. */
  'slower-deterioration': {},
} as const satisfies Readonly<Record<string, ParameterOverrides>>;

export type CohortShiftName = keyof typeof COHORT_SHIFTS;

export const COHORT_SHIFT_NAMES = Object.keys(COHORT_SHIFTS) as CohortShiftName[];

export function isCohortShiftName(name: string): name is CohortShiftName {
  return Object.hasOwn(COHORT_SHIFTS, name);
}
