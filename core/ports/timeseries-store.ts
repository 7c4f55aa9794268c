import type { VitalConflict } from '../domain/merge-reading.ts';
import type { PatientProfile, RiskScore, VitalReading } from '../domain/reading.ts';

/**
 * The time-series store port: each patient's parsed readings and risk scores, by time.
 *
 * Lifecycle: create → `provision()` (idempotent) → reads/writes → `close()`.
 *
 * Promises (checked by the time-series contract suite):
 * - Readings merge, never erase (core/domain/merge-reading.ts): writing a reading whose `readingId`
 *   is already stored leaves exactly one copy holding the union of the vitals; a vital already held
 *   keeps its first accepted value, and a different later value is not stored but reported in
 *   `conflicts`. Writing the same reading again changes nothing and reports no conflict. Within
 *   one call, readings apply in array order.
 * - A write resolves only once the batch is durable; a batch either lands whole or the call rejects
 *   (the caller retries the whole batch, which idempotency makes safe).
 * - Range reads return readings in ascending `observedAt` order (ties by `readingId`), `from`
 *   inclusive and `to` exclusive, at most `limit` of them (the newest ones when `newestFirst`).
 * - Nothing here keeps per-process state another instance would need: any processor instance can
 *   read back what any other wrote.
 */
export interface TimeRange {
  /** Epoch milliseconds, inclusive. */
  readonly from: number;
  /** Epoch milliseconds, exclusive. */
  readonly to: number;
  readonly limit?: number;
  /** With `limit`: keep the newest readings of the range rather than the oldest (see the promises above). */
  readonly newestFirst?: boolean;
}

/** What a `writeReadings` call left stored. */
export interface ReadingsWritten {
  /** The reading as stored after the merge, once per distinct `readingId` of the call, in first-appearance order. */
  readonly stored: VitalReading[];
  /** Offered values that differ from a vital already held: not stored; the caller keeps them apart. */
  readonly conflicts: IndexedConflict[];
}

/** A conflict and the position, in the `writeReadings` array, of the reading that offered the value. */
export interface IndexedConflict extends VitalConflict {
  readonly index: number;
}

export interface TimeSeriesStore {
  readonly kind: string;
  provision(): Promise<void>;
  writeReadings(readings: readonly VitalReading[]): Promise<ReadingsWritten>;
  readReadings(patientId: string, range: TimeRange): Promise<VitalReading[]>;
  /** The newest reading of the patient, or undefined when none is stored. */
  latestReading(patientId: string): Promise<VitalReading | undefined>;
  writeRiskScores(scores: readonly RiskScore[]): Promise<void>;
  readRiskScores(patientId: string, range: TimeRange): Promise<RiskScore[]>;
  latestRiskScore(patientId: string): Promise<RiskScore | undefined>;
  /** Clinical settings per patient (e.g. SpO2 scale 2 for hypercapnic respiratory failure). */
  writePatientProfile(profile: PatientProfile): Promise<void>;
  /** The stored profile, or undefined when none was set (callers use defaults). */
  readPatientProfile(patientId: string): Promise<PatientProfile | undefined>;
  /** Every patient with at least one stored reading, sorted by id. */
  listPatients(): Promise<string[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
