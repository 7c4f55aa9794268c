import { afterAll, describe, expect, it } from 'vitest';
import { bearer, cannedWarehouse, readSideApp } from './test-fixtures.ts';

const ROW = {
  dead_letter_id: 'd1', received_at: new Date('2026-11-22T10:00:05Z'), source: 'json', reason: 'heartRate must be between 20 and 300 bpm',
  field: 'heartRate', payload: JSON.stringify({ readingId: 'r1', deviceId: 'bed-1', patientId: 'P1', observedAt: Date.parse('2026-11-22T10:00:00Z'), receivedAt: 0, source: 'json', heartRate: 400 }),
};
const ctx = readSideApp({}, cannedWarehouse([ROW, { ...ROW, dead_letter_id: 'd2', payload: 'base64:AAEC' }]));
afterAll(async () => {
  await ctx.app.close();
  await ctx.audit.close();
});

describe('GET /v1/patients/:patientId/rejected', () => {
  it('lists the rejected readings with reason and sent values; unreadable payloads as null', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/v1/patients/P1/rejected?from=2026-11-22T09:00:00Z&to=2026-11-22T11:00:00Z', headers: bearer('clinician', 'nurse-r') });
    expect(res.statusCode, res.body).toBe(200);
    const [first, second] = res.json();
    expect(first).toMatchObject({ deadLetterId: 'd1', receivedAt: '2026-11-22T10:00:05.000Z', reason: ROW.reason, field: 'heartRate' });
    expect(first.reading).toMatchObject({ observedAt: '2026-11-22T10:00:00.000Z', deviceId: 'bed-1', heartRate: 400 });
    expect(second.reading).toBeNull();
  });

  it('binds the patient as a parameter of a named query, never into SQL text', async () => {
    const injected = await ctx.app.inject({ method: 'GET', url: "/v1/patients/P1'%20OR%201=1--/rejected", headers: bearer('clinician') });
    expect(injected.statusCode).toBe(400);
    await ctx.app.inject({ method: 'GET', url: '/v1/patients/P1/rejected?from=2026-11-22T09:00:00Z&to=2026-11-22T11:00:00Z', headers: bearer('clinician') });
    expect(ctx.warehouse.queries.at(-1)).toBe('rejected_readings_of_patient {"patient_id":"P1","from":"2026-11-22T09:00:00.000Z","to":"2026-11-22T11:00:00.000Z"}');
  });

  it('is audited with the patient, and closed to analysts', async () => {
    await ctx.app.inject({ method: 'GET', url: '/v1/patients/P1/rejected', headers: bearer('clinician', 'nurse-audit') });
    expect(await ctx.audit.list({ patientId: 'P1', limit: 10 })).toContainEqual(expect.objectContaining({ actor: 'nurse-audit', action: 'GET /v1/patients/:patientId/rejected' }));
    expect((await ctx.app.inject({ method: 'GET', url: '/v1/patients/P1/rejected', headers: bearer('analyst') })).statusCode).toBe(403);
  });
});

describe('GET /v1/ward/trends', () => {
  it('returns columnar series per patient', async () => {
    const trends = readSideApp({}, cannedWarehouse([
      { patient_id: 'P1', bucket: 1000, heart_rate: 80.04, respiratory_rate: 16, spo2: 97, systolic: 120, temperature_c: 37 },
      { patient_id: 'P1', bucket: 2000, heart_rate: 90, respiratory_rate: null, spo2: 96, systolic: 118, temperature_c: 37.2 },
    ]));
    try {
      const res = await trends.app.inject({ method: 'GET', url: '/v1/ward/trends?hours=4', headers: bearer('clinician') });
      expect(res.json()).toEqual({
        bucketMs: 300_000,
        patients: [{ patientId: 'P1', t: [1000, 2000], heartRate: [80, 90], respiratoryRate: [16, null], spo2: [97, 96], systolic: [120, 118], temperatureC: [37, 37.2] }],
      });
    } finally {
      await trends.app.close();
      await trends.audit.close();
    }
  });
});
