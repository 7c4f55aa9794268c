import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NEWS2_BANDS } from '../core/domain/news2.ts';
import { SESSION_COOKIE } from '../http/auth.ts';
import type { ReadSideApp } from './test-fixtures.ts';
import { bearer, readSideApp, tokenFor } from './test-fixtures.ts';

const BROWSER = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
let ctx: ReadSideApp;
let cookies: Record<string, string>;

beforeAll(async () => {
  ctx = readSideApp();
  const res = await ctx.app.inject({ method: 'GET', url: `/login?token=${tokenFor('clinician', 'nurse-page')}` });
  cookies = { [SESSION_COOKIE]: res.cookies.find((c) => c.name === SESSION_COOKIE)!.value };
});
afterAll(async () => {
  await ctx.app.close();
  await ctx.audit.close();
});

describe('ward page', () => {
  it('sends a browser without a session to the sign-in page; API clients still get 401 JSON', async () => {
    const browser = await ctx.app.inject({ method: 'GET', url: '/', headers: BROWSER });
    expect(browser.statusCode).toBe(303);
    expect(browser.headers.location).toBe('/signin');
    const api = await ctx.app.inject({ method: 'GET', url: '/' });
    expect(api.statusCode).toBe(401);
    expect(api.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
    const signin = await ctx.app.inject({ method: 'GET', url: '/signin' });
    expect(signin.statusCode).toBe(200);
    expect(signin.body).toContain('action="/login"');
  });

  it('shows analysts and devices a 403 page, not the ward', async () => {
    for (const role of ['analyst', 'device'] as const) {
      const res = await ctx.app.inject({ method: 'GET', url: '/', headers: { ...BROWSER, ...bearer(role) } });
      expect(res.statusCode).toBe(403);
      expect(res.headers['content-type']).toContain('text/html');
      expect(res.body).not.toContain('/assets/app.js');
    }
  });

  it('serves the ward and its modules to a signed-in clinician, with a strict content policy', async () => {
    const page = await ctx.app.inject({ method: 'GET', url: '/', headers: BROWSER, cookies });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('/assets/app.js');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    for (const asset of ['app.js', 'ward-view.js', 'patient-view.js', 'app.css']) {
      const res = await ctx.app.inject({ method: 'GET', url: `/assets/${asset}`, cookies });
      expect(res.statusCode, asset).toBe(200);
    }
    expect((await ctx.app.inject({ method: 'GET', url: '/assets/app.js' })).statusCode).toBe(401);
  });

  it('serves uPlot from the installed package and the NEWS2 chart the scorer uses', async () => {
    const uplot = await ctx.app.inject({ method: 'GET', url: '/assets/vendor/uplot/uPlot.iife.min.js', cookies });
    expect(uplot.statusCode).toBe(200);
    expect(uplot.headers['content-type']).toContain('text/javascript');
    expect(uplot.body).toContain('uPlot');
    const bands = await ctx.app.inject({ method: 'GET', url: '/assets/news2-bands.json', cookies });
    expect(bands.json().heartRate).toEqual(NEWS2_BANDS.heartRate.map(([upper, points]) => [upper === Infinity ? null : upper, points]));
    const module = await ctx.app.inject({ method: 'GET', url: '/assets/news2-bands.js', cookies });
    expect(module.headers['content-type']).toContain('text/javascript');
    expect(module.body).toBe(`export default ${bands.body};\n`);
  });

  it('never serves files outside the asset folders', async () => {
    for (const url of ['/assets/../build-app.ts', '/assets/%2e%2e/auth.ts', '/assets/vendor/uplot/../package.json', '/assets/vendor/uplot/%2e%2e/%2e%2e/fastify/package.json']) {
      const res = await ctx.app.inject({ method: 'GET', url, cookies });
      expect(res.statusCode, url).toBe(404);
    }
  });
});
