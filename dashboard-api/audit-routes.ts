import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ID_SCHEMA } from '../core/domain/validate-ingest.ts';
import { VigilError } from '../core/errors.ts';
import type { AuditEntry, AuditLog } from '../core/ports/audit-log.ts';
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
/**
 * How long a read waits for its audit entry to be stored. A healthy append takes microseconds
 * (SQLite) or one round trip (Bigtable); past this the backend is in trouble, and the caller gets
 * a 503 to retry rather than a request hanging on the client's own retries. An append that still
 * lands afterwards records a read that was refused: the trail errs on the side of too much.
 */
export const AUDIT_APPEND_BUDGET_MS = 5_000;

/** The append, or a retriable error once the budget is spent. */
async function appendWithin(audit: AuditLog, entry: AuditEntry, budgetMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new VigilError('BACKEND_UNAVAILABLE', `the audit log did not store the entry within ${budgetMs} ms`)), budgetMs);
  });
  try {
    await Promise.race([audit.append(entry), expired]);
  } finally {
    clearTimeout(timer);
  }
}

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
 * Also serves `GET /v1/audit` (admin), read through the port: on Google backends the one trail
 * every instance appends to.
 */
export function registerAudit(app: FastifyInstance, audit: AuditLog, options: { appendBudgetMs?: number } = {}): void {
  const budgetMs = options.appendBudgetMs ?? AUDIT_APPEND_BUDGET_MS;
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.is404 || !request.routeOptions.config.audit) return payload;
    const entry = auditEntryOf(request, reply.statusCode);
    if (entry) await appendWithin(audit, entry, budgetMs);
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
          actor: { type: 'string', minLength: 1, maxLength: 256 },
          since: { type: 'string', maxLength: 64 },
          until: { type: 'string', maxLength: 64 },
          limit: { type: 'integer', minimum: 1, maximum: AUDIT_LIST_MAX, default: 100 },
        },
      },
    },
  }, async (request) => {
    const q = request.query as { patientId?: string; actor?: string; since?: string; until?: string; limit: number };
    const entries = await audit.list({
      limit: q.limit,
      ...(q.patientId === undefined ? {} : { patientId: q.patientId }),
      ...(q.actor === undefined ? {} : { actor: q.actor }),
      ...(q.since === undefined ? {} : { since: parseInstant(q.since, 'since') }),
      ...(q.until === undefined ? {} : { until: parseInstant(q.until, 'until') }),
    });
    return entries.map((e) => ({ ...e, at: new Date(e.at).toISOString() }));
  });
}
