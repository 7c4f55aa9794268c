import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteAuditLog } from '../adapters/embedded/audit-log-sqlite.ts';
import { createSqliteTimeSeriesStore } from '../adapters/embedded/timeseries-sqlite.ts';
import { createDuckDbWarehouse } from '../adapters/embedded/warehouse-duckdb.ts';
import type { VitalReading } from '../core/domain/reading.ts';
import { signToken } from '../http/auth.ts';
import type { VigilProcess } from './test-support/vigil-process.ts';
import { eventually, startVigil } from './test-support/vigil-process.ts';

/**
 * `vigil backup` of a running `vigil start` (the simulated ward writing all along), then `vigil
 * restore` into a new data folder, compared store by store with the live folder once it stopped.
 */
const SECRET = 'backup-e2e-secret-0123456789';
const VIGIL_BIN = fileURLToPath(new URL('../bin/vigil.js', import.meta.url));
const auth = (role: 'clinician' | 'analyst') => ({ authorization: `Bearer ${signToken(SECRET, { sub: `e2e-${role}`, role, expiresIn: '1h' })}` });
const root = mkdtempSync(path.join(tmpdir(), 'vigil-backup-e2e-'));
const live = path.join(root, 'live');
const backup = path.join(root, 'backup');
const restored = path.join(root, 'restored');
let vigil: VigilProcess | undefined;
afterAll(async () => {
  await vigil?.stop();
  rmSync(root, { recursive: true, force: true });
});

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [VIGIL_BIN, ...args], { env: { ...process.env, VIGIL_LOG_LEVEL: 'warn', ...env }, timeout: 120_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

async function warehouseCount(url: string): Promise<number> {
  const response = await fetch(`${url}/v1/sql`, { method: 'POST', headers: { ...auth('analyst'), 'content-type': 'application/json' }, body: JSON.stringify({ query: 'SELECT count(*) AS n FROM vitals' }) });
  const body = (await response.json()) as { rows: { n: number | string }[] };
  return Number(body.rows[0]!.n);
}

/** Every reading of a time-series file, by id (through the adapter, as the API reads it). */
async function readingsIn(dataDir: string): Promise<Map<string, VitalReading>> {
  const store = createSqliteTimeSeriesStore({ path: path.join(dataDir, 'timeseries.sqlite') });
  try {
    const all = new Map<string, VitalReading>();
    for (const patient of await store.listPatients()) {
      for (const r of await store.readReadings(patient, { from: 0, to: Number.MAX_SAFE_INTEGER })) all.set(r.readingId, r);
    }
    return all;
  } finally {
    await store.close();
  }
}

async function vitalsIn(dataDir: string): Promise<Map<string, string>> {
  const warehouse = await createDuckDbWarehouse({ path: path.join(dataDir, 'warehouse.duckdb'), readOnly: true });
  try {
    const { rows } = await warehouse.query('SELECT * FROM vitals ORDER BY reading_id');
    return new Map(rows.map((row) => [String(row.reading_id), JSON.stringify(row)]));
  } finally {
    await warehouse.close();
  }
}

async function auditIn(dataDir: string): Promise<string[]> {
  const audit = createSqliteAuditLog({ path: path.join(dataDir, 'audit.sqlite') });
  try {
    return (await audit.list({ limit: 100_000 })).map((e) => JSON.stringify(e));
  } finally {
    await audit.close();
  }
}

describe('vigil backup and vigil restore (embedded default)', () => {
  it('backs up a running instance, restores it into a new folder, and the restored stores hold what the live ones held at the backup', async () => {
    vigil = await startVigil('start', { VIGIL_DATA_DIR: live, VIGIL_AUTH_SECRET: SECRET, VIGIL_SIMULATE: '6', VIGIL_SIMULATE_INTERVAL_MS: '200' }, { timeoutMs: 60_000 });
    const url = vigil.url;
    await eventually(async () => ((await warehouseCount(url)) >= 150 ? true : undefined), 60_000, '150 readings in the live warehouse');
    // Something in the audit log: a clinician reads a patient.
    expect((await fetch(`${url}/v1/patients/P0001/vitals`, { headers: auth('clinician') })).status).toBe(200);
    const before = await warehouseCount(url);

    const taken = await cli(['backup', backup], { VIGIL_DATA_DIR: live, VIGIL_AUTH_SECRET: SECRET, VIGIL_URL: url });
    expect(taken.code, `vigil backup: ${taken.stdout}${taken.stderr}`).toBe(0);
    expect(taken.stdout).toContain('held by a running server');
    const after = await warehouseCount(url);
    expect(after, 'the ward kept writing through the backup').toBeGreaterThan(before);
    expect(await vigil.stop()).toBe(0);
    vigil = undefined;

    const manifest = JSON.parse(readFileSync(path.join(backup, 'manifest.json'), 'utf8')) as { files: { name: string }[] };
    expect(manifest.files.map((f) => f.name)).toEqual(['bus.sqlite', 'warehouse.duckdb', 'timeseries.sqlite', 'alerts.sqlite', 'audit.sqlite', 'sessions.sqlite']);
    expect(taken.stdout).toMatch(/levelled with the time-series copy: \d+ readings/);

    const put = await cli(['restore', backup], { VIGIL_DATA_DIR: restored });
    expect(put.code, `vigil restore: ${put.stdout}${put.stderr}`).toBe(0);

    const [liveReadings, restoredReadings] = [await readingsIn(live), await readingsIn(restored)];
    const [liveVitals, restoredVitals] = [await vitalsIn(live), await vitalsIn(restored)];
    expect(restoredVitals.size, 'warehouse readings in the backup, against those stored before it began').toBeGreaterThanOrEqual(before);
    expect(restoredVitals.size, 'the backup is a moment, not the end: fewer than the live folder at stop').toBeLessThan(liveVitals.size);
    const notLive = [...restoredReadings.keys()].filter((id) => JSON.stringify(liveReadings.get(id)) !== JSON.stringify(restoredReadings.get(id)));
    expect(notLive, 'restored time-series readings missing from, or different in, the live store').toEqual([]);
    const vitalsNotLive = [...restoredVitals.keys()].filter((id) => liveVitals.get(id) !== restoredVitals.get(id));
    expect(vitalsNotLive, 'restored warehouse rows missing from, or different in, the live warehouse').toEqual([]);
    const onlyInWarehouse = [...restoredVitals.keys()].filter((id) => !restoredReadings.has(id));
    expect(onlyInWarehouse, 'restored warehouse readings the restored time series lacks (copied last, it must hold them)').toEqual([]);
    const onlyInTimeSeries = [...restoredReadings.keys()].filter((id) => !restoredVitals.has(id));
    expect(onlyInTimeSeries, 'restored time-series readings the restored warehouse lacks (the backup levels them)').toEqual([]);
    const liveAudit = new Set(await auditIn(live));
    const restoredAudit = await auditIn(restored);
    expect(restoredAudit.some((e) => e.includes('"GET /v1/patients/:patientId/vitals"')), 'the clinician\'s read in the restored audit log').toBe(true);
    expect(restoredAudit.filter((e) => !liveAudit.has(e)), 'restored audit entries not in the live log').toEqual([]);

    // The restored folder runs: the processor drains what was in flight at the backup, and the API answers from it.
    vigil = await startVigil('start', { VIGIL_DATA_DIR: restored, VIGIL_AUTH_SECRET: SECRET, VIGIL_SIMULATE: '0' }, { timeoutMs: 60_000 });
    const restoredUrl = vigil.url;
    const count = await eventually(async () => {
      const n = await warehouseCount(restoredUrl);
      return n >= restoredReadings.size ? n : undefined;
    }, 30_000, 'the restored warehouse to catch up with the restored time series (in-flight readings redelivered)');
    expect(count).toBeLessThanOrEqual(liveVitals.size);
  }, 240_000);

  it('restore refuses a folder that already holds stores (without --replace) and a damaged backup', async () => {
    const refused = await cli(['restore', backup], { VIGIL_DATA_DIR: live });
    expect(refused.code, refused.stderr).toBe(65);
    expect(refused.stderr).toMatch(/already holds .*--replace/);
    const damaged = path.join(root, 'damaged');
    expect((await cli(['backup', damaged], { VIGIL_DATA_DIR: live })).code).toBe(0);
    const audit = path.join(damaged, 'audit.sqlite');
    const bytes = readFileSync(audit);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    (await import('node:fs')).writeFileSync(audit, bytes);
    const bad = await cli(['restore', damaged], { VIGIL_DATA_DIR: path.join(root, 'elsewhere') });
    expect(bad.code).toBe(65);
    expect(bad.stderr).toContain('audit.sqlite');
    expect(existsSync(path.join(root, 'elsewhere', 'timeseries.sqlite')), 'nothing restored from a damaged backup').toBe(false);
  }, 120_000);
});
