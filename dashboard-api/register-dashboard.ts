import type { FastifyInstance } from 'fastify';
import type { VigilConfig } from '../core/config.ts';
import type { PatientUpdates } from '../core/domain/patient-updates.ts';
import type { Metrics } from '../core/observability/metrics.ts';
import type { AuditLog } from '../core/ports/audit-log.ts';
import type { TimeSeriesStore } from '../core/ports/timeseries-store.ts';
import type { Warehouse } from '../core/ports/warehouse.ts';
import type { AlertEngine } from './alerts/alert-engine.ts';
import { registerAlertRoutes } from './alerts/alert-routes.ts';
import { registerAudit } from './audit-routes.ts';
import { registerDashboardPage } from './dashboard-page.ts';
import { registerDeadLetterRoutes } from './dead-letter-routes.ts';
import { registerModelRoute } from './model-route.ts';
import type { ModelProvenanceView } from './model-route.ts';
import { registerPatientRoutes } from './patient-routes.ts';
import type { StreamOptions } from './patient-stream.ts';
import { DEFAULT_STREAM_OPTIONS, registerPatientStream } from './patient-stream.ts';
import { registerRejectedReadingsRoute } from './rejected-readings-route.ts';
import type { AnalystQueries } from './sql-route.ts';
import { registerSqlRoute } from './sql-route.ts';
import { registerWardTrendsRoute } from './ward-trends-route.ts';
import type { WardCensus } from './ward-census.ts';
import type { WarehouseSnapshots } from './warehouse-snapshot-route.ts';
import { registerWarehouseSnapshotRoute } from './warehouse-snapshot-route.ts';

/** What the clinician side reads: patients, vitals, risk, profile, stream, dashboard page, admin reads. */
export interface DashboardDeps {
  readonly timeseries: TimeSeriesStore;
  readonly warehouse: Warehouse;
  readonly updates: PatientUpdates;
  readonly audit: AuditLog;
  /** Alerts for the ward (`/v1/alerts`, `event: alert` on the stream); none when absent. */
  readonly alerts?: AlertEngine;
  /** Who is on the ward and in which bed (ADT); every patient with readings, bedless, when absent. */
  readonly census?: WardCensus;
}

export interface DashboardOptions {
  readonly config: VigilConfig;
  readonly metrics: Metrics;
  /** What the risk score is (`GET /v1/model`, clinicians); the route answers only when given. */
  readonly modelProvenance?: ModelProvenanceView;
  readonly stream?: Partial<StreamOptions>;
}

/** The dashboard's routes, registered on the HTTP shell (http/http-shell.ts), whose auth hook checks each route's access. */
export function registerDashboard(app: FastifyInstance, read: DashboardDeps, options: DashboardOptions): void {
  const { timeseries, warehouse, updates, audit, alerts, census } = read;
  const { config, metrics } = options;
  registerAudit(app, audit);
  registerPatientRoutes(app, timeseries, { riskMode: config.riskMode, ...(census ? { census } : {}) });
  registerPatientStream(app, { timeseries, updates, metrics, riskMode: config.riskMode, ...(alerts ? { alerts } : {}), ...(census ? { census } : {}) }, { ...DEFAULT_STREAM_OPTIONS, ...options.stream });
  registerDeadLetterRoutes(app, { warehouse });
  registerDashboardPage(app);
  registerRejectedReadingsRoute(app, { warehouse });
  registerWardTrendsRoute(app, { warehouse });
  if (options.modelProvenance) registerModelRoute(app, options.modelProvenance);
  if (alerts) registerAlertRoutes(app, { alerts, audit });
  // Analysts' read-only SQL, where the warehouse offers a locked-down query (embedded DuckDB).
  if (hasAnalystQueries(warehouse)) registerSqlRoute(app, warehouse);
  // `vigil backup` while the server holds the embedded warehouse file.
  if (hasSnapshots(warehouse)) registerWarehouseSnapshotRoute(app, { warehouse, dataDir: config.dataDir });
}

function hasSnapshots(warehouse: Warehouse): warehouse is Warehouse & WarehouseSnapshots {
  return typeof (warehouse as Partial<WarehouseSnapshots>).snapshotTo === 'function';
}

function hasAnalystQueries(warehouse: Warehouse): warehouse is Warehouse & AnalystQueries {
  return typeof (warehouse as Partial<AnalystQueries>).analystQuery === 'function';
}
