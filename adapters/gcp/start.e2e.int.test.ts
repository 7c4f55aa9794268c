/**
 * `vigil provision` then `vigil start` with every backend on Google (emulators): the same API as
 * the embedded default, and what was posted can be read back with the plain Google clients.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BigQuery } from '@google-cloud/bigquery';
import { Bigtable } from '@google-cloud/bigtable';
import { PassThroughClient } from 'google-auth-library';
import { afterAll, describe, expect, it } from 'vitest';
import { budget, runPrefix } from '../../core/contracts/wait-for.ts';
import { signToken } from '../../http/auth.ts';
import { eventually, startVigil } from '../../cli/test-support/vigil-process.ts';
import type { VigilProcess } from '../../cli/test-support/vigil-process.ts';
import { gcpEmulatorsOrSkip } from './test-support/emulator-gate.ts';
import { googleRunEnv } from './test-support/google-run-env.ts';
import { runVigil } from './test-support/run-vigil.ts';
import { runReadingMergeScenario } from '../../cli/test-support/reading-merge-scenario.ts';

const env = gcpEmulatorsOrSkip('adapters/gcp/start.e2e.int.test.ts');

if (env) {
  describe('vigil start on Google backends (emulators)', () => {
    const run = runPrefix('start');
    const dataset = run.replaceAll('-', '_');
    const table = `${run}-vitals`;
    const secret = 'start-e2e-secret-0123456789abcdef';
    const dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-gcp-start-'));
    const vigilEnv = googleRunEnv(env, run, { VIGIL_AUTH_SECRET: secret, VIGIL_SIMULATE: '0', VIGIL_DATA_DIR: dataDir });
    let vigil: VigilProcess | undefined;

    afterAll(async () => {
      await vigil?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }, budget(60_000));

    it('accepts a reading, serves it on /v1/patients, and the plain clients find it in Bigtable and BigQuery', async () => {
      await runVigil(['provision'], vigilEnv, 240_000);
      vigil = await startVigil('start', vigilEnv, { timeoutMs: 60_000 });
      const bearer = (role: string): string => `Bearer ${signToken(secret, { sub: 'e2e', role: role as 'device', expiresIn: '1h' })}`;
      const observedAt = new Date(Date.now() - 1_000).toISOString();
      const posted = await fetch(`${vigil.url}/v1/readings`, {
        method: 'POST',
        headers: { authorization: bearer('device'), 'content-type': 'application/json' },
        body: JSON.stringify({ deviceId: 'bed-7', patientId: 'P0007', observedAt, heartRate: 88, bloodPressure: '131/79', spo2: 95 }),
      });
      expect(posted.status).toBe(202);
      expect(await posted.json()).toEqual({ accepted: 1 });

      const patients = await eventually(async () => {
        const response = await fetch(`${vigil!.url}/v1/patients`, { headers: { authorization: bearer('clinician') } });
        const body = (await response.json()) as { patientId: string; latest?: { heartRate: number; systolic: number } }[];
        return body.length > 0 ? body : undefined;
      }, 60_000, 'the patient on /v1/patients');
      expect(patients.map((p) => p.patientId)).toEqual(['P0007']);
      expect(patients[0]!.latest).toMatchObject({ heartRate: 88, systolic: 131, observedAt });
      // Readiness pings each emulator with a 2 s budget; on a loaded CI machine one ping can miss
      // it, so the probe is asked until it answers 200, as an orchestrator would.
      await eventually(async () => {
        const ready = await fetch(`${vigil!.url}/readyz`);
        if (ready.status !== 200) throw new Error(`/readyz ${ready.status}: ${await ready.text()}`);
        return true;
      }, 30_000, '/readyz to answer 200');

      // The plain clients, no Vigil code: a prefix scan in Bigtable, a query on the analyst view.
      const bigtable = new Bigtable({ projectId: env.GOOGLE_CLOUD_PROJECT, metricsEnabled: false });
      try {
        const [rows] = await bigtable.instance('vigil').table(table).getRows({ prefix: 'r#P0007#' });
        expect(rows).toHaveLength(1);
        // Column j holds the reading's identity, each vital a column of its own (adapters/gcp/README.md).
        const cell = (column: string): unknown => JSON.parse(String(rows[0]!.data.v[column][0].value));
        expect(cell('j')).toMatchObject({ patientId: 'P0007', deviceId: 'bed-7' });
        expect([cell('heartRate'), cell('systolic'), cell('diastolic')]).toEqual([88, 131, 79]);
      } finally {
        await bigtable.close();
      }
      const bigquery = new BigQuery({ projectId: env.GOOGLE_CLOUD_PROJECT, authClient: new PassThroughClient() });
      const visible = await eventually(async () => {
        const [found] = await bigquery.query({ query: `SELECT patient_id, heart_rate, systolic FROM \`${env.GOOGLE_CLOUD_PROJECT}.${dataset}.vitals\`` });
        return found.length > 0 ? found : undefined;
      }, 60_000, 'the reading in BigQuery');
      expect(visible).toEqual([{ patient_id: 'P0007', heart_rate: 88, systolic: 131 }]);
    }, budget(400_000));

    it('merges two PCD-01 ORU messages and two FHIR Observations of one moment into one reading each, alike in Bigtable (the API) and BigQuery', async () => {
      if (!vigil) throw new Error('the first test did not start vigil');
      const bigquery = new BigQuery({ projectId: env.GOOGLE_CLOUD_PROJECT, authClient: new PassThroughClient() });
      await runReadingMergeScenario({
        vigil, secret, patientPrefix: `${run}-`, timeoutMs: 60_000,
        warehouseRows: async (patient) => (await bigquery.query({
          query: `SELECT device_id, heart_rate, systolic, diastolic, spo2 FROM \`${env.GOOGLE_CLOUD_PROJECT}.${dataset}.vitals\` WHERE patient_id = @patient`,
          params: { patient },
        }))[0] as Record<string, unknown>[],
      });
    }, budget(200_000));
  });
}
