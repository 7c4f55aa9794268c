import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { RawReading } from '../../core/domain/reading.ts';
import type { Principal } from '../../core/domain/principal.ts';
import type { FhirIssue } from './operation-outcome.ts';
import type { PatientIdResult, SubjectResolver } from './bundle-patients.ts';
import { bundleSubjectResolver, patientIdOfPatient } from './bundle-patients.ts';
import { FhirError, operationOutcome, statusLine, statusOfIssues, toFhirAnswer } from './operation-outcome.ts';
import type { MergedReading, ObservationVitals } from './observation-to-reading.ts';
import { mergeObservations, readObservation } from './observation-to-reading.ts';

/**
 * The FHIR R4 edge (device role), as a Fastify plugin the app registers:
 * `app.register(fhirRoutes, { publish, deadLetter })`. The app's auth hook (http/auth.ts)
 * checks the device token from each route's `config.access`; every answer of these routes,
 * refusals by that hook included, is FHIR: a resource, a response Bundle or an OperationOutcome.
 *
 * - `POST /fhir/Observation`: one vital-signs Observation → 201 with the Observation (its `id` is
 *   the reading id), or 400/422 with an OperationOutcome naming each failing element.
 * - `POST /fhir`: a Bundle. `batch`: each entry stands alone → 200 batch-response with a status
 *   and outcome per entry. `transaction`: all or nothing → 200 transaction-response, or one
 *   OperationOutcome naming every failing entry and nothing published. `POST /fhir/` is the same.
 *   Patient entries are read for their patient id only (bundle-patients.ts), so Observations
 *   may name them by `urn:uuid:` fullUrl, as Synthea writes them.
 * - Any other path under /fhir: 404 OperationOutcome.
 *
 * Accepted: application/fhir+json and application/json. A bus that cannot take the readings gives
 * 503 + Retry-After (nothing was stored; resend). Refused input goes to the dead letters as sent.
 */
export interface FhirRoutesOptions {
  /** Resolves once the bus has every reading (ReadingPublisher.publish). */
  readonly publish: (readings: RawReading[]) => Promise<void>;
  readonly deadLetter: (payload: Buffer, reason: string) => Promise<void>;
  /** Most entries in one Bundle. */
  readonly maxBundleEntries?: number;
}

export const FHIR_CONTENT_TYPE = 'application/fhir+json; charset=utf-8';
export const MAX_BUNDLE_ENTRIES = 1000;
const RETRY_AFTER_SECONDS = 1;

