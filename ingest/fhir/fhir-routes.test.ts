import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { RawReading } from '../../core/domain/reading.ts';
import { VigilError } from '../../core/errors.ts';
import { createLogger } from '../../core/observability/logger.ts';
import { createMetrics } from '../../core/observability/metrics.ts';
import { buildApp } from '../../cli/build-app.ts';
import { bearer, recordingBus, testConfig } from '../../dashboard-api/test-fixtures.ts';
import { createReadingPublisher } from '../reading-publisher.ts';
import { patientIdOfFhirPayload } from './fhir-patient-of.ts';
import { fhirRoutes } from './fhir-routes.ts';
import { SYNTHEA_MEDICAL_RECORD_NUMBER, syntheaPatientEntry, syntheaTransactionBundle } from './synthea-bundle-example.ts';
import { bloodPressureExample, bodyTemperatureFahrenheitExample, heartRateExample, oxygenSaturationExample, recentTime } from './spec-vital-signs-examples.ts';
import { budget, waitFor } from '../../core/contracts/wait-for.ts';

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
    expect(waited, 'the bound plus a generous margin for a busy machine').toBeLessThan(budget(3_000));
    expect(deadLetters).toEqual([]);
    recording.release();
    await waitFor(() => publisher.pending === 0, 5_000, 'the released bus to settle the pending reading', () => `${publisher.pending} pending`);
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

describe('the FHIR base URL as clients write it', () => {
  it('POST /fhir/ (trailing slash, as fhir-kit-client sends batch() and transaction()) is POST /fhir', async () => {
    const { app, published } = start();
    const time = recentTime(4);
    const bundle = { resourceType: 'Bundle', type: 'transaction', entry: [heartRateExample(time), bloodPressureExample(time)].map(entry) };
    const response = await post(app, '/fhir/', bundle);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
    expect(response.json()).toMatchObject({ resourceType: 'Bundle', type: 'transaction-response' });
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ heartRate: 44, bloodPressure: '107/60' });
    const refused = await post(app, '/fhir/', { resourceType: 'Bundle', type: 'collection', entry: [] });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().issue[0].expression).toEqual(['Bundle.type']);
    const anonymous = await app.inject({ method: 'POST', url: '/fhir/', headers: { 'content-type': 'application/fhir+json' }, payload: '{}' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().resourceType).toBe('OperationOutcome');
  });

  it.each([
    ['GET', '/fhir/metadata'],
    ['GET', '/fhir/Observation?patient=p1'],
    ['POST', '/fhir/Patient'],
    ['PUT', '/fhir/Observation/abc'],
    ['GET', '/fhir'],
    ['GET', '/fhir/'],
  ])('%s %s → 404 OperationOutcome in application/fhir+json', async (method, url) => {
    const { app } = start();
    const response = await app.inject({ method: method as 'GET', url, headers: { ...bearer('device', 'bedside-gw-1'), 'content-type': 'application/fhir+json' }, payload: method === 'GET' ? undefined : '{}' });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
    expect(response.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] });
  });

  it('paths outside /fhir keep the app\'s own 404', async () => {
    const { app } = start();
    const response = await app.inject({ method: 'GET', url: '/fhirx/metadata', headers: bearer('device', 'bedside-gw-1') });
    expect(response.statusCode).toBe(404);
    expect(response.json().resourceType).toBeUndefined();
  });
});

