import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createMetrics } from '../core/observability/metrics.ts';
import { buildApp } from '../cli/build-app.ts';
import type { ReadinessCheck } from './operations-routes.ts';
import { bearer, captureLogs, readSideApp, testConfig } from '../dashboard-api/test-fixtures.ts';

let app: FastifyInstance;
afterEach(async () => {
  await app.close();
});

function opsApp(readiness: ReadinessCheck[], readinessTimeoutMs = 2000) {
  const metrics = createMetrics({ defaultMetrics: false });
  app = buildApp({ config: testConfig(), logger: captureLogs().logger, metrics, readiness, readinessTimeoutMs });
  return { app, metrics };
}

describe('operations routes', () => {
  it('/healthz answers while backends are down', async () => {
    opsApp([{ name: 'bus', ping: () => Promise.reject(new Error('down')) }]);
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('/readyz is 200 when every backend answers', async () => {
    opsApp([{ name: 'bus', ping: async () => {} }, { name: 'timeseries', ping: async () => {} }]);
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ready', checks: ['bus', 'timeseries'] });
  });

  it('/readyz is 503 naming the failing and the hanging backends', async () => {
    opsApp([
      { name: 'bus', ping: async () => {} },
      { name: 'warehouse', ping: () => Promise.reject(new Error('connection refused\n  at stack')) },
      { name: 'timeseries', ping: () => new Promise(() => {}) },
    ], 50);
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.json()).toEqual({
      error: 'not ready: warehouse, timeseries',
      code: 'BACKEND_UNAVAILABLE',
      details: [
        { backend: 'warehouse', reason: 'connection refused' },
        { backend: 'timeseries', reason: 'no answer within 50 ms' },
      ],
    });
  });

  it('/metrics serves Prometheus text including the app counters', async () => {
    const { metrics } = opsApp([]);
    metrics.readingsIngested.inc({ source: 'json' }, 3);
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toContain('vigil_readings_ingested_total{source="json"} 3');
    expect(res.body).toContain('vigil_sse_clients');
  });

  it('only the parts given have routes', async () => {
    opsApp([]);
    expect((await app.inject({ method: 'GET', url: '/v1/patients', headers: bearer('clinician') })).statusCode).toBe(404);
    expect((await app.inject({ method: 'POST', url: '/v1/readings', headers: bearer('device'), payload: {} })).statusCode).toBe(404);
    const body = (await app.inject({ method: 'GET', url: '/nope' })).json();
    expect(body).toEqual({ error: 'no such route', code: 'NOT_FOUND', details: [] });
  });

  it('refuses a route that declares no access level instead of leaving it open', async () => {
    const ctx = readSideApp({ routes: [(a) => a.get('/v1/forgotten', async () => ({ secret: true }))] });
    app = ctx.app;
    const res = await app.inject({ method: 'GET', url: '/v1/forgotten' });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('secret');
    await ctx.audit.close();
  });
});