export const fhirRoutes: FastifyPluginAsync<FhirRoutesOptions> = async (app: FastifyInstance, options) => {
  const { publish, deadLetter } = options;
  const maxEntries = options.maxBundleEntries ?? MAX_BUNDLE_ENTRIES;
  // The request text as received, for the dead letters (per plugin instance, collected with the request).
  const rawBodies = new WeakMap<FastifyRequest, string>();

  const keep = async (payload: string | undefined, reason: string): Promise<void> => {
    if (payload === undefined) return;
    try {
      await deadLetter(Buffer.from(payload, 'utf8'), reason);
    } catch (error) {
      app.log.error({ code: (error as { code?: unknown })?.code }, 'could not store a FHIR dead letter');
    }
  };
  const reasonOf = (status: number, issues: readonly FhirIssue[]): string =>
    `fhir ${status}: ${issues.slice(0, 5).map((i) => `${i.expression ?? ''} ${i.diagnostics}`.trim()).join('; ')}`;

  const json = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/fhir+json', 'application/json'], { parseAs: 'string' }, (request, body, done) => {
    json(request, body as string, (error, value) => {
      if (error) {
        const issues: FhirIssue[] = [{ code: 'structure', diagnostics: 'the body is not valid JSON' }];
        void keep(body as string, reasonOf(400, issues)).then(() => done(new FhirError(issues, { status: 400 }), undefined));
        return;
      }
      rawBodies.set(request, body as string);
      done(null, value);
    });
  });

  app.setErrorHandler((error, request, reply) => {
    const answer = toFhirAnswer(error);
    // A retriable 503 is logged once where the bus state changed (ingest/reading-publisher.ts).
    if (answer.status >= 500 && !(answer.status === 503 && answer.retriable)) {
      const cause = (error as { cause?: { name?: string; code?: unknown } }).cause;
      request.log.error({ status: answer.status, code: (error as { code?: unknown }).code, cause: cause ? { name: cause.name, code: cause.code } : undefined }, 'FHIR request failed');
    }
    if (answer.status === 503 && answer.retriable) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    return reply.code(answer.status).type(FHIR_CONTENT_TYPE).send(answer.outcome);
  });

  app.post('/fhir/Observation', { config: { access: 'device' } }, async (request, reply) => {
    const receivedAt = Date.now();
    const raw = rawBodies.get(request);
    const read = readObservation(request.body, 'Observation', deviceOf(request), undefined, receivedAt);
    if (!read.ok) return refuse(raw, read.issues);
    const [merged] = mergeObservations([{ path: 'Observation', vitals: read.vitals }], receivedAt);
    if (!merged!.result.ok) return refuse(raw, merged!.result.issues);
    const reading = merged!.result.reading;
    await publish([reading]);
    return reply.code(201).type(FHIR_CONTENT_TYPE).send({
      ...(request.body as object),
      id: reading.readingId,
      meta: { ...((request.body as { meta?: object }).meta ?? {}), lastUpdated: new Date(receivedAt).toISOString() },
    });
  });

  // `POST /fhir/` is what fhir-kit-client's batch()/transaction() send: the same route.
  const postBundle = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const receivedAt = Date.now();
    const raw = rawBodies.get(request);
    const bundle = request.body as { resourceType?: unknown; type?: unknown; entry?: unknown };
    if (typeof bundle !== 'object' || bundle === null || bundle.resourceType !== 'Bundle') {
      return refuse(raw, [{ code: 'structure', expression: 'Bundle.resourceType', diagnostics: 'POST /fhir takes a Bundle of type batch or transaction; post single Observations to /fhir/Observation' }]);
    }
    if (bundle.type !== 'batch' && bundle.type !== 'transaction') {
      return refuse(raw, [{ code: 'not-supported', expression: 'Bundle.type', diagnostics: `Bundle.type must be batch or transaction, not ${JSON.stringify(bundle.type)?.slice(0, 30)}` }]);
    }
    const entries = bundle.entry === undefined ? [] : bundle.entry;
    if (!Array.isArray(entries)) return refuse(raw, [{ code: 'structure', expression: 'Bundle.entry', diagnostics: 'Bundle.entry must be an array' }]);
    if (entries.length > maxEntries) {
      return refuse(raw, [{ code: 'too-costly', expression: 'Bundle.entry', diagnostics: `a Bundle may carry at most ${maxEntries} entries; split it` }]);
    }

    const device = deviceOf(request);
    // Patient entries first: they say what the Observations' urn:uuid subjects mean.
    const patients = new Map<number, PatientIdResult & { method: string }>();
    entries.forEach((entry, i) => {
      const patient = readPatientEntry(entry, i);
      if (patient) patients.set(i, patient);
    });
    const resolveSubject = bundleSubjectResolver(entries, patients);
    const outcomes: EntryOutcome[] = entries.map((entry, i) => {
      const patient = patients.get(i);
      if (!patient) return readEntry(entry, i, device, resolveSubject, receivedAt);
      return patient.ok ? { ok: true, patient: { patientId: patient.patientId, from: patient.from, created: patient.method === 'POST' } } : patient;
    });
    const valid = outcomes.flatMap((o, i) => (o.ok && 'vitals' in o ? [{ path: `Bundle.entry[${i}].resource`, vitals: o.vitals, index: i }] : []));
    const merged = mergeObservations(valid, receivedAt);
    const byPath = new Map<string, MergedReading>();
    for (const m of merged) for (const path of m.paths) byPath.set(path, m);

    if (bundle.type === 'transaction') {
      const issues = [...outcomes.flatMap((o) => (o.ok ? [] : o.issues)), ...merged.flatMap((m) => (m.result.ok ? [] : m.result.issues))];
      if (issues.length > 0) return refuse(raw, issues);
    } else {
      for (let i = 0; i < outcomes.length; i++) {
        const o = outcomes[i]!;
        if (!o.ok) await keep(JSON.stringify((entries[i] as { resource?: unknown })?.resource ?? entries[i]), reasonOf(statusOfIssues(o.issues), o.issues));
      }
      for (const m of merged) {
        if (!m.result.ok) await keep(m.paths.map((p) => JSON.stringify(resourceAt(entries, p))).join('\n'), reasonOf(statusOfIssues(m.result.issues), m.result.issues));
      }
    }

    const readings = merged.flatMap((m) => (m.result.ok ? [m.result.reading] : []));
    if (readings.length > 0) await publish(readings);

    const responseEntries = outcomes.map((o, i) => {
      if (!o.ok) return { response: { status: statusLine(statusOfIssues(o.issues)), outcome: operationOutcome(o.issues) } };
      if ('patient' in o) {
        // Accepted for its identifiers only: Vigil keeps no Patient resources.
        return {
          response: {
            status: statusLine(o.patient.created ? 201 : 200),
            outcome: operationOutcome([{ severity: 'information', code: 'informational', diagnostics: `patient id ${o.patient.patientId} (from ${o.patient.from}) used for this Bundle's references; the Patient resource itself is not stored` }]),
          },
        };
      }
      const m = byPath.get(`Bundle.entry[${i}].resource`)!;
      if (!m.result.ok) return { response: { status: statusLine(statusOfIssues(m.result.issues)), outcome: operationOutcome(m.result.issues) } };
      const reading = m.result.reading;
      return {
        response: {
          status: statusLine(201),
          lastModified: new Date(receivedAt).toISOString(),
          outcome: operationOutcome([{ severity: 'information', code: 'informational', diagnostics: describe(reading) }]),
        },
      };
    });
    return reply.code(200).type(FHIR_CONTENT_TYPE).send({
      resourceType: 'Bundle',
      type: bundle.type === 'batch' ? 'batch-response' : 'transaction-response',
      entry: responseEntries,
    });
  };
  app.post('/fhir', { config: { access: 'device' } }, postBundle);
  app.post('/fhir/', { config: { access: 'device' } }, postBundle);

  // Any other path under /fhir (GET /fhir/metadata, PUT /fhir/Observation/1, …): 404 as FHIR.
  await app.register(async (scope) => {
    scope.setNotFoundHandler((request) => {
      throw new FhirError([{ code: 'not-found', diagnostics: `${request.method} ${request.url.split('?')[0]!.slice(0, 100)} is not supported here; Vigil takes POST /fhir/Observation and POST /fhir (a batch or transaction Bundle), and, where the read API runs, serves GET /fhir/Observation?patient= and GET /fhir/Patient/<id>` }]);
    });
  }, { prefix: '/fhir' });

  async function refuse(raw: string | undefined, issues: FhirIssue[]): Promise<never> {
    await keep(raw, reasonOf(statusOfIssues(issues), issues));
    throw new FhirError(issues);
  }
};

