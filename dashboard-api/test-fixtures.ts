import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { createSqliteTimeSeriesStore } from '../adapters/embedded/timeseries-sqlite.ts';
import { loadConfig } from '../core/config.ts';
import type { VigilConfig } from '../core/config.ts';
import { createInMemoryPatientUpdates } from '../core/domain/patient-updates.ts';
import type { PatientUpdates } from '../core/domain/patient-updates.ts';
import type { RiskScore, VitalReading } from '../core/domain/reading.ts';
import { createLogger } from '../core/observability/logger.ts';
import { createMetrics } from '../core/observability/metrics.ts';
import type { Metrics } from '../core/observability/metrics.ts';
import type { Bus, OutgoingMessage } from '../core/ports/bus.ts';
import type { TimeSeriesStore } from '../core/ports/timeseries-store.ts';
import type { QueryResult, Warehouse } from '../core/ports/warehouse.ts';
import type { AuditLog } from '../core/ports/audit-log.ts';
import { createSqliteAuditLog } from '../adapters/embedded/audit-log-sqlite.ts';
import type { Role } from '../http/auth.ts';
import { signToken } from '../http/auth.ts';
import type { AppDeps } from '../cli/build-app.ts';
import { buildApp } from '../cli/build-app.ts';

/**
 * Shared by the dashboard-api and ingest tests: a config with a known secret, tokens per role, a
 * log sink that keeps every line, an app on the embedded stores, and two small test doubles
 * (a warehouse with canned rows, a bus that records) for what the tests inspect directly.
 */
export const TEST_SECRET = 'test-secret-0123456789abcdef';

export function testConfig(env: Record<string, string> = {}): VigilConfig {
  return loadConfig({ VIGIL_AUTH_SECRET: TEST_SECRET, VIGIL_DATA_DIR: '/nonexistent-vigil-test', ...env });
}

export function tokenFor(role: Role, sub = `${role}-1`, expiresIn: number | string = '1h'): string {
  return signToken(TEST_SECRET, { sub, role, expiresIn });
}

export const bearer = (role: Role, sub?: string) => ({ authorization: `Bearer ${tokenFor(role, sub)}` });

/** Every log line the app writes, as text, for asserting what never appears in it. */
export function captureLogs() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  return { logger: createLogger({ level: 'debug', destination }), lines, text: () => lines.join('') };
}

/** The embedded time-series store on an in-memory database: the real adapter, nothing to clean up. */
export function inMemoryTimeSeries(): TimeSeriesStore {
  return createSqliteTimeSeriesStore({ path: ':memory:' });
}

/** A warehouse that answers every query with `rows` and remembers the SQL it was given. */
export function cannedWarehouse(rows: QueryResult['rows'] = []): Warehouse & { readonly queries: string[] } {
  const queries: string[] = [];
  return {
    kind: 'test-canned',
    dialect: 'duckdb',
    queries,
    async provision() {},
    async append() {},
    async replaceRows() {},
    async query(sql) {
      queries.push(sql);
      return { columns: [], rows };
    },
    /** Records `name params-as-JSON`, so a test can see what was bound (and that nothing reached the SQL). */
    async namedQuery(name, params) {
      queries.push(`${name} ${JSON.stringify(params)}`);
      return { columns: [], rows };
    },
    async ping() {},
    async close() {},
  };
}

export function reading(patientId: string, observedAt: number, vitals: Partial<VitalReading> = {}): VitalReading {
  return {
    readingId: `${patientId}-${observedAt}`,
    patientId,
    deviceId: 'bed-1',
    observedAt,
    receivedAt: observedAt + 10,
    heartRate: 72, systolic: 120, diastolic: 80, temperatureC: 37.1, spo2: 97, respiratoryRate: 16,
    onOxygen: false, consciousness: 'A',
    ...vitals,
  };
}

export function riskScore(patientId: string, scoredAt: number, riskScoreValue = 0.12): RiskScore {
  return { patientId, scoredAt, news2Score: 1, news2Level: 'low', news2Complete: true, news2Missing: [], riskScore: riskScoreValue, model: 'recovery-risk@1', factors: [] };
}

export type CannedWarehouse = ReturnType<typeof cannedWarehouse>;

export interface ReadSideApp<W extends Warehouse = CannedWarehouse> {
  app: FastifyInstance;
  timeseries: TimeSeriesStore;
  warehouse: W;
  updates: PatientUpdates;
  audit: AuditLog;
  metrics: Metrics;
  logs: ReturnType<typeof captureLogs>;
}

/** An app with the read side (and whatever `extra` adds) on the embedded time-series store and audit log, in memory. */
export function readSideApp<W extends Warehouse = CannedWarehouse>(extra: Partial<AppDeps> = {}, warehouse: W = cannedWarehouse() as unknown as W): ReadSideApp<W> {
  const timeseries = inMemoryTimeSeries();
  const updates = createInMemoryPatientUpdates();
  const audit = createSqliteAuditLog({ path: ':memory:' });
  const metrics = createMetrics({ defaultMetrics: false });
  const logs = captureLogs();
  const app = buildApp({
    config: testConfig(),
    logger: logs.logger,
    metrics,
    read: { timeseries, warehouse, updates, audit },
    readiness: [],
    ...extra,
  });
  return { app, timeseries, warehouse, updates, audit, metrics, logs };
}

/**
 * A bus that records what is published and can be told to fail or hold publishes; for tests of
 * the publisher's batching, where the message boundaries themselves are what is checked.
 */
export function recordingBus() {
  const calls: OutgoingMessage[][] = [];
  let failWith: unknown;
  let gate: Promise<void> | undefined;
  let openGate = (): void => {};
  const bus: Bus = {
    kind: 'test-recording',
    async provision() {},
    async publish(_topic, messages) {
      if (gate) await gate;
      if (failWith !== undefined) throw failWith;
      calls.push([...messages]);
      return messages.map((_, i) => `${calls.length}-${i}`);
    },
    async subscribe() {
      throw new Error('recordingBus does not deliver');
    },
    async ping() {},
    async close() {},
  };
  return {
    bus,
    calls,
    failNext(error: unknown) {
      failWith = error;
    },
    /** Publishes wait until `release()` is called. */
    hold() {
      gate = new Promise((resolve) => {
        openGate = resolve;
      });
    },
    release() {
      gate = undefined;
      openGate();
    },
  };
}
