import type { FastifyInstance } from 'fastify';
import { ID_PATTERN, MAX_ID_LENGTH } from '../core/domain/validate-ingest.ts';
import type { Warehouse } from '../core/ports/warehouse.ts';
import { parseInstant } from './time-range.ts';
import { DEFAULTS } from '../core/defaults.ts';

export const DEAD_LETTERS_MAX = 500;
const DEFAULT_SINCE_MS = DEFAULTS.readApi.deadLettersSinceMs;

/**
 * `GET /v1/dead-letters` (admin): the newest input the pipeline could not use, with the reason,
 * from the warehouse table `dead_letters` (named query `dead_letters_newest`, analytics-sql/); `?patientId=` keeps those filed under one patient. Payloads can hold patient data, hence admin only and
 * audited.
 */
export function registerDeadLetterRoutes(app: FastifyInstance, deps: { warehouse: Warehouse }): void {
  const { warehouse } = deps;
  app.get('/v1/dead-letters', {
    config: { access: 'admin', audit: true },
    schema: {
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          since: { type: 'string', maxLength: 64 },
          // Only ids ingest accepts are ever filed under a patient.
          patientId: { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH, pattern: ID_PATTERN.source },
          limit: { type: 'integer', minimum: 1, maximum: DEAD_LETTERS_MAX, default: 100 },
        },
      },
    },
  }, async (request) => {
    const q = request.query as { since?: string; limit: number; patientId?: string };
    const since = q.since === undefined ? Date.now() - DEFAULT_SINCE_MS : parseInstant(q.since, 'since');
    const result = await warehouse.namedQuery('dead_letters_newest', { since: new Date(since), patient_id: q.patientId ?? '' }, { limit: q.limit });
    return result.rows.map((row) => ({
      deadLetterId: row.dead_letter_id,
      receivedAt: row.received_at instanceof Date ? row.received_at.toISOString() : row.received_at,
      source: row.source,
      reason: row.reason,
      field: row.field ?? null,
      patientId: row.patient_id ?? null,
      payload: row.payload,
    }));
  });
}
