import { afterEach, describe, expect, it } from 'vitest';
import { createDuckDbWarehouse } from '../adapters/embedded/warehouse-duckdb.ts';
import type { Warehouse } from '../core/ports/warehouse.ts';
import type { ReadSideApp } from './test-fixtures.ts';
import { bearer, cannedWarehouse, readSideApp } from './test-fixtures.ts';

let ctx: ReadSideApp<Warehouse>;
afterEach(async () => {
  await ctx.app.close();
  await ctx.audit.close();
});

describe('GET /v1/dead-letters', () => {
  it('lists recent dead letters from the warehouse for an admin, newest first, and audits the read', async () => {
    const warehouse = await createDuckDbWarehouse({ path: ':memory:' });
    await warehouse.provision();
    await warehouse.append('dead_letters', [
      { dead_letter_id: 'd0', received_at: new Date('2026-11-20T10:00:00Z'), source: 'json', reason: 'too old to list', field: null, patient_id: null, payload: '{}' },
      { dead_letter_id: 'd1', received_at: new Date('2026-11-22T10:00:00Z'), source: 'json', reason: 'implausible', field: 'heartRate', patient_id: 'P1', payload: '{"heartRate":900}' },
      { dead_letter_id: 'd2', received_at: new Date('2026-11-22T11:00:00Z'), source: 'hl7v2', reason: 'undecodable', field: null, patient_id: null, payload: 'base64:AAE=' },
    ]);
    ctx = readSideApp({}, warehouse);
    const res = await ctx.app.inject({ method: 'GET', url: '/v1/dead-letters?since=2026-11-22T00:00:00Z&limit=5', headers: bearer('admin', 'ops-1') });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual([
      { deadLetterId: 'd2', receivedAt: '2026-11-22T11:00:00.000Z', source: 'hl7v2', reason: 'undecodable', field: null, patientId: null, payload: 'base64:AAE=' },
      { deadLetterId: 'd1', receivedAt: '2026-11-22T10:00:00.000Z', source: 'json', reason: 'implausible', field: 'heartRate', patientId: 'P1', payload: '{"heartRate":900}' },
    ]);
    const limited = await ctx.app.inject({ method: 'GET', url: '/v1/dead-letters?since=2026-01-01T00:00:00Z&limit=1', headers: bearer('admin') });
    expect(limited.json().map((d: { deadLetterId: string }) => d.deadLetterId)).toEqual(['d2']);
    expect(await ctx.audit.list({ limit: 5 })).toMatchObject([
      { action: 'GET /v1/dead-letters', status: 200 },
      { actor: 'ops-1', action: 'GET /v1/dead-letters', status: 200 },
    ]);
    await warehouse.close();
  });

  it('lists the dead letters filed under one patient with ?patientId=', async () => {
    const warehouse = await createDuckDbWarehouse({ path: ':memory:' });
    await warehouse.provision();
    const at = new Date(Date.now() - 60_000);
    await warehouse.append('dead_letters', [
      { dead_letter_id: 'h1', received_at: at, source: 'hl7v2', reason: 'AE 103: unit', field: null, patient_id: 'P0012', payload: 'MSH|...' },
      { dead_letter_id: 'f1', received_at: at, source: 'fhir', reason: 'fhir 422', field: null, patient_id: 'P0013', payload: '{}' },
      { dead_letter_id: 'x1', received_at: at, source: 'hl7v2', reason: 'AR 100', field: null, patient_id: null, payload: 'garbage' },
    ]);
    ctx = readSideApp({}, warehouse);
    const res = await ctx.app.inject({ method: 'GET', url: '/v1/dead-letters?patientId=P0012', headers: bearer('admin') });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject([{ deadLetterId: 'h1', source: 'hl7v2', patientId: 'P0012' }]);
    expect((await ctx.app.inject({ method: 'GET', url: '/v1/dead-letters', headers: bearer('admin') })).json()).toHaveLength(3);
    await warehouse.close();
  });

  it('refuses a bad since or limit with 400', async () => {
    const warehouse = cannedWarehouse();
    ctx = readSideApp({}, warehouse);
    for (const query of ['since=last-week', 'limit=0', 'limit=100000', 'patientId=%27%20OR%201%3D1', `patientId=${'P'.repeat(129)}`]) {
      const res = await ctx.app.inject({ method: 'GET', url: `/v1/dead-letters?${query}`, headers: bearer('admin') });
      expect(res.statusCode, query).toBe(400);
    }
    expect(warehouse.queries).toHaveLength(0);
  });
});
