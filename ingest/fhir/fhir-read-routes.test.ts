import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { RawReading, VitalReading } from '../../core/domain/reading.ts';
import { createInMemoryPatientUpdates } from '../../core/domain/patient-updates.ts';
import { createLogger } from '../../core/observability/logger.ts';
import { createMetrics } from '../../core/observability/metrics.ts';
import type { TimeSeriesStore } from '../../core/ports/timeseries-store.ts';
import { readingIdOf } from '../../core/wire/reading-codec.ts';
import type { AuditLog } from '../../core/ports/audit-log.ts';
import { createSqliteAuditLog } from '../../adapters/embedded/audit-log-sqlite.ts';
import { buildApp } from '../../cli/build-app.ts';
import { bearer, cannedWarehouse, inMemoryTimeSeries, testConfig } from '../../dashboard-api/test-fixtures.ts';
import { fhirReadRoutes } from './fhir-read-routes.ts';
import { fhirRoutes } from './fhir-routes.ts';

/**
 * `GET /fhir/Observation` and `GET /fhir/Patient/:patientId` through the whole app (real auth,
 * real audit log, the embedded time-series store in memory); the round trip posts what is served
 * back through `POST /fhir` (the ingest's own parser) and compares the readings.
 */
interface Started {
  app: FastifyInstance;
  timeseries: TimeSeriesStore;
  audit: AuditLog;
  published: RawReading[];
}

let started: Started | undefined;
afterEach(async () => {
  await started?.app.close();
  await started?.audit.close();
  await started?.timeseries.close();
  started = undefined;
});

function start(): Started {
  const timeseries = inMemoryTimeSeries();
  const audit = createSqliteAuditLog({ path: ':memory:' });
  const published: RawReading[] = [];
  const app = buildApp({
    config: testConfig(),
    logger: createLogger({ level: 'silent' }),
    metrics: createMetrics({ defaultMetrics: false }),
    readiness: [],
    read: { timeseries, warehouse: cannedWarehouse(), updates: createInMemoryPatientUpdates(), audit },
    routes: [
      (a) => void a.register(fhirRoutes, { publish: async (r) => void published.push(...r), deadLetter: async () => undefined }),
      (a) => void a.register(fhirReadRoutes, { timeseries }),
    ],
  });
  started = { app, timeseries, audit, published };
  return started;
}

const PATIENT = 'P0012';
const DAY = Date.parse('2026-11-20T00:00:00Z');
const HOUR = 3_600_000;

/** A stored reading with the id the ingest derives from device, patient and time (so round trips compare ids). */
function stored(observedAt: number, vitals: Partial<VitalReading> = {}, deviceId = 'bed-12', patientId = PATIENT): VitalReading {
  return {
    readingId: readingIdOf(deviceId, patientId, observedAt),
    patientId, deviceId, observedAt, receivedAt: observedAt + 1500,
    heartRate: 72, systolic: 118, diastolic: 76, temperatureC: 37.2, spo2: 96, respiratoryRate: 17,
    onOxygen: false, consciousness: 'A',
    ...vitals,
  };
}

const get = (app: FastifyInstance, url: string, role: 'clinician' | 'analyst' | 'admin' | 'device' = 'clinician') =>
  app.inject({ method: 'GET', url, headers: bearer(role, `${role}-7`) });

interface SearchBundle {
  resourceType: string;
  type: string;
  link: { relation: string; url: string }[];
  entry?: { fullUrl: string; resource: ServedObservation; search: { mode: string } }[];
}
/** What the tests read of a served Observation. */
interface ServedObservation {
  id: string;
  code: { coding: { code: string }[] };
  effectiveDateTime: string;
  subject?: unknown;
  device?: unknown;
  valueQuantity?: unknown;
  component?: unknown;
}
const codeOf = (o: ServedObservation) => o.code.coding[0]!.code;
const resourcesOf = (bundle: SearchBundle) => (bundle.entry ?? []).map((e) => e.resource);
const nextOf = (bundle: SearchBundle) => bundle.link.find((l) => l.relation === 'next')?.url;
/** The path and query of a link, for inject(). */
const local = (url: string) => url.replace(/^https?:\/\/[^/]+/, '');

