import type { FastifyInstance } from 'fastify';
import { VigilError } from '../core/errors.ts';

/**
 * Answers that must not be kept, and bodies that must not be misread:
 * - every answer of an authenticated route gets `Cache-Control: no-store` unless the route chose
 *   its own (the dashboard's HTML shell, which holds no patient data), so no browser, proxy or
 *   shared cache keeps vitals, alerts or audit entries;
 * - a request body with a `Content-Encoding` Vigil does not decode (any but `identity`) is refused
 *   with 415 rather than read as if it were plain, which would store or reject the wrong bytes.
 */
export function installHttpHygiene(app: FastifyInstance): void {
  // preParsing runs after the access check (onRequest): an unauthenticated caller still gets 401.
  app.addHook('preParsing', async (request) => {
    const encoding = request.headers['content-encoding'];
    if (encoding === undefined) return;
    const codings = encoding.split(',').map((c) => c.trim().toLowerCase()).filter((c) => c !== '' && c !== 'identity');
    if (codings.length > 0) {
      throw new VigilError('UNSUPPORTED_MEDIA_TYPE', `Content-Encoding "${codings.join(', ')}" is not supported; send the body uncompressed`, {
        details: [{ field: 'content-encoding', reason: 'only identity is accepted' }],
      });
    }
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const access = request.is404 ? undefined : request.routeOptions.config.access;
    if (access !== undefined && access !== 'public' && !reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });
}
