import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { ID_SCHEMA } from '../core/domain/validate-ingest.ts';
import { VigilError } from '../core/errors.ts';
import type { DeviceAssociations } from '../core/ports/device-associations.ts';
import { parseObservedAt } from '../core/wire/reading-codec.ts';
import type { DeviceAttribution } from './device-attribution.ts';

/**
 * `PUT /v1/devices/:deviceId/association` — a clinician says which patient a monitor is measuring,
 * from when (default: now). Readings of that device naming no patient are theirs from then on, and
 * readings held for the device that fall in the new interval are published under the patient at
 * once. Clinician role; audited under the patient (who changed whose data, when).
 *
 * Body: `{"patientId": "MRN1", "from": "2026-12-05T08:00:00Z"}`. The association ends when the
 * device is associated with someone else, or the patient is discharged (ADT A03).
 */
export interface DeviceAssociationRouteOptions {
  readonly associations: DeviceAssociations;
  readonly attribution: DeviceAttribution;
  readonly now?: () => number;
}

/** How far ahead a `from` may be: the same clock skew readings are allowed. */
const MAX_FUTURE_MS = 5 * 60_000;

export const deviceAssociationRoute: FastifyPluginAsync<DeviceAssociationRouteOptions> = async (app: FastifyInstance, options) => {
  const now = options.now ?? Date.now;
  app.put('/v1/devices/:deviceId/association', {
    config: {
      access: 'clinician', audit: true,
      auditPatientOf: (request: FastifyRequest) => (request.body as { patientId?: string } | undefined)?.patientId,
    },
    schema: {
      params: { type: 'object', required: ['deviceId'], properties: { deviceId: ID_SCHEMA } },
      body: {
        type: 'object', required: ['patientId'], additionalProperties: false,
        properties: { patientId: ID_SCHEMA, from: { type: 'string', maxLength: 40 } },
      },
    },
  }, async (request) => {
    const { deviceId } = request.params as { deviceId: string };
    const body = request.body as { patientId: string; from?: string };
    const at = now();
    const from = body.from === undefined ? at : parseObservedAt(body.from);
    if (from === undefined) throw new VigilError('VALIDATION_FAILED', 'from must be ISO 8601 with an offset', { details: [{ field: 'from', reason: 'must be ISO 8601 with an offset' }] });
    if (from > at + MAX_FUTURE_MS) throw new VigilError('VALIDATION_FAILED', 'from is more than 5 minutes in the future', { details: [{ field: 'from', reason: 'is in the future' }] });
    await options.associations.associate({
      kind: 'device', key: deviceId, patientId: body.patientId, from, source: `clinician:${request.principal?.sub ?? 'unknown'}`,
    });
    const released = await options.attribution.release('device', deviceId);
    return { deviceId, patientId: body.patientId, from: new Date(from).toISOString(), released };
  });
};
