import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ID_SCHEMA } from '../core/domain/validate-ingest.ts';
import type { AuditEntry, AuditLog } from './audit-log.ts';
import { parseInstant } from './time-range.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Record every call of this route (it reads or changes patient data) in the audit log. */
    audit?: boolean;
    /** The patient an audited route reads when it is not the `:patientId` path parameter (e.g. FHIR's `?patient=`). */
    auditPatientOf?: (request: FastifyRequest) => string | undefined;
  }
}

export const AUDIT_LIST_MAX = 1000;

/** The audit entry for a request to a patient-data route, once its status is known. */
export function auditEntryOf(request: FastifyRequest, status: number): AuditEntry | undefined {
  const principal = request.principal;
  // Unauthenticated calls have no actor; they are in the request log (and metrics) instead.
  if (!principal) return undefined;
  const patientId = (request.params as { patientId?: string } | undefined)?.patientId ?? request.routeOptions.config.auditPatientOf?.(request);
  return {
    at: Date.now(),
    actor: principal.sub,
    role: principal.role,
    action: `${request.method} ${request.routeOptions.url}`,
    ...(patientId === undefined ? {} : { patientId }),
    status,
  };
}

/**
 * Appends an audit entry for every route marked `config.audit`, before the answer leaves: when
 * the audit log cannot record a read, the caller gets an error instead of the data.
 * Also serves `GET /v1/audit` (admin).
 */
export function registerAudit(app: FastifyInstance, audit: AuditLog): void {
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.is404 || !request.routeOptions.config.audit) return payload;
    const entry = auditEntryOf(request, reply.statusCode);
    if (entry) await audit.append(entry);
    return payload;
  });

  app.get('/v1/audit', {
    config: { access: 'admin' },
    schema: {
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          patientId: ID_SCHEMA,
          since: { type: 'string', maxLength: 64 },
          limit: { type: 'integer', minimum: 1, maximum: AUDIT_LIST_MAX, default: 100 },
        },
      },
    },
  }, async (request) => {
    const q = request.query as { patientId?: string; since?: string; limit: number };
    const entries = await audit.list({
      limit: q.limit,
      ...(q.patientId === undefined ? {} : { patientId: q.patientId }),
      ...(q.since === undefined ? {} : { since: parseInstant(q.since, 'since') }),
    });
    return entries.map((e) => ({ ...e, at: new Date(e.at).toISOString() }));
  });
}
