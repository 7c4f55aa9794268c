import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbWarehouse } from '../adapters/embedded/warehouse-duckdb.ts';
import type { DuckDbWarehouse } from '../adapters/embedded/warehouse-duckdb.ts';
import type { ReadSideApp } from './test-fixtures.ts';
import { bearer, readSideApp, testConfig } from './test-fixtures.ts';

let dir: string;
let warehouse: DuckDbWarehouse;
let ctx: ReadSideApp<DuckDbWarehouse>;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-snapshot-route-'));
  // As `vigil start` opens it: writable for the pipeline, locked down (no file access from SQL).
  warehouse = await createDuckDbWarehouse({ path: path.join(dir, 'warehouse.duckdb'), lockedDown: true });
  await warehouse.provision();
  ctx = readSideApp({ config: testConfig({ VIGIL_DATA_DIR: dir }) }, warehouse);
  await ctx.app.ready();
});
afterAll(async () => {
  await ctx.app.close();
  await ctx.audit.close();
  await warehouse.close();
  rmSync(dir, { recursive: true, force: true });
});

const vital = (i: number) => ({
  reading_id: `r${i}`, patient_id: `P${i % 5}`, device_id: 'bed-1', observed_at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)), received_at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
});

describe('POST /v1/admin/warehouse-snapshot', () => {
  it('writes a consistent copy of the held warehouse under the data folder, while appends go on, and audits it', async () => {
    await warehouse.append('vitals', Array.from({ length: 500 }, (_, i) => vital(i)));
    const appending = (async () => {
      for (let batch = 0; batch < 20; batch += 1) await warehouse.append('vitals', Array.from({ length: 50 }, (_, i) => vital(1000 + batch * 50 + i)));
    })();
    const res = await ctx.app.inject({ method: 'POST', url: '/v1/admin/warehouse-snapshot', headers: bearer('admin', 'admin-backup') });
    await appending;
    expect(res.statusCode, res.body).toBe(200);
    const { file, bytes } = res.json() as { file: string; bytes: number };
    expect(file).toMatch(/^snapshots\/warehouse-[0-9a-f-]{36}\.duckdb$/);
    expect(bytes).toBeGreaterThan(0);
    const copy = await createDuckDbWarehouse({ path: path.join(dir, file), readOnly: true });
    const { rows } = await copy.query('SELECT count(*) AS n, count(DISTINCT reading_id) AS ids FROM vitals');
    await copy.close();
    // Every append is whole in the copy or absent: a multiple of the batch sizes, at least what was there before.
    const n = Number(rows[0]!.n);
    expect(n).toBe(Number(rows[0]!.ids));
    expect(n).toBeGreaterThanOrEqual(500);
    expect((n - 500) % 50, `rows in the snapshot (${n}): a batch of 50 was cut`).toBe(0);
    const entries = await ctx.audit.list({ actor: 'admin-backup', limit: 5 });
    expect(entries.map((e) => e.action)).toEqual(['POST /v1/admin/warehouse-snapshot']);
  });

  it('is for admins only', async () => {
    const status = async (headers: Record<string, string>) => (await ctx.app.inject({ method: 'POST', url: '/v1/admin/warehouse-snapshot', headers })).statusCode;
    expect(await status({})).toBe(401);
    for (const role of ['device', 'clinician', 'analyst'] as const) expect(await status(bearer(role)), role).toBe(403);
    expect(existsSync(path.join(dir, 'snapshots'))).toBe(true);
  });
});
