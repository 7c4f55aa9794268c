import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { DuckDBInstance, timestampValue } from '@duckdb/node-api';
import type { DuckDBAppender } from '@duckdb/node-api';
import { createSqliteTimeSeriesStore } from '../adapters/embedded/timeseries-sqlite.ts';
import { createDuckDbWarehouse } from '../adapters/embedded/warehouse-duckdb.ts';
import type { VitalReading } from '../core/domain/reading.ts';
import { vitalsRow } from '../stream-processor/vitals-row.ts';
import type { BenchResult } from './bench-result.ts';

/**
 * Each embedded store alone, writing fresh readings in the processor's batches (1,000), against
 * its engine's raw write of the same rows: SQLite multi-row INSERTs into a table of the same shape
 * (same key, WAL, synchronous FULL, one transaction per batch); DuckDB's appender into a table of
 * the same shape, keyed and not. The gap is what the store's way of writing costs (the merge's
 * read of each held reading, ON CONFLICT, conversion), not the engine.
 */
const BATCH = 1_000;

function readings(count: number, patients: number): VitalReading[] {
  const start = Date.now() - 3_600_000;
  return Array.from({ length: count }, (_, i) => {
    const patientId = `BENCH-${String(i % patients).padStart(4, '0')}`;
    const observedAt = start + Math.floor(i / patients) * 1_000;
    return {
      readingId: `bed|${patientId}|${observedAt}`, patientId, deviceId: 'bed', observedAt, receivedAt: observedAt + 200,
      heartRate: 60 + (i % 50), systolic: 100 + (i % 40), diastolic: 60 + (i % 20), temperatureC: 36 + (i % 20) / 10,
      spo2: 90 + (i % 10), respiratoryRate: 12 + (i % 12), onOxygen: i % 5 === 0, consciousness: 'A',
    };
  });
}

async function rate(rows: number, work: () => Promise<void> | void): Promise<number> {
  const started = performance.now();
  await work();
  return rows / ((performance.now() - started) / 1000);
}

function batches<T>(all: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < all.length; i += BATCH) out.push(all.slice(i, i + BATCH));
  return out;
}

