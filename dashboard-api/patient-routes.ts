import type { FastifyInstance } from 'fastify';
import type { RiskScore, VitalReading } from '../core/domain/reading.ts';
import { ID_SCHEMA } from '../core/domain/validate-ingest.ts';
import { VigilError } from '../core/errors.ts';
import type { TimeRange, TimeSeriesStore } from '../core/ports/timeseries-store.ts';
import { TIME_RANGE_QUERY, parseTimeRange } from './time-range.ts';
import { summarizeWard } from './ward-summary.ts';

/**
 * The clinician read API: the ward, one patient's vitals and risk history, and the per-patient
 * SpO2 scale. Every route here is audited (see audit-routes.ts).
 */

const nullable = (type: string) => ({ type: [type, 'null'] });
const iso = { type: 'string' };

const VITAL_FIELDS = {
  heartRate: nullable('number'),
  systolic: nullable('number'),
  diastolic: nullable('number'),
  temperatureC: nullable('number'),
  spo2: nullable('number'),
  respiratoryRate: nullable('number'),
  onOxygen: nullable('boolean'),
  consciousness: nullable('string'),
} as const;

/** A reading as the API shows it (PRODUCT.md: parsed, systolic/diastolic, °C, ISO time). */
const VITALS_VIEW = {
  type: 'object',
  properties: { readingId: { type: 'string' }, patientId: { type: 'string' }, deviceId: { type: 'string' }, observedAt: iso, ...VITAL_FIELDS },
} as const;

const FACTORS = {
  type: 'array',
  items: { type: 'object', properties: { feature: { type: 'string' }, contribution: { type: 'number' }, value: nullable('number') } },
} as const;

const PATIENT_SUMMARY = {
  type: 'object',
  properties: {
    patientId: { type: 'string' },
    latest: {
      anyOf: [{ type: 'null' }, { type: 'object', properties: { observedAt: iso, ...VITAL_FIELDS } }],
    },
    news2: { anyOf: [{ type: 'null' }, { type: 'object', properties: { score: { type: 'number' }, level: { type: 'string' } } }] },
    risk: {
      anyOf: [
        { type: 'null' },
        { type: 'object', properties: { score: nullable('number'), model: nullable('string'), factors: FACTORS, scoredAt: iso } },
      ],
    },
  },
} as const;

const RISK_VIEW = {
  type: 'object',
  properties: {
    scoredAt: iso,
    news2Score: { type: 'number' },
    news2Level: { type: 'string' },
    riskScore: nullable('number'),
    model: nullable('string'),
    factors: FACTORS,
  },
} as const;

const PROFILE_VIEW = {
  type: 'object',
  properties: { patientId: { type: 'string' }, spo2Scale: { type: 'integer' }, updatedAt: nullable('string'), updatedBy: nullable('string') },
} as const;

export const PATIENT_PARAMS = {
  type: 'object',
  required: ['patientId'],
  // The ingest rule (core/domain/validate-ingest.ts): an id no reading could carry is a 400 here too.
  properties: { patientId: ID_SCHEMA },
} as const;

export function vitalsView(r: VitalReading) {
  return {
    readingId: r.readingId,
    patientId: r.patientId,
    deviceId: r.deviceId,
    observedAt: new Date(r.observedAt).toISOString(),
    heartRate: r.heartRate,
    systolic: r.systolic,
    diastolic: r.diastolic,
    temperatureC: r.temperatureC,
    spo2: r.spo2,
    respiratoryRate: r.respiratoryRate,
    onOxygen: r.onOxygen,
    consciousness: r.consciousness,
  };
}

function riskView({ patientId: _patientId, ...score }: RiskScore) {
  return { ...score, scoredAt: new Date(score.scoredAt).toISOString() };
}

/** Set when a history answer stopped at `limit`: ask again from the last item's time. */
export const TRUNCATED_HEADER = 'x-vigil-truncated';

export function registerPatientRoutes(app: FastifyInstance, timeseries: TimeSeriesStore): void {
  const clinicianAudited = { access: 'clinician', audit: true } as const;

  app.get('/v1/patients', {
    config: clinicianAudited,
    schema: { response: { 200: { type: 'array', items: PATIENT_SUMMARY } } },
  }, async () => summarizeWard(timeseries));

  /** A time-range history of one patient: vitals or risk scores, oldest first. */
  const history = <T>(url: string, itemSchema: object, read: (patientId: string, range: TimeRange) => Promise<T[]>, view: (item: T) => object) => {
    app.get(url, {
      config: clinicianAudited,
      schema: { params: PATIENT_PARAMS, querystring: TIME_RANGE_QUERY, response: { 200: { type: 'array', items: itemSchema } } },
    }, async (request, reply) => {
      const { patientId } = request.params as { patientId: string };
      const range = parseTimeRange(request.query as { from?: string; to?: string; limit: number }, Date.now());
      const items = await read(patientId, range);
      if (items.length >= range.limit) reply.header(TRUNCATED_HEADER, 'true');
      return items.map(view);
    });
  };
  history('/v1/patients/:patientId/vitals', VITALS_VIEW, (id, range) => timeseries.readReadings(id, range), vitalsView);
  history('/v1/patients/:patientId/risk', RISK_VIEW, (id, range) => timeseries.readRiskScores(id, range), riskView);

  app.get('/v1/patients/:patientId/profile', {
    config: clinicianAudited,
    schema: { params: PATIENT_PARAMS, response: { 200: PROFILE_VIEW } },
  }, async (request) => {
    const { patientId } = request.params as { patientId: string };
    await requireKnownPatient(timeseries, patientId);
    const profile = await timeseries.readPatientProfile(patientId);
    if (!profile) return { patientId, spo2Scale: 1, updatedAt: null, updatedBy: null };
    return { ...profile, updatedAt: new Date(profile.updatedAt).toISOString() };
  });

  // Changes how NEWS2 scores this patient's SpO2; bearer token only (the session cookie is for reads).
  app.put('/v1/patients/:patientId/profile', {
    config: clinicianAudited,
    schema: {
      params: PATIENT_PARAMS,
      body: {
        type: 'object',
        required: ['spo2Scale'],
        additionalProperties: false,
        properties: { spo2Scale: { type: 'integer', enum: [1, 2] } },
      },
      response: { 200: PROFILE_VIEW },
    },
  }, async (request) => {
    const { patientId } = request.params as { patientId: string };
    const { spo2Scale } = request.body as { spo2Scale: 1 | 2 };
    await requireKnownPatient(timeseries, patientId);
    const profile = { patientId, spo2Scale, updatedAt: Date.now(), updatedBy: request.principal!.sub };
    await timeseries.writePatientProfile(profile);
    return { ...profile, updatedAt: new Date(profile.updatedAt).toISOString() };
  });
}

/** Profiles belong to monitored patients: none is stored or shown for an id no reading ever named. */
async function requireKnownPatient(timeseries: TimeSeriesStore, patientId: string): Promise<void> {
  if ((await timeseries.latestReading(patientId)) === undefined) throw new VigilError('NOT_FOUND', 'no such patient');
}
