import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { signToken } from '../http/auth.ts';
import type { VigilProcess } from './test-support/vigil-process.ts';
import { eventually, startVigil } from './test-support/vigil-process.ts';

/** `vigil start` with VIGIL_RETENTION_DAYS: its processor purges the embedded stores, and says so in /metrics. */
const SECRET = 'retention-e2e-secret-0123456789';
const auth = (role: 'device' | 'clinician' | 'analyst') => ({ authorization: `Bearer ${signToken(SECRET, { sub: `e2e-${role}`, role, expiresIn: '1h' })}` });
const dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-retention-e2e-'));
let vigil: VigilProcess | undefined;
afterAll(async () => {
  await vigil?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const DAY = 86_400_000;

describe('retention in vigil start', () => {
  it('purges readings older than VIGIL_RETENTION_DAYS from the time series and the warehouse, and keeps newer ones', async () => {
    vigil = await startVigil('start', {
      VIGIL_DATA_DIR: dataDir, VIGIL_AUTH_SECRET: SECRET, VIGIL_SIMULATE: '0', VIGIL_RETENTION_DAYS: '1', VIGIL_RETENTION_PURGE_INTERVAL_S: '1',
    }, { timeoutMs: 60_000 });
    const url = vigil.url;
    const reading = (observedAt: number) => ({ deviceId: 'bed-ret', patientId: 'RET-1', observedAt: new Date(observedAt).toISOString(), heartRate: 70, spo2: 97 });
    const posted = await fetch(`${url}/v1/readings`, {
      method: 'POST', headers: { ...auth('device'), 'content-type': 'application/json' },
      body: JSON.stringify([reading(Date.now() - 2 * DAY), reading(Date.now() - 60_000)]),
    });
    expect(posted.status).toBe(202);

    const purged = async (store: string): Promise<number> => {
      const text = await (await fetch(`${url}/metrics`)).text();
      return Number(new RegExp(`^vigil_retention_purged_total\\{store="${store}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    };
    await eventually(async () => ((await purged('time series')) >= 1 && (await purged('warehouse')) >= 1 ? true : undefined), 30_000,
      'the purge to report the 2-day-old reading removed from the time series and the warehouse (vigil_retention_purged_total)');

    const vitals = await (await fetch(`${url}/v1/patients/RET-1/vitals?from=${new Date(Date.now() - 3 * DAY).toISOString()}`, { headers: auth('clinician') })).json() as { readings?: { observedAt: string }[] } | { observedAt: string }[];
    const rows = Array.isArray(vitals) ? vitals : (vitals.readings ?? []);
    expect(rows.map((r) => Date.parse(r.observedAt) > Date.now() - DAY), 'readings left in the time series: only the recent one').toEqual([true]);
    const sql = await fetch(`${url}/v1/sql`, {
      method: 'POST', headers: { ...auth('analyst'), 'content-type': 'application/json' },
      body: JSON.stringify({ query: "SELECT count(*) AS n FROM vitals WHERE patient_id = 'RET-1'" }),
    });
    expect(((await sql.json()) as { rows: { n: number | string }[] }).rows[0]!.n, 'readings left in the warehouse').toBe(1);
  }, 120_000);
});
