import { LRUCache } from 'lru-cache';
import type { VitalReading } from '../core/domain/reading.ts';
import { MODEL_WINDOW_MS } from '../core/ports/risk-model.ts';

/**
 * Keyed state, as stream engines keep it: the recent window of each patient this processor
 * handles, so re-scoring a patient whose window is warm reads no readings back from the store.
 *
 * The store stays the truth. A window is seeded from a store read (a miss: a patient not seen
 * lately, or evicted) and then updated with each batch exactly as the store merged it (the
 * `stored` readings of `writeReadings`, which already hold redeliveries and parts of one reading
 * merged), so it holds what a store read would return: every reading of the patient from
 * `coveredFrom` on, in the store's order (observedAt, then readingId). A late reading inside the
 * window lands in place; one older than the window is outside every future window (the newest
 * reading only moves forward) and is dropped. A batch stored while the patient's window is being
 * read from the store is kept aside and merged over that read, so the read cannot miss it.
 *
 * Only correct where one processor handles all of a patient's readings: the embedded bus (one
 * processor per data folder) or Kafka (a patient is one partition's key). Bounded by the readings
 * held in total; the least recently used patient goes first.
 */
export interface KeyedWindows {
  /** The patient's window ending at its newest reading, as the store would return it, or undefined on a miss. */
  window(patientId: string, limit: number): { now: number; readings: VitalReading[] } | undefined;
  /** Starts seeding a miss: batches stored from now on are kept aside for `seed`. */
  beginSeed(patientId: string): void;
  /**
   * Seeds from a store read of [now - window, now + 1) newest first, at most `limit` readings
   * (what scoring reads on a miss), merging the batches stored since `beginSeed`. `now`
   * undefined: the store held no reading of the patient, so the batches since are all it has.
   */
  seed(patientId: string, now: number | undefined, readings: readonly VitalReading[], limit: number): void;
  /** The store read failed: nothing is seeded, nothing more kept aside. */
  cancelSeed(patientId: string): void;
  /** A batch as the store holds it after the write: warm windows take it, cold patients stay cold. */
  update(stored: readonly VitalReading[]): void;
  /** Readings held in total (the bound is in readings). */
  readonly readingsHeld: number;
  readonly patients: number;
}

interface Entry {
  /** Sorted by (observedAt, readingId); every stored reading of the patient from coveredFrom on. */
  readings: VitalReading[];
  coveredFrom: number;
}

export interface KeyedWindowsOptions {
  /** Readings held at most across all patients (VIGIL_KEYED_STATE_READINGS). */
  readonly maxReadings: number;
}

export function createKeyedWindows(options: KeyedWindowsOptions): KeyedWindows {
  const entries = new LRUCache<string, Entry>({
    maxSize: options.maxReadings,
    // An empty entry still takes a slot's bookkeeping: count it as one.
    sizeCalculation: (entry) => Math.max(1, entry.readings.length),
  });
  // Patients being seeded → the readings stored meanwhile (by id: the latest merge wins).
  const seeding = new Map<string, Map<string, VitalReading>>();

  function put(patientId: string, entry: Entry): void {
    const newest = entry.readings.at(-1);
    if (newest) {
      // What no future window can reach (the newest reading only moves forward) is dropped.
      const from = newest.observedAt - MODEL_WINDOW_MS;
      if (from > entry.coveredFrom) {
        const keep = entry.readings.findIndex((r) => r.observedAt >= from);
        entry.readings.splice(0, keep);
        entry.coveredFrom = from;
      }
    }
    // Set as a new object: lru-cache recounts an entry's size (and evicts over the bound) only when the value changes.
    entries.set(patientId, { readings: entry.readings, coveredFrom: entry.coveredFrom });
  }

  return {
    window(patientId, limit) {
      const entry = entries.get(patientId);
      const newest = entry?.readings.at(-1);
      if (!entry || !newest) return undefined;
      const now = newest.observedAt;
      const from = now - MODEL_WINDOW_MS;
      if (from < entry.coveredFrom) return undefined;
      let start = 0;
      while (start < entry.readings.length && entry.readings[start]!.observedAt < from) start++;
      start = Math.max(start, entry.readings.length - limit);
      return { now, readings: entry.readings.slice(start) };
    },

    beginSeed(patientId) {
      if (!seeding.has(patientId)) seeding.set(patientId, new Map());
    },

    seed(patientId, now, read, limit) {
      const meanwhile = seeding.get(patientId);
      seeding.delete(patientId);
      const byId = new Map<string, VitalReading>();
      let coveredFrom = now === undefined ? Number.NEGATIVE_INFINITY : now - MODEL_WINDOW_MS;
      let fromStore = read;
      if (read.length >= limit) {
        // Truncated at `limit`: the oldest instant returned may be partial (ties), so it is not covered.
        const oldest = read[0]!.observedAt;
        coveredFrom = oldest + 1;
        fromStore = read.filter((r) => r.observedAt > oldest);
      }
      for (const r of fromStore) byId.set(r.readingId, plain(r));
      for (const r of meanwhile?.values() ?? []) if (r.observedAt >= coveredFrom) byId.set(r.readingId, r);
      put(patientId, { readings: [...byId.values()].sort(byTimeThenId), coveredFrom });
    },

    cancelSeed(patientId) {
      seeding.delete(patientId);
    },

    update(stored) {
      const touched = new Set<string>();
      for (const reading of stored) {
        const aside = seeding.get(reading.patientId);
        if (aside) aside.set(reading.readingId, plain(reading));
        const entry = entries.peek(reading.patientId);
        if (!entry || reading.observedAt < entry.coveredFrom) continue;
        insertOrReplace(entry.readings, plain(reading));
        touched.add(reading.patientId);
      }
      for (const patientId of touched) {
        // Putting another patient may have evicted this one.
        const entry = entries.peek(patientId);
        if (entry) put(patientId, entry);
      }
    },

    get readingsHeld() {
      return entries.calculatedSize;
    },
    get patients() {
      return entries.size;
    },
  };
}

function byTimeThenId(a: VitalReading, b: VitalReading): number {
  return a.observedAt - b.observedAt || (a.readingId < b.readingId ? -1 : a.readingId > b.readingId ? 1 : 0);
}

/** Into the sorted array: replaces the reading with the same id (the store's newer merge), else inserts in order. */
function insertOrReplace(readings: VitalReading[], reading: VitalReading): void {
  // Readings mostly arrive in order: search from the end.
  let i = readings.length;
  while (i > 0 && byTimeThenId(readings[i - 1]!, reading) > 0) i--;
  if (i > 0 && readings[i - 1]!.readingId === reading.readingId) readings[i - 1] = reading;
  else readings.splice(i, 0, reading);
}

/** Exactly the reading's fields, as a store read returns them (a parsed reading may carry more). */
function plain(r: VitalReading): VitalReading {
  return {
    readingId: r.readingId, patientId: r.patientId, deviceId: r.deviceId, observedAt: r.observedAt, receivedAt: r.receivedAt,
    heartRate: r.heartRate, systolic: r.systolic, diastolic: r.diastolic, temperatureC: r.temperatureC, spo2: r.spo2,
    respiratoryRate: r.respiratoryRate, onOxygen: r.onOxygen, consciousness: r.consciousness,
  };
}
