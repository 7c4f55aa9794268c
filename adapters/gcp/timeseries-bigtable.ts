import type { PatientProfile, RiskScore, VitalReading } from '../../core/domain/reading.ts';
import { VigilError } from '../../core/errors.ts';
import { MERGED_VITALS, VITAL_FIELDS, holdsVital, mergeReading } from '../../core/domain/merge-reading.ts';
import type { IndexedConflict, TimeRange, TimeSeriesStore } from '../../core/ports/timeseries-store.ts';
import type { KeyRange } from './bigtable-row-keys.ts';
import {
  INDEX_PREFIX, MAX_MS, indexKey, patientOfIndexKey, patientPrefix, profileKey, readingKey, scoreKey, timeRangeKeys,
} from './bigtable-row-keys.ts';
import { boundedChunks } from './bounded-chunks.ts';
import type { BigtableRow, BigtableTableOptions } from './bigtable-table.ts';
import { openBigtableTable } from './bigtable-table.ts';
import { backendError } from './google-errors.ts';

/**
 * The Bigtable time-series store (core/ports/timeseries-store.ts). Row keys: bigtable-row-keys.ts
 * and adapters/gcp/README.md. With BIGTABLE_EMULATOR_HOST set the client talks to cbtemulator.
 *
 * Each score or profile is one cell holding its JSON, written at a cell timestamp taken from the
 * data (scoredAt, updatedAt), never from the clock: writing the same one again rewrites the same
 * cell (same row, column and timestamp), so redeliveries leave one copy.
 *
 * A reading row merges messages of one reading id (core/domain/merge-reading.ts): column `j` holds
 * its identity and first arrival (timestamp observedAt), and each vital its own column (`heartRate`,
 * `systolic`, ...) written once, when first filled, at the arrival time (receivedAt). A write reads
 * the batch's rows first (one request) to merge and to report conflicts; should two writers fill
 * one vital at once, both cells stay and every read takes the oldest, the earliest arrival, so the
 * stored value never depends on which write landed last. With `retentionDays` (VIGIL_RETENTION_DAYS)
 * a max-age GC rule expires a reading's identity by when it was observed and its vitals by when
 * they arrived; without it (0, the default) nothing expires. `provision` (re)applies the rules.
 */
export interface BigtableTimeSeriesOptions extends BigtableTableOptions {
  /** Readings and scores older than this (by observed/scored time) are garbage-collected; 0 (default) keeps them. */
  readonly retentionDays?: number;
  /** Bounds of one MutateRows request (Bigtable allows 100 000 mutations per request). */
  readonly maxEntriesPerRequest?: number;
  readonly maxBytesPerRequest?: number;
}

const FAMILY = { readings: 'v', scores: 's', profiles: 'p', index: 'i' } as const;
/** The one column of every family. */
const COLUMN = 'j';
const DAY_SECONDS = 86_400;
const DEFAULTS = {
  retentionDays: 0,
  // One mutation per entry here, so entries bound mutations; bytes keep a request well under 256 MB.
  maxEntriesPerRequest: 5_000,
  maxBytesPerRequest: 8 * 1024 * 1024,
} as const;

interface MutationEntry {
  readonly key: string;
  readonly data: Record<string, Record<string, { value: string; timestamp: Date }>>;
  readonly bytes: number;
}

