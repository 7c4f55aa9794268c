import { afterEach, describe, expect, it } from 'vitest';
import type { ReadSideApp } from './test-fixtures.ts';
import { bearer, reading, readSideApp, riskScore, testConfig } from './test-fixtures.ts';
import { budget } from '../core/contracts/wait-for.ts';

const HOUR = 3_600_000;
let ctx: ReadSideApp;

afterEach(async () => {
  await ctx.app.close();
  await ctx.audit.close();
});

describe('GET /v1/patients', () => {
  it('summarises every monitored patient with the the README fields', async () => {
    ctx = readSideApp();
    const now = Date.now();
    await ctx.timeseries.writeReadings([
      reading('P0001', now - 10 * 60_000, { heartRate: 80, consciousness: 'A' }),
      // Newest reading carries only a heart rate: the rest comes from the older one.
      reading('P0001', now - 60_000, { heartRate: 91, systolic: null, diastolic: null, temperatureC: null, spo2: null, respiratoryRate: null, onOxygen: null, consciousness: null }),
      reading('P0002', now - 5 * 60_000),
    ]);
    await ctx.timeseries.writeRiskScores([riskScore('P0001', now - 60_000, 0.4)]);

    const res = await ctx.app.inject({ method: 'GET', url: '/v1/patients', headers: bearer('clinician') });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.map((p: { patientId: string }) => p.patientId)).toEqual(['P0001', 'P0002']);
    expect(body[0]).toMatchObject({
      patientId: 'P0001',
      latest: { observedAt: new Date(now - 60_000).toISOString(), heartRate: 91, systolic: 120, diastolic: 80, consciousness: 'A' },
      news2: { score: 1, level: 'low', complete: true, missing: [], observedAt: new Date(now - 60_000).toISOString() },
      risk: { score: 0.4, model: 'recovery-risk@1' },
    });
    expect(body[1]).toMatchObject({ patientId: 'P0002', news2: null, risk: null });
  });

  it('takes each vital from the newest readings even when the window holds more than it reads', async () => {
    ctx = readSideApp();
    const now = Date.now();
    const many = Array.from({ length: 400 }, (_, i) => reading('P0001', now - (400 - i) * 30_000, { spo2: 99 }));
    many[398] = { ...many[398]!, spo2: 91 };
    many[399] = { ...many[399]!, spo2: null };
    await ctx.timeseries.writeReadings(many);
    const res = await ctx.app.inject({ method: 'GET', url: '/v1/patients', headers: bearer('clinician') });
    expect(res.json()[0].latest).toMatchObject({ spo2: 91, observedAt: new Date(now - 30_000).toISOString() });
  });

  it('reads a large ward with bounded concurrency and keeps the order', async () => {
    ctx = readSideApp();
    const now = Date.now();
    const ids = Array.from({ length: 60 }, (_, i) => `P${String(i).padStart(4, '0')}`);
    await ctx.timeseries.writeReadings(ids.map((id, i) => reading(id, now - i * 1000)));
    let active = 0;
    let peak = 0;
    const original = ctx.timeseries.latestReading.bind(ctx.timeseries);
    ctx.timeseries.latestReading = async (id) => {
      peak = Math.max(peak, ++active);
      // Simulated store latency, so reads overlap (a slower machine only overlaps them more).
      await new Promise((r) => setTimeout(r, 2));
      active--;
      return original(id);
    };
    const res = await ctx.app.inject({ method: 'GET', url: '/v1/patients', headers: bearer('admin') });
    expect(res.statusCode).toBe(200);
    expect(res.json().map((p: { patientId: string }) => p.patientId)).toEqual(ids);
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(16);
  });
});

