import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteTimeSeriesStore } from '../adapters/embedded/timeseries-sqlite.ts';
import { createDuckDbWarehouse } from '../adapters/embedded/warehouse-duckdb.ts';
import type { PatientSummary } from '../core/domain/patient-summary.ts';
import { createInMemoryPatientUpdates } from '../core/domain/patient-updates.ts';
import type { VitalReading } from '../core/domain/reading.ts';
import { createLogger } from '../core/observability/logger.ts';
import { createMetrics } from '../core/observability/metrics.ts';
import type { TimeSeriesStore } from '../core/ports/timeseries-store.ts';
import type { Warehouse } from '../core/ports/warehouse.ts';
import { MODEL_WINDOW_MS } from '../core/ports/risk-model.ts';
import { loadOnnxRiskModel } from '../models/risk-model-onnx.ts';
import type { OnnxRiskModel } from '../models/risk-model-onnx.ts';
import { createKeyedWindows } from './keyed-window.ts';
import type { KeyedWindows } from './keyed-window.ts';
import { scorePatients } from './score-patients.ts';

const MODEL = path.join(import.meta.dirname, '..', 'models', 'recovery-risk.onnx');
const T0 = Date.parse('2026-11-22T10:00:00Z');
const MINUTE = 60_000;

function reading(patientId: string, minute: number, vitals: Partial<VitalReading>, device = 'bed-1'): VitalReading {
  const observedAt = T0 + minute * MINUTE;
  return {
    readingId: `${device}|${patientId}|${observedAt}`, patientId, deviceId: device, observedAt, receivedAt: observedAt + 500,
    heartRate: null, systolic: null, diastolic: null, temperatureC: null, spo2: null, respiratoryRate: null, onOxygen: null, consciousness: null,
    ...vitals,
  };
}

const full = (patientId: string, minute: number, k: number) => reading(patientId, minute, {
  heartRate: 70 + (k % 50), systolic: 100 + (k % 40), diastolic: 60 + (k % 20), temperatureC: 36.1 + (k % 30) / 10,
  spo2: 88 + (k % 12), respiratoryRate: 12 + (k % 16), onOxygen: k % 7 === 0, consciousness: k % 11 === 0 ? 'V' : 'A',
});

/**
 * A replay with what a bus does to a stream: in-order readings, whole batches redelivered,
 * parts of one reading in separate messages, late readings inside the window, a reading older
 * than the window, a conflicting value, and more than 6 h of readings so windows slide.
 */
function replay(): VitalReading[][] {
  const batches: VitalReading[][] = [];
  const patients = ['P1', 'P2', 'P3'];
  let k = 0;
  for (let minute = 0; minute < 8 * 60; minute += 7) {
    const batch: VitalReading[] = [];
    for (const p of patients) {
      if (p === 'P3' && minute % 3 === 0) continue;
      batch.push(full(p, minute, k++));
    }
    // Parts of one reading: pulse now, blood pressure in a later batch.
    batch.push(reading('P2', minute + 3, { heartRate: 90 + (minute % 9) }, 'bed-9'));
    if (minute % 21 === 0) batches.push([...batch].reverse()); // and the same batch redelivered, reordered
    if (minute >= 14) batch.push(reading('P2', minute - 11, { systolic: 120 + (minute % 5), diastolic: 80 }, 'bed-9'));
    // Late: an hour back (inside the window) and 7 h back (older than any window).
    if (minute % 28 === 0) batch.push(full('P1', minute - 60, k++), full('P3', minute - 7 * 60, k++));
    // A conflicting value for a reading already stored (not stored; the first value stands).
    if (minute >= 7 && minute % 35 === 0) batch.push(reading('P1', minute - 7, { heartRate: 199 }));
    batches.push(batch);
  }
  return batches;
}

interface Side {
  dir: string;
  timeseries: TimeSeriesStore;
  warehouse: Warehouse;
  published: PatientSummary[];
  keyedWindows?: KeyedWindows;
}

