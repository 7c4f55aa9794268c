import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInMemoryPatientUpdates } from '../../core/domain/patient-updates.ts';
import { createMetrics } from '../../core/observability/metrics.ts';
import { createSqliteAuditLog } from '../../adapters/embedded/audit-log-sqlite.ts';
import { SESSION_COOKIE } from '../../http/auth.ts';
import { buildApp } from '../../cli/build-app.ts';
import { bearer, captureLogs, cannedWarehouse, inMemoryTimeSeries, testConfig, tokenFor } from '../test-fixtures.ts';
import { DEFAULT_ALERT_THRESHOLDS } from './alert.ts';
import { createAlertEngine } from './alert-engine.ts';
import { createSqliteAlertStore } from '../../adapters/embedded/alert-store-sqlite.ts';

const updates = createInMemoryPatientUpdates();
const store = createSqliteAlertStore({ path: ':memory:' });
const alerts = await createAlertEngine({ updates, store, thresholds: DEFAULT_ALERT_THRESHOLDS, sweepIntervalMs: 0, refreshIntervalMs: 0 });
const audit = createSqliteAuditLog({ path: ':memory:' });
const app = buildApp({
  config: testConfig(),
  logger: captureLogs().logger,
  metrics: createMetrics({ defaultMetrics: false }),
  read: { timeseries: inMemoryTimeSeries(), warehouse: cannedWarehouse(), updates, audit, alerts },
  readiness: [],
});

beforeAll(() => app.listen({ port: 0, host: '127.0.0.1' }));
afterAll(async () => {
  await app.close();
  await alerts.stop();
  await store.close();
  await audit.close();
});

async function raiseAlert(patientId: string): Promise<string> {
  updates.publish({ patientId, latest: null, news2: { score: 7, level: 'high', complete: true, missing: [], observedAt: new Date(0).toISOString() }, risk: null });
  await alerts.idle();
  return (await alerts.list()).find((a) => a.patientId === patientId)!.id;
}

async function sessionCookies(role: 'clinician' | 'admin', sub: string, expiresIn: number | string = '1h') {
  const res = await app.inject({ method: 'GET', url: `/login?token=${tokenFor(role, sub, expiresIn)}` });
  const cookie = res.cookies.find((c) => c.name === SESSION_COOKIE)!;
  return { [SESSION_COOKIE]: cookie.value };
}

describe('alert routes', () => {
  it('lists visible alerts to clinicians; not to analysts or devices', async () => {
    await raiseAlert('P0001');
    const res = await app.inject({ method: 'GET', url: '/v1/alerts', headers: bearer('clinician') });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(expect.arrayContaining([expect.objectContaining({ patientId: 'P0001', status: 'open', visible: true })]));
    for (const role of ['analyst', 'device'] as const) {
      expect((await app.inject({ method: 'GET', url: '/v1/alerts', headers: bearer(role) })).statusCode).toBe(403);
    }
  });

  it('records who acknowledged and when, and audits it with the patient', async () => {
    const id = await raiseAlert('P0002');
    const res = await app.inject({ method: 'POST', url: `/v1/alerts/${id}/ack`, headers: bearer('clinician', 'nurse-7') });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id, acknowledgedBy: 'nurse-7', acknowledgedAt: expect.any(String) });
    const entries = await audit.list({ patientId: 'P0002', limit: 10 });
    expect(entries).toContainEqual(expect.objectContaining({ actor: 'nurse-7', action: 'POST /v1/alerts/:alertId/ack', patientId: 'P0002', status: 200 }));
    expect((await app.inject({ method: 'POST', url: '/v1/alerts/unknown/ack', headers: bearer('clinician') })).statusCode).toBe(404);
  });

  it('does not let the session cookie acknowledge on its own; its page token does', async () => {
    const id = await raiseAlert('P0003');
    const cookies = await sessionCookies('clinician', 'dr-cookie');
    expect((await app.inject({ method: 'POST', url: `/v1/alerts/${id}/ack`, cookies })).statusCode).toBe(401);

    const tokenRes = await app.inject({ method: 'GET', url: '/v1/session/token', cookies });
    expect(tokenRes.statusCode).toBe(200);
    expect(tokenRes.headers['cache-control']).toBe('no-store');
    const { token } = tokenRes.json() as { token: string };
    const ack = await app.inject({ method: 'POST', url: `/v1/alerts/${id}/ack`, headers: { authorization: `Bearer ${token}` } });
    expect(ack.json()).toMatchObject({ acknowledgedBy: 'dr-cookie' });
    expect((await app.inject({ method: 'GET', url: '/v1/session/token', headers: bearer('analyst') })).statusCode).toBe(401);
  });

  it('audits alert list reads', async () => {
    await app.inject({ method: 'GET', url: '/v1/alerts', headers: bearer('clinician', 'auditee') });
    const entries = await audit.list({ limit: 50 });
    expect(entries).toContainEqual(expect.objectContaining({ actor: 'auditee', action: 'GET /v1/alerts', status: 200 }));
  });
});

