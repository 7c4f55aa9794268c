import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { VigilError } from '../core/errors.ts';
import { createMetrics } from '../core/observability/metrics.ts';
import type { Metrics } from '../core/observability/metrics.ts';
import { READING_ATTRIBUTES, decodeReading } from '../core/wire/reading-codec.ts';
import { buildApp } from '../cli/build-app.ts';
import { bearer, captureLogs, recordingBus, testConfig } from '../dashboard-api/test-fixtures.ts';
import type { ReadingPublisher } from './reading-publisher.ts';
import { createReadingPublisher } from './reading-publisher.ts';
import { budget, waitFor } from '../core/contracts/wait-for.ts';

const READING = {
  deviceId: 'bed-12', patientId: 'P0012', observedAt: '2026-11-22T10:00:00Z',
  heartRate: 72, bloodPressure: '120/80', temperature: 37.1, temperatureUnit: 'C',
  spo2: 97, respiratoryRate: 16, onOxygen: false, consciousness: 'A',
};

let app: FastifyInstance;
let publisher: ReadingPublisher;
let metrics: Metrics;
let recording: ReturnType<typeof recordingBus>;

function ingestApp(env: Record<string, string> = {}, publisherOptions: { maxPending?: number; publishTimeoutMs?: number } = {}) {
  recording = recordingBus();
  metrics = createMetrics({ defaultMetrics: false });
  publisher = createReadingPublisher({ bus: recording.bus, topic: 'vigil-readings', metrics, maxBatchDelayMs: 1, ...publisherOptions });
  app = buildApp({ config: testConfig(env), logger: captureLogs().logger, metrics, ingest: { publisher }, readiness: [] });
}

const post = (payload: unknown, headers: Record<string, string> = bearer('device', 'bed-12')) =>
  app.inject({ method: 'POST', url: '/v1/readings', headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify(payload) });

async function counter(name: string): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)!.get();
  return metric.values.reduce((sum, v) => sum + v.value, 0);
}

afterEach(async () => {
  await app.close();
  await publisher.close();
});

