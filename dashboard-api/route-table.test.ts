import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInMemoryPatientUpdates } from '../core/domain/patient-updates.ts';
import { MAX_ID_LENGTH } from '../core/domain/validate-ingest.ts';
import { createMetrics } from '../core/observability/metrics.ts';
import { fhirReadRoutes } from '../ingest/fhir/fhir-read-routes.ts';
import { fhirRoutes } from '../ingest/fhir/fhir-routes.ts';
import { heartRateExample } from '../ingest/fhir/spec-vital-signs-examples.ts';
import { createReadingPublisher } from '../ingest/reading-publisher.ts';
import { createSqliteAuditLog } from '../adapters/embedded/audit-log-sqlite.ts';
import type { Role } from '../http/auth.ts';
import { DEFAULT_ALERT_THRESHOLDS } from './alerts/alert.ts';
import { createAlertEngine } from './alerts/alert-engine.ts';
import { createSqliteAlertStore } from '../adapters/embedded/alert-store-sqlite.ts';
import { buildApp } from '../cli/build-app.ts';
import { cannedWarehouse, captureLogs, inMemoryTimeSeries, reading, recordingBus, testConfig, tokenFor } from './test-fixtures.ts';

/**
 * The route table and the role matrix. Every route the full app registers (device edge, FHIR,
 * clinician API, alerts, admin, pages) must have a row below; a new route without one fails the
 * first test, so nobody adds a route without deciding, and testing, who may call it.
 *
 * Statuses per caller: no credential, then a bearer token of each role. The session cookie's own
 * reach (GET clinician routes and `/v1/session/token` only) is tested in auth.test.ts and
 * alerts/alert-routes.test.ts.
 */
type Caller = 'none' | Role;
const CALLERS: readonly Caller[] = ['none', 'device', 'clinician', 'analyst', 'admin'];

interface Row {
  readonly request: Omit<InjectOptions, 'method'> & { url: string };
  readonly expect: Readonly<Record<Caller, number>>;
}

const PATIENT = 'P0012';
const READING = { deviceId: 'bed-12', patientId: PATIENT, observedAt: new Date().toISOString(), heartRate: 72 };
const FHIR = { 'content-type': 'application/fhir+json' };

const PUBLIC_200 = { none: 200, device: 200, clinician: 200, analyst: 200, admin: 200 } as const;
const CLINICIAN_200 = { none: 401, device: 403, clinician: 200, analyst: 403, admin: 200 } as const;
/** Results out (FHIR reads): clinicians, admins and analysts. */
const RESULTS_200 = { none: 401, device: 403, clinician: 200, analyst: 200, admin: 200 } as const;
const ADMIN_200 = { none: 401, device: 403, clinician: 403, analyst: 403, admin: 200 } as const;
const DEVICE_ONLY = (ok: number) => ({ none: 401, device: ok, clinician: 403, analyst: 403, admin: 403 });
/** Cookie-only routes: every bearer token is refused, whatever its role. */
const SESSION_ONLY = { none: 401, device: 401, clinician: 401, analyst: 401, admin: 401 } as const;

