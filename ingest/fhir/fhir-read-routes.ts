import type { Bundle, BundleEntry, Observation, Patient } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { VitalReading } from '../../core/domain/reading.ts';
import { ID_PATTERN, ID_SCHEMA, MAX_ID_LENGTH } from '../../core/domain/validate-ingest.ts';
import type { TimeSeriesStore } from '../../core/ports/timeseries-store.ts';
import { FHIR_CONTENT_TYPE } from './fhir-routes.ts';
import type { ObservationSearch, SearchPosition } from './observation-search.ts';
import { encodeCursor, isAfter, parseObservationSearch } from './observation-search.ts';
import { FhirError, toFhirAnswer } from './operation-outcome.ts';
import { FHIR_ID, SERVED_VITALS, VIGIL_PATIENT_ID_SYSTEM, observationOf, servedVitalsOf } from './reading-to-observations.ts';

/**
 * Results out, the FHIR way (clinicians, admins and analysts; bearer token), as a Fastify plugin:
 * `app.register(fhirReadRoutes, { timeseries })`.
 *
 * - `GET /fhir/Observation?patient=&date=&code=&_count=`: the patient's stored readings as
 *   vital-signs Observations (reading-to-observations.ts), oldest first, in a `searchset` Bundle
 *   of at most `_count` entries with a `next` link while more match (observation-search.ts).
 * - `GET /fhir/Patient/:patientId`: the patient Vigil monitors, by its id (404 when no reading
 *   names it). Vigil keeps no demographics: the Patient carries the id and nothing invented.
 *
 * Both are audited like every read of patient data (dashboard-api/audit-routes.ts: actor, role,
 * route, patient, status, recorded before the answer leaves). Every refusal is an
 * OperationOutcome, the auth hook's 401/403 included.
 */
export interface FhirReadRoutesOptions {
  readonly timeseries: TimeSeriesStore;
}

/** Readings are accepted up to 5 minutes ahead of the edge's clock (core/domain/validate-ingest.ts). */
const FUTURE_SKEW_MS = 5 * 60_000;
/** Readings read per store call while filling a page. */
const READ_BATCH = 200;

export const fhirReadRoutes: FastifyPluginAsync<FhirReadRoutesOptions> = async (app: FastifyInstance, options) => {
  const { timeseries } = options;

  app.setErrorHandler((error, request, reply) => {
    const answer = toFhirAnswer(error);
    if (answer.status >= 500) request.log.error({ status: answer.status, code: (error as { code?: unknown }).code }, 'FHIR read failed');
    return reply.code(answer.status).type(FHIR_CONTENT_TYPE).send(answer.outcome);
  });

  const access = { access: 'clinician-or-analyst', audit: true } as const;

  app.get('/fhir/Observation', {
    config: { ...access, auditPatientOf: patientOfQuery },
  }, async (request, reply) => {
    const search = parseObservationSearch(request.query as Record<string, string | string[]>, Date.now() + FUTURE_SKEW_MS);
    const { observations, next } = await searchPage(timeseries, search);
    const base = baseUrlOf(request);
    const query = request.query as Record<string, string | string[]>;
    const bundle: Bundle<Observation> = {
      resourceType: 'Bundle',
      type: 'searchset',
      timestamp: new Date().toISOString(),
      link: [
        { relation: 'self', url: `${base}/Observation?${queryString(query)}` },
        ...(next ? [{ relation: 'next', url: `${base}/Observation?${queryString({ ...query, _cursor: encodeCursor(next) })}` }] : []),
      ],
      entry: observations.map((resource): BundleEntry<Observation> => ({ fullUrl: `${base}/Observation/${resource.id}`, resource, search: { mode: 'match' } })),
    };
    return reply.type(FHIR_CONTENT_TYPE).send(bundle);
  });

  app.get('/fhir/Patient/:patientId', {
    config: access,
    schema: { params: { type: 'object', required: ['patientId'], properties: { patientId: ID_SCHEMA } } },
  }, async (request, reply) => {
    const { patientId } = request.params as { patientId: string };
    const newest = await timeseries.latestReading(patientId);
    if (!newest) throw new FhirError([{ code: 'not-found', expression: 'Patient', diagnostics: 'no patient with this id has readings in Vigil' }]);
    // A FHIR id is [A-Za-z0-9-.]{1,64}: other Vigil ids (P_001) are served by identifier only.
    const fhirId = FHIR_ID.test(patientId) ? patientId : undefined;
    const patient: Patient = {
      resourceType: 'Patient',
      ...(fhirId ? { id: fhirId } : {}),
      meta: { lastUpdated: new Date(newest.receivedAt).toISOString() },
      identifier: [{ system: VIGIL_PATIENT_ID_SYSTEM, value: patientId }],
    };
    return reply.type(FHIR_CONTENT_TYPE).send(patient);
  });
};