describe('POST /v1/readings', () => {
  it('accepts one reading, answers 202 once the bus has it, and the bus message decodes', async () => {
    ingestApp();
    const res = await post(READING);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ accepted: 1 });
    expect(recording.calls).toHaveLength(1);
    const [message] = recording.calls[0]!;
    expect(message!.orderingKey).toBe('P0012');
    expect(message!.attributes).toEqual(READING_ATTRIBUTES);
    expect(decodeReading(message!.data, message!.attributes)).toMatchObject({
      deviceId: 'bed-12', patientId: 'P0012', observedAt: Date.parse('2026-11-22T10:00:00Z'),
      heartRate: 72, bloodPressure: '120/80', source: 'json',
    });
    expect(await counter('vigil_readings_ingested_total')).toBe(1);
  });

  it('accepts an array and keeps its order on the bus', async () => {
    ingestApp();
    const readings = [0, 1, 2].map((i) => ({ ...READING, patientId: `P${i}`, observedAt: Date.parse('2026-11-22T10:00:00Z') + i }));
    const res = await post(readings);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ accepted: 3 });
    expect(recording.calls.flat().map((m) => decodeReading(m.data).patientId)).toEqual(['P0', 'P1', 'P2']);
  });

  it('refuses the whole request with 400 details (index, field, reason) and publishes nothing', async () => {
    ingestApp();
    const { patientId: _omit, ...withoutPatient } = READING;
    const res = await post([READING, { ...READING, bloodPressure: '120/' }, { ...READING, heartRate: 'abc' }, withoutPatient]);
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.error).toContain('3 readings are invalid');
    expect(body.details).toEqual([
      { index: 1, field: 'bloodPressure', reason: expect.any(String) },
      { index: 2, field: 'heartRate', reason: expect.any(String) },
      { index: 3, field: 'patientId', reason: expect.any(String) },
    ]);
    expect(recording.calls).toHaveLength(0);
    expect(await counter('vigil_readings_refused_total')).toBe(3);
    expect(await counter('vigil_readings_ingested_total')).toBe(0);
  });

  it.each([
    ['an empty array', []],
    ['a string', 'abc'],
    ['a number', 42],
  ])('refuses %s with 400', async (_name, payload) => {
    ingestApp();
    const res = await post(payload);
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('VALIDATION_FAILED');
    expect(recording.calls).toHaveLength(0);
  });

  it('refuses malformed JSON with 400', async () => {
    ingestApp();
    const res = await app.inject({ method: 'POST', url: '/v1/readings', headers: { 'content-type': 'application/json', ...bearer('device') }, payload: '{"deviceId": ' });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('VALIDATION_FAILED');
  });

  it('refuses more readings than one request may carry', async () => {
    ingestApp({}, { maxPending: 10 });
    const res = await post(Array.from({ length: 11 }, () => READING));
    expect(res.statusCode).toBe(400);
    expect(JSON.stringify(res.json().details)).toContain('10');
  });

  it('answers 413 with a clear error when the body is over VIGIL_BODY_LIMIT_BYTES', async () => {
    ingestApp({ VIGIL_BODY_LIMIT_BYTES: '2048' });
    const res = await post(Array.from({ length: 20 }, () => READING));
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', error: expect.stringContaining('VIGIL_BODY_LIMIT_BYTES') });
    expect(recording.calls).toHaveLength(0);
  });

  it('answers 503 with Retry-After instead of queueing when too many readings are pending', async () => {
    ingestApp({}, { maxPending: 5 });
    recording.hold();
    const first = post(Array.from({ length: 4 }, (_, i) => ({ ...READING, observedAt: Date.parse('2026-11-22T10:00:00Z') + i })));
    await waitFor(() => publisher.pending === 4, 5_000, "the first request's 4 readings held at the publisher", () => `${publisher.pending} pending`);
    const second = await post([READING, READING]);
    expect(second.statusCode).toBe(503);
    expect(second.headers['retry-after']).toBe('1');
    expect(second.json().code).toBe('BACKPRESSURE');
    recording.release();
    expect((await first).statusCode).toBe(202);
    expect((await post([READING, READING])).statusCode).toBe(202);
  });

  // recording.hold() makes a Bus whose publish does not settle (a test double of the port, standing
  // for an unreachable Pub/Sub): this exercises the edge's own bound, not a client library's.
  it('answers 503 with Retry-After within the publish bound when the bus never confirms, and 202 once it does', async () => {
    ingestApp({}, { publishTimeoutMs: 300 });
    recording.hold();
    const started = Date.now();
    const res = await post(READING);
    const waited = Date.now() - started;
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.json()).toMatchObject({ code: 'BACKEND_UNAVAILABLE', error: expect.stringContaining('300 ms') });
    expect(waited).toBeGreaterThanOrEqual(290);
    expect(waited, 'the bound plus a generous margin for a busy machine').toBeLessThan(budget(3_000));
    recording.release();
    // The resend carries the same reading; the stores keep one row per reading id.
    await waitFor(() => publisher.pending === 0, 5_000, 'the released bus to settle the pending reading', () => `${publisher.pending} pending`);
    expect((await post(READING)).statusCode).toBe(202);
  });

  it('answers 503 when the bus is unavailable, and 500 when it rejects', async () => {
    ingestApp();
    recording.failNext(Object.assign(new Error('unavailable'), { code: 14 }));
    const unavailable = await post(READING);
    expect(unavailable.statusCode).toBe(503);
    expect(unavailable.json().code).toBe('BACKEND_UNAVAILABLE');
    recording.failNext(new VigilError('BACKEND_REJECTED', 'topic does not exist'));
    expect((await post(READING)).statusCode).toBe(500);
  });
});
