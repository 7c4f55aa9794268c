import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeRetentionContract } from '../../core/contracts/retention-contract.ts';
import type { Alert } from '../../core/domain/alert.ts';
import type { VitalReading } from '../../core/domain/reading.ts';
import { createSqliteAlertStore } from './alert-store-sqlite.ts';
import { createSqliteAuditLog } from './audit-log-sqlite.ts';
import { createSqliteTimeSeriesStore } from './timeseries-sqlite.ts';
import { createDuckDbWarehouse } from './warehouse-duckdb.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'vigil-retention-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshFile = (name: string): string => path.join(dir, `${files++}-${name}`);
const ALL_TIME = { from: -Number.MAX_SAFE_INTEGER, to: Number.MAX_SAFE_INTEGER };

const reading = (readingId: string, patientId: string, observedAt: number): VitalReading => ({
  readingId, patientId, deviceId: 'bed-1', observedAt, receivedAt: observedAt,
  heartRate: 72, systolic: 120, diastolic: 80, temperatureC: 37, spo2: 97, respiratoryRate: 16, onOxygen: false, consciousness: 'A',
});
const alert = (id: string, overrides: Partial<Alert> = {}): Alert => ({
  id, patientId: id, status: 'open', openedAt: 0, closedAt: null, reasons: ['news2'],
  news2Score: 6, riskScore: null, peakNews2: 6, peakRisk: null, belowSince: null, acknowledgedAt: null, acknowledgedBy: null,
  ...overrides,
});

describeRetentionContract('embedded SQLite time series (readings by observedAt)', async () => {
  const store = createSqliteTimeSeriesStore({ path: freshFile('timeseries.sqlite') });
  return {
    store,
    put: async (label, at) => void (await store.writeReadings([reading(label, 'P1', at)])),
    labels: async () => (await store.readReadings('P1', ALL_TIME)).map((r) => r.readingId),
    close: () => store.close(),
  };
});

describeRetentionContract('embedded SQLite audit log (entries by at)', async () => {
  const log = createSqliteAuditLog({ path: freshFile('audit.sqlite') });
  return {
    store: log,
    put: (label, at) => log.append({ at, actor: label, role: 'clinician', action: 'GET /v1/patients', status: 200 }),
    labels: async () => (await log.list({ limit: 10_000 })).map((e) => e.actor),
    close: () => log.close(),
  };
});

describeRetentionContract('embedded SQLite alert store (closed episodes by closedAt)', async () => {
  const store = createSqliteAlertStore({ path: freshFile('alerts.sqlite') });
  return {
    store,
    put: async (label, at) => {
      const { alert: opened } = await store.openOnce(alert(label, { openedAt: at - 1000 }));
      await store.update({ ...opened, status: 'closed', closedAt: at });
    },
    labels: async () => (await store.list({ visibleOnly: false, limit: 10_000 })).map((a) => a.id),
    close: () => store.close(),
  };
});

describeRetentionContract('embedded DuckDB warehouse (vitals by observed_at)', async () => {
  const warehouse = await createDuckDbWarehouse({ path: freshFile('warehouse.duckdb') });
  await warehouse.provision();
  return {
    store: warehouse,
    put: (label, at) => warehouse.append('vitals', [{
      reading_id: label, patient_id: 'P1', device_id: 'bed-1', observed_at: new Date(at), received_at: new Date(at),
    }]),
    labels: async () => (await warehouse.query('SELECT reading_id FROM vitals')).rows.map((r) => String(r.reading_id)),
    close: () => warehouse.close(),
  };
});

