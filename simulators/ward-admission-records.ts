import type { Logger } from '../core/observability/logger.ts';
import type { TimeSeriesStore } from '../core/ports/timeseries-store.ts';
import type { Warehouse, WarehouseRow } from '../core/ports/warehouse.ts';
import { withRetry } from '../core/retry.ts';
import { logSafeError } from '../core/observability/log-safe-error.ts';
import type { SimulatedAdmission } from './admission.ts';

/** A simulated admission as the `patients` and `admissions` rows a hospital's ADT extract would give. */
export function admissionRecordRows(a: SimulatedAdmission): { patient: WarehouseRow; admission: WarehouseRow } {
  return {
    patient: { patient_id: a.patientId, gender: a.sex, date_of_birth: a.dateOfBirth },
    admission: {
      admission_id: a.admissionId,
      patient_id: a.patientId,
      admitted_at: new Date(a.admittedAt),
      admission_type: a.admissionType,
      admission_location: a.admissionLocation,
      insurance: a.insurance,
      diagnosis: a.diagnosis,
    },
  };
}

function recordsProfile(a: SimulatedAdmission): boolean {
  return a.profile.spo2Scale === 2 || a.profile.baselineConfusion;
}

export interface WardAdmissionRecorder {
  /** Pass as the ward's `onAdmit`. */
  record(admission: SimulatedAdmission): void;
  /** Resolves once every admission recorded so far is written (or given up on). */
  flush(): Promise<void>;
}

/** Who the simulated ward's profiles are recorded as (the audit field a clinician's PUT fills). */
export const SIMULATED_CLINICIAN = 'simulated-ward-clinician';

/**
 * Writes the simulated ward's admissions to the warehouse as they happen, so the embedded default
 * has the admission records that the batch loader brings in a real deployment (and the risk
 * model its age, type and start). Admissions made in the same turn go in one append; appends are
 * idempotent on their keys, so a restart that re-admits the opening patients adds no rows.
 *
 * With a time-series store it also records what a clinician would have put in the profile at
 * admission (SpO2 scale 2 for hypercapnic COPD, baseline confusion), so the ward's NEWS2 follows
 * the chart for those patients instead of alarming on their known baseline. Only profiles that
 * differ from the chart's defaults are written, as a clinician records only those.
 */
export function createWardAdmissionRecorder(warehouse: Warehouse, logger: Logger, timeseries?: TimeSeriesStore): WardAdmissionRecorder {
  let pending: SimulatedAdmission[] = [];
  let writing: Promise<void> = Promise.resolve();

  function write(batch: readonly SimulatedAdmission[]): Promise<void> {
    const rows = batch.map(admissionRecordRows);
    const retry = { attempts: 5, initialDelayMs: 200, maxDelayMs: 5_000 };
    return withRetry(async () => {
      // Patients first: an analyst never sees an admission whose patient is missing.
      await warehouse.append('patients', rows.map((r) => r.patient));
      await warehouse.append('admissions', rows.map((r) => r.admission));
      if (timeseries) await Promise.all(batch.filter(recordsProfile).map((a) => timeseries.writePatientProfile({
        patientId: a.patientId,
        spo2Scale: a.profile.spo2Scale,
        baselineConfusion: a.profile.baselineConfusion,
        updatedAt: a.admittedAt,
        updatedBy: SIMULATED_CLINICIAN,
      })));
    }, retry).catch((error: unknown) => {
      logger.warn({ error: logSafeError(error), admissions: batch.length }, 'simulated admissions not recorded; the model scores them without admission context');
    });
  }

  return {
    record(admission) {
      pending.push(admission);
      if (pending.length > 1) return;
      queueMicrotask(() => {
        const batch = pending;
        pending = [];
        writing = writing.then(() => write(batch));
      });
    },
    flush: async () => {
      await new Promise<void>((resolve) => queueMicrotask(resolve));
      await writing;
    },
  };
}
