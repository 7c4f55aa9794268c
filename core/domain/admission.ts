/**
 * Who the patient is, when the caller knows: the admission's start, age and type. Not a model
 * input since features v3 (the model must not score severe vitals down because of age, admission
 * type or how young the stay is); kept so callers that carry it (stream-processor/admission-context.ts)
 * need not change.
 */
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