describe('GET /v1/patients/:patientId/vitals', () => {
  it('returns parsed readings in time order with the README field names, last 6 h by default', async () => {
    ctx = readSideApp();
    const now = Date.now();
    await ctx.timeseries.writeReadings([
      reading('P0001', now - 60_000, { heartRate: 90 }),
      reading('P0001', now - 7 * HOUR),
      reading('P0001', now - 2 * HOUR, { heartRate: 70 }),
      reading('P0002', now - 60_000),
    ]);
    const res = await ctx.app.inject({ method: 'GET', url: '/v1/patients/P0001/vitals', headers: bearer('clinician') });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.map((r: { heartRate: number }) => r.heartRate)).toEqual([70, 90]);
    expect(body[0]).toEqual({
      readingId: `P0001-${now - 2 * HOUR}`,
      patientId: 'P0001',
      deviceId: 'bed-1',
      observedAt: new Date(now - 2 * HOUR).toISOString(),
      heartRate: 70, systolic: 120, diastolic: 80, temperatureC: 37.1, spo2: 97, respiratoryRate: 16, onOxygen: false, consciousness: 'A',
    });
  });

  it('accepts ISO and epoch-ms bounds, applies the limit and says when it cut', async () => {
    ctx = readSideApp();
    const t0 = Date.parse('2026-11-22T10:00:00Z');
    await ctx.timeseries.writeReadings([0, 1, 2, 3].map((i) => reading('P0001', t0 + i * 60_000)));
    const iso = await ctx.app.inject({
      method: 'GET', url: `/v1/patients/P0001/vitals?from=2026-11-22T10:01:00Z&to=${t0 + 3 * 60_000}`, headers: bearer('clinician'),
    });
    expect(iso.json().map((r: { observedAt: string }) => r.observedAt)).toEqual(['2026-11-22T10:01:00.000Z', '2026-11-22T10:02:00.000Z']);
    expect(iso.headers['x-vigil-truncated']).toBeUndefined();
    const limited = await ctx.app.inject({ method: 'GET', url: `/v1/patients/P0001/vitals?from=${t0}&to=${t0 + HOUR}&limit=2`, headers: bearer('clinician') });
    expect(limited.json()).toHaveLength(2);
    expect(limited.headers['x-vigil-truncated']).toBe('true');
    // Any span is fine (the limit bounds the answer): a year back to an hour ahead.
    const wide = await ctx.app.inject({ method: 'GET', url: `/v1/patients/P0001/vitals?from=2026-01-01T00:00:00Z&to=${t0 + HOUR}`, headers: bearer('clinician') });
    expect(wide.json()).toHaveLength(4);
  });

  it.each([
    ['from=yesterday', 'from'],
    ['from=2026-11-22T10:00:00', 'from'], // no offset: ambiguous
    ['from=2026-11-22T11:00:00Z&to=2026-11-22T10:00:00Z', 'from'],
    ['limit=0', 'limit'],
    ['limit=abc', 'limit'],
  ])('refuses %s with 400 naming the field', async (query, field) => {
    ctx = readSideApp();
    const res = await ctx.app.inject({ method: 'GET', url: `/v1/patients/P0001/vitals?${query}`, headers: bearer('clinician') });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('VALIDATION_FAILED');
    expect(JSON.stringify(res.json().details)).toContain(field);
  });
});

describe('GET /v1/patients/:patientId/risk', () => {
  it('returns the risk history in time order', async () => {
    ctx = readSideApp();
    const now = Date.now();
    await ctx.timeseries.writeRiskScores([riskScore('P0001', now - 1000, 0.3), riskScore('P0001', now - 5000, 0.2), riskScore('P0002', now - 1000)]);
    const res = await ctx.app.inject({ method: 'GET', url: '/v1/patients/P0001/risk', headers: bearer('clinician') });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual([
      { scoredAt: new Date(now - 5000).toISOString(), news2Score: 1, news2Level: 'low', news2Complete: true, news2Missing: [], riskScore: 0.2, model: 'recovery-risk@1', factors: [] },
      { scoredAt: new Date(now - 1000).toISOString(), news2Score: 1, news2Level: 'low', news2Complete: true, news2Missing: [], riskScore: 0.3, model: 'recovery-risk@1', factors: [] },
    ]);
  });

  it('carries NEWS2 completeness and the missing parameters', async () => {
    ctx = readSideApp();
    const now = Date.now();
    await ctx.timeseries.writeRiskScores([{ ...riskScore('P0001', now - 1000), news2Score: 0, news2Complete: false, news2Missing: ['spo2', 'temperature'] }]);
    const history = await ctx.app.inject({ method: 'GET', url: '/v1/patients/P0001/risk', headers: bearer('clinician') });
    expect(history.json()).toMatchObject([{ news2Score: 0, news2Complete: false, news2Missing: ['spo2', 'temperature'] }]);
  });
});

