import { openSqliteFile } from './open-sqlite-file.ts';
import { VigilError } from '../../core/errors.ts';
import type { Association, AssociationKind, DeviceAssociations } from '../../core/ports/device-associations.ts';

/**
 * The embedded bed and device associations: one SQLite file (`associations.sqlite` under
 * VIGIL_DATA_DIR), shared by every process on the machine. Each write is one transaction, so the
 * interval that ends and the one that starts are seen together.
 */
export function createSqliteDeviceAssociations(options: { path: string }): DeviceAssociations {
  const db = openSqliteFile({ path: options.path, what: 'device association store', schema: `
      CREATE TABLE IF NOT EXISTS associations (
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        from_ms INTEGER NOT NULL,
        to_ms INTEGER,
        patient_id TEXT NOT NULL,
        source TEXT NOT NULL,
        PRIMARY KEY (kind, key, from_ms)
      );
      CREATE INDEX IF NOT EXISTS associations_by_patient ON associations (patient_id, kind);
      CREATE TABLE IF NOT EXISTS held_readings (
        held_id TEXT PRIMARY KEY,
        device_id TEXT NOT NULL,
        bed TEXT,
        observed_at INTEGER NOT NULL,
        reading TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS held_by_device ON held_readings (device_id);
      CREATE INDEX IF NOT EXISTS held_by_bed ON held_readings (bed);
  ` });
  const held = db.prepare('SELECT 1 FROM associations WHERE kind = ? AND key = ? AND from_ms = ? AND patient_id = ?');
  const endKey = db.prepare('UPDATE associations SET to_ms = ? WHERE kind = ? AND key = ? AND from_ms < ? AND (to_ms IS NULL OR to_ms > ?)');
  const endPatientBeds = db.prepare("UPDATE associations SET to_ms = ? WHERE kind = 'bed' AND patient_id = ? AND from_ms < ? AND (to_ms IS NULL OR to_ms > ?)");
  // A later interval of the key, recorded before this one arrived (messages out of order), bounds it.
  const nextOfKey = db.prepare('SELECT MIN(from_ms) AS next FROM associations WHERE kind = ? AND key = ? AND from_ms > ?');
  const insert = db.prepare('INSERT OR REPLACE INTO associations (kind, key, from_ms, to_ms, patient_id, source) VALUES (?, ?, ?, ?, ?, ?)');
  const endAll = db.prepare('UPDATE associations SET to_ms = ? WHERE patient_id = ? AND to_ms IS NULL AND from_ms <= ?');
  const reopenAll = db.prepare('UPDATE associations SET to_ms = NULL WHERE patient_id = ? AND to_ms = ?');
  const find = db.prepare('SELECT patient_id FROM associations WHERE kind = ? AND key = ? AND from_ms = ?');
  const remove = db.prepare('DELETE FROM associations WHERE kind = ? AND key = ? AND from_ms = ?');
  const reopenEnded = db.prepare('UPDATE associations SET to_ms = NULL WHERE to_ms = ? AND kind = ? AND (key = ? OR patient_id = ?)');
  const at = db.prepare('SELECT patient_id FROM associations WHERE kind = ? AND key = ? AND from_ms <= ? AND (to_ms IS NULL OR to_ms > ?) ORDER BY from_ms DESC LIMIT 1');
  const ofPatient = db.prepare('SELECT kind, key, from_ms, to_ms, patient_id, source FROM associations WHERE patient_id = ? ORDER BY from_ms, kind, key');
  const reassign = db.prepare('UPDATE associations SET patient_id = ? WHERE patient_id = ?');
  const holdOne = db.prepare('INSERT OR IGNORE INTO held_readings (held_id, device_id, bed, observed_at, reading) VALUES (?, ?, ?, ?, ?)');
  const heldByDevice = db.prepare('SELECT held_id, device_id, bed, observed_at, reading FROM held_readings WHERE device_id = ? ORDER BY observed_at, held_id');
  const heldByBed = db.prepare('SELECT held_id, device_id, bed, observed_at, reading FROM held_readings WHERE bed = ? ORDER BY observed_at, held_id');
  const dropOne = db.prepare('DELETE FROM held_readings WHERE held_id = ?');
  let closed = false;

  const guarded = <T>(what: string, run: () => T): T => {
    if (closed) throw new VigilError('SHUTTING_DOWN', 'device association store is closed');
    try {
      return run();
    } catch (cause) {
      throw new VigilError('BACKEND_UNAVAILABLE', `cannot ${what} the device association store`, { cause });
    }
  };
  const transaction = (run: () => void): void => {
    db.exec('BEGIN IMMEDIATE');
    try {
      run();
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  };

  return {
    kind: 'sqlite',
    async provision() {},
    async associate(a) {
      guarded('write to', () => transaction(() => {
        if (held.get(a.kind, a.key, a.from, a.patientId)) return;
        endKey.run(a.from, a.kind, a.key, a.from, a.from);
        if (a.kind === 'bed') endPatientBeds.run(a.from, a.patientId, a.from, a.from);
        const next = (nextOfKey.get(a.kind, a.key, a.from) as { next: number | null }).next;
        insert.run(a.kind, a.key, a.from, next ?? null, a.patientId, a.source);
      }));
    },
    async endPatient(patientId, when) {
      guarded('write to', () => endAll.run(when, patientId, when));
    },
    async retract(kind, key, from) {
      guarded('write to', () => transaction(() => {
        const row = find.get(kind, key, from) as { patient_id: string } | undefined;
        if (!row) return;
        remove.run(kind, key, from);
        reopenEnded.run(from, kind, key, row.patient_id);
      }));
    },
    async reopenPatient(patientId, when) {
      guarded('write to', () => reopenAll.run(patientId, when));
    },
    async patientAt(kind: AssociationKind, key, when) {
      return guarded('read', () => (at.get(kind, key, when, when) as { patient_id: string } | undefined)?.patient_id);
    },
    async ofPatient(patientId) {
      return guarded('read', () => (ofPatient.all(patientId) as Record<string, unknown>[]).map(toAssociation));
    },
    async reassignPatient(fromPatient, toPatient) {
      guarded('write to', () => reassign.run(toPatient, fromPatient));
    },
    async hold(readings) {
      guarded('write to', () => transaction(() => {
        for (const r of readings) holdOne.run(r.heldId, r.deviceId, r.bed, r.observedAt, r.reading);
      }));
    },
    async heldFor(kind, key) {
      return guarded('read', () => ((kind === 'device' ? heldByDevice : heldByBed).all(key) as Record<string, unknown>[]).map((row) => ({
        heldId: String(row.held_id), deviceId: String(row.device_id), bed: row.bed === null ? null : String(row.bed),
        observedAt: Number(row.observed_at), reading: String(row.reading),
      })));
    },
    async dropHeld(heldIds) {
      guarded('write to', () => transaction(() => {
        for (const id of heldIds) dropOne.run(id);
      }));
    },
    async ping() {
      guarded('read', () => at.get('bed', '', 0, 0));
    },
    async close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}

function toAssociation(row: Record<string, unknown>): Association {
  return {
    kind: row.kind as AssociationKind,
    key: String(row.key),
    from: Number(row.from_ms),
    to: row.to_ms === null ? null : Number(row.to_ms),
    patientId: String(row.patient_id),
    source: String(row.source),
  };
}
