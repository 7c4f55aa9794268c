import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, it } from 'vitest';
import { signToken } from '../http/auth.ts';
import { runReadingMergeScenario } from './test-support/reading-merge-scenario.ts';
import type { VigilProcess } from './test-support/vigil-process.ts';
import { startVigil } from './test-support/vigil-process.ts';
import { budget } from '../core/contracts/wait-for.ts';

/**
 * Issue 16, item 1: readings merge, never erase, on the embedded default. The warehouse is read
 * through `POST /v1/sql`, what `vigil sql` asks a running server. The Google backends run the same
 * scenario in adapters/gcp/start.e2e.int.test.ts.
 */
const SECRET = 'merge-e2e-secret-0123456789';
let dir: string;
let vigil: VigilProcess | undefined;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-merge-e2e-'));
});
afterEach(async () => {
  await vigil?.stop();
  vigil = undefined;
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('readings merge, never erase (vigil start, embedded)', () => {
  it('two PCD-01 ORU messages (NIBP, then pulse and SpO2) and two FHIR Observations (blood pressure, then heart rate) each end as one reading holding every vital, in the API and in the warehouse alike', async () => {
    vigil = await startVigil('start', { VIGIL_DATA_DIR: path.join(dir, 'data'), VIGIL_AUTH_SECRET: SECRET, VIGIL_SIMULATE: '0' });
    const analyst = `Bearer ${signToken(SECRET, { sub: 'e2e', role: 'analyst', expiresIn: '1h' })}`;
    const server = vigil;
    await runReadingMergeScenario({
      vigil: server, secret: SECRET,
      warehouseRows: async (patient) => {
        const response = await fetch(`${server.url}/v1/sql`, {
          method: 'POST', headers: { authorization: analyst, 'content-type': 'application/json' },
          body: JSON.stringify({ query: `SELECT device_id, heart_rate, systolic, diastolic, spo2 FROM vitals WHERE patient_id = '${patient}'` }),
        });
        const body = (await response.json()) as { rows?: Record<string, unknown>[]; error?: string };
        if (!response.ok) throw new Error(`POST /v1/sql answered ${response.status}: ${body.error}`);
        return body.rows ?? [];
      },
    });
  }, budget(90_000));
});
