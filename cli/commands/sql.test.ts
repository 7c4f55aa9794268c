import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbWarehouse } from '../../adapters/embedded/warehouse-duckdb.ts';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/observability/logger.ts';
import { createSqliteAuditLog } from '../../adapters/embedded/audit-log-sqlite.ts';
import { readSideApp, tokenFor } from '../../dashboard-api/test-fixtures.ts';
import { analystAccess, runSql } from './sql.ts';
import { capture, holdWarehouse } from '../test-support/cli-output.ts';

let dir: string;
const logger = createLogger({ level: 'silent' });

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-sql-'));
  const warehouse = await createDuckDbWarehouse({ path: path.join(dir, 'warehouse.duckdb') });
  await warehouse.provision();
  await warehouse.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));


async function sql(query: string) {
  const stdout = capture();
  const stderr = capture();
  const access = analystAccess(loadConfig({ VIGIL_DATA_DIR: dir }), logger, {});
  const code = await runSql([query, '--format', 'csv'], { ...access, stdout: stdout.stream, stderr: stderr.stream });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

describe('vigil sql is read-only (embedded DuckDB)', () => {
  it('answers queries on tables and views', async () => {
    expect(await sql('select count(*) as n from vitals')).toMatchObject({ code: 0, stdout: 'n\n0\n' });
    expect((await sql('select count(*) as n from patient_unified')).code).toBe(0);
  });

  const outside = () => path.join(dir, 'outside');
  it.each([
    ['INSERT', () => "insert into patients (patient_id) values ('X1')", 'read-only'],
    ['UPDATE', () => "update vitals set heart_rate = 1", 'read-only'],
    ['DELETE', () => 'delete from vitals', 'read-only'],
    ['DROP VIEW', () => 'drop view patient_unified', 'read-only'],
    ['COPY … TO a file', () => `copy (select 1) to '${outside()}.csv'`, 'disabled by configuration'],
    ['ATTACH a new file', () => `attach '${outside()}.duckdb' as other`, 'disabled by configuration'],
    ['read_csv of a local file', () => "select * from read_csv('/etc/passwd')", 'disabled by configuration'],
    ['INSTALL an extension', () => 'install httpfs', 'disabled by configuration'],
    ['switching external access back on', () => 'set enable_external_access = true', 'locked'],
  ])('refuses %s (exit 65) and changes nothing', async (_what, query, reason) => {
    const res = await sql(query());
    expect(res.code).toBe(65);
    expect(res.stderr).toContain(reason);
    expect(existsSync(`${outside()}.csv`)).toBe(false);
    expect(existsSync(`${outside()}.duckdb`)).toBe(false);
    expect((await sql('select count(*) as n from patients')).stdout).toBe('n\n0\n');
    expect((await sql("select count(*) as n from duckdb_views() where view_name = 'patient_unified'")).stdout).toBe('n\n1\n');
  });

  it('says why (exit 69) when another process holds the warehouse, and with a token asks the running server', async () => {
    const held = path.join(dir, 'held');
    mkdirSync(held);
    const holder = await holdWarehouse(path.join(held, 'warehouse.duckdb'));
    try {
      const stderr = capture();
      const access = analystAccess(loadConfig({ VIGIL_DATA_DIR: held }), logger, {});
      const code = await runSql(['select 1'], { ...access, stdout: capture().stream, stderr: stderr.stream });
      expect(code).toBe(69);
      expect(stderr.text()).toContain('vigil start');

      // With an analyst token, the same command asks the running server instead, and says so.
      const server = await createDuckDbWarehouse({ path: path.join(dir, 'server.duckdb'), lockedDown: true });
      await server.provision();
      const app = readSideApp({}, server);
      try {
        await app.app.listen({ port: 0, host: '127.0.0.1' });
        const url = `http://127.0.0.1:${(app.app.server.address() as { port: number }).port}`;
        const viaServer = analystAccess(loadConfig({ VIGIL_DATA_DIR: held }), logger, { VIGIL_URL: url, VIGIL_TOKEN: tokenFor('analyst', 'os:analyst') });
        const out = capture();
        const err = capture();
        expect(await runSql(['select 41 + 1 as answer', '--format', 'csv'], { ...viaServer, stdout: out.stream, stderr: err.stream })).toBe(0);
        expect(out.text()).toBe('answer\n42\n');
        expect(err.text()).toContain(`POST ${url}/v1/sql`);
        const refused = capture();
        expect(await runSql(['delete from vitals'], { ...viaServer, stdout: capture().stream, stderr: refused.stream })).toBe(65);
        expect(refused.text()).toContain('only SELECT');
        expect(await app.audit.list({ limit: 5 })).toContainEqual(expect.objectContaining({ actor: 'os:analyst', action: 'POST /v1/sql' }));
      } finally {
        await app.app.close();
        await app.audit.close();
        await server.close();
      }
    } finally {
      holder.kill();
    }
  });

  it('records every query in the audit log, without its text', async () => {
    await sql("select 'needle-in-query' as x");
    const audit = createSqliteAuditLog({ path: path.join(dir, 'audit.sqlite') });
    try {
      const entries = await audit.list({ limit: 100 });
      expect(entries.length).toBeGreaterThanOrEqual(2);
      expect(entries[0]).toMatchObject({ role: 'analyst', action: 'vigil sql', status: 0, actor: expect.stringMatching(/^os:/) });
      expect(JSON.stringify(entries)).not.toContain('needle');
    } finally {
      await audit.close();
    }
  });
});

