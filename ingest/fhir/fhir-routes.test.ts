import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { RawReading } from '../../core/domain/reading.ts';
import { VigilError } from '../../core/errors.ts';
import { createLogger } from '../../core/observability/logger.ts';
import { createMetrics } from '../../core/observability/metrics.ts';
import { buildApp } from '../../dashboard-api/build-app.ts';
import { bearer, recordingBus, testConfig } from '../../dashboard-api/test-fixtures.ts';
import { createReadingPublisher } from '../reading-publisher.ts';
import { fhirRoutes } from './fhir-routes.ts';
import { bloodPressureExample, bodyTemperatureFahrenheitExample, heartRateExample, oxygenSaturationExample, recentTime } from './spec-vital-signs-examples.ts';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

function start(publish: (readings: RawReading[]) => Promise<void> = async () => undefined) {
  const published: RawReading[] = [];
  const deadLetters: { payload: string; reason: string }[] = [];
  app = buildApp({
    config: testConfig(),
    logger: createLogger({ level: 'silent' }),
    metrics: createMetrics({ defaultMetrics: false }),
    readiness: [],
    routes: [(a) => void a.register(fhirRoutes, {
      publish: async (readings) => {
        await publish(readings);
        published.push(...readings);
      },
      deadLetter: async (payload, reason) => {
        deadLetters.push({ payload: payload.toString('utf8'), reason });
      },
    })],
  });
  return { app, published, deadLetters };
}

const post = (a: FastifyInstance, url: string, body: unknown, contentType = 'application/fhir+json') =>
  a.inject({ method: 'POST', url, headers: { ...bearer('device', 'bedside-gw-1'), 'content-type': contentType }, payload: typeof body === 'string' ? body : JSON.stringify(body) });

describe('POST /fhir/Observation with the specification\'s vital-signs examples, as-is', () => {
  it.each([
    ['heart rate', heartRateExample(), { heartRate: 44 }],
    ['blood pressure panel', bloodPressureExample(), { bloodPressure: '107/60' }],
    ['body temperature in °F', bodyTemperatureFahrenheitExample(), { temperature: 37.5, temperatureUnit: 'C' }],
    ['oxygen saturation', oxygenSaturationExample(), { spo2: 95, deviceId: 'example' }],
  ])('%s → 201 and one reading', async (_name, resource, expected) => {
    const { app, published } = start();
    const response = await post(app, '/fhir/Observation', resource);
    expect(response.statusCode).toBe(201);
    expect(response.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
    expect(response.json()).toMatchObject({ resourceType: 'Observation', id: published[0]!.readingId });
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ patientId: 'example', source: 'fhir', deviceId: 'bedside-gw-1', ...expected, observedAt: Date.parse(resource.effectiveDateTime) });
  });

  it('accepts application/json too', async () => {
    const { app } = start();
    expect((await post(app, '/fhir/Observation', heartRateExample(), 'application/json')).statusCode).toBe(201);
  });
});