export function createBigtableTimeSeriesStore(options: BigtableTimeSeriesOptions): TimeSeriesStore {
  const bigtable = openBigtableTable(options, 'timeseries-bigtable', 'the Bigtable store');
  const { table, assertOpen: open } = bigtable;
  const retentionDays = options.retentionDays ?? DEFAULTS.retentionDays;
  const maxEntries = options.maxEntriesPerRequest ?? DEFAULTS.maxEntriesPerRequest;
  const maxBytes = options.maxBytesPerRequest ?? DEFAULTS.maxBytesPerRequest;

  const families = {
    // Age only, no version limit: of two writers racing to fill one vital, the oldest cell (the
    // earliest arrival) is the value, so GC must not keep only the newest. See writeReadings.
    [FAMILY.readings]: retentionDays > 0 ? { age: { seconds: retentionDays * DAY_SECONDS } } : undefined,
    [FAMILY.scores]: retentionDays > 0 ? { age: { seconds: retentionDays * DAY_SECONDS }, versions: 1, union: true } : { versions: 1 },
    [FAMILY.profiles]: { versions: 1 },
    [FAMILY.index]: { versions: 1 },
  };


  async function mutate(entries: readonly MutationEntry[], what: string): Promise<void> {
    open();
    for (const chunk of boundedChunks(entries, { maxCount: maxEntries, maxBytes }, (e) => e.bytes)) {
      try {
        await table.mutate(chunk.map(({ key, data }) => ({ key, data, method: 'insert' })));
      } catch (error) {
        // Entries that failed after the client's own retries: the caller retries the whole batch,
        // which the fixed cell timestamps make safe.
        const partial = (error as { name?: string }).name === 'PartialFailureError';
        throw partial
          ? new VigilError('BACKEND_UNAVAILABLE', `Bigtable ${what}: some rows were not written`, { cause: error })
          : backendError(error, `Bigtable ${what}`);
      }
    }
  }

  async function rows(range: KeyRange | { prefix: string } | { keys: string[] }, limit?: number, allVersions = false): Promise<BigtableRow[]> {
    open();
    const keys = 'prefix' in range
      ? { prefix: range.prefix }
      : 'keys' in range ? { keys: range.keys }
        : { ranges: [{ start: { value: range.start, inclusive: true }, end: { value: range.end, inclusive: false } }] };
    try {
      const [found] = await table.getRows({
        ...keys,
        ...(limit === undefined ? {} : { limit }),
        // Only the newest cell of each column, should GC not have removed an older one yet; reading
        // rows keep every version, as their vitals take the oldest (see writeReadings).
        ...(allVersions ? {} : { filter: [{ column: { cellLimit: 1 } }] }),
      });
      return found as unknown as BigtableRow[];
    } catch (error) {
      throw backendError(error, 'Bigtable read');
    }
  }

  const cellOf = <T>(row: BigtableRow, family: string): T | undefined => {
    const value = row.data[family]?.[COLUMN]?.[0]?.value;
    return value === undefined ? undefined : (JSON.parse(value.toString()) as T);
  };

  /**
   * One patient's rows of a kind in [from, to), ascending by (time, tie), per the port's range
   * promise. Keys run newest first, so `newestFirst` with a limit reads only `limit` rows (plus the
   * rows sharing the oldest returned time, so ties are cut by id exactly like the ascending order).
   */
  async function readRange<T>(
    kind: 'r' | 's', patientId: string, range: TimeRange, family: string,
    time: (item: T) => number, tie: (item: T) => string,
  ): Promise<T[]> {
    const prefix = patientPrefix(kind, patientId);
    const keys = timeRangeKeys(prefix, range.from, range.to);
    if (!keys || (range.limit !== undefined && range.limit <= 0)) return [];
    const decode = (found: BigtableRow[]): T[] => found.map((r) => (kind === 'r' ? readingOf(r) as T | undefined : cellOf<T>(r, family))).filter((v): v is T => v !== undefined);
    const ascending = (items: T[]): T[] => items.sort((a, b) => time(a) - time(b) || (tie(a) < tie(b) ? -1 : tie(a) > tie(b) ? 1 : 0));
    const allVersions = kind === 'r';
    if (range.limit === undefined) return ascending(decode(await rows(keys, undefined, allVersions)));
    if (!range.newestFirst) return ascending(decode(await rows(keys, undefined, allVersions))).slice(0, range.limit);
    const newest = decode(await rows(keys, range.limit, allVersions));
    if (newest.length < range.limit) return ascending(newest);
    const boundary = Math.min(...newest.map(time));
    const newer = newest.filter((item) => time(item) > boundary);
    const atBoundary = ascending(decode(await rows(timeRangeKeys(prefix, boundary, boundary + 1)!, undefined, allVersions)));
    return ascending([...newer, ...atBoundary.slice(atBoundary.length - (range.limit - newer.length))]);
  }

  const everything: TimeRange = { from: 0, to: MAX_MS + 1, limit: 1, newestFirst: true };
  const readingTime = (r: VitalReading): number => r.observedAt;
  const readingTie = (r: VitalReading): string => r.readingId;
  const scoreTime = (s: RiskScore): number => s.scoredAt;

  return {
    kind: 'bigtable',

    provision: () => bigtable.provision(families),

    async writeReadings(readings) {
      if (readings.length === 0) return { stored: [], conflicts: [] };
      const keyOf = (r: VitalReading): string => readingKey(r.patientId, r.observedAt, r.readingId);
      // One read of every row the batch touches, then the merge rule in memory.
      const held = new Map<string, VitalReading>();
      for (const row of await rows({ keys: [...new Set(readings.map(keyOf))] }, undefined, true)) {
        const reading = readingOf(row);
        if (reading) held.set(reading.readingId, reading);
      }
      const entries: MutationEntry[] = [];
      const stored = new Map<string, VitalReading>();
      const conflicts: IndexedConflict[] = [];
      for (const [index, r] of readings.entries()) {
        const before = stored.get(r.readingId) ?? held.get(r.readingId);
        const { merged: after, conflicts: found } = mergeReading(before, r);
        stored.set(r.readingId, after);
        for (const conflict of found) conflicts.push({ ...conflict, index });
        const key = keyOf(r);
        if (!before) entries.push(entry(key, FAMILY.readings, identityOf(r), r.observedAt));
        // Only vitals this reading newly fills are written, each in its own column at the arrival
        // time: a concurrent writer filling the same vital leaves a second version, and the oldest
        // (the earliest arrival) is what every read returns.
        for (const vital of MERGED_VITALS) {
          if (holdsVital(r, vital) && (!before || !holdsVital(before, vital))) {
            for (const field of VITAL_FIELDS[vital]) entries.push(entry(key, FAMILY.readings, after[field], r.receivedAt, field));
          }
        }
      }
      // The index rows are rewritten with the readings: cheap, and listPatients never scans readings.
      for (const patientId of new Set(readings.map((r) => r.patientId))) {
        entries.push(entry(indexKey(patientId), FAMILY.index, 1, 0));
      }
      await mutate(entries, 'write readings');
      return { stored: [...stored.values()], conflicts };
    },

    readReadings(patientId, range) {
      return readRange('r', patientId, range, FAMILY.readings, readingTime, readingTie);
    },

    async latestReading(patientId) {
      return (await readRange('r', patientId, everything, FAMILY.readings, readingTime, readingTie))[0];
    },

    async writeRiskScores(scores) {
      if (scores.length === 0) return;
      await mutate(scores.map((s) => entry(scoreKey(s.patientId, s.scoredAt), FAMILY.scores, s, s.scoredAt)), 'write risk scores');
    },

    async readRiskScores(patientId, range) {
      return (await readRange<RiskScore>('s', patientId, range, FAMILY.scores, scoreTime, () => '')).map(scoreWithDefaults);
    },

    async latestRiskScore(patientId) {
      const [newest] = await readRange<RiskScore>('s', patientId, everything, FAMILY.scores, scoreTime, () => '');
      return newest ? scoreWithDefaults(newest) : undefined;
    },

    async writePatientProfile(profile) {
      await mutate([entry(profileKey(profile.patientId), FAMILY.profiles, profile, profile.updatedAt)], 'write profile');
    },

    async readPatientProfile(patientId) {
      const [row] = await rows({ start: profileKey(patientId), end: `${profileKey(patientId)}\u0000` });
      const profile = row ? cellOf<PatientProfile>(row, FAMILY.profiles) : undefined;
      return profile ? { ...profile, baselineConfusion: profile.baselineConfusion ?? false } : undefined;
    },

    async listPatients() {
      const found = await rows({ prefix: INDEX_PREFIX });
      return [...new Set(found.map((r) => patientOfIndexKey(r.id)))].sort();
    },

    async ping() {
      await rows({ prefix: INDEX_PREFIX }, 1);
    },

    close: () => bigtable.close(),
  };
}

