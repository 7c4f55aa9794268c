import { openSqliteFile } from '../adapters/embedded/open-sqlite-file.ts';
import { VigilError } from '../core/errors.ts';

/**
 * Who looked at which patient's data, and when. The read API appends one entry per read of
 * patient data (ward list, vitals, risk, stream connect, profile change) before it answers, so a
 * read that cannot be recorded is not served.
 */
export interface AuditEntry {
  /** Epoch milliseconds. */
  readonly at: number;
  /** Token subject of the caller. */
  readonly actor: string;
  readonly role: string;
  /** Method and route pattern, e.g. "GET /v1/patients/:patientId/vitals". */
  readonly action: string;
  /** The patient concerned; absent for ward-wide reads such as the list and the stream. */
  readonly patientId?: string;
  /** HTTP status the caller got. */
  readonly status: number;
}

export interface AuditQuery {
  readonly patientId?: string;
  /** Epoch milliseconds, inclusive. */
  readonly since?: number;
  readonly limit: number;
}

export interface AuditLog {
  append(entry: AuditEntry): Promise<void>;
  /** Newest first. */
  list(query: AuditQuery): Promise<AuditEntry[]>;
  close(): Promise<void>;
}

/** The embedded audit log: one SQLite file (`audit.sqlite` under VIGIL_DATA_DIR). */
export function createSqliteAuditLog(options: { path: string }): AuditLog {
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
  ` });
  const insert = db.prepare('INSERT INTO audit (at, actor, role, action, patient_id, status) VALUES (?, ?, ?, ?, ?, ?)');
  const recent = db.prepare(`
    SELECT at, actor, role, action, patient_id, status FROM audit
    WHERE (?1 IS NULL OR patient_id = ?1) AND at >= ?2
    ORDER BY at DESC, id DESC LIMIT ?3`);
  let closed = false;

  const open = (): void => {
    if (closed) throw new VigilError('SHUTTING_DOWN', 'audit log is closed');
  };

  return {
    async append(entry) {
      open();
      try {
        insert.run(entry.at, entry.actor, entry.role, entry.action, entry.patientId ?? null, entry.status);
      } catch (cause) {
        throw new VigilError('BACKEND_UNAVAILABLE', 'cannot append to the audit log', { cause });
      }
    },
    async list(query) {
      open();
      const rows = recent.all(query.patientId ?? null, query.since ?? 0, query.limit) as {
        at: number; actor: string; role: string; action: string; patient_id: string | null; status: number;
      }[];
      return rows.map((r) => ({
        at: r.at, actor: r.actor, role: r.role, action: r.action, status: r.status,
        ...(r.patient_id === null ? {} : { patientId: r.patient_id }),
      }));
    },
    async close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
