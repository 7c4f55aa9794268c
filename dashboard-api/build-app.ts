import Fastify, { LogController } from 'fastify';
import type { FastifyInstance } from 'fastify';
import type { VigilConfig } from '../core/config.ts';
import type { PatientUpdates } from '../core/domain/patient-updates.ts';
import type { Logger } from '../core/observability/logger.ts';
import type { Metrics } from '../core/observability/metrics.ts';
import type { SessionRevocations } from '../core/ports/session-revocations.ts';
import { createSqliteSessionRevocations } from '../adapters/embedded/session-revocations-sqlite.ts';
import type { TimeSeriesStore } from '../core/ports/timeseries-store.ts';
import type { Warehouse } from '../core/ports/warehouse.ts';
import type { ReadingPublisher } from '../ingest/reading-publisher.ts';
import { registerReadingsRoute } from '../ingest/readings-route.ts';
import type { AlertEngine } from './alerts/alert-engine.ts';
import { registerAlertRoutes } from './alerts/alert-routes.ts';
import type { AuditLog } from '../core/ports/audit-log.ts';
import { registerAudit } from './audit-routes.ts';
import { registerAuth } from './auth.ts';
import { registerDashboardPage } from './dashboard-page.ts';
import { registerModelRoute } from './model-route.ts';
import type { ModelProvenanceView } from './model-route.ts';
import { registerDeadLetterRoutes } from './dead-letter-routes.ts';
import { installErrorHandling } from './http-errors.ts';
import { installHttpHygiene } from './http-hygiene.ts';
import type { ReadinessCheck } from './operations-routes.ts';
import { registerOperationsRoutes } from './operations-routes.ts';
import type { StreamOptions } from './patient-stream.ts';
import { DEFAULT_STREAM_OPTIONS, registerPatientStream } from './patient-stream.ts';
import { registerPatientRoutes } from './patient-routes.ts';
import type { WardCensus } from './ward-census.ts';
import { registerRejectedReadingsRoute } from './rejected-readings-route.ts';
import type { AnalystQueries } from './sql-route.ts';
import { registerSqlRoute } from './sql-route.ts';
import type { WarehouseSnapshots } from './warehouse-snapshot-route.ts';
import { registerWarehouseSnapshotRoute } from './warehouse-snapshot-route.ts';
import { registerWardTrendsRoute } from './ward-trends-route.ts';
import { installRequestLog } from './request-log.ts';

export interface AppDeps {
  readonly config: VigilConfig;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The device edge: `POST /v1/readings`. */
  readonly ingest?: { readonly publisher: ReadingPublisher };
  /** The clinician side: patients, vitals, risk, profile, stream, dashboard page, admin reads. */
  readonly read?: {
    readonly timeseries: TimeSeriesStore;
    readonly warehouse: Warehouse;
    readonly updates: PatientUpdates;
    readonly audit: AuditLog;
    /** Alerts for the ward (`/v1/alerts`, `event: alert` on the stream); none when absent. */
    readonly alerts?: AlertEngine;
    /** Who is on the ward and in which bed (ADT); every patient with readings, bedless, when absent. */
    readonly census?: WardCensus;
  };
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
 * The HTTP app, built without listening (tests use `inject()`; the CLI calls `listen`). Routes
 * exist only for the parts given: `vigil ingest` passes `ingest`, `vigil dashboard` passes
 * `read`, `vigil start` passes both. Health, readiness and metrics are always there.
 *
 * The app does not own its dependencies: closing it ends open streams but leaves the publisher,
 * stores and audit log to the caller, which closes them after the app.
 */
export function buildApp(deps: AppDeps): FastifyInstance {
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
  const revocations = deps.revocations ?? createSqliteSessionRevocations({ path: ':memory:' });
  if (!deps.revocations) app.addHook('onClose', async () => revocations.close());
  registerAuth(app, { auth: deps.config.auth, revocations });
  registerOperationsRoutes(app, {
    metrics: deps.metrics,
    readiness: deps.readiness,
    ...(deps.readinessTimeoutMs === undefined ? {} : { readinessTimeoutMs: deps.readinessTimeoutMs }),
  });

  if (deps.ingest) {
    registerReadingsRoute(app, { publisher: deps.ingest.publisher, metrics: deps.metrics, bodyLimitBytes: deps.config.http.bodyLimitBytes });
  }

  if (deps.read) {
    const { timeseries, warehouse, updates, audit, alerts, census } = deps.read;
    registerAudit(app, audit);
    registerPatientRoutes(app, timeseries, { riskMode: deps.config.riskMode, ...(census ? { census } : {}) });
    registerPatientStream(app, { timeseries, updates, metrics: deps.metrics, riskMode: deps.config.riskMode, ...(alerts ? { alerts } : {}), ...(census ? { census } : {}) }, { ...DEFAULT_STREAM_OPTIONS, ...deps.stream });
    registerDeadLetterRoutes(app, { warehouse, config: deps.config });
    registerDashboardPage(app);
    registerRejectedReadingsRoute(app, { warehouse, config: deps.config });
    registerWardTrendsRoute(app, { warehouse, config: deps.config });
    if (deps.modelProvenance) registerModelRoute(app, deps.modelProvenance);
    if (alerts) registerAlertRoutes(app, { alerts, audit });
    // Analysts' read-only SQL, where the warehouse offers a locked-down query (embedded DuckDB).
    if (hasAnalystQueries(warehouse)) registerSqlRoute(app, warehouse);
    // `vigil backup` while the server holds the embedded warehouse file.
    if (hasSnapshots(warehouse)) registerWarehouseSnapshotRoute(app, { warehouse, dataDir: deps.config.dataDir });
  }

  for (const register of deps.routes ?? []) register(app);
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

function hasSnapshots(warehouse: Warehouse): warehouse is Warehouse & WarehouseSnapshots {
  return typeof (warehouse as Partial<WarehouseSnapshots>).snapshotTo === 'function';
}

function hasAnalystQueries(warehouse: Warehouse): warehouse is Warehouse & AnalystQueries {
  return typeof (warehouse as Partial<AnalystQueries>).analystQuery === 'function';
}