describe('POST /fhir/Observation refusals: OperationOutcome naming the element', () => {
  const cases: [string, (o: ReturnType<typeof heartRateExample>) => unknown, number, string, RegExp][] = [
    ['wrong unit', (o) => ({ ...o, valueQuantity: { ...o.valueQuantity, code: 'mm[Hg]' } }), 422, 'Observation.valueQuantity.code', /not valid for heartRate/],
    ['unit only as display text, unknown', (o) => ({ ...o, valueQuantity: { value: 44, unit: 'bpm' } }), 422, 'Observation.valueQuantity.unit', /unit "bpm"/],
    ['unknown code', (o) => ({ ...o, code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] } }), 422, 'Observation.code', /no LOINC vital sign/],
    ['no vital-signs category', (o) => ({ ...o, category: [] }), 422, 'Observation.category', /vital-signs/],
    ['date without time', (o) => ({ ...o, effectiveDateTime: '1999-07-02' }), 422, 'Observation.effectiveDateTime', /no time of day/],
    ['time without offset', (o) => ({ ...o, effectiveDateTime: '2026-01-01T10:00:00' }), 422, 'Observation.effectiveDateTime', /offset/],
    ['subject not a patient', (o) => ({ ...o, subject: { reference: 'Group/ward-3' } }), 422, 'Observation.subject.reference', /Patient/],
    ['entered in error', (o) => ({ ...o, status: 'entered-in-error' }), 422, 'Observation.status', /not a result/],
    ['not an Observation', (o) => ({ ...o, resourceType: 'Patient' }), 400, 'Observation.resourceType', /Observation/],
    ['future time', (o) => ({ ...o, effectiveDateTime: '2099-01-01T00:00:00Z' }), 422, 'Observation.effectiveDateTime', /future/],
  ];
  it.each(cases)('%s → %i at %s, dead-lettered as sent', async (_name, change, status, expression, diagnostics) => {
    const { app, published, deadLetters } = start();
    const body = JSON.stringify(change(heartRateExample()));
    const response = await post(app, '/fhir/Observation', body);
    expect(response.statusCode).toBe(status);
    const outcome = response.json();
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue[0].expression).toEqual([expression]);
    expect(outcome.issue[0].diagnostics).toMatch(diagnostics);
    expect(published).toEqual([]);
    expect(deadLetters).toEqual([{ payload: body, reason: expect.stringContaining(expression) }]);
  });

  it('the blood-pressure panel names the failing component', async () => {
    const { app } = start();
    const bp = bloodPressureExample();
    bp.component[1]!.valueQuantity.code = 'kPa';
    const response = await post(app, '/fhir/Observation', bp);
    expect(response.statusCode).toBe(422);
    expect(response.json().issue[0].expression).toEqual(['Observation.component[1].valueQuantity.code']);
  });

  it('malformed JSON → 400 OperationOutcome, the raw text dead-lettered', async () => {
    const { app, deadLetters } = start();
    const response = await post(app, '/fhir/Observation', '{"resourceType": "Observation",');
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'structure' }] });
    expect(deadLetters[0]!.payload).toBe('{"resourceType": "Observation",');
  });

  it('other media types → 415; no token → 401; wrong role → 403; all as OperationOutcome', async () => {
    const { app } = start();
    const xml = await app.inject({ method: 'POST', url: '/fhir/Observation', headers: { ...bearer('device'), 'content-type': 'application/fhir+xml' }, payload: '<Observation/>' });
    expect(xml.statusCode).toBe(415);
    expect(xml.json().resourceType).toBe('OperationOutcome');
    const anonymous = await app.inject({ method: 'POST', url: '/fhir/Observation', headers: { 'content-type': 'application/fhir+json' }, payload: '{}' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'login' }] });
    const clinician = await app.inject({ method: 'POST', url: '/fhir/Observation', headers: { ...bearer('clinician'), 'content-type': 'application/fhir+json' }, payload: '{}' });
    expect(clinician.statusCode).toBe(403);
    expect(clinician.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'forbidden' }] });
  });

  it('a bus that cannot take the reading → 503 with Retry-After, nothing dead-lettered', async () => {
    const { app, deadLetters } = start(async () => {
      throw new VigilError('BACKEND_UNAVAILABLE', 'bus down');
    });
    const response = await post(app, '/fhir/Observation', heartRateExample());
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('1');
    expect(response.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'transient' }] });
    expect(deadLetters).toEqual([]);
  });
});

describe('POST /fhir/Observation when the bus never confirms', () => {
  // recording.hold() makes a Bus whose publish does not settle (a test double of the port, standing
  // for an unreachable Pub/Sub): this exercises the edge's own bound through the real publisher.
  it('answers 503 + Retry-After with an OperationOutcome within the publish bound, and 201 once the bus answers', async () => {
    const recording = recordingBus();
    const publisher = createReadingPublisher({ bus: recording.bus, topic: 't', metrics: createMetrics({ defaultMetrics: false }), publishTimeoutMs: 300, maxBatchDelayMs: 0 });
    const { app, deadLetters } = start((readings) => publisher.publish(readings));
    recording.hold();
    const started = Date.now();
    const response = await post(app, '/fhir/Observation', heartRateExample());
    const waited = Date.now() - started;
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('1');
    expect(response.headers['content-type']).toMatch(/^application\/fhir\+json/);
    expect(response.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'transient', diagnostics: expect.stringContaining('300 ms') }] });
    expect(waited).toBeGreaterThanOrEqual(290);
    expect(waited, 'the bound plus a generous margin for a busy machine').toBeLessThan(3_000);
    expect(deadLetters).toEqual([]);
    recording.release();
    await vi.waitFor(() => expect(publisher.pending).toBe(0), { timeout: 5_000 });
    expect((await post(app, '/fhir/Observation', heartRateExample())).statusCode).toBe(201);
    await publisher.close();
  });
});

