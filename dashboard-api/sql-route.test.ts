import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbWarehouse } from '../adapters/embedded/warehouse-duckdb.ts';
import type { DuckDbWarehouse } from '../adapters/embedded/warehouse-duckdb.ts';
import type { ReadSideApp } from './test-fixtures.ts';
import { bearer, readSideApp } from './test-fixtures.ts';

let dir: string;
let warehouse: DuckDbWarehouse;
let ctx: ReadSideApp<DuckDbWarehouse>;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-sql-route-'));
  // As `vigil start` opens it: writable for the pipeline, locked down for everything else.
  warehouse = await createDuckDbWarehouse({ path: path.join(dir, 'warehouse.duckdb'), lockedDown: true });
  await warehouse.provision();
  ctx = readSideApp({}, warehouse);
  await ctx.app.ready();
});
afterAll(async () => {
  await ctx.app.close();
  await ctx.audit.close();
  await warehouse.close();
  rmSync(dir, { recursive: true, force: true });
});

const sql = (body: object, role: 'analyst' | 'admin' | 'clinician' = 'analyst') =>
  ctx.app.inject({ method: 'POST', url: '/v1/sql', headers: bearer(role, `${role}-sql`), payload: body });

describe('POST /v1/sql (analysts, while the server holds the warehouse)', () => {
  it('answers a SELECT as JSON, bounded in rows, and audits it', async () => {
    const res = await sql({ query: 'select range as n, now() as at from range(5)', maxRows: 3 });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['cache-control']).toContain('no-store');
    const body = res.json() as { columns: { name: string }[]; rows: { n: string; at: string }[]; truncated: boolean };
    expect(body.columns.map((c) => c.name)).toEqual(['n', 'at']);
    expect(body.rows.map((r) => r.n)).toEqual([0, 1, 2]);
    expect(Number.isNaN(Date.parse(body.rows[0]!.at))).toBe(false);
    expect(body.truncated).toBe(true);
    expect(await ctx.audit.list({ limit: 5 })).toContainEqual(expect.objectContaining({ actor: 'analyst-sql', action: 'POST /v1/sql', status: 200 }));
  });

  it('reads the tables and views the pipeline writes', async () => {
    const res = await sql({ query: 'select count(*) as n from patient_unified' });
    expect(res.statusCode).toBe(200);
  });

  it.each([
    ['INSERT', "insert into patients (patient_id) values ('X1')"],
    ['DELETE', 'delete from vitals'],
    ['DROP VIEW', 'drop view patient_unified'],
    ['COPY … TO a file', `copy (select 1) to '${path.join(tmpdir(), 'vigil-sql-out.csv')}'`],
    ['ATTACH', `attach '${path.join(tmpdir(), 'vigil-sql-other.duckdb')}' as other`],
    ['SET', 'set enable_external_access = true'],
    ['two statements', 'select 1; select 2'],
    ['INSTALL', 'install httpfs'],
  ])('refuses %s with 400', async (_what, query) => {
    const res = await sql({ query });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().code).toBe('VALIDATION_FAILED');
    expect((await sql({ query: "select count(*) as n from duckdb_views() where view_name = 'patient_unified'" })).json().rows).toEqual([{ n: 1 }]);
  });

  it('refuses a SELECT that reads a local file (external access is off and locked)', async () => {
    const res = await sql({ query: "select * from read_csv('/etc/passwd')" });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toContain('disabled by configuration');
  });

  it('is for analysts only', async () => {
    expect((await sql({ query: 'select 1' }, 'clinician')).statusCode).toBe(403);
    expect((await sql({ query: 'select 1' }, 'admin')).statusCode).toBe(403);
    expect((await ctx.app.inject({ method: 'POST', url: '/v1/sql', payload: { query: 'select 1' } })).statusCode).toBe(401);
  });

  it('the pipeline still writes to the locked-down warehouse', async () => {
    await warehouse.append('patients', [{ patient_id: 'P-LOCKED' }] as never);
    expect((await sql({ query: "select count(*) as n from patients where patient_id = 'P-LOCKED'" })).json().rows).toEqual([{ n: 1 }]);
  });
});
