import type { Alert, AlertReason } from '../../core/domain/alert.ts';
import { mergeAlertUpdate } from '../../core/domain/alert.ts';
import { VigilError } from '../../core/errors.ts';
import type { AlertStore } from '../../core/ports/alert-store.ts';
import type { RetentionPurge } from '../../core/ports/retention.ts';
import { inImmediateTransaction, openSqliteFile } from './open-sqlite-file.ts';

interface AlertRow {
  id: string; patient_id: string; status: string; opened_at: number; closed_at: number | null; reasons: string;
  news2_score: number | null; risk_score: number | null; peak_news2: number | null; peak_risk: number | null;
  below_since: number | null; acknowledged_at: number | null; acknowledged_by: string | null;
}

/**
 * The embedded alert store (core/ports/alert-store.ts): one SQLite file (`alerts.sqlite` under
 * VIGIL_DATA_DIR), or `:memory:`. Processes on one host may share the file: a partial unique
 * index allows one open alert per patient, and every read-decide-write runs in one IMMEDIATE
 * transaction, so the open-once and first-acknowledgement rules hold across handles.
 */
export function createSqliteAlertStore(options: { path: string }): AlertStore & RetentionPurge {
  const db = openSqliteFile({ path: options.path, what: 'alert store', schema: `
      CREATE TABLE IF NOT EXISTS alerts (
        id TEXT PRIMARY KEY,
        patient_id TEXT NOT NULL,
        status TEXT NOT NULL,
        opened_at INTEGER NOT NULL,
        closed_at INTEGER,
        reasons TEXT NOT NULL,
        news2_score REAL,
        risk_score REAL,
        peak_news2 REAL,
        peak_risk REAL,
        below_since INTEGER,
        acknowledged_at INTEGER,
        acknowledged_by TEXT
      );
      CREATE INDEX IF NOT EXISTS alerts_status ON alerts (status);
      CREATE INDEX IF NOT EXISTS alerts_unacknowledged ON alerts (opened_at) WHERE acknowledged_at IS NULL;
      CREATE UNIQUE INDEX IF NOT EXISTS alerts_one_open_per_patient ON alerts (patient_id) WHERE status = 'open';
  ` });
  const insert = db.prepare(`
    INSERT INTO alerts (id, patient_id, status, opened_at, closed_at, reasons, news2_score, risk_score, peak_news2, peak_risk, below_since, acknowledged_at, acknowledged_by)
    VALUES (?, ?, 'open', ?, NULL, ?, ?, ?, ?, ?, ?, NULL, NULL)`);
  const writeState = db.prepare(`
    UPDATE alerts SET status = ?, closed_at = ?, reasons = ?, news2_score = ?, risk_score = ?, peak_news2 = ?, peak_risk = ?, below_since = ?
    WHERE id = ? AND status = 'open'`);
  const writeAck = db.prepare('UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ? AND acknowledged_at IS NULL');
  const byId = db.prepare('SELECT * FROM alerts WHERE id = ?');
  const openOfPatient = db.prepare("SELECT * FROM alerts WHERE patient_id = ? AND status = 'open'");
  const open = db.prepare("SELECT * FROM alerts WHERE status = 'open' ORDER BY opened_at");
  // The same rule as isVisible (core/domain/alert.ts): a closed alert only for incomplete observations needs no acknowledgement.
  const visible = db.prepare(`SELECT * FROM alerts WHERE status = 'open' OR (acknowledged_at IS NULL AND reasons <> '["observations-incomplete"]')
    ORDER BY opened_at DESC LIMIT ?`);
  const all = db.prepare('SELECT * FROM alerts ORDER BY opened_at DESC LIMIT ?');
  const purgeClosed = db.prepare("DELETE FROM alerts WHERE status = 'closed' AND closed_at < ?");
  let closed = false;

  const guard = async <T>(action: string, run: () => T): Promise<T> => {
    if (closed) throw new VigilError('SHUTTING_DOWN', 'alert store is closed');
    try {
      return run();
    } catch (cause) {
      throw new VigilError('BACKEND_UNAVAILABLE', `cannot ${action} the alert store`, { cause });
    }
  };
  const one = (row: unknown): Alert | undefined => (row ? fromRow(row as AlertRow) : undefined);

  return {
    kind: 'embedded',
    async provision() {
      // The schema is applied when the file is opened.
    },
    openOnce(candidate) {
      return guard('write to', () => inImmediateTransaction(db, () => {
        const existing = one(openOfPatient.get(candidate.patientId));
        if (existing) return { opened: false, alert: existing };
        insert.run(candidate.id, candidate.patientId, candidate.openedAt, JSON.stringify(candidate.reasons), candidate.news2Score,
          candidate.riskScore, candidate.peakNews2, candidate.peakRisk, candidate.belowSince);
        return { opened: true, alert: one(byId.get(candidate.id))! };
      }));
    },
    openFor(patientId) {
      return guard('read', () => one(openOfPatient.get(patientId)));
    },
    update(next) {
      return guard('write to', () => inImmediateTransaction(db, () => {
        const stored = one(byId.get(next.id));
        if (!stored || stored.status !== 'open') return undefined;
        const m = mergeAlertUpdate(stored, next);
        writeState.run(m.status, m.closedAt, JSON.stringify(m.reasons), m.news2Score, m.riskScore, m.peakNews2, m.peakRisk, m.belowSince, m.id);
        return one(byId.get(next.id));
      }));
    },
    acknowledge(id, at, by) {
      return guard('write to', () => {
        writeAck.run(at, by, id);
        return one(byId.get(id));
      });
    },
    get(id) {
      return guard('read', () => one(byId.get(id)));
    },
    listOpen() {
      return guard('read', () => (open.all() as unknown as AlertRow[]).map(fromRow));
    },
    list({ visibleOnly, limit }) {
      return guard('read', () => ((visibleOnly ? visible : all).all(limit) as unknown as AlertRow[]).map(fromRow));
    },
    /**
     * Retention (VIGIL_RETENTION_DAYS): episodes closed before the cutoff, acknowledged or not (a
     * closed episode that old is history, not work); an open one never, however old.
     */
    purgeOlderThan(cutoffMs) {
      return guard('purge', () => ({ removed: Number(purgeClosed.run(cutoffMs).changes) }));
    },
    async ping() {
      await guard('read', () => byId.get(''));
    },
    async close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}

function fromRow(r: AlertRow): Alert {
  return {
    id: r.id,
    patientId: r.patient_id,
    status: r.status === 'open' ? 'open' : 'closed',
    openedAt: r.opened_at,
    closedAt: r.closed_at,
    reasons: JSON.parse(r.reasons) as AlertReason[],
    news2Score: r.news2_score,
    riskScore: r.risk_score,
    peakNews2: r.peak_news2,
    peakRisk: r.peak_risk,
    belowSince: r.below_since,
    acknowledgedAt: r.acknowledged_at,
    acknowledgedBy: r.acknowledged_by,
  };
}
