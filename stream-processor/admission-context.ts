import { LRUCache } from 'lru-cache';
import type { Logger } from '../core/observability/logger.ts';
import type { Warehouse, WarehouseRow } from '../core/ports/warehouse.ts';
import type { AdmissionContext } from '../core/domain/admission.ts';
import { completedYears } from '../core/domain/admission.ts';
import { logSafeError } from '../core/observability/log-safe-error.ts';
import { DEFAULTS } from '../core/defaults.ts';

/**
 * Who each patient is at a given time: the admission's start, type and the patient's age, which
 * the risk model was trained with. Readings do not carry them; the hospital's admission records
 * do, and those reach the warehouse (`admissions`, `patients`) through the batch loader or, in
 * `npm start`, from the simulated ward.
 */
export interface AdmissionLookup {
  /** Each patient's admission current at their `now` (epoch ms), by patient id; patients without one are absent. */
  lookup(patients: readonly { readonly patientId: string; readonly now: number }[]): Promise<ReadonlyMap<string, AdmissionContext>>;
}

export interface WarehouseAdmissionLookupOptions {
  readonly logger: Logger;
  /** How long a patient's admissions are reused before they are read again (default 5 min). */
  readonly ttlMs?: number;
  /** How long "no admission on record" is believed (default 30 s): the record may arrive after the first readings. */
  readonly missingTtlMs?: number;
  /** Patients kept at most (default 20,000). */
  readonly maxPatients?: number;
  /** Patients per query at most (default 200). */
  readonly chunkSize?: number;
  /** Milliseconds, for the cache's ages (default `Date.now`); tests move it instead of waiting. */
  readonly clock?: () => number;
}

interface AdmissionRecord {
  readonly admittedAt: number;
  readonly dischargedAt: number | null;
  readonly admissionType: string | null;
  readonly dateOfBirth: string | null;
}

/** MIMIC shifts the birth dates of patients over 89 so that they appear about 300 years old. */
const OLDEST_PLAUSIBLE_AGE = 120;

/**
 * Reads admissions from the warehouse, a chunk of patients per query, and caches them per patient
 * (a cache, not state: any processor instance rebuilds it from the warehouse). A failed read is
 * logged and scores go out without the context for that round; the model was trained to serve so.
 */
export function createWarehouseAdmissionLookup(warehouse: Warehouse, options: WarehouseAdmissionLookupOptions): AdmissionLookup {
  const ttl = options.ttlMs ?? DEFAULTS.admissionLookup.ttlMs;
  const missingTtl = options.missingTtlMs ?? DEFAULTS.admissionLookup.missingTtlMs;
  const chunkSize = options.chunkSize ?? DEFAULTS.admissionLookup.chunkSize;
  const logger = options.logger.child({ component: 'admission-lookup' });
  const clock = options.clock ?? Date.now;
  const cache = new LRUCache<string, readonly AdmissionRecord[]>({ max: options.maxPatients ?? DEFAULTS.admissionLookup.maxPatients, ttl, perf: { now: clock }, ttlResolution: 0 });

  async function fetchChunk(patientIds: readonly string[]): Promise<void> {
    // Ids never hold a comma (ID_PATTERN), so one joined parameter carries the chunk on every engine.
    const result = await warehouse.namedQuery('admissions_of_patients', { patient_ids: patientIds.join(',') }, {});
    const found = new Map<string, AdmissionRecord[]>(patientIds.map((id) => [id, []]));
    for (const row of result.rows) found.get(String(row.patient_id))?.push(toRecord(row));
    for (const [id, records] of found) cache.set(id, records, records.length === 0 ? { ttl: missingTtl } : {});
  }

  return {
    async lookup(patients) {
      const missing = [...new Set(patients.map((p) => p.patientId))].filter((id) => !cache.has(id));
      try {
        for (let i = 0; i < missing.length; i += chunkSize) await fetchChunk(missing.slice(i, i + chunkSize));
      } catch (error) {
        logger.warn({ error: logSafeError(error), patients: missing.length }, 'admission records unreadable; scoring without admission context');
      }
      const contexts = new Map<string, AdmissionContext>();
      for (const { patientId, now } of patients) {
        const current = currentAdmission(cache.get(patientId) ?? [], now);
        if (current) contexts.set(patientId, contextOf(current));
      }
      return contexts;
    },
  };
}

function toRecord(row: WarehouseRow): AdmissionRecord {
  const ms = (value: unknown): number | null => (value instanceof Date ? value.getTime() : null);
  return {
    admittedAt: ms(row.admitted_at) ?? Number.NaN,
    dischargedAt: ms(row.discharged_at),
    admissionType: typeof row.admission_type === 'string' ? row.admission_type : null,
    dateOfBirth: row.date_of_birth instanceof Date ? row.date_of_birth.toISOString().slice(0, 10) : null,
  };
}

/** The latest admission that had begun by `now` and not ended before it. */
function currentAdmission(records: readonly AdmissionRecord[], now: number): AdmissionRecord | undefined {
  let current: AdmissionRecord | undefined;
  for (const record of records) {
    if (!(record.admittedAt <= now)) continue;
    if (record.dischargedAt !== null && record.dischargedAt < now) continue;
    if (!current || record.admittedAt > current.admittedAt) current = record;
  }
  return current;
}

function contextOf(record: AdmissionRecord): AdmissionContext {
  const age = record.dateOfBirth === null ? null : completedYears(record.dateOfBirth, record.admittedAt);
  return {
    admittedAt: record.admittedAt,
    age: age !== null && age >= 0 && age <= OLDEST_PLAUSIBLE_AGE ? age : null,
    admissionType: record.admissionType,
  };
}