/**
 * Cells are JSON, so a score written before completeness was recorded lacks the fields: it reads
 * as incomplete with nothing named missing (unknown is never shown as whole), as SQLite's does.
 */
function scoreWithDefaults(score: RiskScore): RiskScore {
  return { ...score, news2Complete: score.news2Complete ?? false, news2Missing: score.news2Missing ?? [] };
}

/** One row's one cell; the cell timestamp comes from the data so rewrites hit the same cell. */
function entry(key: string, family: string, value: unknown, timeMs: number, column: string = COLUMN): MutationEntry {
  const json = JSON.stringify(value);
  return { key, data: { [family]: { [column]: { value: json, timestamp: new Date(timeMs) } } }, bytes: key.length + column.length + json.length + 32 };
}

const STORED_VITAL_FIELDS: readonly (keyof VitalReading)[] = MERGED_VITALS.flatMap((vital) => VITAL_FIELDS[vital]);

/** The `j` cell of a reading row: its identity and first arrival; the vitals are columns of their own. */
function identityOf(r: VitalReading): Partial<VitalReading> {
  return { readingId: r.readingId, patientId: r.patientId, deviceId: r.deviceId, observedAt: r.observedAt, receivedAt: r.receivedAt };
}

/**
 * A reading row as a reading: the `j` cell (rows written before readings merged hold every vital
 * there), each vital column overriding it with its OLDEST version, the first accepted value.
 */
function readingOf(row: BigtableRow): VitalReading | undefined {
  const cells = row.data[FAMILY.readings];
  const base = cells?.[COLUMN]?.[0]?.value;
  if (base === undefined) return undefined;
  const reading = { ...JSON.parse(base.toString()) } as Record<string, unknown>;
  for (const field of STORED_VITAL_FIELDS) {
    const versions = cells?.[field];
    const oldest = versions?.[versions.length - 1]?.value;
    if (oldest !== undefined) reading[field] = JSON.parse(oldest.toString());
    else reading[field] ??= null;
  }
  const r = reading as unknown as VitalReading;
  return {
    readingId: r.readingId, patientId: r.patientId, deviceId: r.deviceId, observedAt: r.observedAt, receivedAt: r.receivedAt,
    heartRate: r.heartRate, systolic: r.systolic, diastolic: r.diastolic, temperatureC: r.temperatureC, spo2: r.spo2,
    respiratoryRate: r.respiratoryRate, onOxygen: r.onOxygen, consciousness: r.consciousness,
  };
}