describe('keyed state (keyed-window.ts)', () => {
  let model: OnnxRiskModel;
  const sides: Side[] = [];
  beforeAll(async () => {
    model = await loadOnnxRiskModel({ path: MODEL });
  });
  afterAll(async () => {
    await model.close();
    for (const side of sides) {
      await side.timeseries.close();
      await side.warehouse.close();
      rmSync(side.dir, { recursive: true, force: true });
    }
  });

  async function side(keyed: KeyedWindows | undefined): Promise<Side> {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-keyed-'));
    const timeseries = await createSqliteTimeSeriesStore({ path: path.join(dir, 'timeseries.sqlite') });
    const warehouse = await createDuckDbWarehouse({ path: ':memory:' });
    await timeseries.provision();
    await warehouse.provision();
    const s: Side = { dir, timeseries, warehouse, published: [], ...(keyed ? { keyedWindows: keyed } : {}) };
    sides.push(s);
    return s;
  }

  async function score(s: Side, patients: string[]): Promise<void> {
    const updates = createInMemoryPatientUpdates();
    updates.subscribe((u) => s.published.push(u));
    await scorePatients({
      timeseries: s.timeseries, warehouse: s.warehouse, updates, metrics: createMetrics({ defaultMetrics: false }),
      logger: createLogger({ level: 'silent' }), retry: { attempts: 1, initialDelayMs: 1, maxDelayMs: 1 }, riskModel: model,
      ...(s.keyedWindows ? { keyedWindows: s.keyedWindows } : {}),
    }, patients);
  }

  it('scores from keyed state exactly as from store reads, bit for bit, over a replay with duplicates, parts and late readings', async () => {
    // A bound below the readings of three 6 h windows: eviction and re-seeding happen along the way.
    const keyed = createKeyedWindows({ maxReadings: 120 });
    const fromState = await side(keyed);
    const fromStore = await side(undefined);
    let warmScores = 0;
    for (const batch of replay()) {
      const patients = [...new Set(batch.map((r) => r.patientId))];
      for (const s of [fromState, fromStore]) {
        const written = await s.timeseries.writeReadings(batch);
        s.keyedWindows?.update(written.stored);
      }
      warmScores += patients.filter((p) => keyed.window(p, 2_000) !== undefined).length;
      await score(fromState, patients);
      await score(fromStore, patients);
    }
    expect(fromState.published.length, 'summaries published').toBeGreaterThan(150);
    expect(warmScores, 'scores served from a warm window (not a store read)').toBeGreaterThan(fromState.published.length / 2);
    expect(fromState.published.length - warmScores, 'misses beyond the three first seeds (evictions re-seeded)').toBeGreaterThan(3);
    // toStrictEqual: every number the same double, every field the same presence.
    expect(fromState.published).toStrictEqual(fromStore.published);
    for (const patient of ['P1', 'P2', 'P3']) {
      const range = { from: 0, to: T0 + 24 * 60 * MINUTE };
      expect(await fromState.timeseries.readRiskScores(patient, range), `stored scores of ${patient}`)
        .toStrictEqual(await fromStore.timeseries.readRiskScores(patient, range));
    }
    expect(keyed.readingsHeld, 'readings held, within the bound').toBeLessThanOrEqual(120);
  });

  it('keeps a batch stored while the window is read from the store, and drops what falls out of the window', () => {
    const keyed = createKeyedWindows({ maxReadings: 1_000 });
    const first = full('P1', 0, 1);
    const meanwhile = full('P1', 1, 2);
    keyed.beginSeed('P1');
    keyed.update([meanwhile]); // stored after the store read began, before it returned
    keyed.seed('P1', first.observedAt, [first], 2_000);
    expect(keyed.window('P1', 2_000)?.readings.map((r) => r.readingId)).toEqual([first.readingId, meanwhile.readingId]);

    const later = full('P1', MODEL_WINDOW_MS / MINUTE + 1, 3);
    keyed.update([later]);
    expect(keyed.window('P1', 2_000), 'the window after the newest reading moved on 6 h').toStrictEqual({ now: later.observedAt, readings: [meanwhile, later] });
    keyed.update([full('P1', 0, 4)]); // older than the window: never scored again
    expect(keyed.readingsHeld).toBe(2);
  });

  it('misses for an unknown patient and for a window truncated at the read limit', () => {
    const keyed = createKeyedWindows({ maxReadings: 1_000 });
    expect(keyed.window('P9', 2_000)).toBeUndefined();
    const read = [full('P1', 0, 1), full('P1', 1, 2), full('P1', 2, 3)];
    keyed.beginSeed('P1');
    keyed.seed('P1', read[2]!.observedAt, read, 3);
    expect(keyed.window('P1', 3), 'a truncated read does not cover the window').toBeUndefined();
  });
});
