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
