import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../core/observability/metrics.ts';
import { registerOperationsRoutes } from '../../http/operations-routes.ts';
import { readinessChecks } from './readiness.ts';

describe('/readyz checks', () => {
  it('name the failing backend, count a store the processor finds down as not ready, and set vigil_backend_up to match', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    let processorSaysDown: string[] = [];
    let busAnswers = true;
    const readiness = readinessChecks({
      metrics,
      storesDown: () => processorSaysDown,
      backends: [
        { role: 'bus', kind: 'pubsub', ping: async () => { if (!busAnswers) throw new Error('connect ECONNREFUSED'); } },
        { role: 'timeseries', kind: 'bigtable', ping: async () => {} },
      ],
    });
    const app = Fastify();
    registerOperationsRoutes(app, { metrics, readiness });
    const ready = async () => {
      const res = await app.inject({ method: 'GET', url: '/readyz' });
      return { status: res.statusCode, body: res.body, metrics: await app.inject({ method: 'GET', url: '/metrics' }).then((m) => m.body) };
    };

    expect((await ready()).status).toBe(200);
    processorSaysDown = ['bigtable'];
    let r = await ready();
    expect(r.status).toBe(503);
    expect(r.body).toContain('timeseries (bigtable)');
    expect(r.body).not.toContain('bus (pubsub)');
    expect(r.metrics).toContain('vigil_backend_up{backend="bigtable"} 0');
    expect(r.metrics).toContain('vigil_backend_up{backend="pubsub"} 1');

    processorSaysDown = [];
    busAnswers = false;
    r = await ready();
    expect(r.status).toBe(503);
    expect(r.body).toContain('bus (pubsub)');
    expect(r.metrics).toContain('vigil_backend_up{backend="pubsub"} 0');
    expect(r.metrics).toContain('vigil_backend_up{backend="bigtable"} 1');
    await app.close();
  });
});
