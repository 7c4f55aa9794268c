import { createSigner } from 'fast-jwt';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../core/observability/metrics.ts';
import { createReadingPublisher } from '../ingest/reading-publisher.ts';
import type { Role } from './auth.ts';
import { ROLES, SESSION_COOKIE, SESSION_MAX_AGE_SECONDS, signToken } from './auth.ts';
import type { ReadSideApp } from '../dashboard-api/test-fixtures.ts';
import { TEST_SECRET, reading, readSideApp, recordingBus, testConfig, tokenFor } from '../dashboard-api/test-fixtures.ts';

const READING = { deviceId: 'bed-12', patientId: 'P0012', observedAt: '2026-11-22T10:00:00Z', heartRate: 72 };

/** Every authenticated route, with the roles that may call it. */
const ROUTES: { method: InjectOptions['method']; url: string; payload?: object; allowed: readonly Role[] }[] = [
  { method: 'POST', url: '/v1/readings', payload: READING, allowed: ['device'] },
  { method: 'GET', url: '/v1/patients', allowed: ['clinician', 'admin'] },
  { method: 'GET', url: '/v1/patients/P0012/vitals', allowed: ['clinician', 'admin'] },
  { method: 'GET', url: '/v1/patients/P0012/risk', allowed: ['clinician', 'admin'] },
  { method: 'GET', url: '/v1/patients/P0012/profile', allowed: ['clinician', 'admin'] },
  { method: 'PUT', url: '/v1/patients/P0012/profile', payload: { spo2Scale: 2 }, allowed: ['clinician', 'admin'] },
  // Allowed callers of the stream are tested against a listening server (patient-stream.test.ts).
  { method: 'GET', url: '/v1/stream', allowed: ['clinician', 'admin'] },
  { method: 'GET', url: '/v1/dead-letters', allowed: ['admin'] },
  { method: 'GET', url: '/v1/audit', allowed: ['admin'] },
  { method: 'GET', url: '/', allowed: ['clinician', 'admin'] },
  { method: 'GET', url: '/v1/me', allowed: ROLES },
];

let ctx: ReadSideApp;
let recording: ReturnType<typeof recordingBus>;

beforeAll(async () => {
  recording = recordingBus();
  const metrics = createMetrics({ defaultMetrics: false });
  ctx = readSideApp({ ingest: { publisher: createReadingPublisher({ bus: recording.bus, topic: 'readings', metrics, maxBatchDelayMs: 0 }) } });
  await ctx.app.ready();
  // Profiles exist only for monitored patients.
  await ctx.timeseries.writeReadings([reading('P0012', Date.now() - 1000)]);
});
afterAll(async () => {
  await ctx.app.close();
  await ctx.audit.close();
});

const call = (route: (typeof ROUTES)[number], headers: Record<string, string>) =>
  ctx.app.inject({ method: route.method, url: route.url, headers, ...(route.payload ? { payload: route.payload } : {}) });

function expired(role: Role): string {
  return createSigner({ key: TEST_SECRET, algorithm: 'HS256', expiresIn: 1000, clockTimestamp: Date.now() - 60_000 })({ sub: 'late', role });
}

describe('role matrix', () => {
  for (const route of ROUTES) {
    for (const role of ROLES) {
      const allowed = route.allowed.includes(role);
      if (allowed && route.url === '/v1/stream') continue;
      it(`${route.method} ${route.url} as ${role}: ${allowed ? 'allowed' : '403'}`, async () => {
        const res = await call(route, { authorization: `Bearer ${tokenFor(role)}` });
        if (allowed) {
          expect(res.statusCode, res.body).toBeLessThan(400);
        } else {
          expect(res.statusCode).toBe(403);
          expect(res.json()).toMatchObject({ code: 'FORBIDDEN', error: expect.stringContaining(role) });
        }
      });
    }
  }
});

