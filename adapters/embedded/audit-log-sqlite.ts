import { openSqliteFile } from './open-sqlite-file.ts';
import { VigilError } from '../../core/errors.ts';
import type { AuditEntry, AuditLog } from '../../core/ports/audit-log.ts';
import { auditEntryProblem } from '../../core/ports/audit-log.ts';
import type { RetentionPurge } from '../../core/ports/retention.ts';

/** Entries deleted per transaction by a purge, so an append never waits long behind one. */
const PURGE_CHUNK = 5_000;

/**
 * The embedded audit log (core/ports/audit-log.ts): one SQLite file, `audit.sqlite` under
 * VIGIL_DATA_DIR. Every process on the machine that opens the same file shares it (WAL, busy
 * timeout); an append is one INSERT, microseconds, durable once it returns.
 */
export function createSqliteAuditLog(options: { path: string }): AuditLog & RetentionPurge {
  const db = openSqliteFile({ path: options.path, what: 'audit log', schema: `
      CREATE TABLE IF NOT EXISTS audit (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        role TEXT NOT NULL,
        action TEXT NOT NULL,
        patient_id TEXT,
        status INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
      CREATE INDEX IF NOT EXISTS audit_patient_at ON audit (patient_id, at);
      CREATE INDEX IF NOT EXISTS audit_actor_at ON audit (actor, at);
  ` });
  const insert = db.prepare('INSERT INTO audit (at, actor, role, action, patient_id, status) VALUES (?, ?, ?, ?, ?, ?)');
  const recent = db.prepare(`
    SELECT at, actor, role, action, patient_id, status FROM audit
    WHERE (?1 IS NULL OR patient_id = ?1) AND (?2 IS NULL OR actor = ?2) AND at >= ?3 AND (?4 IS NULL OR at < ?4)
    ORDER BY at DESC, id DESC LIMIT ?5`);
  const purgeChunk = db.prepare(`DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE at < ? ORDER BY at LIMIT ${PURGE_CHUNK})`);
  let closed = false;

  const guarded = <T>(what: string, run: () => T): T => {
    if (closed) throw new VigilError('SHUTTING_DOWN', 'audit log is closed');
    try {
      return run();
    } catch (cause) {
      throw new VigilError('BACKEND_UNAVAILABLE', `cannot ${what} the audit log`, { cause });
    }
  };

  return {
    kind: 'sqlite',
    // The schema is applied when the file is opened.
    async provision() {},
    async append(entry) {
      const problem = auditEntryProblem(entry);
      if (problem) throw new VigilError('VALIDATION_FAILED', `audit entry ${problem.field} ${problem.reason}`, { details: problem });
      guarded('append to', () => insert.run(entry.at, entry.actor, entry.role, entry.action, entry.patientId ?? null, entry.status));
    },
    async list(query) {
      const rows = guarded('read', () => recent.all(query.patientId ?? null, query.actor ?? null, query.since ?? 0, query.until ?? null, query.limit)) as {
        at: number; actor: string; role: string; action: string; patient_id: string | null; status: number;
      }[];
      return rows.map((r): AuditEntry => ({
        at: r.at, actor: r.actor, role: r.role, action: r.action,
        ...(r.patient_id === null ? {} : { patientId: r.patient_id }),
        status: r.status,
      }));
    },
    /** Retention (VIGIL_AUDIT_RETENTION_DAYS): entries older than the cutoff, in chunks; the only deletion Vigil makes here. */
    async purgeOlderThan(cutoffMs) {
      let removed = 0;
      for (;;) {
        const changes = Number(guarded('purge', () => purgeChunk.run(cutoffMs)).changes);
        removed += changes;
        if (changes < PURGE_CHUNK) return { removed };
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    },
    async ping() {
      guarded('read', () => db.prepare('SELECT 1').get());
    },
    async close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
