import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditLog } from '../../core/ports/audit-log.ts';
import { auditEntryOf } from '../audit-routes.ts';
import type { AlertEngine } from './alert-engine.ts';
import { VISIBLE_ALERTS_MAX } from './alert-engine.ts';

export { PAGE_TOKEN_SECONDS } from '../../http/auth.ts';

const ALERT_VIEW = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    patientId: { type: 'string' },
    status: { type: 'string' },
    openedAt: { type: 'string' },
    closedAt: { type: ['string', 'null'] },
    reasons: { type: 'array', items: { type: 'string' } },
    news2Score: { type: ['number', 'null'] },
    riskScore: { type: ['number', 'null'] },
    peakNews2: { type: ['number', 'null'] },
    peakRisk: { type: ['number', 'null'] },
    belowSince: { type: ['string', 'null'] },
    acknowledgedAt: { type: ['string', 'null'] },
    acknowledgedBy: { type: ['string', 'null'] },
    visible: { type: 'boolean' },
  },
} as const;

/**
 * `GET /v1/alerts` and `POST /v1/alerts/:alertId/ack` (clinicians; both audited, the
 * acknowledgement with the patient it concerns), and `GET /v1/session/token`.
 *
 * The session cookie only counts for reads (auth.ts), so the ward page asks
 * `/v1/session/token` for a short-lived bearer token before it acknowledges. That is a
 * same-origin read: another site can neither send the SameSite=Strict cookie nor read the answer,
 * so the token works as a CSRF token, and the cookie alone still cannot change anything.
 * Only the session cookie can mint (a bearer token cannot renew itself), the token never outlives
 * the session, is clinician-level even for an admin's session, dies with the session at sign-out,
 * and every minting is audited.
 */
export function registerAlertRoutes(app: FastifyInstance, deps: { alerts: AlertEngine; audit: AuditLog }): void {
  const { alerts, audit } = deps;

  app.get('/v1/alerts', {
    config: { access: 'clinician', audit: true },
    schema: {
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          include: { type: 'string', enum: ['visible', 'all'], default: 'visible' },
          limit: { type: 'integer', minimum: 1, maximum: VISIBLE_ALERTS_MAX, default: 100 },
        },
      },
      response: { 200: { type: 'array', items: ALERT_VIEW } },
    },
  }, async (request) => {
    const q = request.query as { include: 'visible' | 'all'; limit: number };
    return alerts.list({ include: q.include, limit: q.limit });
  });

  // The patient is known only once the alert is found: the route records its own audit entry.
  const patientOf = new WeakMap<FastifyRequest, string>();
  app.post('/v1/alerts/:alertId/ack', {
    config: { access: 'clinician' },
    schema: {
      params: { type: 'object', required: ['alertId'], properties: { alertId: { type: 'string', minLength: 1, maxLength: 64 } } },
      response: { 200: ALERT_VIEW },
    },
    onSend: async (request, reply, payload) => {
      const entry = auditEntryOf(request, reply.statusCode);
      const patientId = patientOf.get(request);
      if (entry) await audit.append(patientId === undefined ? entry : { ...entry, patientId });
      return payload;
    },
  }, async (request) => {
    const { alertId } = request.params as { alertId: string };
    const acknowledged = await alerts.acknowledge(alertId, request.principal!.sub);
    patientOf.set(request, acknowledged.patientId);
    return acknowledged;
  });

  app.get('/v1/session/token', { config: { access: 'session', audit: true } }, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    return app.mintPageToken(request);
  });
}