const MATRIX: Readonly<Record<string, Row>> = {
  'GET /': { request: { url: '/' }, expect: CLINICIAN_200 },
  'GET /signin': { request: { url: '/signin' }, expect: PUBLIC_200 },
  'GET /login': { request: { url: '/login' }, expect: { none: 401, device: 401, clinician: 401, analyst: 401, admin: 401 } },
  'POST /logout': { request: { url: '/logout' }, expect: { none: 204, device: 204, clinician: 204, analyst: 204, admin: 204 } },
  'GET /healthz': { request: { url: '/healthz' }, expect: PUBLIC_200 },
  'GET /readyz': { request: { url: '/readyz' }, expect: PUBLIC_200 },
  'GET /metrics': { request: { url: '/metrics' }, expect: PUBLIC_200 },
  'GET /assets/news2-bands.json': { request: { url: '/assets/news2-bands.json' }, expect: CLINICIAN_200 },
  'GET /assets/news2-bands.js': { request: { url: '/assets/news2-bands.js' }, expect: CLINICIAN_200 },
  'GET /assets/*': { request: { url: '/assets/app.css' }, expect: CLINICIAN_200 },
  'GET /v1/me': { request: { url: '/v1/me' }, expect: { none: 401, device: 200, clinician: 200, analyst: 200, admin: 200 } },
  'POST /v1/readings': { request: { url: '/v1/readings', payload: READING }, expect: DEVICE_ONLY(202) },
  'POST /fhir/Observation': { request: { url: '/fhir/Observation', headers: FHIR, payload: heartRateExample() }, expect: DEVICE_ONLY(201) },
  'POST /fhir': {
    request: { url: '/fhir', headers: FHIR, payload: { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: heartRateExample(), request: { method: 'POST', url: 'Observation' } }] } },
    expect: DEVICE_ONLY(200),
  },
  'POST /fhir/': {
    request: { url: '/fhir/', headers: FHIR, payload: { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: heartRateExample(), request: { method: 'POST', url: 'Observation' } }] } },
    expect: DEVICE_ONLY(200),
  },
  'GET /fhir/Observation': { request: { url: `/fhir/Observation?patient=${PATIENT}` }, expect: RESULTS_200 },
  'GET /fhir/Patient/:patientId': { request: { url: `/fhir/Patient/${PATIENT}` }, expect: RESULTS_200 },
  'GET /v1/patients': { request: { url: '/v1/patients' }, expect: CLINICIAN_200 },
  'GET /v1/patients/:patientId/vitals': { request: { url: `/v1/patients/${PATIENT}/vitals` }, expect: CLINICIAN_200 },
  'GET /v1/patients/:patientId/risk': { request: { url: `/v1/patients/${PATIENT}/risk` }, expect: CLINICIAN_200 },
  'GET /v1/patients/:patientId/rejected': { request: { url: `/v1/patients/${PATIENT}/rejected` }, expect: CLINICIAN_200 },
  'GET /v1/patients/:patientId/profile': { request: { url: `/v1/patients/${PATIENT}/profile` }, expect: CLINICIAN_200 },
  'PUT /v1/patients/:patientId/profile': { request: { url: `/v1/patients/${PATIENT}/profile`, payload: { spo2Scale: 2 } }, expect: CLINICIAN_200 },
  // Allowed callers get 200 and a stream that never ends: checked on a listening server below.
  'GET /v1/stream': { request: { url: '/v1/stream' }, expect: CLINICIAN_200 },
  'GET /v1/ward/trends': { request: { url: '/v1/ward/trends' }, expect: CLINICIAN_200 },
  'GET /v1/alerts': { request: { url: '/v1/alerts' }, expect: CLINICIAN_200 },
  'GET /v1/model': { request: { url: '/v1/model' }, expect: CLINICIAN_200 },
  // An unknown alert: 404 proves the caller got past the access check.
  'POST /v1/alerts/:alertId/ack': { request: { url: '/v1/alerts/no-such-alert/ack' }, expect: { none: 401, device: 403, clinician: 404, analyst: 403, admin: 404 } },
  'GET /v1/session/token': { request: { url: '/v1/session/token' }, expect: SESSION_ONLY },
  'GET /v1/dead-letters': { request: { url: '/v1/dead-letters' }, expect: ADMIN_200 },
  'GET /v1/audit': { request: { url: '/v1/audit' }, expect: ADMIN_200 },
  'POST /v1/sql': { request: { url: '/v1/sql', payload: { query: 'select 1' } }, expect: { none: 401, device: 403, clinician: 403, analyst: 200, admin: 403 } },
};

/** Pages and public routes that carry no patient data, and may be cached (the rest must say no-store). */
const NO_PATIENT_DATA = new Set(['GET /', 'GET /signin', 'GET /healthz', 'GET /readyz', 'GET /metrics']);

/** Every route as "METHOD /path", as registered (automatic HEAD routes left out). */
function registeredRoutes(app: FastifyInstance): string[] {
  return [...new Set(app.routeTable.filter((r) => r.method !== 'HEAD').map((r) => `${r.method} ${r.url}`))].sort();
}

let app: FastifyInstance;
let stop: () => Promise<void>;

