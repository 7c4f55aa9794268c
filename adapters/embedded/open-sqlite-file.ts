import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { VigilError } from '../../core/errors.ts';

export interface SqliteFileOptions {
  readonly path: string;
  /** Names the file in errors: "cannot open the <what>". */
  readonly what: string;
  /** Idempotent DDL (CREATE ... IF NOT EXISTS), applied on every open. */
  readonly schema: string;
  /**
   * `normal` (the small files: an append costs microseconds and survives a process crash) or
   * `full` (the bus and time series by default: a commit also survives a power cut).
   */
  readonly synchronous?: 'normal' | 'full';
  /** How long a write waits for another process's lock before SQLITE_BUSY. */
  readonly busyTimeoutMs?: number;
  /** Page cache in KiB (the hot stores take 32 MiB; SQLite's default is 2 MiB). */
  readonly cacheKiB?: number;
  /** Schema changes an older file needs (added columns), run after `schema`. */
  readonly migrate?: (db: DatabaseSync) => void;
}

/**
 * Opens every embedded SQLite file (bus, time series, audit log, alert store, session
 * revocations) the same way: the folder made if missing, WAL, the chosen sync level, a busy
 * timeout so processes sharing the file wait rather than fail, and the schema applied. Any failure
 * is a BACKEND_UNAVAILABLE naming what could not be opened.
 */
export function openSqliteFile(options: SqliteFileOptions): DatabaseSync {
  try {
    if (options.path !== ':memory:') mkdirSync(path.dirname(options.path), { recursive: true });
    const db = new DatabaseSync(options.path, { timeout: options.busyTimeoutMs ?? 5_000 });
    db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = ${(options.synchronous ?? 'normal').toUpperCase()};
      ${options.cacheKiB === undefined ? '' : `PRAGMA cache_size = -${Math.round(options.cacheKiB)};`}
      ${options.schema}
    `);
    options.migrate?.(db);
    return db;
  } catch (cause) {
    throw new VigilError('BACKEND_UNAVAILABLE', `cannot open the ${options.what}`, { cause, details: { path: options.path } });
  }
}

/**
 * Runs `work` in a write transaction taken up front (BEGIN IMMEDIATE), so no other handle decides
 * in between: all of it commits, or none of it (rolled back, the error rethrown for the caller to
 * retry whole, which the stores' upserts make safe).
 */
export function inImmediateTransaction<T>(db: DatabaseSync, work: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = work();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    // A failed COMMIT (SQLITE_FULL, SQLITE_BUSY) may already have ended the transaction.
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}
