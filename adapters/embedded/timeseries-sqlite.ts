import { DatabaseSync } from 'node:sqlite';
import type { SQLInputValue, StatementSync } from 'node:sqlite';
import type { Consciousness, News2Level, News2ParameterName, PatientProfile, RiskFactor, RiskScore, VitalReading } from '../../core/domain/reading.ts';
import { VigilError } from '../../core/errors.ts';
import { mergeReading } from '../../core/domain/merge-reading.ts';
import type { IndexedConflict, ReadingsWritten, TimeRange, TimeSeriesStore } from '../../core/ports/timeseries-store.ts';
import type { RetentionPurge } from '../../core/ports/retention.ts';
import { inImmediateTransaction, openSqliteFile } from './open-sqlite-file.ts';

/**
 * The embedded time-series store: one SQLite file (`${VIGIL_DATA_DIR}/timeseries.sqlite`, WAL).
 *
 * Readings are clustered by (patient_id, observed_at, reading_id) in a WITHOUT ROWID table, so a
 * patient's range read is one contiguous index walk and an upsert of the same reading touches one
 * row. A reading id is deterministic from its content (patient and time included), so it is
 * unique within that key. A reading whose id is already held merges into the held row per vital
 * (core/domain/merge-reading.ts), read and written in one transaction. `patients` keeps the ids that have readings, so listing them does not
 * scan the readings.
 */
