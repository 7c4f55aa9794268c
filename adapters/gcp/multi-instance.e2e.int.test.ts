/**
 * Several instances on the emulators agree on alerts (issue 15): `vigil provision`, then one
 * `vigil ingest`, TWO `vigil process` and TWO `vigil dashboard` processes, each with its own data
 * folder (nothing shared on local disk), on Pub/Sub + Bigtable + BigQuery. A deteriorating patient
 * raises an alert that both dashboards list; acknowledged on one, it is shown acknowledged on the
 * other (its list and its SSE stream); there is exactly one episode (both dashboards' engines saw
 * the same updates); one dashboard is SIGKILLed and restarted, and nothing of the above is lost; every read of the patient
 * on either dashboard, before and after the kill, is in one audit trail read through either.
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

const env = gcpEmulatorsOrSkip('adapters/gcp/multi-instance.e2e.int.test.ts');

interface AlertJson { id: string; patientId: string; status: string; acknowledgedBy: string | null; acknowledgedAt: string | null; reasons: string[] }

/** The `event: alert` frames an SSE stream has sent so far. */
function followAlerts(url: string, authorization: string) {
  const abort = new AbortController();
  let text = '';
  const done = (async () => {
    const response = await fetch(`${url}/v1/stream`, { headers: { authorization }, signal: abort.signal });
    if (!response.ok) throw new Error(`/v1/stream answered ${response.status}`);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done: ended } = await reader.read();
      if (ended) return;
      text += value;
    }
  })().catch(() => undefined);
  return {
    alerts: (): AlertJson[] => text.split('\n\n').slice(0, -1)
      .filter((f) => f.startsWith('event: alert\ndata: '))
      .map((f) => JSON.parse(f.slice('event: alert\ndata: '.length)) as AlertJson),
    async close() {
      abort.abort();
      await done;
    },
  };
}