beforeAll(async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  const updates = createInMemoryPatientUpdates();
  const alertStore = createSqliteAlertStore({ path: ':memory:' });
  const alerts = await createAlertEngine({ updates, store: alertStore, thresholds: DEFAULT_ALERT_THRESHOLDS, sweepIntervalMs: 0 });
  const audit = createSqliteAuditLog({ path: ':memory:' });
  const timeseries = inMemoryTimeSeries();
  await timeseries.writeReadings([reading(PATIENT, Date.now() - 1000)]);
  app = buildApp({
    config: testConfig(),
    logger: captureLogs().logger,
    metrics,
    readiness: [],
    ingest: { publisher: createReadingPublisher({ bus: recordingBus().bus, topic: 'readings', metrics, maxBatchDelayMs: 0 }) },
    // With the analysts' query the embedded warehouse offers (POST /v1/sql).
    read: { timeseries, warehouse: Object.assign(cannedWarehouse(), { analystQuery: async () => ({ columns: [], rows: [], truncated: false }) }), updates, audit, alerts },
    modelProvenance: {
      model: 'recovery-risk@2', target: 'death or ICU escalation', horizonHours: 24, trainedOn: 'simulated data',
      validatedLocally: false, localValidation: null, summary: 'not validated at this site',
    },
    routes: [
      (a) => void a.register(fhirRoutes, { publish: async () => undefined, deadLetter: async () => undefined }),
      (a) => void a.register(fhirReadRoutes, { timeseries }),
    ],
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  stop = async () => {
    await app.close();
    await alerts.stop();
    await alertStore.close();
    await audit.close();
  };
});
afterAll(() => stop());

const headersFor = (caller: Caller, extra: InjectOptions['headers'] = {}) =>
  caller === 'none' ? extra : { ...extra, authorization: `Bearer ${tokenFor(caller)}` };
const methodOf = (key: string) => key.split(' ')[0] as NonNullable<InjectOptions['method']>;

describe('route table', () => {
  it('every registered route has a row in the role matrix, and every row a route', () => {
    const routes = registeredRoutes(app);
    expect(routes.length).toBeGreaterThan(20);
    expect(routes.filter((r) => !(r in MATRIX)), 'routes without a role-matrix row (add one to MATRIX)').toEqual([]);
    expect(Object.keys(MATRIX).filter((k) => !routes.includes(k)), 'role-matrix rows for routes that no longer exist').toEqual([]);
    expect(app.routeTable.filter((r) => r.access === undefined), 'routes that declare no access level').toEqual([]);
  });
});

describe('role matrix over every route', () => {
  for (const [key, row] of Object.entries(MATRIX)) {
    for (const caller of CALLERS) {
      const expected = row.expect[caller];
      const streams = key === 'GET /v1/stream' && expected === 200;
      it(`${key} as ${caller}: ${expected}`, async () => {
        const { url, headers, ...rest } = row.request;
        if (streams) {
          const abort = new AbortController();
          const { port } = app.server.address() as { port: number };
          const res = await fetch(`http://127.0.0.1:${port}${url}`, { headers: headersFor(caller) as Record<string, string>, signal: abort.signal });
          expect(res.status).toBe(200);
          expect(res.headers.get('cache-control')).toContain('no-store');
          abort.abort();
          return;
        }
        const res = await app.inject({ method: methodOf(key), url, headers: headersFor(caller, headers), ...rest });
        expect(res.statusCode, res.body.slice(0, 300)).toBe(expected);
        if (!NO_PATIENT_DATA.has(key) && !key.startsWith('GET /assets') && res.statusCode < 300) expect(res.headers['cache-control'], 'patient-data answers are not to be cached').toContain('no-store');
      });
    }
  }
});

describe(`every route with a ${MAX_ID_LENGTH}-character id`, () => {
  const longId = `P${'7'.repeat(MAX_ID_LENGTH - 1)}`;
  for (const [key, row] of Object.entries(MATRIX)) {
    if (!key.includes('/:')) continue;
    it(`${key} reaches its handler (no 414)`, async () => {
      const url = key.split(' ')[1]!.replace(/:[A-Za-z]+/g, longId);
      const res = await app.inject({ method: methodOf(key), url, headers: headersFor('admin'), ...(row.request.payload ? { payload: row.request.payload } : {}) });
      expect(res.statusCode, res.body.slice(0, 300)).not.toBe(414);
      expect(res.statusCode).toBeLessThan(500);
      // Patient ids follow the ingest rule: 128 characters are valid (an unknown patient: 404 for a profile).
      if (key.includes(':patientId')) expect([200, 404]).toContain(res.statusCode);
    });
  }
});
