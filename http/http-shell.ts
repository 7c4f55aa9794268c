import Fastify, { LogController } from 'fastify';
import type { FastifyInstance } from 'fastify';
import type { VigilConfig } from '../core/config.ts';
import type { Logger } from '../core/observability/logger.ts';
import type { Metrics } from '../core/observability/metrics.ts';
import type { SessionRevocations } from '../core/ports/session-revocations.ts';
import { registerAuth } from './auth.ts';
import { installErrorHandling } from './http-errors.ts';
import { installHttpHygiene } from './http-hygiene.ts';
import type { ReadinessCheck } from './operations-routes.ts';
import { registerOperationsRoutes } from './operations-routes.ts';
import { installRequestLog } from './request-log.ts';

export interface HttpShellDeps {
  readonly config: VigilConfig;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Backends `/readyz` pings. */
  readonly readiness: readonly ReadinessCheck[];
  readonly readinessTimeoutMs?: number;
  /** Signed-out sessions; the caller chooses the store (shared by every instance, or one process's). */
  readonly revocations: SessionRevocations;
}

/**
 * The HTTP shell every feature's routes plug into: the Fastify app with its server limits, error
 * answers, safe request log, hygiene headers, authentication (each route states its `config.access`)
 * and the operations routes (health, readiness, metrics). It knows no feature: ingest and the
 * dashboard register their routes on the app it returns, so neither imports the other.
 */
export function buildHttpShell(deps: HttpShellDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger,
    // Fastify's own request lines carry the URL (patient ids); request-log.ts writes safe ones.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.config.http.bodyLimitBytes,
    // Ids are up to 128 characters (core/domain/validate-ingest.ts); Fastify's default of 100
    // answered 414 before any check. 256 leaves room for percent-encoding of the allowed characters.
    routerOptions: { maxParamLength: 256 },
    ...httpServerOptions(deps.config.http),
    // pino's Logger type is wider than FastifyBaseLogger, which would make every route module
    // generic over the logger; the instance is used only as a plain FastifyInstance.
  }) as unknown as FastifyInstance;

  installErrorHandling(app);
  installRequestLog(app);
  installHttpHygiene(app);
  registerAuth(app, { auth: deps.config.auth, revocations: deps.revocations });
  registerOperationsRoutes(app, {
    metrics: deps.metrics,
    readiness: deps.readiness,
    ...(deps.readinessTimeoutMs === undefined ? {} : { readinessTimeoutMs: deps.readinessTimeoutMs }),
  });
  app.server.maxConnections = deps.config.http.maxConnections;
  return app;
}

/**
 * Timeouts and caps of the listening server: a request (headers and body) must arrive within
 * `requestTimeoutMs` (Node answers 408 and closes, so a trickled body cannot hold a socket), an
 * idle socket closes after `idleTimeoutMs`, and at most `maxConnections` are open at once.
 */
function httpServerOptions(http: VigilConfig['http']) {
  return {
    requestTimeout: http.requestTimeoutMs,
    connectionTimeout: http.idleTimeoutMs,
    keepAliveTimeout: http.keepAliveTimeoutMs,
    // Fastify takes a hop count too, though its type omits it.
    trustProxy: http.trustProxy as boolean | string,
    http: {
      headersTimeout: Math.min(http.headersTimeoutMs, http.requestTimeoutMs),
      // Node checks request and header deadlines on this interval (30 s by default).
      connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(Math.min(http.headersTimeoutMs, http.requestTimeoutMs) / 4))),
    },
  } as const;
}