describe('GET /fhir/Observation', () => {
  it('serves each stored vital as a vital-signs Observation in a searchset Bundle, blood pressure as the 85354-9 panel', async () => {
    const { app, timeseries } = start();
    const reading = stored(DAY + 10 * HOUR);
    await timeseries.writeReadings([reading]);

    const response = await get(app, `/fhir/Observation?patient=${PATIENT}`);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
    expect(response.headers['cache-control']).toContain('no-store');
    const bundle = response.json() as SearchBundle;
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'searchset' });
    expect(nextOf(bundle)).toBeUndefined();
    const observations = resourcesOf(bundle);
    expect(observations.map((o) => codeOf(o))).toEqual(['8867-4', '9279-1', '59408-5', '8310-5', '85354-9']);
    for (const o of observations) {
      expect(o).toMatchObject({
        resourceType: 'Observation', status: 'final',
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
        subject: { reference: `Patient/${PATIENT}` }, device: { reference: 'Device/bed-12' },
        effectiveDateTime: '2026-11-20T10:00:00.000Z',
      });
      expect(o.id).toMatch(new RegExp(`^${reading.readingId}-`));
    }
    const bp = observations[4]!;
    expect(bp.valueQuantity).toBeUndefined();
    expect(bp.component).toEqual([
      { code: { coding: [{ system: 'http://loinc.org', code: '8480-6', display: 'Systolic blood pressure' }] }, valueQuantity: { value: 118, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
      { code: { coding: [{ system: 'http://loinc.org', code: '8462-4', display: 'Diastolic blood pressure' }] }, valueQuantity: { value: 76, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
    ]);
    expect(observations[3]!.valueQuantity).toEqual({ value: 37.2, unit: 'C', system: 'http://unitsofmeasure.org', code: 'Cel' });
  });

  it('round trip: the served Observations posted back to POST /fhir give the same reading (id, patient, device, time, every vital)', async () => {
    const { app, timeseries, published } = start();
    const reading = stored(Date.now() - 20 * 60_000, { temperatureC: 36.85 });
    await timeseries.writeReadings([reading]);
    const bundle = (await get(app, `/fhir/Observation?patient=${PATIENT}`)).json() as SearchBundle;
    const observations = resourcesOf(bundle);
    expect(observations).toHaveLength(5);

    const posted = await app.inject({
      method: 'POST', url: '/fhir', headers: { ...bearer('device', 'some-gateway'), 'content-type': 'application/fhir+json' },
      payload: { resourceType: 'Bundle', type: 'transaction', entry: observations.map((resource) => ({ resource, request: { method: 'POST', url: 'Observation' } })) },
    });
    expect(posted.statusCode, posted.body).toBe(200);
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      readingId: reading.readingId, patientId: PATIENT, deviceId: 'bed-12', observedAt: reading.observedAt,
      heartRate: 72, respiratoryRate: 17, spo2: 96, temperature: 36.85, temperatureUnit: 'C', bloodPressure: '118/76',
    });
  });

  it('one Observation posted alone to POST /fhir/Observation reads back as that vital of the same reading', async () => {
    const { app, timeseries, published } = start();
    const reading = stored(Date.now() - 60_000);
    await timeseries.writeReadings([reading]);
    const [bp] = resourcesOf((await get(app, `/fhir/Observation?patient=${PATIENT}&code=85354-9`)).json());
    const posted = await app.inject({ method: 'POST', url: '/fhir/Observation', headers: { ...bearer('device'), 'content-type': 'application/fhir+json' }, payload: bp });
    expect(posted.statusCode, posted.body).toBe(201);
    expect(published[0]).toMatchObject({ readingId: reading.readingId, bloodPressure: '118/76', heartRate: null });
  });

  it('pages with _count and next links: every matching Observation once, in time order, across pages', async () => {
    const { app, timeseries } = start();
    // Seven readings, two of them at the same millisecond from two devices.
    const readings = [0, 1, 2, 3, 4, 5].map((i) => stored(DAY + i * 60_000, { heartRate: 60 + i }));
    readings.push(stored(DAY + 3 * 60_000, { heartRate: 99 }, 'bed-13'));
    await timeseries.writeReadings(readings);

    const seen: string[] = [];
    let url: string | undefined = `/fhir/Observation?patient=${PATIENT}&code=http://loinc.org|8867-4&_count=3`;
    let pages = 0;
    while (url !== undefined) {
      const response = await get(app, url);
      expect(response.statusCode, `page ${pages + 1}: ${response.body}`).toBe(200);
      const bundle = response.json() as SearchBundle;
      expect((bundle.entry ?? []).length).toBeLessThanOrEqual(3);
      seen.push(...resourcesOf(bundle).map((o) => o.id));
      url = nextOf(bundle) === undefined ? undefined : local(nextOf(bundle)!);
      pages++;
      expect(pages, 'the next links did not end').toBeLessThan(10);
    }
    const expected = [...readings].sort((a, b) => a.observedAt - b.observedAt || a.readingId.localeCompare(b.readingId)).map((r) => `${r.readingId}-hr`);
    expect(seen).toEqual(expected);
    expect(pages).toBe(3);
  });

  it('_sort=-date pages newest first: every matching Observation once, ties included, across pages', async () => {
    const { app, timeseries } = start();
    const readings = [0, 1, 2, 3, 4, 5].map((i) => stored(DAY + i * 60_000, { heartRate: 60 + i }));
    readings.push(stored(DAY + 3 * 60_000, { heartRate: 99 }, 'bed-13'), stored(DAY + 5 * 60_000, { heartRate: 98 }, 'bed-14'));
    await timeseries.writeReadings(readings);

    const seen: string[] = [];
    let url: string | undefined = `/fhir/Observation?patient=${PATIENT}&code=8867-4&_sort=-date&_count=3`;
    let pages = 0;
    while (url !== undefined) {
      const response = await get(app, url);
      expect(response.statusCode, `page ${pages + 1}: ${response.body}`).toBe(200);
      const bundle = response.json() as SearchBundle;
      seen.push(...resourcesOf(bundle).map((o) => o.id));
      url = nextOf(bundle) === undefined ? undefined : local(nextOf(bundle)!);
      pages++;
      expect(pages, 'the next links did not end').toBeLessThan(10);
    }
    const expected = [...readings].sort((a, b) => b.observedAt - a.observedAt || b.readingId.localeCompare(a.readingId)).map((r) => `${r.readingId}-hr`);
    expect(seen).toEqual(expected);
    expect(pages).toBe(3);
  });

  it('_sort=-date&_count=1: the latest heart rate; _sort by anything else is refused', async () => {
    const { app, timeseries } = start();
    await timeseries.writeReadings([stored(DAY, { heartRate: 70 }), stored(DAY + HOUR, { heartRate: 111 }), stored(DAY + 2 * HOUR, { heartRate: null })]);
    const bundle = (await get(app, `/fhir/Observation?patient=${PATIENT}&code=8867-4&_sort=-date&_count=1`)).json() as SearchBundle;
    expect(resourcesOf(bundle).map((o) => o.effectiveDateTime)).toEqual([new Date(DAY + HOUR).toISOString()]);
    expect(nextOf(bundle)).toBeDefined();
    const refused = await get(app, `/fhir/Observation?patient=${PATIENT}&_sort=value`);
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'not-supported', expression: ['_sort'] }] });
  });

  it.each(['date', '-date'])('_sort=%s: more readings at one millisecond than the store is read in per batch, each served once', async (sort) => {
    const { app, timeseries } = start();
    // 450 devices at one moment (beyond the 200-reading read batch, twice), between two other readings.
    const crowd = Array.from({ length: 450 }, (_, i) => stored(DAY + HOUR, {}, `dev-${i}`));
    await timeseries.writeReadings([stored(DAY), ...crowd, stored(DAY + 2 * HOUR)]);
    const seen: string[] = [];
    let url: string | undefined = `/fhir/Observation?patient=${PATIENT}&code=8867-4&_sort=${sort}&_count=120`;
    for (let pages = 0; url !== undefined; pages++) {
      expect(pages, 'the next links did not end').toBeLessThan(10);
      const bundle = (await get(app, url)).json() as SearchBundle;
      seen.push(...resourcesOf(bundle).map((o) => o.id));
      url = nextOf(bundle) === undefined ? undefined : local(nextOf(bundle)!);
    }
    expect(seen).toHaveLength(452);
    expect(new Set(seen).size).toBe(452);
  });

  it('pages inside one reading: _count smaller than its five Observations', async () => {
    const { app, timeseries } = start();
    await timeseries.writeReadings([stored(DAY), stored(DAY + 60_000)]);
    const seen: string[] = [];
    let url: string | undefined = `/fhir/Observation?patient=${PATIENT}&_count=2`;
    while (url !== undefined && seen.length < 20) {
      const bundle = (await get(app, url)).json() as SearchBundle;
      seen.push(...resourcesOf(bundle).map((o) => o.id));
      url = nextOf(bundle) === undefined ? undefined : local(nextOf(bundle)!);
    }
    expect(seen).toHaveLength(10);
    expect(new Set(seen).size).toBe(10);
  });

  it.each([
    ['date=ge2026-11-20T11:00:00Z', [11, 12]],
    ['date=gt2026-11-20T11:00Z', [12]], // minute precision: after 11:00:59.999
    ['date=le2026-11-20T11:00Z', [10, 11]],
    ['date=lt2026-11-20T11:00:00Z', [10]],
    ['date=2026-11-20', [10, 11, 12]],
    ['date=eq2026-11-21', []],
    ['date=2026-11', [10, 11, 12]],
    ['date=ge2026-11-20T11:30:00%2B01:00', [11, 12]], // 10:30Z
    ['date=ge2026-11-20T11:30:00+01:00', [11, 12]], // the + unencoded arrives as a space
    ['date=ge2026-11-20T10:30:00Z&date=lt2026-11-20T12:00:00Z', [11]],
  ])('%s', async (query, hours) => {
    const { app, timeseries } = start();
    await timeseries.writeReadings([10, 11, 12].map((h) => stored(DAY + h * HOUR)));
    const response = await get(app, `/fhir/Observation?patient=${PATIENT}&code=8867-4&${query}`);
    expect(response.statusCode, response.body).toBe(200);
    expect(resourcesOf(response.json()).map((o) => new Date(o.effectiveDateTime).getUTCHours())).toEqual(hours);
  });

  it.each([
    ['code=http://loinc.org|85354-9', ['85354-9']],
    ['code=2708-6', ['59408-5']], // the SpO2 Observation carries both codings
    ['code=8867-4,9279-1', ['8867-4', '9279-1']],
    ['code=http://snomed.info/sct|8867-4', []],
    ['code=1234-5', []],
    ['category=vital-signs', ['8867-4', '9279-1', '59408-5', '8310-5', '85354-9']],
    ['category=laboratory', []],
  ])('%s', async (query, codes) => {
    const { app, timeseries } = start();
    await timeseries.writeReadings([stored(DAY)]);
    const response = await get(app, `/fhir/Observation?patient=Patient/${PATIENT}&${query}`);
    expect(response.statusCode, response.body).toBe(200);
    expect(resourcesOf(response.json()).map((o) => codeOf(o))).toEqual(codes);
  });

  it('serves only the vitals a reading holds, and only that patient\'s', async () => {
    const { app, timeseries } = start();
    await timeseries.writeReadings([
      stored(DAY, { heartRate: null, respiratoryRate: null, temperatureC: null, systolic: null, diastolic: null }),
      stored(DAY, {}, 'bed-1', 'OTHER-1'),
    ]);
    const observations = resourcesOf((await get(app, `/fhir/Observation?patient=${PATIENT}`)).json());
    expect(observations.map((o) => codeOf(o))).toEqual(['59408-5']);
  });

  it('a patient id FHIR cannot carry as an id is referenced by identifier', async () => {
    const { app, timeseries } = start();
    await timeseries.writeReadings([stored(DAY, {}, 'bed_1', 'P_001')]);
    const [first] = resourcesOf((await get(app, '/fhir/Observation?patient=P_001&code=8867-4')).json());
    expect(first!.subject).toEqual({ type: 'Patient', identifier: { system: 'urn:vigil:patient-id', value: 'P_001' } });
    expect(first!.device).toEqual({ type: 'Device', identifier: { system: 'urn:vigil:device-id', value: 'bed_1' } });
  });

  it.each([
    ['no patient', '', ['patient']],
    ['an unsupported parameter, not ignored', `patient=${PATIENT}&value-quantity=gt100`, ['value-quantity']],
    ['two patients', `patient=${PATIENT},P2`, ['patient']],
    ['a time without an offset', `patient=${PATIENT}&date=ge2026-11-20T10:00:00`, ['date']],
    ['a date that does not exist', `patient=${PATIENT}&date=2026-02-30`, ['date']],
    ['the ne prefix', `patient=${PATIENT}&date=ne2026-11-20`, ['date']],
    ['_count 0', `patient=${PATIENT}&_count=0`, ['_count']],
    ['_count too large', `patient=${PATIENT}&_count=5000`, ['_count']],
    ['a forged cursor', `patient=${PATIENT}&_cursor=abc`, ['_cursor']],
    ['every problem at once', 'date=yesterday&_count=x&foo=1', ['foo', 'patient', 'date', '_count']],
  ])('%s → 400 OperationOutcome naming it', async (_name, query, expressions) => {
    const { app } = start();
    const response = await get(app, `/fhir/Observation?${query}`);
    expect(response.statusCode, response.body).toBe(400);
    expect(response.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
    const outcome = response.json() as { resourceType: string; issue: { expression?: string[]; diagnostics: string }[] };
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue.map((i) => i.expression?.[0])).toEqual(expressions);
  });

  it('is audited: actor, role, route and the patient searched', async () => {
    const { app, timeseries, audit } = start();
    await timeseries.writeReadings([stored(DAY)]);
    expect((await get(app, `/fhir/Observation?patient=${PATIENT}&code=8867-4`, 'analyst')).statusCode).toBe(200);
    expect(await audit.list({ limit: 10 })).toEqual([
      expect.objectContaining({ actor: 'analyst-7', role: 'analyst', action: 'GET /fhir/Observation', patientId: PATIENT, status: 200 }),
    ]);
  });

  it('refuses devices (403) and callers without a token (401) with OperationOutcomes', async () => {
    const { app } = start();
    const device = await get(app, `/fhir/Observation?patient=${PATIENT}`, 'device');
    expect(device.statusCode).toBe(403);
    expect(device.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'forbidden' }] });
    const none = await app.inject({ method: 'GET', url: `/fhir/Observation?patient=${PATIENT}` });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'login' }] });
  });
});

describe('GET /fhir/Patient/:patientId', () => {
  it('serves the monitored patient with its id, audited under that patient', async () => {
    const { app, timeseries, audit } = start();
    await timeseries.writeReadings([stored(DAY)]);
    const response = await get(app, `/fhir/Patient/${PATIENT}`, 'admin');
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({
      resourceType: 'Patient', id: PATIENT,
      meta: { lastUpdated: new Date(DAY + 1500).toISOString() },
      identifier: [{ system: 'urn:vigil:patient-id', value: PATIENT }],
    });
    expect(await audit.list({ limit: 10 })).toEqual([expect.objectContaining({ action: 'GET /fhir/Patient/:patientId', patientId: PATIENT, role: 'admin', status: 200 })]);
  });

  it('an id no reading names → 404 OperationOutcome; an id that breaks the id rule → 400', async () => {
    const { app } = start();
    const unknown = await get(app, '/fhir/Patient/NOBODY');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'not-found' }] });
    const bad = await get(app, '/fhir/Patient/%24bad');
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ resourceType: 'OperationOutcome' });
  });
});