describe('effectivePeriod (allowed by the vital-signs profile)', () => {
  const withPeriod = (effectivePeriod: unknown) => {
    const { effectiveDateTime: _dropped, ...rest } = heartRateExample();
    return { ...rest, effectivePeriod };
  };

  it('the reading\'s time is the period\'s start', async () => {
    const { app, published } = start();
    const startAt = recentTime(12);
    const response = await post(app, '/fhir/Observation', withPeriod({ start: startAt, end: recentTime(11) }));
    expect(response.statusCode).toBe(201);
    expect(published[0]).toMatchObject({ heartRate: 44, observedAt: Date.parse(startAt) });
  });

  it('the period\'s end when only the end is given', async () => {
    const { app, published } = start();
    const endAt = recentTime(7);
    const response = await post(app, '/fhir/Observation', withPeriod({ end: endAt }));
    expect(response.statusCode).toBe(201);
    expect(published[0]).toMatchObject({ observedAt: Date.parse(endAt) });
  });

  it('inside a transaction Bundle too, merged with the other vitals of that moment', async () => {
    const { app, published } = start();
    const time = recentTime(6);
    const { effectiveDateTime: _dropped, ...bp } = bloodPressureExample(time);
    const response = await post(app, '/fhir', { resourceType: 'Bundle', type: 'transaction', entry: [entry(heartRateExample(time)), entry({ ...bp, effectivePeriod: { start: time } })] });
    expect(response.statusCode).toBe(200);
    expect(published).toEqual([expect.objectContaining({ heartRate: 44, bloodPressure: '107/60', observedAt: Date.parse(time) })]);
  });

  it.each([
    ['neither start nor end', {}, 'Observation.effectivePeriod', /needs a start/],
    ['a start without a time', { start: '2026-01-01' }, 'Observation.effectivePeriod.start', /no time of day/],
    ['a start without an offset, a good end', { start: '2026-01-01T10:00:00', end: '2026-01-01T10:01:00Z' }, 'Observation.effectivePeriod.start', /offset/],
    ['an end without an offset', { end: '2026-01-01T10:00:00' }, 'Observation.effectivePeriod.end', /offset/],
    ['an end before its start', { start: '2026-01-01T10:00:00Z', end: '2026-01-01T09:00:00Z' }, 'Observation.effectivePeriod.end', /before its start/],
    ['a start in the future', { start: '2099-01-01T00:00:00Z' }, 'Observation.effectivePeriod.start', /future/],
  ])('%s → 422 OperationOutcome at %s', async (_name, period, expression, diagnostics) => {
    const { app, published } = start();
    const response = await post(app, '/fhir/Observation', withPeriod(period));
    expect(response.statusCode).toBe(422);
    expect(response.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ expression: [expression], diagnostics: expect.stringMatching(diagnostics) }] });
    expect(published).toEqual([]);
  });

  it('a period that is not a Period object → 400 (structure)', async () => {
    const { app } = start();
    const response = await post(app, '/fhir/Observation', withPeriod('2026-01-01T10:00:00Z'));
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'structure', expression: ['Observation.effectivePeriod'] }] });
  });
});

describe('Bundles as Synthea writes them: a Patient entry and urn:uuid subjects', () => {
  it('transaction: the subjects resolve to the Patient entry, whose MR identifier is the patient id', async () => {
    const { app, published } = start();
    const time = recentTime(8);
    const response = await post(app, '/fhir/', syntheaTransactionBundle(time));
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.type).toBe('transaction-response');
    expect(body.entry.map((e: { response: { status: string } }) => e.response.status)).toEqual(['201 Created', '201 Created', '201 Created', '201 Created']);
    expect(body.entry[0].response.outcome.issue[0].diagnostics).toMatch(/MR identifier.*not stored/);
    expect(published).toEqual([expect.objectContaining({
      patientId: SYNTHEA_MEDICAL_RECORD_NUMBER, deviceId: 'bedside-gw-1', heartRate: 92, respiratoryRate: 14, bloodPressure: '128/81', observedAt: Date.parse(time),
    })]);
  });

  it('batch: the same, answered per entry', async () => {
    const { app, published } = start();
    const response = await post(app, '/fhir', syntheaTransactionBundle(recentTime(9), 'batch'));
    expect(response.statusCode).toBe(200);
    expect(response.json().entry.map((e: { response: { status: string } }) => e.response.status)).toEqual(['201 Created', '201 Created', '201 Created', '201 Created']);
    expect(published.map((r) => r.patientId)).toEqual([SYNTHEA_MEDICAL_RECORD_NUMBER]);
  });

  it.each([
    ['no MR: the first identifier\'s value', [{ system: 'urn:x', value: 'first-1' }, { system: 'urn:y', value: 'second-2' }], 'first-1'],
    ['MR anywhere wins over the first', [{ system: 'urn:x', value: 'first-1' }, { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] }, value: 'MRN-77' }], 'MRN-77'],
    ['no identifier: the Patient id', undefined, '3b5b8e1e-4f34-4c5f-9d43-2a1f5d1c9a77'],
  ])('patient id rule, %s', async (_name, identifier, expected) => {
    const { app, published } = start();
    const bundle = syntheaTransactionBundle(recentTime(8));
    const patient = bundle.entry[0]!.resource as Record<string, unknown>;
    if (identifier === undefined) delete patient.identifier;
    else patient.identifier = identifier;
    const response = await post(app, '/fhir', bundle);
    expect(response.statusCode).toBe(200);
    expect(published.map((r) => r.patientId)).toEqual([expected]);
  });

  it('PUT Patient/<id> entries are accepted too (200)', async () => {
    const { app, published } = start();
    const bundle = syntheaTransactionBundle(recentTime(8));
    bundle.entry[0]!.request = { method: 'PUT', url: 'Patient/3b5b8e1e-4f34-4c5f-9d43-2a1f5d1c9a77' };
    const response = await post(app, '/fhir', bundle);
    expect(response.json().entry[0].response.status).toBe('200 OK');
    expect(published).toHaveLength(1);
  });

  it('transaction: a urn:uuid subject that is no entry of the Bundle refuses the whole Bundle, naming the reference', async () => {
    const { app, published, deadLetters } = start();
    const bundle = syntheaTransactionBundle(recentTime(8));
    (bundle.entry[2]!.resource as { subject: { reference: string } }).subject.reference = 'urn:uuid:00000000-0000-4000-8000-00000000dead';
    const response = await post(app, '/fhir', bundle);
    expect(response.statusCode).toBe(422);
    expect(response.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
    expect(response.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ expression: ['Bundle.entry[2].resource.subject.reference'], diagnostics: expect.stringMatching(/no Patient entry/) }] });
    expect(published).toEqual([]);
    expect(deadLetters).toHaveLength(1);
    // Filed under the patient the Bundle's Patient entry names (GET /v1/dead-letters?patientId=).
    expect(patientIdOfFhirPayload(deadLetters[0]!.payload)).toBe(SYNTHEA_MEDICAL_RECORD_NUMBER);
  });

  it('batch: that entry alone is refused; the others are stored', async () => {
    const { app, published } = start();
    const bundle = syntheaTransactionBundle(recentTime(8), 'batch');
    (bundle.entry[2]!.resource as { subject: { reference: string } }).subject.reference = 'urn:uuid:00000000-0000-4000-8000-00000000dead';
    const response = await post(app, '/fhir', bundle);
    expect(response.statusCode).toBe(200);
    expect(response.json().entry.map((e: { response: { status: string } }) => e.response.status)).toEqual(['201 Created', '201 Created', '422 Unprocessable Entity', '201 Created']);
    expect(published).toEqual([expect.objectContaining({ patientId: SYNTHEA_MEDICAL_RECORD_NUMBER, heartRate: 92, respiratoryRate: null, bloodPressure: '128/81' })]);
  });

  it('a Patient whose chosen identifier breaks the id rule is refused, and so are the Observations naming it', async () => {
    const { app, published } = start();
    const bundle = syntheaTransactionBundle(recentTime(8), 'batch');
    const patient = bundle.entry[0]!.resource as { identifier: { value: string }[] };
    patient.identifier[1]!.value = 'MRN 12/34';
    const response = await post(app, '/fhir', bundle);
    const entries = response.json().entry;
    expect(entries[0].response).toMatchObject({ status: '422 Unprocessable Entity', outcome: { issue: [{ expression: ['Bundle.entry[0].resource.identifier[1].value'] }] } });
    expect(entries[1].response.outcome.issue[0].diagnostics).toMatch(/Patient of Bundle.entry\[0\], which was refused/);
    expect(published).toEqual([]);
  });

  it('a urn:uuid subject outside a Bundle is refused', async () => {
    const { app } = start();
    const response = await post(app, '/fhir/Observation', { ...heartRateExample(), subject: { reference: syntheaPatientEntry().fullUrl } });
    expect(response.statusCode).toBe(422);
    expect(response.json().issue[0].expression).toEqual(['Observation.subject.reference']);
  });
});