/** The patient a search reads, for the audit log (only an id that passes the id rule). */
function patientOfQuery(request: FastifyRequest): string | undefined {
  const query = request.query as Record<string, unknown> | undefined;
  const given = query?.patient ?? query?.subject;
  if (typeof given !== 'string') return undefined;
  const id = given.replace(/^Patient\//, '');
  return id.length <= MAX_ID_LENGTH && ID_PATTERN.test(id) ? id : undefined;
}

/**
 * One page of a search: up to `count` Observations after the cursor, and the position to continue
 * from when more match. Reads the store in batches (the store orders readings by time, then id;
 * `newestFirst` takes a range's newest), walking forward or backward through time, and widens a
 * batch when every reading in it shares one millisecond.
 */
async function searchPage(timeseries: TimeSeriesStore, search: ObservationSearch): Promise<{ observations: Observation[]; next?: SearchPosition }> {
  const found: { position: SearchPosition; reading: VitalReading }[] = [];
  if (search.vitals.size === 0 || search.from >= search.to) return { observations: [] };
  const backward = search.newestFirst;
  let after = search.after;
  // The range still to read: [from, to). Going backward, `to` moves down; forward, `from` moves up.
  let from = backward ? search.from : Math.max(search.from, after?.observedAt ?? 0);
  let to = backward ? Math.min(search.to, after ? after.observedAt + 1 : search.to) : search.to;
  let batch = Math.max(READ_BATCH, search.count + 1);
  while (from < to) {
    const before = found.length;
    const ascending = await timeseries.readReadings(search.patientId, { from, to, limit: batch, ...(backward ? { newestFirst: true } : {}) });
    const readings = backward ? [...ascending].reverse() : ascending;
    collect: for (const reading of readings) {
      for (const vital of servedVitalsOf(reading)) {
        if (!search.vitals.has(vital)) continue;
        const position = { observedAt: reading.observedAt, readingId: reading.readingId, vitalIndex: SERVED_VITALS.indexOf(vital) };
        if (after && !isAfter(position, after, backward)) continue;
        found.push({ position, reading });
        if (found.length > search.count) break collect;
      }
    }
    if (found.length > search.count || readings.length < batch) break;
    const last = readings.at(-1)!;
    if (last.observedAt === (backward ? to - 1 : from)) {
      // Every reading of this batch is at one millisecond: read that millisecond again, more at once.
      found.length = before;
      batch *= 2;
      continue;
    }
    // Readings up to `last` were seen: continue after it (its own millisecond included, for ties).
    after = { observedAt: last.observedAt, readingId: last.readingId, vitalIndex: SERVED_VITALS.length };
    if (backward) to = last.observedAt + 1;
    else from = last.observedAt;
  }
  const page = found.slice(0, search.count);
  const observations = page.map(({ reading, position }) => observationOf(reading, SERVED_VITALS[position.vitalIndex]!));
  return found.length > search.count ? { observations, next: page.at(-1)!.position } : { observations };
}

function baseUrlOf(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}/fhir`;
}

function queryString(query: Record<string, string | string[]>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) for (const v of [value].flat()) params.append(name, v);
  return params.toString();
}
