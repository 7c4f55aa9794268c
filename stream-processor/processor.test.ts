import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteBus } from '../adapters/embedded/bus-sqlite.ts';
import { createSqliteTimeSeriesStore } from '../adapters/embedded/timeseries-sqlite.ts';
import { createDuckDbWarehouse } from '../adapters/embedded/warehouse-duckdb.ts';
import type { PatientSummary } from '../core/domain/patient-summary.ts';
import { createInMemoryPatientUpdates } from '../core/domain/patient-updates.ts';
import { toRawReading } from '../core/domain/validate-ingest.ts';
import { VigilError } from '../core/errors.ts';
import { createLogger } from '../core/observability/logger.ts';
import { createMetrics } from '../core/observability/metrics.ts';
import type { Bus, OutgoingMessage } from '../core/ports/bus.ts';
import type { TimeSeriesStore } from '../core/ports/timeseries-store.ts';
import type { Warehouse } from '../core/ports/warehouse.ts';
import { delay, eventually as waitUntil } from '../core/contracts/wait-for.ts';
import { CONTENT_TYPE_JSON, READING_ATTRIBUTES, encodeReading } from '../core/wire/reading-codec.ts';
import type { Processor, ProcessorSettings } from './processor.ts';
import { startProcessor } from './processor.ts';
import { createWarehouseAdmissionLookup } from './admission-context.ts';
import type { AdmissionLookup } from './admission-context.ts';
import type { RiskModel } from '../core/ports/risk-model.ts';
import { MODEL_WINDOW_MS } from '../core/ports/risk-model.ts';
import { loadOnnxRiskModel } from '../models/risk-model-onnx.ts';

const TOPIC = 'vigil-readings';
const SUBSCRIPTION = 'vigil-processor';
const DEAD_TOPIC = 'vigil-readings-dead';
const T0 = Date.parse('2026-11-22T10:00:00Z');

const settings: ProcessorSettings = {
  maxBatchSize: 100, maxBatchWaitMs: 10, maxInFlight: 1000, ackDeadlineMs: 5_000, maxDeliveryAttempts: 50,
  rescoreDebounceMs: 20, topic: TOPIC, subscription: SUBSCRIPTION, deadLetterTopic: DEAD_TOPIC,
  retry: { attempts: 2, initialDelayMs: 5, maxDelayMs: 10 },
};

interface Rig {
  dir: string;
  bus: Bus;
  timeseries: TimeSeriesStore;
  warehouse: Warehouse;
  updates: ReturnType<typeof createInMemoryPatientUpdates>;
  metrics: ReturnType<typeof createMetrics>;
  processors: Processor[];
  /** Everything the processors logged, one JSON line each. */
  log: string[];
}

const rigs: Rig[] = [];
afterEach(async () => {
  for (const rig of rigs.splice(0)) {
    for (const p of rig.processors) await p.stop();
    await rig.bus.close();
    await rig.timeseries.close();
    await rig.warehouse.close();
    rmSync(rig.dir, { recursive: true, force: true });
  }
});

async function createRig(): Promise<Rig> {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-processor-'));
  const logger = createLogger({ level: 'silent' });
  const bus = await createSqliteBus({ path: path.join(dir, 'bus.sqlite'), logger });
  const timeseries = await createSqliteTimeSeriesStore({ path: path.join(dir, 'timeseries.sqlite') });
  const warehouse = await createDuckDbWarehouse({ path: path.join(dir, 'warehouse.duckdb') });
  await bus.provision([
    { topic: TOPIC, subscriptions: [{ name: SUBSCRIPTION, ackDeadlineMs: settings.ackDeadlineMs, deadLetterTopic: DEAD_TOPIC, maxDeliveryAttempts: settings.maxDeliveryAttempts }] },
    { topic: DEAD_TOPIC, subscriptions: [{ name: `${SUBSCRIPTION}-dead` }] },
  ]);
  await timeseries.provision();
  await warehouse.provision();
  const rig: Rig = { dir, bus, timeseries, warehouse, updates: createInMemoryPatientUpdates(), metrics: createMetrics({ defaultMetrics: false }), processors: [], log: [] };
  rigs.push(rig);
  return rig;
}