if (env) {
  describe('two processors and two dashboards on the emulators agree on alerts, through a SIGKILL', () => {
    const run = runPrefix('multi');
    const secret = 'multi-e2e-secret-0123456789abcdef';
    const dirs: string[] = [];
    const dataDir = (): string => {
      const dir = mkdtempSync(path.join(tmpdir(), 'vigil-multi-'));
      dirs.push(dir);
      return dir;
    };
    const shared = googleRunEnv(env, run, { VIGIL_AUTH_SECRET: secret, VIGIL_SIMULATE: '0', VIGIL_ALERT_REFRESH_MS: '500' });
    const processes: VigilProcess[] = [];
    const start = async (command: string, ownDir: string): Promise<VigilProcess> => {
      const started = await startVigil(command, { ...shared, VIGIL_DATA_DIR: ownDir }, { timeoutMs: 90_000 });
      processes.push(started);
      return started;
    };
    const bearer = (role: 'device' | 'clinician' | 'admin', sub = 'e2e'): string => `Bearer ${signToken(secret, { sub, role, expiresIn: '1h' })}`;
    const alertsOn = async (dashboard: VigilProcess, include: 'visible' | 'all' = 'visible'): Promise<AlertJson[]> => {
      const response = await fetch(`${dashboard.url}/v1/alerts?include=${include}`, { headers: { authorization: bearer('clinician') } });
      if (!response.ok) throw new Error(`/v1/alerts on ${dashboard.url} answered ${response.status}`);
      return (await response.json()) as AlertJson[];
    };

    /** A clinician's read of the patient's vitals on one instance; served, so audited. */
    const readVitals = async (dashboard: VigilProcess, reader: string): Promise<void> => {
      const response = await fetch(`${dashboard.url}/v1/patients/${encodeURIComponent(`P-${run}`)}/vitals`, { headers: { authorization: bearer('clinician', reader) } });
      expect(response.status, `${reader}'s read on ${dashboard.url}`).toBe(200);
    };

    afterAll(async () => {
      for (const p of processes) await p.stop().catch(() => undefined);
      const client = new Bigtable({ projectId: env.GOOGLE_CLOUD_PROJECT, metricsEnabled: false });
      for (const t of [shared.VIGIL_BIGTABLE_TABLE!, shared.VIGIL_BIGTABLE_SESSIONS_TABLE!, shared.VIGIL_BIGTABLE_ALERTS_TABLE!, shared.VIGIL_BIGTABLE_AUDIT_TABLE!]) {
        await client.instance('vigil').table(t).delete().catch(() => undefined);
      }
      await client.close();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    }, budget(120_000));

    it('an alert is raised once, seen on both dashboards, acknowledged on one and shown acknowledged on the other, and survives a SIGKILL', async () => {
      await runVigil(['provision'], { ...shared, VIGIL_DATA_DIR: dataDir() }, 240_000);
      const edge = await start('ingest', dataDir());
      await Promise.all([start('process', dataDir()), start('process', dataDir())]);
      const dirA = dataDir();
      let dashboardA = await start('dashboard', dirA);
      const dashboardB = await start('dashboard', dataDir());
      const streamB = followAlerts(dashboardB.url, bearer('clinician', 'ward-b'));

      // A complete observation set well above NEWS2 5: RR 26, SpO2 90, HR 125, SBP 95, 38.6 °C.
      const patientId = `P-${run}`;
      const post = async (minutesAgo: number) => {
        const response = await fetch(`${edge.url}/v1/readings`, {
          method: 'POST',
          headers: { authorization: bearer('device'), 'content-type': 'application/json' },
          body: JSON.stringify({
            deviceId: 'bed-3', patientId, observedAt: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
            heartRate: 125, bloodPressure: '95/60', temperature: 38.6, spo2: 90, respiratoryRate: 26, onOxygen: false, consciousness: 'A',
          }),
        });
        expect(response.status, 'the edge accepted the reading').toBe(202);
      };
      await post(2);

      const seenOn = (dashboard: VigilProcess, what: string) => eventually(async () => {
        const open = (await alertsOn(dashboard)).filter((a) => a.patientId === patientId);
        return open.length > 0 ? open : undefined;
      }, 90_000, what);
      const [onA, onB] = await Promise.all([seenOn(dashboardA, 'the alert on dashboard A'), seenOn(dashboardB, 'the alert on dashboard B')]);
      expect(onA.map((a) => a.id)).toEqual(onB.map((a) => a.id));
      const alertId = onA[0]!.id;
      expect(onA[0]).toMatchObject({ status: 'open', acknowledgedBy: null });
      expect(onA[0]!.reasons).toContain('news2');
      // Both dashboards' engines keep evaluating this patient: still one episode after more readings.
      await post(1);
      await eventually(async () => (streamB.alerts().some((a) => a.id === alertId) ? true : undefined), 30_000, 'the alert as an SSE event on dashboard B');

      const ack = await fetch(`${dashboardA.url}/v1/alerts/${alertId}/ack`, { method: 'POST', headers: { authorization: bearer('clinician', 'nurse-on-a') } });
      expect(ack.status).toBe(200);
      expect(await ack.json()).toMatchObject({ id: alertId, acknowledgedBy: 'nurse-on-a' });
      const onBAfter = await alertsOn(dashboardB, 'all');
      expect(onBAfter.filter((a) => a.patientId === patientId), 'dashboard B lists the acknowledgement made on A').toMatchObject([{ id: alertId, acknowledgedBy: 'nurse-on-a' }]);
      await eventually(async () => (streamB.alerts().some((a) => a.id === alertId && a.acknowledgedBy === 'nurse-on-a') ? true : undefined),
        30_000, 'the acknowledgement made on A as an SSE alert event on dashboard B');
      // The first acknowledgement stands, wherever the second is made.
      const late = await fetch(`${dashboardB.url}/v1/alerts/${alertId}/ack`, { method: 'POST', headers: { authorization: bearer('clinician', 'nurse-on-b') } });
      expect(await late.json()).toMatchObject({ acknowledgedBy: 'nurse-on-a' });

      // A clinician reads the patient on A before A dies; its audit entry must outlive A.
      await readVitals(dashboardA, 'reader-on-a-before-kill');

      // A instance replaced the hard way: no drain, no flush.
      await dashboardA.kill();
      await post(0.5);
      dashboardA = await start('dashboard', dirA);
      await post(0.25);
      // Let both engines evaluate the newer readings before counting episodes.
      await eventually(async () => {
        const all = (await alertsOn(dashboardA, 'all')).filter((a) => a.patientId === patientId);
        return all.length === 1 && all[0]!.acknowledgedBy === 'nurse-on-a' && all[0]!.id === alertId ? all : undefined;
      }, 30_000, 'the restarted dashboard A to list the one acknowledged episode');
      for (const dashboard of [dashboardA, dashboardB]) {
        const all = (await alertsOn(dashboard, 'all')).filter((a) => a.patientId === patientId);
        expect(all, `exactly one episode on ${dashboard.url}`).toMatchObject([{ id: alertId, status: 'open', acknowledgedBy: 'nurse-on-a' }]);
      }
      // And in the table itself, read with the plain client: one alert row for this patient.
      const client = new Bigtable({ projectId: env.GOOGLE_CLOUD_PROJECT, metricsEnabled: false });
      try {
        const [rows] = await client.instance('vigil').table(shared.VIGIL_BIGTABLE_ALERTS_TABLE!).getRows({ prefix: 'alert#' });
        const ofPatient = rows.filter((r) => String(r.data.a.state[0].value).includes(`"patientId":"${patientId}"`));
        expect(ofPatient.map((r) => r.id)).toEqual([`alert#${alertId}`]);
      } finally {
        await client.close();
      }

      // One audit trail: every read on either instance, A's from before its SIGKILL included, is
      // listed through either instance.
      await readVitals(dashboardB, 'reader-on-b');
      await readVitals(dashboardA, 'reader-on-a-after-restart');
      const readers = ['reader-on-a-before-kill', 'reader-on-b', 'reader-on-a-after-restart'];
      for (const dashboard of [dashboardA, dashboardB]) {
        const response = await fetch(`${dashboard.url}/v1/audit?patientId=${encodeURIComponent(patientId)}&limit=1000`, { headers: { authorization: bearer('admin', 'auditor') } });
        expect(response.status, `GET /v1/audit on ${dashboard.url}`).toBe(200);
        const entries = (await response.json()) as { actor: string; action: string; patientId?: string }[];
        const vitalsReaders = new Set(entries.filter((e) => e.action.endsWith('/vitals')).map((e) => e.actor));
        expect(readers.filter((r) => !vitalsReaders.has(r)), `reads missing from the audit trail read through ${dashboard.url}`).toEqual([]);
      }

      await streamB.close();
    }, budget(600_000));
  });
}