describe('embedded retention, store by store', () => {
  const cutoff = Date.parse('2030-01-01T00:00:00Z');

  it('time series: scores go with readings; a patient left without readings leaves the list, with their profile unless changed since the cutoff', async () => {
    const store = createSqliteTimeSeriesStore({ path: freshFile('timeseries.sqlite') });
    await store.writeReadings([reading('old-a', 'A', cutoff - 10), reading('old-b', 'B', cutoff - 10), reading('new-b', 'B', cutoff + 10), reading('old-c', 'C', cutoff - 10)]);
    const score = (patientId: string, scoredAt: number) => ({
      patientId, scoredAt, news2Score: 1, news2Level: 'low' as const, riskScore: null, model: null, factors: [], news2Complete: true, news2Missing: [],
    });
    await store.writeRiskScores([score('A', cutoff - 5), score('B', cutoff - 5), score('B', cutoff + 5)]);
    await store.writePatientProfile({ patientId: 'A', spo2Scale: 2, baselineConfusion: false, updatedAt: cutoff - 100, updatedBy: 'dr' });
    await store.writePatientProfile({ patientId: 'C', spo2Scale: 2, baselineConfusion: false, updatedAt: cutoff + 100, updatedBy: 'dr' });

    expect((await store.purgeOlderThan(cutoff)).removed, 'readings and scores removed').toBe(3 + 2);
    expect(await store.listPatients()).toEqual(['B']);
    expect((await store.readRiskScores('B', ALL_TIME)).map((s) => s.scoredAt)).toEqual([cutoff + 5]);
    expect(await store.readPatientProfile('A'), 'profile of a purged patient, unchanged since the cutoff').toBeUndefined();
    expect(await store.readPatientProfile('C'), 'profile changed after the cutoff').toBeDefined();
    await store.close();
  });

  it('time series: a patient with more readings than one purge chunk loses all the old ones and none of the new', async () => {
    const store = createSqliteTimeSeriesStore({ path: freshFile('timeseries.sqlite'), durability: 'normal' });
    const old = Array.from({ length: 5_500 }, (_, i) => reading(`old-${i}`, 'P', cutoff - 10_000 + i));
    await store.writeReadings(old);
    await store.writeReadings([reading('new', 'P', cutoff)]);
    expect((await store.purgeOlderThan(cutoff)).removed).toBe(5_500);
    expect((await store.readReadings('P', ALL_TIME)).map((r) => r.readingId)).toEqual(['new']);
    await store.close();
  });

  it('alert store: an open episode is never removed, however old', async () => {
    const store = createSqliteAlertStore({ path: freshFile('alerts.sqlite') });
    await store.openOnce(alert('still-open', { openedAt: cutoff - 86_400_000 }));
    expect((await store.purgeOlderThan(cutoff)).removed).toBe(0);
    expect((await store.listOpen()).map((a) => a.id)).toEqual(['still-open']);
    await store.close();
  });

  it('warehouse: risk scores and dead letters are purged by their own times; admissions are kept', async () => {
    const warehouse = await createDuckDbWarehouse({ path: freshFile('warehouse.duckdb') });
    await warehouse.provision();
    await warehouse.append('risk_scores', [
      { patient_id: 'P', scored_at: new Date(cutoff - 1), news2_score: 1, news2_level: 'low' },
      { patient_id: 'P', scored_at: new Date(cutoff), news2_score: 1, news2_level: 'low' },
    ]);
    await warehouse.append('dead_letters', [
      { dead_letter_id: 'd-old', received_at: new Date(cutoff - 1), source: 'http', reason: 'x', payload: '{}' },
      { dead_letter_id: 'd-new', received_at: new Date(cutoff + 1), source: 'http', reason: 'x', payload: '{}' },
    ]);
    await warehouse.append('admissions', [{ admission_id: 'a1', patient_id: 'P', admitted_at: new Date(cutoff - 86_400_000) }]);
    expect((await warehouse.purgeOlderThan(cutoff)).removed).toBe(2);
    const counts = (await warehouse.query(`SELECT (SELECT count(*) FROM risk_scores) AS scores, (SELECT count(*) FROM dead_letters) AS dead,
      (SELECT count(*) FROM admissions) AS admissions`)).rows[0];
    expect(counts).toEqual({ scores: 1, dead: 1, admissions: 1 });
    await warehouse.close();
  });
});