async function start(rig: Rig, overrides: { warehouse?: Warehouse; timeseries?: TimeSeriesStore; riskModel?: RiskModel; admissions?: AdmissionLookup; settings?: Partial<ProcessorSettings> } = {}): Promise<Processor> {
  const processor = await startProcessor({
    bus: rig.bus, timeseries: overrides.timeseries ?? rig.timeseries, warehouse: overrides.warehouse ?? rig.warehouse, updates: rig.updates,
    metrics: rig.metrics, logger: createLogger({ level: 'debug', destination: { write: (line: string) => { rig.log.push(line); } } }), settings: { ...settings, ...overrides.settings },
    ...(overrides.riskModel ? { riskModel: overrides.riskModel } : {}),
    ...(overrides.admissions ? { admissions: overrides.admissions } : {}),
  });
  rig.processors.push(processor);
  return processor;
}

/** An ingest body (the README's "A reading") through the real edge check, Avro-encoded as the edge publishes it. */
function avroMessage(body: Record<string, unknown>): OutgoingMessage {
  const result = toRawReading({ deviceId: 'bed-1', patientId: 'P1', observedAt: T0, ...body }, { receivedAt: T0 + 500, source: 'json' });
  if (!result.ok) throw new Error(`test reading invalid: ${JSON.stringify(result.errors)}`);
  return { data: encodeReading(result.reading), attributes: READING_ATTRIBUTES, orderingKey: result.reading.patientId };
}

function jsonMessage(body: unknown): OutgoingMessage {
  return { data: Buffer.from(JSON.stringify(body)), attributes: { 'content-type': CONTENT_TYPE_JSON } };
}

async function rows(warehouse: Warehouse, sql: string) {
  return (await warehouse.query(sql)).rows;
}

/** Waits (within a budget scaled for slow machines) until the probed value is accepted; a timeout quotes both functions and the last value. */
function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  return waitUntil(`${String(probe)} to satisfy ${String(accept)}`, probe, accept, timeoutMs);
}

async function counter(rig: Rig, name: string): Promise<number> {
  const metric = await rig.metrics.registry.getSingleMetric(name)!.get();
  return metric.values.reduce((sum, v) => sum + v.value, 0);
}

async function backendUp(rig: Rig, backend: string): Promise<number | undefined> {
  const metric = await rig.metrics.registry.getSingleMetric('vigil_backend_up')!.get();
  return metric.values.find((v) => v.labels.backend === backend)?.value;
}

const allReadings = (rig: Rig, patientId = 'P1') => rig.timeseries.readReadings(patientId, { from: 0, to: T0 + 86_400_000 });