describe('GET /v1/session/token (page tokens)', () => {
  const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { role: string; exp: number };
  const mint = (cookies: Record<string, string>) => app.inject({ method: 'GET', url: '/v1/session/token', cookies });

  it('only the session cookie mints: a bearer token cannot renew itself', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/session/token', headers: bearer('clinician') });
    expect(res.statusCode).toBe(401);
    const page = (await mint(await sessionCookies('clinician', 'dr-renew'))).json() as { token: string };
    const renewed = await app.inject({ method: 'GET', url: '/v1/session/token', headers: { authorization: `Bearer ${page.token}` } });
    expect(renewed.statusCode).toBe(401);
  });

  it('a minted token never outlives its session', async () => {
    const cookies = await sessionCookies('clinician', 'dr-short', 20);
    const res = await mint(cookies);
    expect(res.statusCode).toBe(200);
    const { token, expiresAt } = res.json() as { token: string; expiresAt: string };
    expect(claimsOf(token).exp * 1000).toBeLessThanOrEqual(Date.now() + 21_000);
    expect(Date.parse(expiresAt)).toBeLessThanOrEqual(Date.now() + 21_000);
  });

  it('an admin session mints a clinician-level token only', async () => {
    const { token } = (await mint(await sessionCookies('admin', 'admin-page'))).json() as { token: string };
    expect(claimsOf(token).role).toBe('clinician');
    expect((await app.inject({ method: 'GET', url: '/v1/audit', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(403);
  });

  it('is audited, and the minted token dies with the session at sign-out', async () => {
    const cookies = await sessionCookies('clinician', 'dr-audited');
    const { token } = (await mint(cookies)).json() as { token: string };
    expect(await audit.list({ limit: 20 })).toContainEqual(expect.objectContaining({ actor: 'dr-audited', action: 'GET /v1/session/token', status: 200 }));
    const id = await raiseAlert('P0031');
    await app.inject({ method: 'POST', url: '/logout', cookies });
    const ack = await app.inject({ method: 'POST', url: `/v1/alerts/${id}/ack`, headers: { authorization: `Bearer ${token}` } });
    expect(ack.statusCode).toBe(401);
  });
});

describe('alerts on the live stream', () => {
  it('sends the visible alerts after the snapshot, then every change as event: alert', async () => {
    const before = await raiseAlert('P0100');
    const { port } = app.server.address() as { port: number };
    const abort = new AbortController();
    const res = await fetch(`http://127.0.0.1:${port}/v1/stream`, { headers: bearer('clinician'), signal: abort.signal });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const alertEvents = () => text.split('\n\n').slice(0, -1).filter((f) => f.startsWith('event: alert\ndata: ')).map((f) => JSON.parse(f.slice('event: alert\ndata: '.length)) as { id: string; patientId: string; acknowledgedBy: string | null });
    const until = async (done: () => boolean) => {
      const deadline = Date.now() + 3000;
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`not seen in time; got ${text}`);
        const { value } = await reader.read();
        text += value ?? '';
      }
    };
    try {
      await until(() => alertEvents().some((a) => a.id === before));
      const later = await raiseAlert('P0101');
      await until(() => alertEvents().some((a) => a.id === later));
      await alerts.acknowledge(later, 'dr-live');
      await until(() => alertEvents().some((a) => a.id === later && a.acknowledgedBy === 'dr-live'));
    } finally {
      abort.abort();
    }
  });
});