type EntryOutcome =
  | { ok: true; vitals: ObservationVitals }
  | { ok: true; patient: { patientId: string; from: string; created: boolean } }
  | { ok: false; issues: FhirIssue[] };

/** A Patient entry (POST Patient, or PUT Patient/<id>) and its patient id; undefined for any other entry. */
function readPatientEntry(entry: unknown, i: number): (PatientIdResult & { method: string }) | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  const { request, resource } = entry as { request?: { method?: unknown; url?: unknown }; resource?: unknown };
  if (typeof resource !== 'object' || resource === null || (resource as { resourceType?: unknown }).resourceType !== 'Patient') return undefined;
  if (typeof request !== 'object' || request === null) return undefined;
  const method = request.method;
  const url = typeof request.url === 'string' ? request.url : '';
  const fits = (method === 'POST' && /^Patient\/?(\?.*)?$/.test(url)) || (method === 'PUT' && /^Patient(\/[^/?]+|\?.*)$/.test(url));
  if (!fits) return undefined;
  return { ...patientIdOfPatient(resource as Record<string, unknown>, `Bundle.entry[${i}].resource`), method: method as string };
}

function readEntry(entry: unknown, i: number, device: string | undefined, resolveSubject: SubjectResolver, receivedAt: number): ReturnType<typeof readObservation> {
  const path = `Bundle.entry[${i}]`;
  if (typeof entry !== 'object' || entry === null) return { ok: false, issues: [{ code: 'structure', expression: path, diagnostics: 'each entry must be an object' }] };
  const { request, resource } = entry as { request?: { method?: unknown; url?: unknown }; resource?: unknown };
  if (request === undefined) return { ok: false, issues: [{ code: 'required', expression: `${path}.request`, diagnostics: 'entry.request (method POST, url Observation) is required in a batch or transaction' }] };
  if (request.method !== 'POST' || typeof request.url !== 'string' || !/^Observation\/?(\?.*)?$/.test(request.url)) {
    return { ok: false, issues: [{ code: 'not-supported', expression: `${path}.request`, diagnostics: 'only POST Observation entries (and POST Patient / PUT Patient/<id> entries, for their identifiers) are accepted' }] };
  }
  return readObservation(resource, `${path}.resource`, device, resolveSubject, receivedAt);
}

function resourceAt(entries: unknown[], path: string): unknown {
  const index = Number(/\[(\d+)\]/.exec(path)?.[1]);
  return (entries[index] as { resource?: unknown } | undefined)?.resource;
}

/** The device identity behind the request: the token subject of the device role. */
function deviceOf(request: FastifyRequest): string | undefined {
  const principal = (request as { principal?: Principal | null }).principal;
  return principal?.role === 'device' ? principal.sub : undefined;
}

/** What was stored, for the response: vitals as the bus record carries them. */
function describe(reading: RawReading): string {
  const parts: string[] = [];
  if (reading.heartRate !== null) parts.push(`heart rate ${reading.heartRate}/min`);
  if (reading.respiratoryRate !== null) parts.push(`respiratory rate ${reading.respiratoryRate}/min`);
  if (reading.spo2 !== null) parts.push(`SpO2 ${reading.spo2}%`);
  if (reading.temperature !== null) parts.push(`temperature ${reading.temperature} °C`);
  if (reading.bloodPressure !== null) {
    const [systolic, diastolic] = reading.bloodPressure.split('/');
    parts.push(`systolic ${systolic} mmHg, diastolic ${diastolic} mmHg`);
  }
  return `accepted as reading ${reading.readingId}: ${parts.join(', ')}`;
}
