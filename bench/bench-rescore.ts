import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createSqliteTimeSeriesStore } from '../adapters/embedded/timeseries-sqlite.ts';
import { createDuckDbWarehouse } from '../adapters/embedded/warehouse-duckdb.ts';
import { createInMemoryPatientUpdates } from '../core/domain/patient-updates.ts';
import type { VitalReading } from '../core/domain/reading.ts';
import { createLogger } from '../core/observability/logger.ts';
import { createMetrics } from '../core/observability/metrics.ts';
import { loadOnnxRiskModel } from '../models/risk-model-onnx.ts';
import { createKeyedWindows } from '../stream-processor/keyed-window.ts';
import { scorePatients } from '../stream-processor/score-patients.ts';
import type { ScoringDeps } from '../stream-processor/score-patients.ts';
import { percentile, type BenchResult } from './bench-result.ts';

/**
 * Re-scoring a ward from keyed state against reading each window back from the store: 1,000
 * patients with a reading a minute for 6 h (360 each) in one SQLite time series, scored in the
 * processor's rounds of 64 patients. The two ways alternate round by round over the same
 * patients, so both see the same machine load (the figure is their ratio).
 */
export async function benchRescore(options: { patients?: number; rounds?: number } = {}): Promise<BenchResult> {
  const patients = options.patients ?? 1_000;
  const rounds = options.rounds ?? 60;
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-rescore-'));
  const timeseries = createSqliteTimeSeriesStore({ path: path.join(dir, 'timeseries.sqlite') });
  const warehouse = await createDuckDbWarehouse({ path: ':memory:' });
  const model = await loadOnnxRiskModel({ path: path.join(import.meta.dirname, '..', 'models', 'recovery-risk.onnx') });
  try {
    await timeseries.provision();
    await warehouse.provision();
    const ids = Array.from({ length: patients }, (_, p) => `WARD-${String(p).padStart(4, '0')}`);
    const end = Date.now();
    for (let minute = 360; minute > 0; minute -= 30) {
      const batch: VitalReading[] = [];
      for (let m = minute; m > minute - 30; m--) {
        for (const [p, patientId] of ids.entries()) {
          const observedAt = end - m * 60_000;
          batch.push({
            readingId: `bed|${patientId}|${observedAt}`, patientId, deviceId: 'bed', observedAt, receivedAt: observedAt + 300,
            heartRate: 60 + ((p + m) % 60), systolic: 95 + ((p * 3 + m) % 50), diastolic: 60 + (m % 20), temperatureC: 36 + ((p + m) % 25) / 10,
            spo2: 89 + ((p + m) % 11), respiratoryRate: 11 + ((p + m) % 15), onOxygen: (p + m) % 9 === 0, consciousness: (p + m) % 50 === 0 ? 'V' : 'A',
          });
        }
      }
      await timeseries.writeReadings(batch);
    }
    const keyedWindows = createKeyedWindows({ maxReadings: 500_000 });
    const base: ScoringDeps = {
      timeseries, warehouse, updates: createInMemoryPatientUpdates(), metrics: createMetrics({ defaultMetrics: false }),
      logger: createLogger({ level: 'silent' }), retry: { attempts: 1, initialDelayMs: 1, maxDelayMs: 1 }, riskModel: model,
    };
    const keyed: ScoringDeps = { ...base, keyedWindows };
    // Warm the keyed windows (each patient's first score is a miss: a store read that seeds it).
    for (let i = 0; i < patients; i += 64) await scorePatients(keyed, ids.slice(i, i + 64));
    const times = { keyed: [] as number[], store: [] as number[] };
    for (let round = 0; round < rounds; round++) {
      const slice = ids.slice((round * 64) % patients, (round * 64) % patients + 64);
      for (const [name, deps] of (round % 2 === 0 ? [['keyed', keyed], ['store', base]] : [['store', base], ['keyed', keyed]]) as [keyof typeof times, ScoringDeps][]) {
        const started = performance.now();
        await scorePatients(deps, slice);
        times[name].push(performance.now() - started);
      }
    }
    const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const perSecond = (xs: number[]) => (xs.length * 64 * 1000) / total(xs);
    times.keyed.sort((a, b) => a - b);
    times.store.sort((a, b) => a - b);
    return {
      name: 're-scoring 64-patient rounds (6 h windows of 360 readings): keyed state vs store reads, alternating',
      figures: {
        patients, rounds,
        'keyed state (patients/s)': Math.round(perSecond(times.keyed)),
        'store reads (patients/s)': Math.round(perSecond(times.store)),
        'speed-up keyed / store': Number((perSecond(times.keyed) / perSecond(times.store)).toFixed(2)),
        'round p50 keyed / store (ms)': `${percentile(times.keyed, 0.5).toFixed(1)} / ${percentile(times.store, 0.5).toFixed(1)}`,
        'round p99 keyed / store (ms)': `${percentile(times.keyed, 0.99).toFixed(1)} / ${percentile(times.store, 0.99).toFixed(1)}`,
        'keyed state held (readings)': keyedWindows.readingsHeld,
      },
    };
  } finally {
    await model.close();
    await timeseries.close();
    await warehouse.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
