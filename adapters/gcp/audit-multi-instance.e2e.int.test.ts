/**
 * One audit trail behind a load balancer, on the emulators: two `vigil dashboard` processes (the
 * read part only), each with its own empty data folder as two containers would have, on the same
 * Bigtable and BigQuery. Clinicians read patients on each; the trail read through either instance
 * holds every read of both. One instance is SIGKILLed: the trail read through the survivor, and
 * through a replacement started on a fresh disk, still holds everything.
 *
 * The patients come the production way: `vigil simulate --target bus` → Pub/Sub → one
 * `vigil process` → Bigtable (and BigQuery); the dashboards follow the shared store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Bigtable } from '@google-cloud/bigtable';
import { afterAll, describe, expect, it } from 'vitest';
import { budget, runPrefix } from '../../core/contracts/wait-for.ts';
import { signToken } from '../../http/auth.ts';
import { eventually, startVigil } from '../../cli/test-support/vigil-process.ts';
import type { VigilProcess } from '../../cli/test-support/vigil-process.ts';
import { gcpEmulatorsOrSkip } from './test-support/emulator-gate.ts';
import { googleRunEnv } from './test-support/google-run-env.ts';
import { runVigil } from './test-support/run-vigil.ts';

const env = gcpEmulatorsOrSkip('adapters/gcp/audit-multi-instance.e2e.int.test.ts');

interface TrailEntry { actor: string; role: string; action: string; patientId?: string; status: number; at: string }

if (env) {
  describe('audit trail across two dashboard instances on Google backends (emulators), one SIGKILLed', () => {
    const run = runPrefix('audit-mi');
    const secret = 'audit-e2e-secret-0123456789abcdef';
    const dataDirs: string[] = [];
    const freshDataDir = (): string => {
      const dir = mkdtempSync(path.join(tmpdir(), 'vigil-audit-mi-'));
      dataDirs.push(dir);
      return dir;
    };
    const vigilEnv = googleRunEnv(env, run, { VIGIL_AUTH_SECRET: secret });
    const instances: VigilProcess[] = [];
    const PATIENTS = 6;
    const startDashboard = async (): Promise<VigilProcess> => startInstance('dashboard');
    const startInstance = async (command: 'dashboard' | 'process'): Promise<VigilProcess> => {
      const instance = await startVigil(command, { ...vigilEnv, VIGIL_DATA_DIR: freshDataDir() }, { timeoutMs: 90_000 });
      instances.push(instance);
      return instance;
    };
    const bearer = (role: 'clinician' | 'admin', sub: string): string => `Bearer ${signToken(secret, { sub, role, expiresIn: '1h' })}`;

    afterAll(async () => {
      await Promise.allSettled(instances.map((i) => i.stop()));
      const client = new Bigtable({ projectId: env.GOOGLE_CLOUD_PROJECT, metricsEnabled: false });
      await Promise.allSettled([vigilEnv.VIGIL_BIGTABLE_TABLE!, vigilEnv.VIGIL_BIGTABLE_AUDIT_TABLE!, vigilEnv.VIGIL_BIGTABLE_SESSIONS_TABLE!].map((t) => client.instance('vigil').table(t).delete()));
      await client.close();
      for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
    }, budget(60_000));

    /** A read a clinician makes on one instance; it must be served (and so audited). */
    async function read(instance: VigilProcess, actor: string, method: 'GET' | 'PUT', route: string): Promise<void> {
      const response = await fetch(`${instance.url}${route}`, {
        method,
        headers: { authorization: bearer('clinician', actor), ...(method === 'PUT' ? { 'content-type': 'application/json' } : {}) },
        ...(method === 'PUT' ? { body: JSON.stringify({ spo2Scale: 2 }) } : {}),
      });
      expect(response.status, `${method} ${route} by ${actor} on ${instance.url}: ${await response.text()}`).toBe(200);
    }

    async function trailThrough(instance: VigilProcess, query = ''): Promise<TrailEntry[]> {
      const response = await fetch(`${instance.url}/v1/audit?limit=1000${query}`, { headers: { authorization: bearer('admin', `${run}-auditor`) } });
      expect(response.status, `GET /v1/audit on ${instance.url}`).toBe(200);
      return (await response.json()) as TrailEntry[];
    }

    /** Entries as comparable strings, sorted: the same reads, each exactly as often. */
    const shape = (entries: readonly Pick<TrailEntry, 'actor' | 'action' | 'patientId' | 'status'>[]): string[] =>
      entries.map((e) => `${e.actor} ${e.action} ${e.patientId ?? '-'} ${e.status}`).sort();

    it('every read served by either instance is in the one trail, read through either, and survives a SIGKILL', async () => {
      await runVigil(['provision'], vigilEnv, 300_000);
      const processor = await startInstance('process');
      await runVigil(['simulate', '--target', 'bus', '--patients', String(PATIENTS), '--interval-ms', '500', '--duration', '3s', '--faults', 'none', '--seed', '11'], vigilEnv, 120_000);

      const [a, b] = await Promise.all([startDashboard(), startDashboard()]);
      const [nurseA, nurseB] = [`${run}-nurse-a`, `${run}-nurse-b`];
      const expected: { actor: string; action: string; patientId?: string; status: number }[] = [];
      const served = async (instance: VigilProcess, actor: string, method: 'GET' | 'PUT', route: string, action: string, patientId?: string): Promise<void> => {
        await read(instance, actor, method, route);
        expected.push({ actor, action, ...(patientId === undefined ? {} : { patientId }), status: 200 });
      };

      // The charge nurse's ward list on A until the processor has stored every simulated patient;
      // each look is a read of the ward, so each is expected in the trail.
      const chargeNurse = `${run}-charge-nurse`;
      const patients = await eventually(async () => {
        const response = await fetch(`${a!.url}/v1/patients`, { headers: { authorization: bearer('clinician', chargeNurse) } });
        if (response.status === 200) expected.push({ actor: chargeNurse, action: 'GET /v1/patients', status: 200 });
        const ward = (await response.json()) as { patientId: string }[];
        return ward.length === PATIENTS ? ward.map((p) => p.patientId).sort() : undefined;
      }, 120_000, `${PATIENTS} simulated patients on /v1/patients of instance A (simulate → Pub/Sub → vigil process → Bigtable)`);
      // Nothing more is coming; its CPU is better spent on the dashboards of a 2-core machine.
      expect(await processor.stop(), `vigil process exit code; output:\n${processor.output()}`).toBe(0);

      // Interleaved across the two instances, as a load balancer would spread them.
      for (const [i, patientId] of patients.entries()) {
        const [instance, actor] = i % 2 === 0 ? [a!, nurseA] : [b!, nurseB];
        await served(instance, actor, 'GET', `/v1/patients/${patientId}/vitals`, 'GET /v1/patients/:patientId/vitals', patientId);
      }
      await served(a!, nurseA, 'GET', '/v1/patients', 'GET /v1/patients');
      await served(b!, nurseB, 'GET', '/v1/patients', 'GET /v1/patients');
      // The same patient read on both instances: its own trail must show both.
      await served(b!, nurseB, 'GET', `/v1/patients/${patients[0]}/risk`, 'GET /v1/patients/:patientId/risk', patients[0]);
      await served(b!, nurseB, 'PUT', `/v1/patients/${patients[0]}/profile`, 'PUT /v1/patients/:patientId/profile', patients[0]);
      await served(a!, nurseA, 'GET', `/v1/patients/${patients[0]}/profile`, 'GET /v1/patients/:patientId/profile', patients[0]);

      // Appends have resolved before each answer left, so the trail is complete now: no waiting.
      for (const [instance, name] of [[a!, 'instance A'], [b!, 'instance B']] as const) {
        expect(shape(await trailThrough(instance)), `the whole trail read through ${name}`).toEqual(shape(expected));
        expect(shape(await trailThrough(instance, `&patientId=${encodeURIComponent(patients[0]!)}`)), `${patients[0]}'s trail read through ${name}`)
          .toEqual(shape(expected.filter((e) => e.patientId === patients[0])));
        expect(shape(await trailThrough(instance, `&actor=${encodeURIComponent(nurseB)}`)), `nurse B's trail read through ${name}`)
          .toEqual(shape(expected.filter((e) => e.actor === nurseB)));
      }
      const newestFirst = (await trailThrough(a!)).map((e) => Date.parse(e.at));
      expect(newestFirst, 'the trail is newest first').toEqual([...newestFirst].sort((x, y) => y - x));

      await b!.kill();
      await served(a!, nurseA, 'GET', `/v1/patients/${patients[1]}/vitals`, 'GET /v1/patients/:patientId/vitals', patients[1]);
      expect(shape(await trailThrough(a!)), 'the trail read through the survivor after B was SIGKILLed').toEqual(shape(expected));

      // B's container is gone with its disk; its replacement starts empty and reads the same trail.
      const replacement = await startDashboard();
      expect(shape(await trailThrough(replacement)), 'the trail read through a replacement instance on a fresh disk').toEqual(shape(expected));
    }, budget(600_000));
  });
}