describe('every problem of a resource at once', () => {
  it('an Observation breaking seven rules gets seven issues, each naming its element', async () => {
    const { app, deadLetters } = start();
    const response = await post(app, '/fhir/Observation', {
      ...heartRateExample(),
      status: 'entered-in-error',
      category: [],
      subject: { reference: 'Group/ward-3' },
      effectiveDateTime: '2099-01-01T00:00:00Z',
      valueQuantity: { value: 44, comparator: '<', system: 'http://example.org/units', code: 'mm[Hg]' },
    });
    expect(response.statusCode).toBe(422);
    const expressions = response.json().issue.map((i: { expression: string[] }) => i.expression[0]);
    expect(expressions).toEqual([
      'Observation.status', 'Observation.category', 'Observation.subject.reference',
      'Observation.valueQuantity.comparator', 'Observation.valueQuantity.system', 'Observation.valueQuantity.code',
      'Observation.effectiveDateTime',
    ]);
    expect(response.json().issue[6].diagnostics).toMatch(/future/);
    expect(deadLetters).toHaveLength(1);
  });

  it('a transaction names every problem of every entry', async () => {
    const { app } = start();
    const time = recentTime(5);
    const badUnit = { ...heartRateExample(time), valueQuantity: { value: 44, system: 'http://unitsofmeasure.org', code: '%' }, effectiveDateTime: '2099-01-01T00:00:00Z' };
    const noSubject = { ...bloodPressureExample(time), subject: undefined };
    const response = await post(app, '/fhir', { resourceType: 'Bundle', type: 'transaction', entry: [entry(badUnit), entry(noSubject)] });
    expect(response.statusCode).toBe(422);
    expect(response.json().issue.map((i: { expression: string[] }) => i.expression[0])).toEqual([
      'Bundle.entry[0].resource.valueQuantity.code', 'Bundle.entry[0].resource.effectiveDateTime', 'Bundle.entry[1].resource.subject',
    ]);
  });
});
