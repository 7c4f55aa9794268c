import type { FastifyInstance } from 'fastify';
import type { VigilConfig } from '../core/config.ts';
import { ID_PATTERN, MAX_ID_LENGTH } from '../core/domain/validate-ingest.ts';
import type { Warehouse } from '../core/ports/warehouse.ts';
import { parseInstant } from './time-range.ts';

export const DEAD_LETTERS_MAX = 500;
const DEFAULT_SINCE_MS = 24 * 60 * 60 * 1000;

/**
 * `GET /v1/dead-letters` (admin): the newest input the pipeline could not use, with the reason,
 * from the warehouse table `dead_letters`; `?patientId=` keeps those filed under one patient. Payloads can hold patient data, hence admin only and
 * audited.
 */
export function registerDeadLetterRoutes(app: FastifyInstance, deps: { warehouse: Warehouse; config: VigilConfig }): void {
  const { warehouse, config } = deps;
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
    const sql = deadLettersSql(warehouse.dialect, config.warehouse.bigqueryDataset, since, q.limit, q.patientId !== undefined);
    const result = await warehouse.query(sql, q.patientId !== undefined ? { patientId: q.patientId } : undefined);
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

/**
 * `since` and `limit` are validated integers, so they are written into the SQL as literals; the
 * patient id, when filtering by one, is a parameter (`patientId`).
 */
export function deadLettersSql(dialect: Warehouse['dialect'], dataset: string, since: number, limit: number, byPatient = false): string {
  const table = dialect === 'googlesql' ? `\`${dataset}.dead_letters\`` : 'dead_letters';
  const sinceLiteral = dialect === 'googlesql' ? `TIMESTAMP_MILLIS(${Math.trunc(since)})` : `epoch_ms(${Math.trunc(since)})`;
  const patient = byPatient ? ` AND patient_id = ${dialect === 'googlesql' ? '@' : '$'}patientId` : '';
  return `SELECT dead_letter_id, received_at, source, reason, field, patient_id, payload FROM ${table} `
    + `WHERE received_at >= ${sinceLiteral}${patient} ORDER BY received_at DESC LIMIT ${Math.trunc(limit)}`;
}