describe('stream processor on the embedded adapters', () => {
  it('splits blood pressure and converts °F before storing in both stores', async () => {
    const rig = await createRig();
    await start(rig);
    await rig.bus.publish(TOPIC, [avroMessage({ bloodPressure: '130/85', temperature: 100.4, temperatureUnit: 'F', heartRate: 88 })]);

    const [stored] = await eventually(() => allReadings(rig), (r) => r.length === 1);
    expect(stored).toMatchObject({ patientId: 'P1', deviceId: 'bed-1', observedAt: T0, systolic: 130, diastolic: 85, temperatureC: 38, heartRate: 88, spo2: null });
    const vitals = await eventually(() => rows(rig.warehouse, 'SELECT * FROM vitals'), (r) => r.length === 1);
    expect(vitals[0]).toMatchObject({ reading_id: stored!.readingId, patient_id: 'P1', systolic: 130, diastolic: 85, temperature_c: 38, heart_rate: 88, spo2: null });
    expect((vitals[0]!.observed_at as Date).getTime()).toBe(T0);
  });

  it('dead-letters malformed input with its reason and payload, and keeps processing what follows', async () => {
    const rig = await createRig();
    await start(rig);
    const implausible = { deviceId: 'bed-2', patientId: 'P2', observedAt: '2026-11-22T10:00:00Z', heartRate: 900, bloodPressure: '120/' };
    const garbage = new Uint8Array([0xde, 0xad, 0xbe, 0xef]);
    await rig.bus.publish(TOPIC, [jsonMessage(implausible), { data: garbage, attributes: READING_ATTRIBUTES }]);
    await rig.bus.publish(TOPIC, [avroMessage({ heartRate: 70 })]);

    const letters = await eventually(() => rows(rig.warehouse, 'SELECT * FROM dead_letters ORDER BY source'), (r) => r.length === 2);
    expect(letters[0]).toMatchObject({
      source: 'bus', field: 'payload', reason: 'payload is not a valid Avro reading', patient_id: null,
      payload: `base64:${Buffer.from(garbage).toString('base64')}`,
    });
    expect(letters[1]).toMatchObject({
      source: 'json', field: 'heartRate,bloodPressure', patient_id: 'P2', payload: JSON.stringify(implausible),
      reason: 'heartRate must be between 20 and 300 bpm; bloodPressure must look like 120/80 (systolic/diastolic mmHg)',
    });
    await eventually(() => allReadings(rig), (r) => r.length === 1);
    expect(await allReadings(rig, 'P2')).toEqual([]);
    const metrics = await rig.metrics.registry.getSingleMetricAsString('vigil_dead_letters_total');
    expect(metrics).toContain('reason="implausible:heartRate"} 1');
    expect(metrics).toContain('reason="undecodable:payload"} 1');
  });

  it('stores a reading delivered twice once in each store, and a bad message sent twice as one dead letter', async () => {
    const rig = await createRig();
    await start(rig);
    const reading = avroMessage({ heartRate: 75, spo2: 96 });
    const bad = jsonMessage({ deviceId: 'bed-1', patientId: 'P1', observedAt: T0, spo2: 140 });
    await rig.bus.publish(TOPIC, [reading, reading, bad]);
    await eventually(() => rows(rig.warehouse, 'SELECT * FROM vitals'), (r) => r.length === 1);
    await rig.bus.publish(TOPIC, [reading, bad]);
    // Every delivery is counted once, as processed or as a duplicate within its batch, however the bus batches them.
    await eventually(async () => await counter(rig, 'vigil_readings_processed_total') + await counter(rig, 'vigil_readings_duplicate_total'), (n) => n === 3);
    await eventually(() => counter(rig, 'vigil_dead_letters_total'), (n) => n === 2);

    expect(await rows(rig.warehouse, 'SELECT count(*)::INT AS n FROM vitals')).toEqual([{ n: 1 }]);
    expect(await allReadings(rig)).toHaveLength(1);
    expect(await rows(rig.warehouse, 'SELECT count(*)::INT AS n FROM dead_letters')).toEqual([{ n: 1 }]);
  });

  it('merges two messages of one reading (NIBP, then pulse) into one reading in both stores; a later different pulse is a conflicting-value dead letter; redelivery changes nothing', async () => {
    const rig = await createRig();
    await start(rig);
    const nibp = avroMessage({ bloodPressure: '150/92' });
    const pulse = avroMessage({ heartRate: 88 });
    const otherPulse = jsonMessage({ deviceId: 'bed-1', patientId: 'P1', observedAt: T0, heartRate: 120, spo2: 95 });
    await rig.bus.publish(TOPIC, [nibp]);
    await eventually(() => allReadings(rig), (r) => r.length === 1);
    await rig.bus.publish(TOPIC, [pulse]);
    await eventually(() => allReadings(rig), (r) => r[0]?.heartRate === 88);
    await rig.bus.publish(TOPIC, [otherPulse]);
    await eventually(() => allReadings(rig), (r) => r[0]?.spo2 === 95);
    const letters = await eventually(() => rows(rig.warehouse, 'SELECT reason, field, patient_id, payload FROM dead_letters'), (r) => r.length === 1);
    expect(letters).toEqual([{ reason: 'conflicting-value', field: 'heartRate', patient_id: 'P1', payload: JSON.stringify({ deviceId: 'bed-1', patientId: 'P1', observedAt: T0, heartRate: 120, spo2: 95 }) }]);

    const merged = { patientId: 'P1', observedAt: T0, systolic: 150, diastolic: 92, heartRate: 88, spo2: 95, temperatureC: null };
    expect(await allReadings(rig)).toEqual([expect.objectContaining(merged)]);
    const warehouseRow = { patient_id: 'P1', systolic: 150, diastolic: 92, heart_rate: 88, spo2: 95, temperature_c: null };
    expect(await rows(rig.warehouse, 'SELECT * FROM vitals')).toEqual([expect.objectContaining(warehouseRow)]);

    // Every message again, in another order, in one batch: nothing changes, no second dead letter.
    await rig.bus.publish(TOPIC, [otherPulse, pulse, nibp]);
    await eventually(async () => await counter(rig, 'vigil_readings_processed_total') + await counter(rig, 'vigil_readings_duplicate_total'), (n) => n === 6);
    expect(await allReadings(rig)).toEqual([expect.objectContaining(merged)]);
    expect(await rows(rig.warehouse, 'SELECT * FROM vitals')).toEqual([expect.objectContaining(warehouseRow)]);
    expect(await rows(rig.warehouse, 'SELECT count(*)::INT AS n FROM dead_letters')).toEqual([{ n: 1 }]);
    expect(await rig.metrics.registry.getSingleMetricAsString('vigil_dead_letters_total')).toContain('reason="conflicting-value:heartRate"');
  });

  it('holds a batch through a warehouse outage longer than the whole redelivery budget: not nacked, not dead-lettered, stored once when it returns', async () => {
    const rig = await createRig();
    let refused = 0;
    let down = true;
    const real = rig.warehouse;
    // The real warehouse, except that it refuses vitals while `down`: a store outage, injected at the port.
    const broken: Warehouse = {
      kind: real.kind, dialect: real.dialect,
      provision: () => real.provision(), replaceRows: (t, r) => real.replaceRows(t, r), query: (q, p) => real.query(q, p),
      namedQuery: (n, p, l) => real.namedQuery(n, p, l),
      ping: () => real.ping(), close: () => real.close(),
      append: async (table, batch) => {
        if (table === 'vitals' && down) {
          refused++;
          throw new VigilError('BACKEND_UNAVAILABLE', `cannot append ${batch.map((r) => r.patient_id).join(',')} (test outage)`);
        }
        return real.append(table, batch);
      },
    };
    // The budget shrunk: 1 s deadline, 2 attempts. Nacking or letting the lease run out would dead-letter within ~3 s.
    const budget = { ackDeadlineMs: 1_000, maxDeliveryAttempts: 2 };
    await rig.bus.provision([{ topic: TOPIC, subscriptions: [{ name: SUBSCRIPTION, ...budget, deadLetterTopic: DEAD_TOPIC }] }]);
    const deadLettered: string[] = [];
    const watcher = await rig.bus.subscribe({ topic: DEAD_TOPIC, subscription: `${SUBSCRIPTION}-dead`, maxBatchSize: 10, maxBatchWaitMs: 0, maxInFlight: 10, ackDeadlineMs: 5_000 }, async (batch) => {
      for (const m of batch) { deadLettered.push(m.id); await m.ack(); }
    });
    await start(rig, { warehouse: broken, settings: { ...budget, rescoreDebounceMs: 60_000, storeBackoff: { initialMs: 20, maxMs: 200 } } });
    await rig.bus.publish(TOPIC, [avroMessage({ patientId: 'PATIENT-7731', heartRate: 70 })]);

    await eventually(async () => refused, (n) => n > 5);
    await delay(4 * budget.ackDeadlineMs); // the outage outlasts the redelivery budget (the point of the test)
    expect(await backendUp(rig, real.kind)).toBe(0);
    expect(await counter(rig, 'vigil_store_write_retries_total')).toBeGreaterThan(5);
    expect(await counter(rig, 'vigil_processor_oldest_unacked_seconds')).toBeGreaterThan(1);
    down = false;

    await eventually(() => rows(rig.warehouse, 'SELECT count(*)::INT AS n FROM vitals'), (r) => r[0]?.n === 1);
    expect(await allReadings(rig, 'PATIENT-7731')).toHaveLength(1);
    // Counted once the batch is acked, which follows the warehouse's commit: a moment after the row is visible.
    expect(await eventually(() => counter(rig, 'vigil_readings_processed_total'), (n) => n > 0)).toBe(1);
    expect(await backendUp(rig, real.kind)).toBe(1);
    await delay(2 * budget.ackDeadlineMs);
    expect(deadLettered, 'messages dead-lettered by the outage').toEqual([]);
    expect(await counter(rig, 'vigil_readings_duplicate_total')).toBe(0);
    await watcher.close();
    // Logged once going down and once coming back, never per retry or per message, and without the backend's message (it quoted the patient id).
    const log = rig.log.join('');
    expect(log.split('holding the batch').length - 1).toBe(1);
    expect(log.split('store answers again').length - 1).toBe(1);
    expect(log).not.toContain('nacked for redelivery');
    expect(log).toContain('BACKEND_UNAVAILABLE');
    expect(log).not.toContain('PATIENT-7731');
  });

  it('holds through a time-series outage; stop() during it leaves the batch to the next processor, which stores it once in both stores', async () => {
    const rig = await createRig();
    let refused = 0;
    // The real store, except that reading writes fail: an outage injected at the port.
    const broken = new Proxy(rig.timeseries, {
      get(target, key) {
        if (key === 'writeReadings') {
          return async () => {
            refused++;
            throw new VigilError('BACKEND_UNAVAILABLE', 'time-series store down (test)');
          };
        }
        const value: unknown = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const failing = await start(rig, { timeseries: broken, settings: { storeBackoff: { initialMs: 10, maxMs: 50 } } });
    await rig.bus.publish(TOPIC, [avroMessage({ heartRate: 70 })]);
    await eventually(async () => refused, (n) => n > 2);
    expect(failing.downBackends()).toEqual([rig.timeseries.kind]);
    await failing.stop();
    expect(await allReadings(rig)).toEqual([]);

    await start(rig);
    await eventually(() => allReadings(rig), (r) => r.length === 1);
    // The warehouse is written after the time-series store (it takes the merged reading).
    await eventually(() => rows(rig.warehouse, 'SELECT count(*)::INT AS n FROM vitals'), (r) => r[0]?.n === 1);
  });

  it('a store that rejects the data (not retriable) is not held: the batch is nacked as before', async () => {
    const rig = await createRig();
    let calls = 0;
    const real = rig.warehouse;
    const rejecting: Warehouse = {
      kind: real.kind, dialect: real.dialect,
      provision: () => real.provision(), replaceRows: (t, r) => real.replaceRows(t, r), query: (q, p) => real.query(q, p),
      namedQuery: (n, p, l) => real.namedQuery(n, p, l),
      ping: () => real.ping(), close: () => real.close(),
      append: async (table, batch) => {
        if (table === 'vitals') {
          calls++;
          throw new VigilError('BACKEND_REJECTED', 'schema mismatch (test)');
        }
        return real.append(table, batch);
      },
    };
    const failing = await start(rig, { warehouse: rejecting });
    await rig.bus.publish(TOPIC, [avroMessage({ heartRate: 70 })]);
    // More than one call means the bus redelivered after a nack (a rejected write is tried once per delivery).
    await eventually(async () => calls, (n) => n > 1);
    await failing.stop();
    expect(rig.log.join('')).toContain('batch not stored; nacked for redelivery');
    expect(await counter(rig, 'vigil_store_write_retries_total')).toBe(0);
  });

  it('scores NEWS2 and publishes the patient summary as soon as the reading is stored, not a debounce later', async () => {
    const rig = await createRig();
    const received: PatientSummary[] = [];
    rig.updates.subscribe((u) => received.push(u));
    // A minute of debounce: a summary that waited for a timer would come far outside the budget below.
    await start(rig, { settings: { rescoreDebounceMs: 60_000 } });
    // RR 22 → 2, SpO2 95 → 1, air → 0, systolic 105 → 1, pulse 95 → 1, alert → 0, 38.5 °C → 1: NEWS2 6, medium.
    await rig.bus.publish(TOPIC, [avroMessage({
      respiratoryRate: 22, spo2: 95, onOxygen: false, bloodPressure: '105/70', heartRate: 95, consciousness: 'A', temperature: 38.5,
    })]);
    await eventually(() => allReadings(rig), (r) => r.length === 1, 10_000);
    // Well inside the minute of debounce however busy the machine (idle, it takes milliseconds).
    const [summary] = await eventually(async () => received, (r) => r.length > 0, 10_000);
    expect(summary).toMatchObject({
      patientId: 'P1', news2: { score: 6, level: 'medium' }, risk: { score: null, model: null },
      latest: { observedAt: new Date(T0).toISOString(), systolic: 105, diastolic: 70, temperatureC: 38.5 },
    });
    expect(await rig.timeseries.latestRiskScore('P1')).toMatchObject({ scoredAt: T0, news2Score: 6, news2Level: 'medium' });
    const scores = await eventually(() => rows(rig.warehouse, 'SELECT * FROM risk_scores'), (r) => r.length === 1);
    expect(scores[0]).toMatchObject({ patient_id: 'P1', news2_score: 6, news2_level: 'medium', risk_score: null });
  });

  it('uses the patient’s SpO2 scale, the latest value of each vital, and the risk model over the recent window', async () => {
    const rig = await createRig();
    await rig.timeseries.writePatientProfile({ patientId: 'P1', spo2Scale: 2, updatedAt: T0, updatedBy: 'test' });
    const seen: number[] = [];
    const model: RiskModel = {
      name: 'test-risk@1',
      score: async (inputs) => inputs.map((input) => {
        seen.push(input.readings.length);
        return { probability: 0.25, factors: [{ feature: 'heartRate', contribution: 0.1, value: input.readings.findLast((r) => r.heartRate !== null)?.heartRate ?? null }] };
      }),
    };
    const received: PatientSummary[] = [];
    rig.updates.subscribe((u) => received.push(u));
    await start(rig, { riskModel: model });
    // Temperature 7 h before (outside the 6 h window), then pressure, then SpO2 97 % on oxygen (scale 2: 3, oxygen: 2).
    await rig.bus.publish(TOPIC, [
      avroMessage({ observedAt: T0 - 7 * 3_600_000, temperature: 39.5 }),
      avroMessage({ observedAt: T0 - 60_000, bloodPressure: '120/80', heartRate: 70 }),
      avroMessage({ observedAt: T0, spo2: 97, onOxygen: true }),
    ]);
    const summary = await eventually(async () => received.at(-1), (s) => s?.news2?.score === 5);
    expect(summary).toMatchObject({ news2: { score: 5, level: 'medium' }, risk: { score: 0.25, model: 'test-risk@1' }, latest: { temperatureC: null, systolic: 120, spo2: 97 } });
    expect(seen.at(-1)).toBe(2);
    expect(await rig.timeseries.latestRiskScore('P1')).toMatchObject({ riskScore: 0.25, model: 'test-risk@1', factors: [{ feature: 'heartRate', contribution: 0.1, value: 70 }] });
  });

  it('scores NEWS2 on one observation set: values older than the maximum age are missing, and the score says so everywhere', async () => {
    const rig = await createRig();
    const received: PatientSummary[] = [];
    rig.updates.subscribe((u) => received.push(u));
    await start(rig, { settings: { news2MaxAgeMs: 30 * 60_000 } });
    // A full set 40 min before (outside 30 min), then only heart rate and blood pressure.
    await rig.bus.publish(TOPIC, [
      avroMessage({ observedAt: T0 - 40 * 60_000, heartRate: 70, bloodPressure: '120/80', spo2: 97, respiratoryRate: 16, onOxygen: false, consciousness: 'A', temperature: 37 }),
      avroMessage({ observedAt: T0, heartRate: 75, bloodPressure: '118/76' }),
    ]);
    const missing = ['respiratoryRate', 'spo2', 'onOxygen', 'consciousness', 'temperature'];
    const summary = await eventually(async () => received.at(-1), (s) => s?.news2?.observedAt === new Date(T0).toISOString());
    expect(summary!.news2).toEqual({ score: 0, level: 'low', complete: false, missing, observedAt: new Date(T0).toISOString() });
    expect(await rig.timeseries.latestRiskScore('P1')).toMatchObject({ news2Complete: false, news2Missing: missing });
    const scores = await eventually(() => rows(rig.warehouse, 'SELECT news2_complete, news2_missing FROM risk_scores ORDER BY scored_at DESC'), (r) => r.length >= 1);
    expect(scores[0]).toEqual({ news2_complete: false, news2_missing: JSON.stringify(missing) });
  });

  it('scores confusion a clinician recorded as baseline as 0 (only new confusion scores 3)', async () => {
    const rig = await createRig();
    await rig.timeseries.writePatientProfile({ patientId: 'P1', spo2Scale: 1, baselineConfusion: true, updatedAt: T0, updatedBy: 'test' });
    await rig.timeseries.writePatientProfile({ patientId: 'P2', spo2Scale: 1, baselineConfusion: false, updatedAt: T0, updatedBy: 'test' });
    await start(rig);
    const full = { heartRate: 70, bloodPressure: '120/80', spo2: 97, respiratoryRate: 16, onOxygen: false, consciousness: 'C', temperature: 37 };
    await rig.bus.publish(TOPIC, ['P1', 'P2'].map((patientId) => avroMessage({ ...full, patientId })));
    const scored = await eventually(async () => Promise.all(['P1', 'P2'].map((p) => rig.timeseries.latestRiskScore(p))), (s) => s.every((x) => x !== undefined));
    expect(scored.map((s) => [s!.news2Score, s!.news2Complete])).toEqual([[0, true], [3, true]]);
  });

  it('gives the recovery-risk model each patient’s admission from the warehouse, which does not move the score: the model does not use admission context', async () => {
    const rig = await createRig();
    const model = await loadOnnxRiskModel({ path: path.join(import.meta.dirname, '..', 'models', 'recovery-risk.onnx') });
    try {
      await rig.warehouse.append('patients', [{ patient_id: 'P1', gender: 'M', date_of_birth: '1938-02-01' }]);
      await rig.warehouse.append('admissions', [{ admission_id: 'A1', patient_id: 'P1', admitted_at: new Date(T0 - 30 * 3_600_000), admission_type: 'EMERGENCY' }]);
      await start(rig, { riskModel: model, admissions: createWarehouseAdmissionLookup(rig.warehouse, { logger: createLogger({ level: 'silent' }) }) });
      // The same readings for P1 (admitted, 88 years old) and P2 (no admission on record).
      const vitals = [
        { observedAt: T0 - 2 * 3_600_000, heartRate: 104, bloodPressure: '102/64', spo2: 93, respiratoryRate: 22, temperature: 38.1 },
        { observedAt: T0, heartRate: 118, bloodPressure: '96/60', spo2: 91, respiratoryRate: 25, temperature: 38.4 },
      ];
      await rig.bus.publish(TOPIC, ['P1', 'P2'].flatMap((patientId) => vitals.map((v) => avroMessage({ ...v, patientId }))));
      const scored = await eventually(async () => Promise.all(['P1', 'P2'].map((p) => rig.timeseries.latestRiskScore(p))), (s) => s.every((score) => score?.scoredAt === T0 && score.riskScore != null));

      const served = async (patientId: string, admission?: { admittedAt: number; age: number; admissionType: string }) => {
        const readings = await rig.timeseries.readReadings(patientId, { from: T0 - MODEL_WINDOW_MS, to: T0 + 1 });
        const [output] = await model.score([{ patientId, now: T0, readings, ...(admission ? { admission } : {}) }]);
        return output!.probability;
      };
      expect(scored[0]!.riskScore).toBeCloseTo(await served('P1', { admittedAt: T0 - 30 * 3_600_000, age: 88, admissionType: 'EMERGENCY' }), 9);
      expect(scored[1]!.riskScore).toBeCloseTo(await served('P2'), 9);
      // Age 88, an emergency admission 30 h ago, or nothing on record: the same vitals, the same risk.
      expect(scored[0]!.riskScore).toBeCloseTo(scored[1]!.riskScore!, 9);
      expect(scored[0]!.riskScore).toBeGreaterThan(0);
    } finally {
      await model.close();
    }
  });

  it('stop() finishes the scoring still waiting for its debounce', async () => {
    const rig = await createRig();
    const processor = await start(rig, { settings: { rescoreDebounceMs: 60_000 } });
    // The first reading is scored at once; the next waits out the minute after that round.
    await rig.bus.publish(TOPIC, [avroMessage({ observedAt: T0 - 1_000, heartRate: 80 })]);
    await eventually(() => rig.timeseries.latestRiskScore('P1'), (score) => score?.scoredAt === T0 - 1_000);
    await rig.bus.publish(TOPIC, [avroMessage({ heartRate: 135 })]);
    await eventually(() => allReadings(rig), (r) => r.length === 2);
    // The second round is due a minute after the first; the pause gives a premature round the chance to show.
    await delay(100);
    expect(await rig.timeseries.latestRiskScore('P1')).toMatchObject({ scoredAt: T0 - 1_000, news2Score: 0 });
    await processor.stop();
    expect(await rig.timeseries.latestRiskScore('P1')).toMatchObject({ scoredAt: T0, news2Score: 3, news2Level: 'low-medium' });
  });
});
