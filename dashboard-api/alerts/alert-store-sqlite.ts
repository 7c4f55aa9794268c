import { openSqliteFile } from '../../adapters/embedded/open-sqlite-file.ts';
import { VigilError } from '../../core/errors.ts';
import type { Alert, AlertReason } from './alert.ts';

/**
 * Where alert state lives across restarts, so an open or unacknowledged alert survives one.
 * Synchronous on purpose: the engine changes an alert and records it in the same step, so two
 * updates of one patient can never interleave between deciding and recording.
 */
export interface AlertStore {
  /** Inserts or replaces the alert with this id. */
  save(alert: Alert): void;
  get(id: string): Alert | undefined;
  /** Every alert still open (the engine's state after a restart). */
  listOpen(): Alert[];
  /** Newest first; `visibleOnly` keeps alerts that are open or not yet acknowledged. */
  list(query: { visibleOnly: boolean; limit: number }): Alert[];
  close(): void;
}

interface AlertRow {
  id: string; patient_id: string; status: string; opened_at: number; closed_at: number | null; reasons: string;
  news2_score: number | null; risk_score: number | null; peak_news2: number | null; peak_risk: number | null;
  below_since: number | null; acknowledged_at: number | null; acknowledged_by: string | null;
}

/** The embedded alert store: one SQLite file (`alerts.sqlite` under VIGIL_DATA_DIR), or `:memory:`. */
export function createSqliteAlertStore(options: { path: string }): AlertStore {
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
  ` });
  const upsert = db.prepare(`
    INSERT INTO alerts (id, patient_id, status, opened_at, closed_at, reasons, news2_score, risk_score, peak_news2, peak_risk, below_since, acknowledged_at, acknowledged_by)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET
      status = excluded.status, closed_at = excluded.closed_at, reasons = excluded.reasons,
      news2_score = excluded.news2_score, risk_score = excluded.risk_score,
      peak_news2 = excluded.peak_news2, peak_risk = excluded.peak_risk, below_since = excluded.below_since,
      acknowledged_at = excluded.acknowledged_at, acknowledged_by = excluded.acknowledged_by`);
  const byId = db.prepare('SELECT * FROM alerts WHERE id = ?');
  const open = db.prepare("SELECT * FROM alerts WHERE status = 'open' ORDER BY opened_at");
  // The same rule as isVisible (alert.ts): a closed alert only for incomplete observations needs no acknowledgement.
  const visible = db.prepare(`SELECT * FROM alerts WHERE status = 'open' OR (acknowledged_at IS NULL AND reasons <> '["observations-incomplete"]')
    ORDER BY opened_at DESC LIMIT ?`);
  const all = db.prepare('SELECT * FROM alerts ORDER BY opened_at DESC LIMIT ?');
  let closed = false;

  const guard = <T>(action: string, run: () => T): T => {
    if (closed) throw new VigilError('SHUTTING_DOWN', 'alert store is closed');
    try {
      return run();
    } catch (cause) {
      throw new VigilError('BACKEND_UNAVAILABLE', `cannot ${action} the alert store`, { cause });
    }
  };

  return {
    save(a) {
      guard('write to', () => upsert.run(
        a.id, a.patientId, a.status, a.openedAt, a.closedAt, JSON.stringify(a.reasons), a.news2Score, a.riskScore,
        a.peakNews2, a.peakRisk, a.belowSince, a.acknowledgedAt, a.acknowledgedBy,
      ));
    },
    get(id) {
      const row = guard('read', () => byId.get(id)) as AlertRow | undefined;
      return row ? fromRow(row) : undefined;
    },
    listOpen() {
      return (guard('read', () => open.all()) as unknown as AlertRow[]).map(fromRow);
    },
    list({ visibleOnly, limit }) {
      return (guard('read', () => (visibleOnly ? visible : all).all(limit)) as unknown as AlertRow[]).map(fromRow);
    },
    close() {
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
