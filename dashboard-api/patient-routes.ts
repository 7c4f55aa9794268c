import type { FastifyInstance } from 'fastify';
import type { RiskMode } from '../core/config.ts';
import { inRiskMode } from '../core/domain/patient-summary.ts';
import type { RiskScore, VitalReading } from '../core/domain/reading.ts';
import { ID_SCHEMA } from '../core/domain/validate-ingest.ts';
import { VigilError } from '../core/errors.ts';
import type { TimeRange, TimeSeriesStore } from '../core/ports/timeseries-store.ts';
import { TIME_RANGE_QUERY, parseTimeRange } from './time-range.ts';
import { summarizeWard } from './ward-summary.ts';
import type { WardCensus } from './ward-census.ts';

/**
 * The clinician read API: the ward, one patient's vitals and risk history, and the per-patient
 * profile (SpO2 scale, baseline confusion). Every route here is audited (see audit-routes.ts).
 *
 * NEWS2 always says whether its observation set was complete (`complete`, `missing`). With
 * VIGIL_RISK_MODE=silent the model's risk is withheld: summaries carry `"risk": {"mode": "silent"}`
 * and risk history items `riskScore: null, model: null, factors: [], riskMode: "silent"`.
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

/** A reading as the API shows it (the README: parsed, systolic/diastolic, °C, ISO time). */
const VITALS_VIEW = {
  type: 'object',
  properties: { readingId: { type: 'string' }, patientId: { type: 'string' }, deviceId: { type: 'string' }, observedAt: iso, ...VITAL_FIELDS },
} as const;

const FACTORS = {
  type: 'array',
  items: { type: 'object', properties: { feature: { type: 'string' }, contribution: { type: 'number' }, value: nullable('number') } },
} as const;

const NEWS2_PARAMETER_NAMES = ['respiratoryRate', 'spo2', 'onOxygen', 'systolic', 'heartRate', 'consciousness', 'temperature'] as const;
const MISSING = { type: 'array', items: { type: 'string', enum: NEWS2_PARAMETER_NAMES } } as const;

const PATIENT_SUMMARY = {
  type: 'object',
  properties: {
    patientId: { type: 'string' },
    bed: nullable('string'),
    latest: {
      anyOf: [{ type: 'null' }, { type: 'object', properties: { observedAt: iso, ...VITAL_FIELDS } }],
    },
    news2: {
      anyOf: [
        { type: 'null' },
        {
          type: 'object',
          properties: { score: { type: 'number' }, level: { type: 'string' }, complete: { type: 'boolean' }, missing: MISSING, observedAt: iso },
        },
      ],
    },
    risk: {
      anyOf: [
        { type: 'null' },
        { type: 'object', required: ['mode'], properties: { mode: { type: 'string', enum: ['silent'] } } },
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
    news2Complete: { type: 'boolean' },
    news2Missing: MISSING,
    riskScore: nullable('number'),
    model: nullable('string'),
    factors: FACTORS,
    riskMode: { type: 'string', enum: ['silent'] },
  },
} as const;

const PROFILE_VIEW = {
  type: 'object',
  properties: {
    patientId: { type: 'string' }, spo2Scale: { type: 'integer' }, baselineConfusion: { type: 'boolean' },
    updatedAt: nullable('string'), updatedBy: nullable('string'),
  },
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

function riskView({ patientId: _patientId, ...score }: RiskScore, riskMode: RiskMode) {
  const view = { ...score, scoredAt: new Date(score.scoredAt).toISOString() };
  return riskMode === 'silent' ? { ...view, riskScore: null, model: null, factors: [], riskMode } : view;
}

/** Set when a history answer stopped at `limit`: ask again from the last item's time. */
export const TRUNCATED_HEADER = 'x-vigil-truncated';

export function registerPatientRoutes(app: FastifyInstance, timeseries: TimeSeriesStore, options: { riskMode?: RiskMode; census?: WardCensus } = {}): void {
  const riskMode = options.riskMode ?? 'shown';
  const clinicianAudited = { access: 'clinician', audit: true } as const;

  app.get('/v1/patients', {
    config: clinicianAudited,
    schema: { response: { 200: { type: 'array', items: PATIENT_SUMMARY } } },
  }, async () => (await summarizeWard(timeseries, { ...(options.census ? { census: options.census } : {}) })).map((summary) => inRiskMode(summary, riskMode)));

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
  history('/v1/patients/:patientId/risk', RISK_VIEW, (id, range) => timeseries.readRiskScores(id, range), (score) => riskView(score, riskMode));

  app.get('/v1/patients/:patientId/profile', {
    config: clinicianAudited,
    schema: { params: PATIENT_PARAMS, response: { 200: PROFILE_VIEW } },
  }, async (request) => {
    const { patientId } = request.params as { patientId: string };
    await requireKnownPatient(timeseries, patientId);
    const profile = await timeseries.readPatientProfile(patientId);
    if (!profile) return { patientId, spo2Scale: 1, baselineConfusion: false, updatedAt: null, updatedBy: null };
    return { ...profile, baselineConfusion: profile.baselineConfusion ?? false, updatedAt: new Date(profile.updatedAt).toISOString() };
  });

  // Changes how NEWS2 scores this patient (SpO2 scale 2, baseline confusion); either field alone
  // keeps the other as it was. Bearer token only (the session cookie is for reads).
  app.put('/v1/patients/:patientId/profile', {
    config: clinicianAudited,
    schema: {
      params: PATIENT_PARAMS,
      body: {
        type: 'object',
        minProperties: 1,
        additionalProperties: false,
        properties: { spo2Scale: { type: 'integer', enum: [1, 2] }, baselineConfusion: { type: 'boolean' } },
      },
      response: { 200: PROFILE_VIEW },
    },
  }, async (request) => {
    const { patientId } = request.params as { patientId: string };
    const body = request.body as { spo2Scale?: 1 | 2; baselineConfusion?: boolean };
    await requireKnownPatient(timeseries, patientId);
    const before = await timeseries.readPatientProfile(patientId);
    const profile = {
      patientId,
      spo2Scale: body.spo2Scale ?? before?.spo2Scale ?? 1,
      baselineConfusion: body.baselineConfusion ?? before?.baselineConfusion ?? false,
      updatedAt: Date.now(),
      updatedBy: request.principal!.sub,
    };
    await timeseries.writePatientProfile(profile);
    return { ...profile, updatedAt: new Date(profile.updatedAt).toISOString() };
  });
}

/** Profiles belong to monitored patients: none is stored or shown for an id no reading ever named. */
async function requireKnownPatient(timeseries: TimeSeriesStore, patientId: string): Promise<void> {
  if ((await timeseries.latestReading(patientId)) === undefined) throw new VigilError('NOT_FOUND', 'no such patient');
}