describe('401 for every authenticated route', () => {
  const cases: [string, () => Record<string, string>][] = [
    ['no token', () => ({})],
    ['a token signed with another secret', () => ({ authorization: `Bearer ${signToken('another-secret-0123456789', { sub: 'x', role: 'admin', expiresIn: 60 })}` })],
    ['an expired token', () => ({ authorization: `Bearer ${expired('admin')}` })],
    ['a token without a role', () => ({ authorization: `Bearer ${createSigner({ key: TEST_SECRET, expiresIn: 60_000 })({ sub: 'x' })}` })],
    ['a token with an unknown role', () => ({ authorization: `Bearer ${createSigner({ key: TEST_SECRET, expiresIn: 60_000 })({ sub: 'x', role: 'root' })}` })],
    ['a token without exp', () => ({ authorization: `Bearer ${createSigner({ key: TEST_SECRET })({ sub: 'x', role: 'admin' })}` })],
    ['an unsigned token (alg none)', () => ({ authorization: `Bearer ${unsigned({ sub: 'x', role: 'admin', exp: Math.floor(Date.now() / 1000) + 60 })}` })],
    ['a Basic header', () => ({ authorization: 'Basic YWRtaW46YWRtaW4=' })],
    ['a garbage token', () => ({ authorization: 'Bearer not.a.jwt' })],
  ];
  for (const [name, headers] of cases) {
    it(`refuses ${name}`, async () => {
      for (const route of ROUTES) {
        const res = await call(route, headers());
        expect(res.statusCode, `${route.method} ${route.url}`).toBe(401);
        expect(res.headers['www-authenticate']).toBe('Bearer');
        expect(res.json()).toMatchObject({ code: 'UNAUTHENTICATED', details: [] });
      }
    });
  }

  it('says when a token has expired', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/v1/patients', headers: { authorization: `Bearer ${expired('clinician')}` } });
    expect(res.json().error).toBe('token expired');
  });

  it('answers 401 before reading an oversized body', async () => {
    const res = await ctx.app.inject({ method: 'POST', url: '/v1/readings', payload: 'x'.repeat(2_000_000), headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(401);
  });
});

describe('public routes', () => {
  it.each(['/healthz', '/readyz', '/metrics'])('%s needs no token', async (url) => {
    expect((await ctx.app.inject({ method: 'GET', url })).statusCode).toBe(200);
  });
});

describe('sign-in link and session cookie', () => {
  async function signIn(role: Role, expiresIn: number | string = '1h') {
    return ctx.app.inject({ method: 'GET', url: `/login?token=${signToken(TEST_SECRET, { sub: `${role}-s`, role, expiresIn })}` });
  }
  const sessionCookie = (res: Awaited<ReturnType<typeof signIn>>) => res.cookies.find((c) => c.name === SESSION_COOKIE)!;

  it('exchanges a clinician token for an HttpOnly SameSite=Strict cookie and redirects to /', async () => {
    const res = await signIn('clinician');
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    const cookie = sessionCookie(res);
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(cookie.maxAge).toBeGreaterThan(3500);
    expect(cookie.maxAge).toBeLessThanOrEqual(3600);

    const cookies = { [SESSION_COOKIE]: cookie.value };
    expect((await ctx.app.inject({ method: 'GET', url: '/v1/patients', cookies })).statusCode).toBe(200);
    const page = await ctx.app.inject({ method: 'GET', url: '/', cookies });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect((await ctx.app.inject({ method: 'GET', url: '/v1/me', cookies })).statusCode).toBe(401);
  });

  it('keeps the session no longer than a shift, nor than the sign-in token', async () => {
    expect(sessionCookie(await signIn('admin', '30d')).maxAge).toBe(SESSION_MAX_AGE_SECONDS);
    expect(sessionCookie(await signIn('clinician', 60)).maxAge).toBeLessThanOrEqual(60);
  });

  it('the cookie alone cannot change data, post readings or reach admin routes', async () => {
    const cookies = { [SESSION_COOKIE]: sessionCookie(await signIn('admin')).value };
    const put = await ctx.app.inject({ method: 'PUT', url: '/v1/patients/P1/profile', cookies, payload: { spo2Scale: 2 } });
    expect(put.statusCode).toBe(401);
    expect((await ctx.app.inject({ method: 'POST', url: '/v1/readings', cookies, payload: READING })).statusCode).toBe(401);
    expect((await ctx.app.inject({ method: 'GET', url: '/v1/audit', cookies })).statusCode).toBe(401);
  });

  it('a session cannot be replayed as a bearer token, nor a bearer token planted as the cookie', async () => {
    const session = sessionCookie(await signIn('admin')).value;
    const asBearer = await ctx.app.inject({ method: 'PUT', url: '/v1/patients/P1/profile', headers: { authorization: `Bearer ${session}` }, payload: { spo2Scale: 2 } });
    expect(asBearer.statusCode).toBe(401);
    const planted = await ctx.app.inject({ method: 'GET', url: '/v1/patients', cookies: { [SESSION_COOKIE]: tokenFor('clinician') } });
    expect(planted.statusCode).toBe(401);
  });

  it('refuses a forged cookie', async () => {
    const forged = signToken('another-secret-0123456789', { sub: 'x', role: 'clinician', expiresIn: 60 });
    expect((await ctx.app.inject({ method: 'GET', url: '/v1/patients', cookies: { [SESSION_COOKIE]: forged } })).statusCode).toBe(401);
  });

  it.each([['device', 403], ['analyst', 403]] as const)('refuses to sign in a %s (%i)', async (role, status) => {
    const res = await signIn(role);
    expect(res.statusCode).toBe(status);
    expect(res.cookies).toHaveLength(0);
  });

  it('refuses a missing or bad sign-in token with 401', async () => {
    expect((await ctx.app.inject({ method: 'GET', url: '/login' })).statusCode).toBe(401);
    expect((await ctx.app.inject({ method: 'GET', url: `/login?token=${expired('clinician')}` })).statusCode).toBe(401);
  });

  it('POST /logout clears the cookie', async () => {
    const res = await ctx.app.inject({ method: 'POST', url: '/logout' });
    expect(res.statusCode).toBe(204);
    expect(sessionCookie(res as never).value).toBe('');
  });
});

function unsigned(payload: object): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(payload)}.`;
}

describe('token lifetime, issue time, audience and issuer', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const raw = (claims: object) => createSigner({ key: TEST_SECRET })({ sub: 'x', role: 'clinician', ...claims });
  const me = (app: typeof ctx.app, token: string) => app.inject({ method: 'GET', url: '/v1/patients', headers: { authorization: `Bearer ${token}` } });

  it('refuses a token expiring in year 2999 (beyond VIGIL_AUTH_MAX_LIFETIME_SECONDS)', async () => {
    const res = await me(ctx.app, raw({ iat: now(), exp: Math.floor(Date.UTC(2999, 0, 1) / 1000) }));
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toContain('lifetime exceeds');
    const noIat = await me(ctx.app, raw({ exp: Math.floor(Date.UTC(2999, 0, 1) / 1000) }));
    expect(noIat.statusCode).toBe(401);
  });

  it('refuses a token issued in the future, tolerating a small clock skew', async () => {
    const future = await me(ctx.app, raw({ iat: now() + 3600, exp: now() + 7200 }));
    expect(future.statusCode).toBe(401);
    expect(future.json().error).toBe('token issued in the future');
    expect((await me(ctx.app, raw({ iat: now() + 20, exp: now() + 600 }))).statusCode).toBe(200);
  });

  it('checks aud and iss when configured, and signs its own sessions with them', async () => {
    const scoped = readSideApp({ config: testConfig({ VIGIL_AUTH_AUDIENCE: 'vigil-api', VIGIL_AUTH_ISSUER: 'https://idp.example' }) });
    try {
      expect((await me(scoped.app, raw({ exp: now() + 60 }))).statusCode).toBe(401);
      expect((await me(scoped.app, raw({ exp: now() + 60, aud: 'other', iss: 'https://idp.example' }))).json().error).toBe('token audience does not match');
      expect((await me(scoped.app, raw({ exp: now() + 60, aud: 'vigil-api', iss: 'https://evil.example' }))).json().error).toBe('token issuer does not match');
      expect((await me(scoped.app, raw({ exp: now() + 60, aud: ['x', 'vigil-api'], iss: 'https://idp.example' }))).statusCode).toBe(200);
      const login = await scoped.app.inject({ method: 'GET', url: `/login?token=${raw({ exp: now() + 600, aud: 'vigil-api', iss: 'https://idp.example' })}` });
      const cookie = login.cookies.find((c) => c.name === SESSION_COOKIE)!;
      expect((await scoped.app.inject({ method: 'GET', url: '/v1/patients', cookies: { [SESSION_COOKIE]: cookie.value } })).statusCode).toBe(200);
    } finally {
      await scoped.app.close();
      await scoped.audit.close();
    }
  });

  it('allows a longer lifetime when configured', async () => {
    const long = readSideApp({ config: testConfig({ VIGIL_AUTH_MAX_LIFETIME_SECONDS: String(366 * 24 * 3600) }) });
    try {
      expect((await me(long.app, raw({ iat: now(), exp: now() + 300 * 24 * 3600 }))).statusCode).toBe(200);
      expect((await me(ctx.app, raw({ iat: now(), exp: now() + 300 * 24 * 3600 }))).statusCode).toBe(401);
    } finally {
      await long.app.close();
      await long.audit.close();
    }
  });
});

describe('sessions end', () => {
  async function session(role: Role = 'clinician', expiresIn: number | string = '1h') {
    const res = await ctx.app.inject({ method: 'GET', url: `/login?token=${signToken(TEST_SECRET, { sub: `${role}-end`, role, expiresIn })}` });
    return { [SESSION_COOKIE]: res.cookies.find((c) => c.name === SESSION_COOKIE)!.value };
  }

  it('POST /logout revokes the session server-side: the old cookie no longer reads the ward', async () => {
    const cookies = await session();
    expect((await ctx.app.inject({ method: 'GET', url: '/v1/patients', cookies })).statusCode).toBe(200);
    expect((await ctx.app.inject({ method: 'POST', url: '/logout', cookies })).statusCode).toBe(204);
    const after = await ctx.app.inject({ method: 'GET', url: '/v1/patients', cookies });
    expect(after.statusCode).toBe(401);
    expect(after.json().error).toBe('session signed out');
  });
});

describe('sign-in code (the start-up banner)', () => {
  it('opens a session once, then never again', async () => {
    const code = ctx.app.issueSignInCode();
    const first = await ctx.app.inject({ method: 'GET', url: `/login?code=${code}` });
    expect(first.statusCode).toBe(303);
    const cookie = first.cookies.find((c) => c.name === SESSION_COOKIE)!;
    expect(cookie.maxAge).toBe(SESSION_MAX_AGE_SECONDS);
    expect((await ctx.app.inject({ method: 'GET', url: '/v1/patients', cookies: { [SESSION_COOKIE]: cookie.value } })).statusCode).toBe(200);
    const again = await ctx.app.inject({ method: 'GET', url: `/login?code=${code}` });
    expect(again.statusCode).toBe(401);
    expect(again.cookies).toHaveLength(0);
    expect((await ctx.app.inject({ method: 'GET', url: '/login?code=made-up' })).statusCode).toBe(401);
  });
});
