import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { VigilError } from '../../core/errors.ts';

/**
 * Opens one of the small embedded SQLite files (audit log, alert store, session revocations) the
 * same way: the folder made if missing, WAL with NORMAL sync (an append costs microseconds and
 * survives a process crash), a busy timeout so processes sharing the file wait rather than fail,
 * and the schema applied. Any failure is a BACKEND_UNAVAILABLE naming what could not be opened.
 */
export function openSqliteFile(options: { path: string; what: string; schema: string }): DatabaseSync {
  try {
    if (options.path !== ':memory:') mkdirSync(path.dirname(options.path), { recursive: true });
    const db = new DatabaseSync(options.path);
    db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = NORMAL;
      PRAGMA busy_timeout = 5000;
      ${options.schema}
    `);
    return db;
  } catch (cause) {
    throw new VigilError('BACKEND_UNAVAILABLE', `cannot open the ${options.what}`, { cause, details: { path: options.path } });
  }
}
