import type { VitalReading } from './reading.ts';

/**
 * The reading merge rule (README "Data semantics: one reading, several messages"), in one place
 * for every store, every backend and any in-memory keyed state.
 *
 * A reading id is device + patient + observedAt. Values of one id arriving in several messages
 * merge per vital:
 * - a vital absent so far is filled in;
 * - a vital already held keeps its FIRST accepted value (first write by arrival wins: nothing
 *   acknowledged is ever overwritten);
 * - a later DIFFERENT value for a held vital is a conflict: the caller keeps it apart (a dead letter
 *   with reason `conflicting-value`) and the rest of that message still merges;
 * - an identical redelivery changes nothing and is no conflict.
 *
 * Blood pressure is one vital: systolic and diastolic are measured together, so a held pair is
 * never completed or changed by half of another pair (a 120 from one cuff inflation and an 80 from
 * another would be a pressure nobody measured).
 *
 * The reading's identity (device, patient, observedAt) and `receivedAt` stay those of the first
 * accepted message: `receivedAt` is when the edge accepted the first message stored for the id.
 */
export const MERGED_VITALS = ['heartRate', 'bloodPressure', 'temperatureC', 'spo2', 'respiratoryRate', 'onOxygen', 'consciousness'] as const;
export type MergedVital = (typeof MERGED_VITALS)[number];

/** The reading fields each merged vital is stored in. */
export const VITAL_FIELDS: Readonly<Record<MergedVital, readonly (keyof VitalReading)[]>> = Object.freeze({
  heartRate: ['heartRate'],
  bloodPressure: ['systolic', 'diastolic'],
  temperatureC: ['temperatureC'],
  spo2: ['spo2'],
  respiratoryRate: ['respiratoryRate'],
  onOxygen: ['onOxygen'],
  consciousness: ['consciousness'],
});

/** A later different value for a vital the reading already held; the held value stands. */
export interface VitalConflict {
  readonly readingId: string;
  readonly vital: MergedVital;
  /** The held value (for blood pressure, `systolic/diastolic`). */
  readonly held: string;
  /** The value offered and not taken. */
  readonly offered: string;
}

export interface MergeOutcome {
  /** What the store holds after the merge. */
  readonly merged: VitalReading;
  /** True when `merged` differs from what was held (a write is needed). */
  readonly changed: boolean;
  readonly conflicts: VitalConflict[];
}

/** Merges `incoming` into `held` (undefined: nothing held yet) by the rule above. Pure. */
export function mergeReading(held: VitalReading | undefined, incoming: VitalReading): MergeOutcome {
  if (!held) return { merged: incoming, changed: true, conflicts: [] };
  const merged: VitalReading = { ...held };
  const conflicts: VitalConflict[] = [];
  let changed = false;
  for (const vital of MERGED_VITALS) {
    const fields = VITAL_FIELDS[vital];
    if (!isPresent(incoming, fields)) continue;
    if (!isPresent(held, fields)) {
      for (const field of fields) (merged as unknown as Record<string, unknown>)[field] = incoming[field];
      changed = true;
    } else if (!fields.every((field) => held[field] === incoming[field])) {
      conflicts.push({ readingId: held.readingId, vital, held: vitalText(held, fields), offered: vitalText(incoming, fields) });
    }
  }
  return { merged, changed, conflicts };
}

/**
 * Merges a sequence of readings (any ids, in arrival order) into one per id, first appearance
 * order kept: what a store receiving them one after another would hold, plus every conflict.
 */
export function mergeReadings(readings: Iterable<VitalReading>, held: ReadonlyMap<string, VitalReading> = new Map()): { merged: Map<string, VitalReading>; conflicts: VitalConflict[] } {
  const merged = new Map<string, VitalReading>();
  const conflicts: VitalConflict[] = [];
  for (const reading of readings) {
    const outcome = mergeReading(merged.get(reading.readingId) ?? held.get(reading.readingId), reading);
    merged.set(reading.readingId, outcome.merged);
    conflicts.push(...outcome.conflicts);
  }
  return { merged, conflicts };
}

/** Whether the reading holds the vital (for blood pressure: either half counts as held). */
export function holdsVital(reading: VitalReading, vital: MergedVital): boolean {
  return isPresent(reading, VITAL_FIELDS[vital]);
}

function isPresent(reading: VitalReading, fields: readonly (keyof VitalReading)[]): boolean {
  return fields.some((field) => reading[field] !== null && reading[field] !== undefined);
}

function vitalText(reading: VitalReading, fields: readonly (keyof VitalReading)[]): string {
  return fields.map((field) => String(reading[field])).join('/');
}