export interface SqliteTimeSeriesOptions {
  /** The database file; its folder is created if missing. */
  readonly path: string;
  /** `full` (default) syncs each write batch to disk; `normal` survives a killed process only. */
  readonly durability?: 'full' | 'normal';
  readonly busyTimeoutMs?: number;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS readings (
    patient_id TEXT NOT NULL,
    observed_at INTEGER NOT NULL,
    reading_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    heart_rate REAL, systolic REAL, diastolic REAL, temperature_c REAL, spo2 REAL, respiratory_rate REAL,
    on_oxygen INTEGER,
    consciousness TEXT,
    PRIMARY KEY (patient_id, observed_at, reading_id)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS patients (patient_id TEXT PRIMARY KEY) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS risk_scores (
    patient_id TEXT NOT NULL,
    scored_at INTEGER NOT NULL,
    news2_score INTEGER NOT NULL,
    news2_level TEXT NOT NULL,
    risk_score REAL,
    model TEXT,
    factors TEXT NOT NULL,
    news2_complete INTEGER NOT NULL DEFAULT 0,
    news2_missing TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (patient_id, scored_at)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS profiles (
    patient_id TEXT PRIMARY KEY,
    spo2_scale INTEGER NOT NULL,
    baseline_confusion INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL
  ) WITHOUT ROWID;
`;

const READING_COLUMNS = 'patient_id, observed_at, reading_id, device_id, received_at, heart_rate, systolic, diastolic, temperature_c, spo2, respiratory_rate, on_oxygen, consciousness';
const SCORE_COLUMNS = 'patient_id, scored_at, news2_score, news2_level, risk_score, model, factors, news2_complete, news2_missing';

/**
 * Columns added after a table's first release: a database file from an older version gets them
 * at open (SQLite has no ADD COLUMN IF NOT EXISTS). A score stored before completeness was
 * recorded reads as incomplete with nothing named missing: unknown is never shown as whole.
 */
const ADDED_COLUMNS: readonly { table: string; column: string; definition: string }[] = [
  { table: 'risk_scores', column: 'news2_complete', definition: 'INTEGER NOT NULL DEFAULT 0' },
  { table: 'risk_scores', column: 'news2_missing', definition: "TEXT NOT NULL DEFAULT '[]'" },
  { table: 'profiles', column: 'baseline_confusion', definition: 'INTEGER NOT NULL DEFAULT 0' },
];

function addMissingColumns(db: DatabaseSync): void {
  for (const { table, column, definition } of ADDED_COLUMNS) {
    const present = (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).some((c) => c.name === column);
    if (!present) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
  }
}

/** A `readings` row as an array in READING_COLUMNS order: range reads return arrays, which node:sqlite builds much faster than objects. */
type ReadingRow = [
  patientId: string, observedAt: number, readingId: string, deviceId: string, receivedAt: number,
  heartRate: number | null, systolic: number | null, diastolic: number | null, temperatureC: number | null,
  spo2: number | null, respiratoryRate: number | null, onOxygen: number | null, consciousness: string | null,
];

interface ScoreRow {
  patient_id: string; scored_at: number; news2_score: number; news2_level: string;
  risk_score: number | null; model: string | null; factors: string;
  news2_complete: number; news2_missing: string;
}

/** Rows deleted per transaction by a purge: each is short, so the processor's writes never wait long. */
const PURGE_CHUNK = 2_000;

export function createSqliteTimeSeriesStore(options: SqliteTimeSeriesOptions): TimeSeriesStore & RetentionPurge {
  if (!options || typeof options.path !== 'string' || options.path === '') {
    throw new VigilError('CONFIG_INVALID', 'createSqliteTimeSeriesStore needs a database file path');
  }
  const db = openSqliteFile({
    path: options.path,
    what: `time-series database ${options.path}`,
    schema: SCHEMA,
    synchronous: options.durability ?? 'full',
    busyTimeoutMs: options.busyTimeoutMs ?? 5_000,
    cacheKiB: 32_000,
    migrate: addMissingColumns,
  });
  const sql = prepareStatements(db);
  let closed = false;

  const open = (): void => {
    if (closed) throw new VigilError('SHUTTING_DOWN', 'the time-series store is closed');
  };

  /** All or nothing: the caller retries a failed batch whole, which the upserts make safe. */
  const transaction = (work: () => void): void => {
    open();
    try {
      inImmediateTransaction(db, work);
    } catch (error) {
      throw asStoreError(error);
    }
  };

  /**
   * Group commit: writes made in the same event-loop turn (several processor batches in flight)
   * share one transaction, so one disk sync covers them all. Should the shared transaction fail,
   * each write is retried in a transaction of its own, so one bad batch cannot fail its neighbours.
   */
  interface CommitGroup { work: (() => void)[]; settle: ((error?: unknown) => void)[] }
  let group: CommitGroup | undefined;
  const groupCommit = (work: () => void): Promise<void> => {
    open();
    return new Promise<void>((resolve, reject) => {
      if (!group) {
        const current: CommitGroup = { work: [], settle: [] };
        group = current;
        setImmediate(() => {
          group = undefined;
          try {
            transaction(() => current.work.forEach((w) => w()));
            current.settle.forEach((settle) => settle());
          } catch {
            current.work.forEach((w, i) => {
              try {
                transaction(w);
                current.settle[i]!();
              } catch (error) {
                current.settle[i]!(error);
              }
            });
          }
        });
      }
      group!.work.push(work);
      group!.settle.push((error) => (error === undefined ? resolve() : reject(error)));
    });
  };

  const read = <T>(work: () => T): T => {
    open();
    try {
      return work();
    } catch (error) {
      throw asStoreError(error);
    }
  };

  return {
    kind: 'sqlite',

    async provision() {
      open();
    },

    async writeReadings(readings) {
      if (readings.length === 0) return { stored: [], conflicts: [] };
      let written: ReadingsWritten = { stored: [], conflicts: [] };
      await groupCommit(() => {
        // Read, merge and write inside the transaction: writers are serialized, so the merge sees
        // exactly what is held and the first accepted value of each vital stands.
        const stored = new Map<string, VitalReading>();
        const conflicts: IndexedConflict[] = [];
        const patients = new Set<string>();
        // One multi-row read of what is held, one merge pass in memory, one multi-row upsert of
        // what changed: a statement per 100 readings rather than two per reading.
        const held = sql.readHeld(readings);
        const changed = new Map<string, VitalReading>();
        for (const [index, r] of readings.entries()) {
          const outcome = mergeReading(stored.get(r.readingId) ?? held.get(r.readingId), r);
          for (const conflict of outcome.conflicts) conflicts.push({ ...conflict, index });
          stored.set(r.readingId, outcome.merged);
          if (outcome.changed) changed.set(r.readingId, outcome.merged);
          patients.add(r.patientId);
        }
        sql.upsertReadings([...changed.values()]);
        sql.insertPatients([...patients]);
        // Set last: a shared transaction that fails runs this work again on its own.
        written = { stored: [...stored.values()], conflicts };
      });
      return written;
    },

    async readReadings(patientId, range) {
      return read(() => ranged(sql.readingsAsc, sql.readingsDesc, patientId, range) as unknown as ReadingRow[]).map(toReading);
    },

    async latestReading(patientId) {
      const row = read(() => sql.readingsDesc.get(patientId, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 1)) as ReadingRow | undefined;
      return row ? toReading(row) : undefined;
    },

    async writeRiskScores(scores) {
      if (scores.length === 0) return;
      await groupCommit(() => {
        for (const s of scores) {
          sql.upsertScore.run(
            s.patientId, s.scoredAt, s.news2Score, s.news2Level, s.riskScore, s.model, JSON.stringify(s.factors),
            s.news2Complete ? 1 : 0, JSON.stringify(s.news2Missing),
          );
        }
      });
    },

    async readRiskScores(patientId, range) {
      return read(() => ranged(sql.scoresAsc, sql.scoresDesc, patientId, range) as unknown as ScoreRow[]).map(toScore);
    },

    async latestRiskScore(patientId) {
      const row = read(() => sql.scoresDesc.get(patientId, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 1)) as ScoreRow | undefined;
      return row ? toScore(row) : undefined;
    },

    async writePatientProfile(profile) {
      transaction(() => {
        sql.upsertProfile.run(profile.patientId, profile.spo2Scale, profile.baselineConfusion ? 1 : 0, profile.updatedAt, profile.updatedBy);
      });
    },

    async readPatientProfile(patientId) {
      const row = read(() => sql.profile.get(patientId)) as { patient_id: string; spo2_scale: number; baseline_confusion: number; updated_at: number; updated_by: string } | undefined;
      if (!row) return undefined;
      const profile: PatientProfile = {
        patientId: row.patient_id,
        spo2Scale: row.spo2_scale === 2 ? 2 : 1,
        baselineConfusion: row.baseline_confusion === 1,
        updatedAt: row.updated_at,
        updatedBy: row.updated_by,
      };
      return profile;
    },

    /**
     * Retention (core/ports/retention.ts): readings observed and scores made before the cutoff; a
     * patient left with no reading leaves the patient list, and their profile goes too unless it
     * was changed since the cutoff. Counts readings and scores. Deletes walk each patient's
     * primary-key range in chunks of PURGE_CHUNK rows, one short transaction each, yielding to
     * the event loop between them (no index on time alone: it would slow every write).
     */
    async purgeOlderThan(cutoffMs) {
      let removed = 0;
      const patients = read(() => sql.patients.all() as { patient_id: string }[]).map((r) => r.patient_id);
      for (const patientId of patients) {
        for (const [boundary, remove] of [[sql.readingChunkEnd, sql.deleteReadingsBefore], [sql.scoreChunkEnd, sql.deleteScoresBefore]] as const) {
          let more = true;
          while (more) {
            transaction(() => {
              // Below the time of the PURGE_CHUNK-th oldest row, or below the cutoff when fewer are left
              // (or when that many share one time, so nothing lies below it).
              const end = boundary.get(patientId, cutoffMs) as { at: number } | undefined;
              let changes = end ? Number(remove.run(patientId, end.at).changes) : 0;
              if (changes === 0) changes = Number(remove.run(patientId, cutoffMs).changes);
              more = end !== undefined && changes > 0;
              removed += changes;
            });
            await new Promise<void>((resolve) => setImmediate(resolve));
          }
        }
        transaction(() => {
          if (sql.anyReading.get(patientId)) return;
          sql.deletePatient.run(patientId);
          sql.deleteProfileBefore.run(patientId, cutoffMs);
        });
      }
      return { removed };
    },

    async listPatients() {
      return read(() => sql.patients.all() as { patient_id: string }[]).map((r) => r.patient_id);
    },

    async ping() {
      read(() => sql.ping.get());
    },

    async close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}

/**
 * The readings of a time-series file (not a live store: a backup's copy) received at or after
 * `sinceMs`, in no order: a full scan, as nothing is indexed by arrival. `vigil backup` uses it to
 * bring the warehouse copy level with the time-series copy (cli/backup/embedded-backup.ts).
 */
export function readingsReceivedSince(file: string, sinceMs: number): VitalReading[] {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return (arrays(db.prepare(`SELECT ${READING_COLUMNS} FROM readings WHERE received_at >= ?`)).all(sinceMs) as unknown as ReadingRow[]).map(toReading);
  } finally {
    db.close();
  }
}

/** A range read in ascending order; `newestFirst` takes the newest `limit` and turns them back. */
function ranged(asc: StatementSync, desc: StatementSync, patientId: string, range: TimeRange): Record<string, unknown>[] {
  const limit = range.limit === undefined ? -1 : Math.max(0, Math.floor(range.limit));
  const params: SQLInputValue[] = [patientId, range.from, range.to, limit];
  if (range.newestFirst && range.limit !== undefined) return desc.all(...params).reverse();
  return asc.all(...params);
}

function arrays(statement: StatementSync): StatementSync {
  statement.setReturnArrays(true);
  return statement;
}

/** Rows per multi-row statement: 100 readings are 1,300 parameters, well under SQLite's 32,766. */
const ROWS_PER_STATEMENT = 100;

/**
 * A statement over `n` rows of `text(n)`, prepared once per row count (full chunks of
 * ROWS_PER_STATEMENT and whatever remainders batches leave, at most ROWS_PER_STATEMENT of them).
 */
function multiRow(db: DatabaseSync, text: (rows: number) => string, array = false): (rows: number) => StatementSync {
  const prepared = new Map<number, StatementSync>();
  return (rows) => {
    let statement = prepared.get(rows);
    if (!statement) {
      statement = db.prepare(text(rows));
      if (array) statement.setReturnArrays(true);
      prepared.set(rows, statement);
    }
    return statement;
  };
}

const placeholders = (rows: number, columns: number): string =>
  Array.from({ length: rows }, () => `(${Array.from({ length: columns }, () => '?').join(', ')})`).join(', ');

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += ROWS_PER_STATEMENT) out.push(items.slice(i, i + ROWS_PER_STATEMENT));
  return out;
}

function prepareStatements(db: DatabaseSync) {
  const p = (text: string): StatementSync => db.prepare(text);
  const upsertReadings = multiRow(db, (n) => `INSERT INTO readings (${READING_COLUMNS}) VALUES ${placeholders(n, 13)}
      ON CONFLICT DO UPDATE SET device_id = excluded.device_id, received_at = excluded.received_at,
        heart_rate = excluded.heart_rate, systolic = excluded.systolic, diastolic = excluded.diastolic,
        temperature_c = excluded.temperature_c, spo2 = excluded.spo2, respiratory_rate = excluded.respiratory_rate,
        on_oxygen = excluded.on_oxygen, consciousness = excluded.consciousness`);
  // Row values IN (VALUES …) probes the primary key once per row.
  const readHeld = multiRow(db, (n) => `SELECT ${READING_COLUMNS} FROM readings WHERE (patient_id, observed_at, reading_id) IN (VALUES ${placeholders(n, 3)})`, true);
  const insertPatients = multiRow(db, (n) => `INSERT OR IGNORE INTO patients (patient_id) VALUES ${placeholders(n, 1)}`);
  const range = 'WHERE patient_id = ? AND observed_at >= ? AND observed_at < ?';
  const scoreRange = 'WHERE patient_id = ? AND scored_at >= ? AND scored_at < ?';
  return {
    ping: p('SELECT 1'),
    /** The held version of each reading of the batch that is already stored, by reading id. */
    readHeld(readings: readonly VitalReading[]): Map<string, VitalReading> {
      const held = new Map<string, VitalReading>();
      const keys = [...new Map(readings.map((r) => [r.readingId, r])).values()];
      for (const chunk of chunks(keys)) {
        const rows = readHeld(chunk.length).all(...chunk.flatMap((r) => [r.patientId, r.observedAt, r.readingId])) as unknown as ReadingRow[];
        for (const row of rows) held.set(row[2], toReading(row));
      }
      return held;
    },
    upsertReadings(readings: readonly VitalReading[]): void {
      for (const chunk of chunks(readings)) {
        upsertReadings(chunk.length).run(...chunk.flatMap((m) => [
          m.patientId, m.observedAt, m.readingId, m.deviceId, m.receivedAt,
          m.heartRate, m.systolic, m.diastolic, m.temperatureC, m.spo2, m.respiratoryRate,
          m.onOxygen === null ? null : m.onOxygen ? 1 : 0, m.consciousness,
        ]));
      }
    },
    insertPatients(patientIds: readonly string[]): void {
      for (const chunk of chunks(patientIds)) insertPatients(chunk.length).run(...chunk);
    },
    readingsAsc: arrays(p(`SELECT ${READING_COLUMNS} FROM readings ${range} ORDER BY observed_at, reading_id LIMIT ?`)),
    readingsDesc: arrays(p(`SELECT ${READING_COLUMNS} FROM readings ${range} ORDER BY observed_at DESC, reading_id DESC LIMIT ?`)),
    upsertScore: p(`INSERT INTO risk_scores (${SCORE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT DO UPDATE SET news2_score = excluded.news2_score, news2_level = excluded.news2_level,
        risk_score = excluded.risk_score, model = excluded.model, factors = excluded.factors,
        news2_complete = excluded.news2_complete, news2_missing = excluded.news2_missing`),
    scoresAsc: p(`SELECT ${SCORE_COLUMNS} FROM risk_scores ${scoreRange} ORDER BY scored_at LIMIT ?`),
    scoresDesc: p(`SELECT ${SCORE_COLUMNS} FROM risk_scores ${scoreRange} ORDER BY scored_at DESC LIMIT ?`),
    upsertProfile: p(`INSERT INTO profiles (patient_id, spo2_scale, baseline_confusion, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT DO UPDATE SET spo2_scale = excluded.spo2_scale, baseline_confusion = excluded.baseline_confusion, updated_at = excluded.updated_at, updated_by = excluded.updated_by`),
    profile: p('SELECT patient_id, spo2_scale, baseline_confusion, updated_at, updated_by FROM profiles WHERE patient_id = ?'),
    patients: p('SELECT patient_id FROM patients ORDER BY patient_id'),
    readingChunkEnd: p(`SELECT observed_at AS at FROM readings WHERE patient_id = ?1 AND observed_at < ?2 ORDER BY observed_at LIMIT 1 OFFSET ${PURGE_CHUNK}`),
    deleteReadingsBefore: p('DELETE FROM readings WHERE patient_id = ? AND observed_at < ?'),
    scoreChunkEnd: p(`SELECT scored_at AS at FROM risk_scores WHERE patient_id = ?1 AND scored_at < ?2 ORDER BY scored_at LIMIT 1 OFFSET ${PURGE_CHUNK}`),
    deleteScoresBefore: p('DELETE FROM risk_scores WHERE patient_id = ? AND scored_at < ?'),
    anyReading: p('SELECT 1 FROM readings WHERE patient_id = ? LIMIT 1'),
    deletePatient: p('DELETE FROM patients WHERE patient_id = ?'),
    deleteProfileBefore: p('DELETE FROM profiles WHERE patient_id = ? AND updated_at < ?'),
  };
}

function toReading(r: ReadingRow): VitalReading {
  return {
    readingId: r[2],
    patientId: r[0],
    deviceId: r[3],
    observedAt: r[1],
    receivedAt: r[4],
    heartRate: r[5],
    systolic: r[6],
    diastolic: r[7],
    temperatureC: r[8],
    spo2: r[9],
    respiratoryRate: r[10],
    onOxygen: r[11] === null ? null : r[11] === 1,
    consciousness: r[12] as Consciousness | null,
  };
}

function toScore(r: ScoreRow): RiskScore {
  return {
    patientId: r.patient_id,
    scoredAt: r.scored_at,
    news2Score: r.news2_score,
    news2Level: r.news2_level as News2Level,
    riskScore: r.risk_score,
    model: r.model,
    factors: JSON.parse(r.factors) as RiskFactor[],
    news2Complete: r.news2_complete === 1,
    news2Missing: JSON.parse(r.news2_missing) as News2ParameterName[],
  };
}

function asStoreError(error: unknown): VigilError {
  if (error instanceof VigilError) return error;
  const busy = /SQLITE_BUSY|database is locked/i.test(String((error as Error)?.message));
  return new VigilError(busy ? 'BACKEND_UNAVAILABLE' : 'BACKEND_REJECTED', 'time-series store operation failed', { cause: error });
}
