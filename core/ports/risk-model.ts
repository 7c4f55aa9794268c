import type { PatientProfile, RiskFactor, VitalReading } from '../domain/reading.ts';
import type { AdmissionContext } from '../domain/admission.ts';

/**
 * What the processor asks of a learned risk model. The processor scores NEWS2 itself; a model is
 * optional and, when present, adds a probability and the factors behind it to each re-scoring.
 *
 * Implementations must be pure functions of their inputs (no per-patient state), so any processor
 * instance can score any patient, and must not log patient data.
 */
export interface ScoringInput {
  readonly patientId: string;
  /** Epoch ms the score is "as of": the newest reading's observedAt (replays score as they happened). */
  readonly now: number;
  /** The patient's readings of the last 6 hours before `now`, ascending by observedAt. */
  readonly readings: readonly VitalReading[];
  readonly profile?: PatientProfile;
  /** The admission the reading belongs to, when the warehouse knows it (admission-context.ts). */
  readonly admission?: AdmissionContext;
}

export interface RiskModelOutput {
  /** Probability 0..1 of the model's target (its card says which). */
  readonly probability: number;
  readonly factors: RiskFactor[];
}

export interface RiskModel {
  /** Name and version, e.g. "recovery-risk@1"; stored with every score. */
  readonly name: string;
  /**
   * The probability at which the model was evaluated to alert (its card's `deployedThreshold`):
   * the alert engine's risk threshold unless VIGIL_ALERT_RISK_PERCENT is set.
   */
  readonly deployedThreshold?: number;
  /** One output per input, in order. Rejects as a whole; the processor then scores NEWS2 only. */
  score(inputs: readonly ScoringInput[]): Promise<RiskModelOutput[]>;
}

/** How far back the model looks. */
export const MODEL_WINDOW_MS = 6 * 3_600_000;
