import type { FastifyInstance } from 'fastify';
import { createSqliteSessionRevocations } from '../adapters/embedded/session-revocations-sqlite.ts';
import type { VigilConfig } from '../core/config.ts';
import type { Logger } from '../core/observability/logger.ts';
import type { Metrics } from '../core/observability/metrics.ts';
import type { SessionRevocations } from '../core/ports/session-revocations.ts';
import type { ModelProvenanceView } from '../dashboard-api/model-route.ts';
import type { StreamOptions } from '../dashboard-api/patient-stream.ts';
import type { DashboardDeps } from '../dashboard-api/register-dashboard.ts';
import { registerDashboard } from '../dashboard-api/register-dashboard.ts';
import { buildHttpShell } from '../http/http-shell.ts';
import type { ReadinessCheck } from '../http/operations-routes.ts';
import type { ReadingPublisher } from '../ingest/reading-publisher.ts';
import { registerReadingsRoute } from '../ingest/readings-route.ts';

export interface AppDeps {
  readonly config: VigilConfig;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The device edge: `POST /v1/readings`. */
  readonly ingest?: { readonly publisher: ReadingPublisher };
  /** The clinician side: patients, vitals, risk, profile, stream, dashboard page, admin reads. */
  readonly read?: DashboardDeps;
  /** What the risk score is (`GET /v1/model`, clinicians); the route answers only when given. */
  readonly modelProvenance?: ModelProvenanceView;
  /** Backends `/readyz` pings. */
  readonly readiness: readonly ReadinessCheck[];
  /** More routes on the same app, e.g. the FHIR edge. Each route must set `config.access`. */
  readonly routes?: readonly ((app: FastifyInstance) => void)[];
  readonly stream?: Partial<StreamOptions>;
  readonly readinessTimeoutMs?: number;
  /**
   * Signed-out sessions, shared by every instance. Without one, an in-memory list that lives as
   * long as this app (enough for one process; not for several behind a load balancer).
   */
  readonly revocations?: SessionRevocations;
}

/**
 * The HTTP app, built without listening (tests use `inject()`; the CLI calls `listen`): the shell
 * (http/http-shell.ts) with the features' routes plugged in. Routes exist only for the parts
 * given: `vigil ingest` passes `ingest`, `vigil dashboard` passes `read`, `vigil start` passes
 * both. Health, readiness and metrics are always there.
 *
 * The app does not own its dependencies: closing it ends open streams but leaves the publisher,
 * stores and audit log to the caller, which closes them after the app.
 */
export function buildApp(deps: AppDeps): FastifyInstance {
  const revocations = deps.revocations ?? createSqliteSessionRevocations({ path: ':memory:' });
  const app = buildHttpShell({
    config: deps.config,
    logger: deps.logger,
    metrics: deps.metrics,
    readiness: deps.readiness,
    revocations,
    ...(deps.readinessTimeoutMs === undefined ? {} : { readinessTimeoutMs: deps.readinessTimeoutMs }),
  });
  if (!deps.revocations) app.addHook('onClose', async () => revocations.close());

  if (deps.ingest) {
    registerReadingsRoute(app, { publisher: deps.ingest.publisher, metrics: deps.metrics, bodyLimitBytes: deps.config.http.bodyLimitBytes });
  }
  if (deps.read) {
    registerDashboard(app, deps.read, {
      config: deps.config,
      metrics: deps.metrics,
      ...(deps.modelProvenance ? { modelProvenance: deps.modelProvenance } : {}),
      ...(deps.stream ? { stream: deps.stream } : {}),
    });
  }
  for (const register of deps.routes ?? []) register(app);
  return app;
}
