import type { FastifyInstance } from 'fastify';
import type { RawReading } from '../core/domain/reading.ts';
import type { Warehouse } from '../core/ports/warehouse.ts';
import { decodeReading } from '../core/wire/reading-codec.ts';
import { PATIENT_PARAMS } from './patient-routes.ts';
import { TIME_RANGE_QUERY, parseTimeRange } from './time-range.ts';

/** Rejected readings are rare: a time range never holds many, and the table shows this many at most. */
export const REJECTED_MAX = 1000;

/**
 * `GET /v1/patients/:patientId/rejected?from=&to=` (clinician, audited): the patient's readings the
 * processor refused as malformed or implausible (warehouse table `dead_letters`), by the time
 * they were received, oldest first, each with the reason and the values as the device sent them,
 * so the patient view can list them beside the accepted readings, marked.
 */
export function registerRejectedReadingsRoute(app: FastifyInstance, deps: { warehouse: Warehouse }): void {
  const { warehouse } = deps;
  app.get('/v1/patients/:patientId/rejected', {
    config: { access: 'clinician', audit: true },
    schema: { params: PATIENT_PARAMS, querystring: TIME_RANGE_QUERY },
  }, async (request) => {
    const { patientId } = request.params as { patientId: string };
    const range = parseTimeRange(request.query as { from?: string; to?: string; limit: number }, Date.now());
    const limit = Math.min(range.limit, REJECTED_MAX);
    const result = await warehouse.namedQuery('rejected_readings_of_patient', {
      patient_id: patientId, from: new Date(range.from), to: new Date(range.to),
    }, { limit });
    return result.rows.map((row) => ({
      deadLetterId: row.dead_letter_id,
      receivedAt: row.received_at instanceof Date ? row.received_at.toISOString() : row.received_at,
      source: row.source,
      reason: row.reason,
      field: row.field ?? null,
      reading: sentValues(String(row.payload ?? '')),
    }));
  });
}

/** The values as the device sent them (JSON text or `base64:` Avro), or null when they cannot be read. */
function sentValues(payload: string): Omit<RawReading, 'readingId' | 'patientId' | 'receivedAt' | 'source' | 'observedAt'> & { observedAt: string } | null {
  let raw: RawReading;
  try {
    raw = payload.startsWith('base64:')
      ? decodeReading(Buffer.from(payload.slice('base64:'.length), 'base64'))
      : decodeReading(Buffer.from(payload, 'utf8'), { 'content-type': 'application/json' });
  } catch {
    return null;
  }
  return {
    observedAt: new Date(raw.observedAt).toISOString(),
    deviceId: raw.deviceId,
    heartRate: raw.heartRate,
    bloodPressure: raw.bloodPressure,
    temperature: raw.temperature,
    temperatureUnit: raw.temperatureUnit,
    spo2: raw.spo2,
    respiratoryRate: raw.respiratoryRate,
    onOxygen: raw.onOxygen,
    consciousness: raw.consciousness,
  };
}