describe('VIGIL_RISK_MODE=silent', () => {
  it('withholds the model risk from the ward and the risk history, but keeps NEWS2 and the stored score', async () => {
    ctx = readSideApp({ config: testConfig({ VIGIL_RISK_MODE: 'silent' }) });
    const now = Date.now();
    await ctx.timeseries.writeReadings([reading('P0001', now - 1000)]);
    await ctx.timeseries.writeRiskScores([{ ...riskScore('P0001', now - 1000, 0.87), factors: [{ feature: 'heartRate', contribution: 0.2, value: 130 }] }]);

    const ward = await ctx.app.inject({ method: 'GET', url: '/v1/patients', headers: bearer('clinician') });
    expect(ward.json()[0]).toMatchObject({ patientId: 'P0001', news2: { score: 1, complete: true }, risk: { mode: 'silent' } });
    expect(ward.body).not.toContain('0.87');
    expect(ward.body).not.toContain('recovery-risk');

    const history = await ctx.app.inject({ method: 'GET', url: '/v1/patients/P0001/risk', headers: bearer('clinician') });
    expect(history.json()).toEqual([{
      scoredAt: new Date(now - 1000).toISOString(), news2Score: 1, news2Level: 'low', news2Complete: true, news2Missing: [],
      riskScore: null, model: null, factors: [], riskMode: 'silent',
    }]);
    expect((await ctx.timeseries.latestRiskScore('P0001'))?.riskScore).toBe(0.87);
  });

  it('is refused at start-up when misspelt', () => {
    expect(() => testConfig({ VIGIL_RISK_MODE: 'quiet' })).toThrow(/VIGIL_RISK_MODE/);
    expect(testConfig().riskMode).toBe('shown');
  });
});

describe('patient profile', () => {
  it('PUT records the SpO2 scale with who and when; GET reads it back (default scale 1)', async () => {
    ctx = readSideApp();
    await ctx.timeseries.writeReadings([reading('P0001', Date.now() - 1000)]);
    const before = await ctx.app.inject({ method: 'GET', url: '/v1/patients/P0001/profile', headers: bearer('clinician') });
    expect(before.json()).toEqual({ patientId: 'P0001', spo2Scale: 1, baselineConfusion: false, updatedAt: null, updatedBy: null });

    const put = await ctx.app.inject({
      method: 'PUT', url: '/v1/patients/P0001/profile', headers: bearer('clinician', 'dr-who'), payload: { spo2Scale: 2 },
    });
    expect(put.statusCode).toBe(200);
    const stored = await ctx.timeseries.readPatientProfile('P0001');
    expect(stored).toMatchObject({ patientId: 'P0001', spo2Scale: 2, updatedBy: 'dr-who' });
    expect(Math.abs(stored!.updatedAt - Date.now())).toBeLessThan(budget(5000));
    const after = await ctx.app.inject({ method: 'GET', url: '/v1/patients/P0001/profile', headers: bearer('clinician') });
    expect(after.json()).toMatchObject({ spo2Scale: 2, updatedBy: 'dr-who' });
  });

  it('PUT records baseline confusion alone or with the scale, keeping what it is not given', async () => {
    ctx = readSideApp();
    await ctx.timeseries.writeReadings([reading('P0001', Date.now() - 1000)]);
    const put = (payload: object) => ctx.app.inject({ method: 'PUT', url: '/v1/patients/P0001/profile', headers: bearer('clinician', 'dr-c'), payload });
    expect((await put({ spo2Scale: 2 })).json()).toMatchObject({ spo2Scale: 2, baselineConfusion: false });
    expect((await put({ baselineConfusion: true })).json()).toMatchObject({ spo2Scale: 2, baselineConfusion: true, updatedBy: 'dr-c' });
    expect(await ctx.timeseries.readPatientProfile('P0001')).toMatchObject({ spo2Scale: 2, baselineConfusion: true });
    expect((await put({ spo2Scale: 1 })).json()).toMatchObject({ spo2Scale: 1, baselineConfusion: true });
    expect((await put({ spo2Scale: 1, baselineConfusion: false })).json()).toMatchObject({ spo2Scale: 1, baselineConfusion: false });
    const read = await ctx.app.inject({ method: 'GET', url: '/v1/patients/P0001/profile', headers: bearer('clinician') });
    expect(read.json()).toMatchObject({ spo2Scale: 1, baselineConfusion: false });
  });

  it.each([
    [{ spo2Scale: 3 }, 'spo2Scale'], [{}, '(body)'], [{ spo2Scale: 'two' }, 'spo2Scale'], [{ baselineConfusion: 'yes' }, 'baselineConfusion'],
  ])('PUT refuses %j with 400', async (payload, field) => {
    ctx = readSideApp();
    const res = await ctx.app.inject({ method: 'PUT', url: '/v1/patients/P0001/profile', headers: bearer('clinician'), payload });
    expect(res.statusCode).toBe(400);
    expect(res.json().details[0].field).toContain(field);
    expect(await ctx.timeseries.readPatientProfile('P0001')).toBeUndefined();
  });
});

