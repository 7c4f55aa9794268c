import type { FastifyInstance } from 'fastify';

/**
 * One log line per request, written when the answer is sent. It names the route pattern
 * ("/v1/patients/:patientId/vitals"), never the URL, and no query or body, so no patient id or
 * vital ever reaches the log; the caller appears by token subject only.
 */
export function installRequestLog(app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    request.log.info({
      method: request.method,
      route: request.is404 ? '(no route)' : request.routeOptions.url,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
      sub: request.principal?.sub,
    }, 'request');
  });
}
