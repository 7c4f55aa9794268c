import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteAuditLog } from '../adapters/embedded/audit-log-sqlite.ts';
import type { AuditLog } from '../core/ports/audit-log.ts';
import { registerAudit } from './audit-routes.ts';
import { installErrorHandling } from '../http/http-errors.ts';
import { budget } from '../core/contracts/wait-for.ts';

/**
 * The audit hook and GET /v1/audit on a bare app (sign-in and roles are auth.test.ts's concern):
 * a fixed caller, one audited patient route.
 */
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

function appWith(audit: AuditLog, options: { appendBudgetMs?: number } = {}): FastifyInstance {
  const built = Fastify();
  installErrorHandling(built);
  built.decorateRequest('principal', null);
  built.addHook('onRequest', async (request) => {
    request.principal = { sub: String(request.headers['x-actor'] ?? 'nurse-1'), role: 'clinician' } as NonNullable<typeof request.principal>;
  });
  registerAudit(built, audit, options);
  built.get('/v1/patients/:patientId/vitals', { config: { audit: true } }, async () => ({ secret: 'heart-rate-88' }));
  return built;
}

describe('audit hook', () => {
  it('answers 503 without the data when the audit log does not store the entry within its budget', async () => {
    const hanging: AuditLog = {
      kind: 'hanging', provision: async () => {}, ping: async () => {}, close: async () => {},
      list: async () => [],
      append: () => new Promise<void>(() => {}),
    };
    app = appWith(hanging, { appendBudgetMs: 100 });
    const started = performance.now();
    const res = await app.inject({ method: 'GET', url: '/v1/patients/P1/vitals' });
    expect(res.statusCode).toBe(503);
    expect(res.body).not.toContain('heart-rate-88');
    expect(res.json()).toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    expect(performance.now() - started, 'the read waited far past the audit budget').toBeLessThan(budget(5_000));
  });

  it('GET /v1/audit filters by actor and by a time window', async () => {
    const audit = createSqliteAuditLog({ path: ':memory:' });
    app = appWith(audit);
    for (const actor of ['nurse-a', 'nurse-b', 'nurse-a']) {
      const res = await app.inject({ method: 'GET', url: '/v1/patients/P7/vitals', headers: { 'x-actor': actor } });
      expect(res.statusCode).toBe(200);
    }
    const byActor = (await app.inject({ method: 'GET', url: '/v1/audit?actor=nurse-a' })).json() as { actor: string; patientId: string }[];
    expect(byActor.map((e) => [e.actor, e.patientId])).toEqual([['nurse-a', 'P7'], ['nurse-a', 'P7']]);
    const all = (await app.inject({ method: 'GET', url: '/v1/audit' })).json() as { at: string }[];
    expect(all).toHaveLength(3);
    const newest = Date.parse(all[0]!.at);
    const before = (await app.inject({ method: 'GET', url: `/v1/audit?until=${newest}` })).json() as { at: string }[];
    expect(before.map((e) => e.at)).toEqual(all.filter((e) => Date.parse(e.at) < newest).map((e) => e.at));
    expect((await app.inject({ method: 'GET', url: `/v1/audit?since=${newest + 1}` })).json()).toEqual([]);
    expect((await app.inject({ method: 'GET', url: '/v1/audit?until=yesterday' })).statusCode).toBe(400);
    await audit.close();
  });
});