describe('one id rule (ingest, routes, profiles)', () => {
  it('a profile for a patient no reading ever named is 404, and nothing is stored', async () => {
    ctx = readSideApp();
    const put = await ctx.app.inject({ method: 'PUT', url: '/v1/patients/P-NOBODY/profile', headers: bearer('clinician'), payload: { spo2Scale: 2 } });
    expect(put.statusCode).toBe(404);
    expect(await ctx.timeseries.readPatientProfile('P-NOBODY')).toBeUndefined();
    expect((await ctx.app.inject({ method: 'GET', url: '/v1/patients/P-NOBODY/profile', headers: bearer('clinician') })).statusCode).toBe(404);
  });

  it.each([
    ['markup', '<script>alert(1)</script>'],
    ['a NUL byte', 'P1\u0000x'],
    ['a space', 'P 1'],
    ['129 characters', 'p'.repeat(129)],
  ])('an id ingest would refuse (%s) is 400 on every patient route, and nothing is stored', async (_what, id) => {
    ctx = readSideApp();
    const encoded = encodeURIComponent(id);
    for (const [method, suffix] of [['GET', 'vitals'], ['GET', 'risk'], ['GET', 'profile'], ['PUT', 'profile'], ['GET', 'rejected']] as const) {
      const res = await ctx.app.inject({ method, url: `/v1/patients/${encoded}/${suffix}`, headers: bearer('clinician'), ...(method === 'PUT' ? { payload: { spo2Scale: 2 } } : {}) });
      expect(res.statusCode, `${method} ${suffix}`).toBe(400);
    }
    expect(await ctx.timeseries.readPatientProfile(id)).toBeUndefined();
  });

  it('a 128-character id, as ingest accepts, reaches every per-patient route (no 414)', async () => {
    ctx = readSideApp();
    const id = `P${'x'.repeat(126)}9`;
    await ctx.timeseries.writeReadings([reading(id, Date.now() - 1000)]);
    for (const [method, suffix] of [['GET', 'vitals'], ['GET', 'risk'], ['GET', 'profile'], ['PUT', 'profile'], ['GET', 'rejected']] as const) {
      const res = await ctx.app.inject({ method, url: `/v1/patients/${id}/${suffix}`, headers: bearer('clinician'), ...(method === 'PUT' ? { payload: { spo2Scale: 2 } } : {}) });
      expect(res.statusCode, `${method} ${suffix}: ${res.body}`).toBe(200);
    }
  });
});