/** SQLite's raw write: 100-row INSERT statements, one transaction per batch. */
function sqliteRaw(file: string, all: readonly VitalReading[], durability: 'full' | 'normal'): void {
  const db = new DatabaseSync(file);
  db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${durability.toUpperCase()};
    CREATE TABLE readings (patient_id TEXT NOT NULL, observed_at INTEGER NOT NULL, reading_id TEXT NOT NULL, device_id TEXT NOT NULL,
      received_at INTEGER NOT NULL, heart_rate REAL, systolic REAL, diastolic REAL, temperature_c REAL, spo2 REAL, respiratory_rate REAL,
      on_oxygen INTEGER, consciousness TEXT, PRIMARY KEY (patient_id, observed_at, reading_id)) WITHOUT ROWID;`);
  const per = 100;
  const insert = db.prepare(`INSERT INTO readings VALUES ${Array.from({ length: per }, () => '(?,?,?,?,?,?,?,?,?,?,?,?,?)').join(',')}`);
  for (const batch of batches(all)) {
    db.exec('BEGIN IMMEDIATE');
    for (let i = 0; i < batch.length; i += per) {
      insert.run(...batch.slice(i, i + per).flatMap((r) => [r.patientId, r.observedAt, r.readingId, r.deviceId, r.receivedAt, r.heartRate,
        r.systolic, r.diastolic, r.temperatureC, r.spo2, r.respiratoryRate, r.onOxygen ? 1 : 0, r.consciousness]));
    }
    db.exec('COMMIT');
  }
  db.close();
}

/** DuckDB's raw write: the appender, one transaction per batch, into `vitals`' shape (with or without its key). */
async function duckdbRaw(file: string, all: readonly VitalReading[], keyed: boolean): Promise<number> {
  const instance = await DuckDBInstance.create(file);
  const c = await instance.connect();
  await c.run(`CREATE TABLE vitals (reading_id VARCHAR NOT NULL, patient_id VARCHAR NOT NULL, device_id VARCHAR NOT NULL,
    observed_at TIMESTAMP NOT NULL, received_at TIMESTAMP NOT NULL, heart_rate DOUBLE, systolic DOUBLE, diastolic DOUBLE,
    temperature_c DOUBLE, spo2 DOUBLE, respiratory_rate DOUBLE, on_oxygen BOOLEAN, consciousness VARCHAR${keyed ? ', PRIMARY KEY (reading_id)' : ''})`);
  const micros = (ms: number) => timestampValue(BigInt(ms) * 1000n);
  const perSecond = await rate(all.length, async () => {
    for (const batch of batches(all)) {
      await c.run('BEGIN TRANSACTION');
      const a: DuckDBAppender = await c.createAppender('vitals');
      for (const r of batch) {
        a.appendVarchar(r.readingId); a.appendVarchar(r.patientId); a.appendVarchar(r.deviceId);
        a.appendTimestamp(micros(r.observedAt)); a.appendTimestamp(micros(r.receivedAt));
        for (const v of [r.heartRate, r.systolic, r.diastolic, r.temperatureC, r.spo2, r.respiratoryRate]) if (v === null) a.appendNull(); else a.appendDouble(v);
        if (r.onOxygen === null) a.appendNull(); else a.appendBoolean(r.onOxygen);
        if (r.consciousness === null) a.appendNull(); else a.appendVarchar(r.consciousness);
        a.endRow();
      }
      a.closeSync();
      await c.run('COMMIT');
    }
  });
  c.closeSync();
  instance.closeSync();
  return perSecond;
}

export async function benchStores(options: { readings?: number; patients?: number } = {}): Promise<BenchResult> {
  const all = readings(options.readings ?? 100_000, options.patients ?? 1_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-stores-'));
  try {
    const sqliteFigures: Record<string, number> = {};
    // `full` (the default) waits for a disk sync per commit; `normal` shows the CPU cost alone.
    for (const durability of ['full', 'normal'] as const) {
      const timeseries = createSqliteTimeSeriesStore({ path: path.join(dir, `timeseries-${durability}.sqlite`), durability });
      await timeseries.provision();
      const store = await rate(all.length, async () => {
        for (const batch of batches(all)) await timeseries.writeReadings(batch);
      });
      await timeseries.close();
      const sqlite = await rate(all.length, () => sqliteRaw(path.join(dir, `raw-${durability}.sqlite`), all, durability));
      sqliteFigures[`SQLite time series, synchronous ${durability}: writeReadings (readings/s)`] = Math.round(store);
      sqliteFigures[`SQLite raw, synchronous ${durability}: 100-row INSERTs, same table (rows/s)`] = Math.round(sqlite);
      sqliteFigures[`ratio time series / raw SQLite (${durability})`] = Number((store / sqlite).toFixed(2));
    }

    const warehouse = await createDuckDbWarehouse({ path: path.join(dir, 'warehouse.duckdb') });
    await warehouse.provision();
    const rows = batches(all).map((b) => b.map(vitalsRow));
    const append = await rate(all.length, async () => {
      for (const batch of rows) await warehouse.append('vitals', batch);
    });
    await warehouse.close();
    const appenderKeyed = await duckdbRaw(path.join(dir, 'raw-keyed.duckdb'), all, true);
    const appenderPlain = await duckdbRaw(path.join(dir, 'raw-plain.duckdb'), all, false);

    return {
      name: 'embedded stores alone vs their engines (batches of 1,000 fresh readings)',
      figures: {
        readings: all.length,
        ...sqliteFigures,
        'DuckDB warehouse: append vitals (rows/s)': Math.round(append),
        'DuckDB raw appender, keyed table (rows/s)': Math.round(appenderKeyed),
        'DuckDB raw appender, no key (rows/s)': Math.round(appenderPlain),
        'ratio warehouse / raw appender (keyed)': Number((append / appenderKeyed).toFixed(2)),
        'ratio warehouse / raw appender (no key)': Number((append / appenderPlain).toFixed(2)),
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