const entry = (resource: unknown) => ({ fullUrl: 'urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0', resource, request: { method: 'POST', url: 'Observation' } });

describe('POST /fhir Bundles', () => {
  it('transaction: observations of one moment become one reading; the response says what was stored', async () => {
    const { app, published } = start();
    const time = recentTime(5);
    const bundle = { resourceType: 'Bundle', type: 'transaction', entry: [heartRateExample(time), bloodPressureExample(time), bodyTemperatureFahrenheitExample(time), oxygenSaturationExample(time)].map(entry) };
    const response = await post(app, '/fhir', bundle);
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.type).toBe('transaction-response');
    expect(body.entry.map((e: { response: { status: string } }) => e.response.status)).toEqual(['201 Created', '201 Created', '201 Created', '201 Created']);
    expect(body.entry[1].response.outcome.issue[0].diagnostics).toMatch(/systolic 107 mmHg, diastolic 60 mmHg/);
    // The SpO2 example names its own device; the other three come from the token's device.
    expect(published).toHaveLength(2);
    expect(published[0]).toMatchObject({ heartRate: 44, bloodPressure: '107/60', temperature: 37.5, spo2: null });
    expect(published[1]).toMatchObject({ spo2: 95, deviceId: 'example' });
  });

  it('transaction: one bad entry refuses all, naming the entry', async () => {
    const { app, published, deadLetters } = start();
    const bad = { ...heartRateExample(), valueQuantity: { value: 44, system: 'http://unitsofmeasure.org', code: '%' } };
    const response = await post(app, '/fhir', { resourceType: 'Bundle', type: 'transaction', entry: [entry(bloodPressureExample()), entry(bad)] });
    expect(response.statusCode).toBe(422);
    expect(response.json().issue[0].expression).toEqual(['Bundle.entry[1].resource.valueQuantity.code']);
    expect(published).toEqual([]);
    expect(deadLetters).toHaveLength(1);
  });

  it('batch: each entry answered on its own', async () => {
    const { app, published, deadLetters } = start();
    const bad = { ...bloodPressureExample(), component: [] };
    const response = await post(app, '/fhir', {
      resourceType: 'Bundle', type: 'batch',
      entry: [entry(heartRateExample(recentTime(3))), entry(bad), { resource: oxygenSaturationExample() }],
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.type).toBe('batch-response');
    expect(body.entry[0].response.status).toBe('201 Created');
    expect(body.entry[1].response).toMatchObject({ status: '422 Unprocessable Entity', outcome: { issue: [{ expression: ['Bundle.entry[1].resource.component'] }, { expression: ['Bundle.entry[1].resource.component'] }] } });
    expect(body.entry[2].response).toMatchObject({ status: '422 Unprocessable Entity', outcome: { issue: [{ expression: ['Bundle.entry[2].request'] }] } });
    expect(published).toHaveLength(1);
    expect(deadLetters).toHaveLength(2);
  });

  it('refuses other bundle types and non-bundles', async () => {
    const { app } = start();
    const collection = await post(app, '/fhir', { resourceType: 'Bundle', type: 'collection', entry: [] });
    expect(collection.statusCode).toBe(422);
    expect(collection.json().issue[0].expression).toEqual(['Bundle.type']);
    const observation = await post(app, '/fhir', heartRateExample());
    expect(observation.statusCode).toBe(400);
  });
});