describe('audit and logs', () => {
  it('appends an audit entry for every read of patient data, and GET /v1/audit lists them', async () => {
    ctx = readSideApp();
    await ctx.timeseries.writeReadings([reading('P0042', Date.now() - 1000)]);
    const headers = bearer('clinician', 'nurse-7');
    await ctx.app.inject({ method: 'GET', url: '/v1/patients', headers });
    await ctx.app.inject({ method: 'GET', url: '/v1/patients/P0042/vitals', headers });
    await ctx.app.inject({ method: 'GET', url: '/v1/patients/P0042/risk', headers });
    await ctx.app.inject({ method: 'PUT', url: '/v1/patients/P0042/profile', headers, payload: { spo2Scale: 2 } });
    await ctx.app.inject({ method: 'GET', url: '/v1/patients/P0042/vitals', headers: bearer('device', 'bed-3') });

    const res = await ctx.app.inject({ method: 'GET', url: '/v1/audit?patientId=P0042', headers: bearer('admin') });
    expect(res.statusCode).toBe(200);
    const entries = res.json() as { actor: string; role: string; action: string; patientId: string; status: number; at: string }[];
    expect(entries.map((e) => [e.actor, e.action, e.status])).toEqual([
      ['bed-3', 'GET /v1/patients/:patientId/vitals', 403],
      ['nurse-7', 'PUT /v1/patients/:patientId/profile', 200],
      ['nurse-7', 'GET /v1/patients/:patientId/risk', 200],
      ['nurse-7', 'GET /v1/patients/:patientId/vitals', 200],
    ]);
    expect(entries.every((e) => e.patientId === 'P0042' && !Number.isNaN(Date.parse(e.at)))).toBe(true);
    const all = await ctx.app.inject({ method: 'GET', url: '/v1/audit?limit=10', headers: bearer('admin') });
    expect(all.json().some((e: { action: string; patientId?: string }) => e.action === 'GET /v1/patients' && e.patientId === undefined)).toBe(true);
  });

  it('does not serve patient data it cannot audit', async () => {
    ctx = readSideApp();
    await ctx.timeseries.writeReadings([reading('P0001', Date.now() - 1000)]);
    await ctx.audit.close();
    const res = await ctx.app.inject({ method: 'GET', url: '/v1/patients/P0001/vitals', headers: bearer('clinician') });
    expect(res.statusCode).toBe(503);
    expect(res.body).not.toContain('bed-1');
  });

  it('never writes a patient id, a token or a vital into the log', async () => {
    ctx = readSideApp();
    const patientId = 'PX-7731-SECRET';
    await ctx.timeseries.writeReadings([reading(patientId, Date.now() - 1000, { heartRate: 123.25 })]);
    // A backend failure whose message quotes the patient id.
    ctx.timeseries.readRiskScores = async (id) => {
      throw Object.assign(new Error(`row ${id} unreadable`), { code: 'EIO' });
    };
    const token = bearer('clinician', 'nurse-log');
    const urls = [`/v1/patients/${patientId}/vitals?from=nonsense`, `/v1/patients/${patientId}/vitals`, `/v1/patients/${patientId}/risk`, '/v1/patients', `/v1/nothing/${patientId}`];
    for (const url of urls) await ctx.app.inject({ method: 'GET', url, headers: token });
    await ctx.app.inject({ method: 'PUT', url: `/v1/patients/${patientId}/profile`, headers: token, payload: { spo2Scale: 9, note: patientId } });
    await ctx.app.inject({ method: 'GET', url: `/v1/patients/${patientId}/vitals`, headers: { authorization: 'Bearer nope' } });

    const failed = await ctx.app.inject({ method: 'GET', url: `/v1/patients/${patientId}/risk`, headers: token });
    expect(failed.statusCode).toBe(500);
    expect(failed.json()).toEqual({ error: 'internal error', code: 'INTERNAL', details: [] });

    const log = ctx.logs.text();
    expect(log).toContain('"level":50');
    expect(log).toContain('EIO');
    expect(ctx.logs.lines.length).toBeGreaterThanOrEqual(urls.length + 2);
    expect(log).toContain('/v1/patients/:patientId/vitals');
    expect(log).toContain('nurse-log');
    expect(log).not.toContain(patientId);
    expect(log).not.toContain('123.25');
    expect(log).not.toContain(token.authorization.slice(7));
  });
});
