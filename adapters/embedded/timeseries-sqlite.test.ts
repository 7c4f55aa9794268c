import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeTimeSeriesContract } from '../../core/contracts/timeseries-contract.ts';
import type { VitalReading } from '../../core/domain/reading.ts';
import { mergeReadings } from '../../core/domain/merge-reading.ts';
import { createSqliteTimeSeriesStore } from './timeseries-sqlite.ts';
import { budget } from '../../core/contracts/wait-for.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'vigil-ts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeTimeSeriesContract('sqlite', async () => createSqliteTimeSeriesStore({ path: path.join(dir, 'contract', 'timeseries.sqlite') }));

const reading = (i: number): VitalReading => ({
  readingId: `r${i}`, patientId: `P${i % 24}`, deviceId: 'bed-1', observedAt: 1_800_000_000_000 + i, receivedAt: 1_800_000_000_000 + i,
  heartRate: 72, systolic: 120, diastolic: 80, temperatureC: 37, spo2: 97, respiratoryRate: 16, onOxygen: false, consciousness: 'A',
});

describe('sqlite time-series store', () => {
  it('merges a batch written in multi-row statements exactly as reading by reading: parts, repeats and conflicts across statement boundaries', async () => {
    const store = createSqliteTimeSeriesStore({ path: path.join(dir, 'multirow', 'timeseries.sqlite') });
    const part = (i: number, vitals: Partial<VitalReading>): VitalReading => ({
      ...reading(i), heartRate: null, systolic: null, diastolic: null, temperatureC: null, spo2: null, respiratoryRate: null, onOxygen: null, consciousness: null, ...vitals,
    });
    // Held before: readings 0..149 with a pulse only.
    const before = Array.from({ length: 150 }, (_, i) => part(i, { heartRate: 60 + (i % 30) }));
    await store.writeReadings(before);
    // Then 330 messages (four statements' worth): new readings, blood pressure filling held ones,
    // a pulse differing from the held one (conflict), the same reading twice in one batch.
    const batch: VitalReading[] = [];
    for (let i = 0; i < 330; i++) {
      if (i % 3 === 0) batch.push(part(i, { systolic: 110 + (i % 20), diastolic: 70 }));
      else if (i % 3 === 1) batch.push(part(i, { heartRate: 61 + (i % 30) }));
      else batch.push(reading(i), part(i, { spo2: 91 }));
    }
    const written = await store.writeReadings(batch);
    const expected = mergeReadings(batch, mergeReadings(before).merged);
    expect(written.stored, 'stored, once per reading id in first-appearance order').toStrictEqual([...expected.merged.values()]);
    expect(written.conflicts.map(({ index: _index, ...c }) => c), 'conflicts').toStrictEqual(expected.conflicts);
    const all = (await Promise.all(Array.from({ length: 24 }, (_, p) => store.readReadings(`P${p}`, { from: 0, to: 2_000_000_000_000 })))).flat();
    const held = new Map(mergeReadings(before).merged);
    for (const [id, r] of expected.merged) held.set(id, r);
    expect(new Map(all.map((r) => [r.readingId, r])), 'what a read returns').toStrictEqual(held);
    expect((await store.listPatients()).length).toBe(24);
    await store.close();
  });

  it('opens a file from before NEWS2 completeness and baseline confusion: old scores read as incomplete, old profiles as no baseline', async () => {
    const file = path.join(dir, 'older', 'timeseries.sqlite');
    mkdirSync(path.dirname(file), { recursive: true });
    const old = new DatabaseSync(file);
    old.exec(`CREATE TABLE risk_scores (patient_id TEXT NOT NULL, scored_at INTEGER NOT NULL, news2_score INTEGER NOT NULL, news2_level TEXT NOT NULL,
        risk_score REAL, model TEXT, factors TEXT NOT NULL, PRIMARY KEY (patient_id, scored_at)) WITHOUT ROWID;
      CREATE TABLE profiles (patient_id TEXT PRIMARY KEY, spo2_scale INTEGER NOT NULL, updated_at INTEGER NOT NULL, updated_by TEXT NOT NULL) WITHOUT ROWID;
      INSERT INTO risk_scores VALUES ('P1', 1000, 0, 'low', NULL, NULL, '[]');
      INSERT INTO profiles VALUES ('P1', 2, 1000, 'dr-old');`);
    old.close();
    const store = createSqliteTimeSeriesStore({ path: file });
    expect(await store.latestRiskScore('P1')).toMatchObject({ news2Score: 0, news2Complete: false, news2Missing: [] });
    expect(await store.readPatientProfile('P1')).toEqual({ patientId: 'P1', spo2Scale: 2, baselineConfusion: false, updatedAt: 1000, updatedBy: 'dr-old' });
    await store.writeRiskScores([{ patientId: 'P1', scoredAt: 2000, news2Score: 1, news2Level: 'low', news2Complete: true, news2Missing: [], riskScore: null, model: null, factors: [] }]);
    expect(await store.latestRiskScore('P1')).toMatchObject({ news2Complete: true });
    await store.close();
  });

  it('keeps what one instance wrote for another instance on the same file', async () => {
    const file = path.join(dir, 'shared', 'timeseries.sqlite');
    const writer = createSqliteTimeSeriesStore({ path: file });
    await writer.writeReadings([reading(1)]);
    await writer.close();
    const reader = createSqliteTimeSeriesStore({ path: file });
    expect(await reader.latestReading('P1')).toEqual(reading(1));
    expect(await reader.listPatients()).toEqual(['P1']);
    await reader.close();
    await expect(reader.listPatients()).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
  });

  it('writes batches of readings quickly (throughput figure, no assertion on speed)', async () => {
    const store = createSqliteTimeSeriesStore({ path: path.join(dir, 'speed', 'timeseries.sqlite') });
    const total = 200_000;
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    for (let i = 0; i < total; i += 2_000) await store.writeReadings(Array.from({ length: 2_000 }, (_, j) => reading(i + j)));
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    console.log(`sqlite time series: ${total} readings in batches of 2 000 in ${seconds.toFixed(2)} s = ${Math.round(total / seconds)} readings/s wall, ${Math.round(total / ((cpu.user + cpu.system) / 1e6))} per CPU-second`);
    expect(await store.listPatients()).toHaveLength(24);
    await store.close();
  }, budget(60_000));
});
