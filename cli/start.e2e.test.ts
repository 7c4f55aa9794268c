import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbWarehouse } from '../adapters/embedded/warehouse-duckdb.ts';
import { signToken } from '../http/auth.ts';
import { connectMllp, msaOf } from '../simulators/device-protocols/mllp-client.ts';
import { readingToOru } from '../simulators/device-protocols/reading-to-oru.ts';
import { readingsToBundle } from '../simulators/device-protocols/reading-to-fhir.ts';
import type { VigilProcess } from './test-support/vigil-process.ts';
import { eventually, startVigil } from './test-support/vigil-process.ts';
import { budget } from '../core/contracts/wait-for.ts';

/**
 * The embedded default as a newcomer runs it: `vigil start` in a child process, talked to over
 * HTTP only. This is the "done when" of the embedded pipeline.
 */
const SECRET = 'e2e-secret-0123456789abcdef';
const token = (role: 'device' | 'clinician' | 'analyst' | 'admin') => signToken(SECRET, { sub: `e2e-${role}`, role, expiresIn: '1h' });
const auth = (role: 'device' | 'clinician' | 'analyst' | 'admin') => ({ authorization: `Bearer ${token(role)}` });

let dataDir: string;
let vigil: VigilProcess;

async function post(readings: unknown): Promise<Response> {
  return fetch(`${vigil.url}/v1/readings`, {
    method: 'POST',
    headers: { ...auth('device'), 'content-type': 'application/json' },
    body: JSON.stringify(readings),
  });
}

async function vitalsOf(patientId: string, from = '2026-01-01T00:00:00Z'): Promise<Record<string, unknown>[]> {
  const response = await fetch(`${vigil.url}/v1/patients/${patientId}/vitals?from=${encodeURIComponent(from)}&to=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`, { headers: auth('clinician') });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { readings?: Record<string, unknown>[] } | Record<string, unknown>[];
  return Array.isArray(body) ? body : (body.readings ?? []);
}

function start(): Promise<VigilProcess> {
  return startVigil('start', { VIGIL_DATA_DIR: dataDir, VIGIL_AUTH_SECRET: SECRET, VIGIL_SIMULATE: '6', VIGIL_SIMULATE_INTERVAL_MS: '500', VIGIL_ACK_DEADLINE_MS: '5000', VIGIL_SIMULATE_PROTOCOLS: 'mixed' });
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-e2e-'));
  vigil = await start();
}, budget(60_000));

afterAll(async () => {
  await vigil?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('vigil start (embedded default)', () => {
  it('splits "120/80" into systolic 120 and diastolic 80', async () => {
    const observedAt = new Date(Date.now() - 60_000).toISOString();
    const response = await post({ deviceId: 'bed-e2e', patientId: 'E2E-BP', observedAt, heartRate: 72, bloodPressure: '120/80', temperature: 98.6, temperatureUnit: 'F' });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ accepted: 1 });
    const [reading] = await eventually(async () => {
      const rows = await vitalsOf('E2E-BP');
      return rows.length > 0 ? rows : undefined;
    }, 15_000, 'the reading to be stored');
    expect(reading).toMatchObject({ patientId: 'E2E-BP', systolic: 120, diastolic: 80, heartRate: 72 });
    expect(reading!.temperatureC).toBeCloseTo(37, 1);
  });

  it('answers a malformed reading 400 with the field and the reason', async () => {
    const response = await post([
      { deviceId: 'bed-e2e', patientId: 'E2E-BAD', observedAt: new Date().toISOString(), heartRate: 70 },
      { deviceId: 'bed-e2e', patientId: 'E2E-BAD', observedAt: new Date().toISOString(), bloodPressure: '120/' },
    ]);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string; details: { index: number; field: string; reason: string }[] };
    expect(body.details).toContainEqual(expect.objectContaining({ index: 1, field: 'bloodPressure' }));
    expect(body.details.every((d) => d.reason.length > 0)).toBe(true);
  });

  it('puts an implausible reading in the dead letters with its reason, and keeps going', async () => {
    const observedAt = new Date(Date.now() - 30_000).toISOString();
    expect((await post({ deviceId: 'bed-e2e', patientId: 'E2E-DL', observedAt, heartRate: 900 })).status).toBe(202);
    const letter = await eventually(async () => {
      const response = await fetch(`${vigil.url}/v1/dead-letters`, { headers: auth('admin') });
      const body = (await response.json()) as { deadLetters?: Record<string, unknown>[] } | Record<string, unknown>[];
      const rows = Array.isArray(body) ? body : (body.deadLetters ?? []);
      return rows.find((row) => String(row.payload ?? '').includes('E2E-DL'));
    }, 15_000, 'the dead letter');
    expect(String(letter.reason)).toMatch(/heart/i);
    expect((await post({ deviceId: 'bed-e2e', patientId: 'E2E-DL', observedAt: new Date().toISOString(), heartRate: 80 })).status).toBe(202);
    await eventually(async () => ((await vitalsOf('E2E-DL')).length === 1 ? true : undefined), 15_000, 'the next reading');
  });

  it('takes an HL7 v2 ORU^R01 over MLLP: ACK AA, and the reading shows systolic and diastolic', async () => {
    const address = /MLLP on ([\d.]+):(\d+)/.exec(vigil.output());
    expect(address).not.toBeNull();
    const client = await connectMllp({ host: address![1]!, port: Number(address![2]) });
    const reading = { deviceId: 'monitor-7', patientId: 'E2E-HL7', observedAt: new Date(Date.now() - 20_000).toISOString(), heartRate: 88, bloodPressure: '132/84', spo2: 95 };
    const ack = await client.send(readingToOru(reading, { sendingApplication: 'VIGIL-SIM', controlId: 'E2E1' }));
    await client.close();
    expect(msaOf(ack)).toMatchObject({ code: 'AA', controlId: 'E2E1' });
    const [stored] = await eventually(async () => {
      const rows = await vitalsOf('E2E-HL7');
      return rows.length > 0 ? rows : undefined;
    }, 15_000, 'the HL7 reading');
    expect(stored).toMatchObject({ systolic: 132, diastolic: 84, heartRate: 88, spo2: 95 });
  });

  it('takes a FHIR blood-pressure panel: 2xx, and the reading shows systolic and diastolic', async () => {
    const bundle = readingsToBundle([{ deviceId: 'fhir-gw', patientId: 'E2E-FHIR', observedAt: new Date(Date.now() - 15_000).toISOString(), bloodPressure: '118/76' }]);
    const response = await fetch(`${vigil.url}/fhir`, { method: 'POST', headers: { ...auth('device'), 'content-type': 'application/fhir+json' }, body: JSON.stringify(bundle) });
    expect(response.status).toBeLessThan(300);
    const [stored] = await eventually(async () => {
      const rows = await vitalsOf('E2E-FHIR');
      return rows.length > 0 ? rows : undefined;
    }, 15_000, 'the FHIR reading');
    expect(stored).toMatchObject({ systolic: 118, diastolic: 76 });
  });

  it('stores a reading posted twice once', async () => {
    const reading = { deviceId: 'bed-e2e', patientId: 'E2E-DUP', observedAt: Date.now() - 10_000, spo2: 96 };
    expect((await post(reading)).status).toBe(202);
    expect((await post(reading)).status).toBe(202);
    // A later reading of the same patient, published after both copies: once it is stored too, the
    // copies have had as long to show a double as the processor needs for a reading, on any machine
    // (rather than a fixed 1.5 s pause, too short under load to prove anything).
    expect((await post({ ...reading, observedAt: reading.observedAt + 5_000, spo2: 95 })).status).toBe(202);
    const rows = await eventually(async () => {
      const stored = await vitalsOf('E2E-DUP');
      return stored.some((row) => row.spo2 === 95) && stored.some((row) => row.spo2 === 96) ? stored : undefined;
    }, 15_000, 'the twice-posted reading and the one posted after it');
    expect(rows.map((row) => row.spo2).sort(), 'one row per reading id').toEqual([95, 96]);
  });

  it('shows the simulated ward in /v1/patients with NEWS2 within seconds', async () => {
    const patients = await eventually(async () => {
      const response = await fetch(`${vigil.url}/v1/patients`, { headers: auth('clinician') });
      const body = (await response.json()) as { patients?: Record<string, unknown>[] } | Record<string, unknown>[];
      const rows = (Array.isArray(body) ? body : (body.patients ?? [])).filter((p) => String(p.patientId).startsWith('P') && p.news2);
      return rows.length >= 6 ? rows : undefined;
    }, 20_000, 'six simulated patients with NEWS2');
    for (const patient of patients) {
      expect(patient.news2).toMatchObject({ score: expect.any(Number), level: expect.stringMatching(/^(low|low-medium|medium|high)$/) });
    }
  });

  it('scores with the recovery-risk model, and a deteriorating patient\'s risk rises with the factors that drove it', async () => {
    const riskOf = async () => {
      const response = await fetch(`${vigil.url}/v1/patients`, { headers: auth('clinician') });
      const rows = (await response.json()) as { patientId: string; risk: { score: number | null; model: string | null; factors: { feature: string }[] } | null }[];
      return rows.find((p) => p.patientId === 'E2E-RISK')?.risk ?? undefined;
    };
    const now = Date.now();
    const stable = Array.from({ length: 12 }, (_, i) => ({ deviceId: 'bed-risk', patientId: 'E2E-RISK', observedAt: now - 3_600_000 + i * 300_000, heartRate: 72, bloodPressure: '124/78', temperature: 36.8, spo2: 98, respiratoryRate: 14, onOxygen: false, consciousness: 'A' }));
    expect((await post(stable)).status).toBe(202);
    const before = await eventually(async () => {
      const risk = await riskOf();
      return risk?.score != null ? risk : undefined;
    }, 30_000, 'a model score');
    expect(before.model).toMatch(/^recovery-risk@/);
    const worse = Array.from({ length: 6 }, (_, i) => ({ deviceId: 'bed-risk', patientId: 'E2E-RISK', observedAt: now - 50_000 + i * 5_000, heartRate: 128 + i, bloodPressure: `${92 - i}/55`, temperature: 39.2, spo2: 89 - i, respiratoryRate: 27 + i, onOxygen: true, consciousness: 'A' }));
    expect((await post(worse)).status).toBe(202);
    const after = await eventually(async () => {
      const risk = await riskOf();
      return risk?.score != null && risk.score > before.score! + 0.1 ? risk : undefined;
    }, 15_000, 'the risk to rise');
    expect(after.factors.length).toBeGreaterThan(0);
  });

  it('streams patient updates over SSE', async () => {
    const abort = new AbortController();
    const response = await fetch(`${vigil.url}/v1/stream`, { headers: auth('clinician'), signal: abort.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = response.body!.getReader();
    let text = '';
    const deadline = Date.now() + 10_000;
    while (!/event: patient\ndata: .*"patientId"/.test(text) && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    abort.abort();
    expect(text).toMatch(/event: patient\ndata: .*"patientId"/);
  });

  it('refuses missing and invalid tokens with 401 and the wrong role with 403', async () => {
    expect((await fetch(`${vigil.url}/v1/patients`)).status).toBe(401);
    const forged = signToken('another-secret-0123456789', { sub: 'x', role: 'clinician', expiresIn: '1h' });
    expect((await fetch(`${vigil.url}/v1/patients`, { headers: { authorization: `Bearer ${forged}` } })).status).toBe(401);
    expect((await fetch(`${vigil.url}/v1/patients`, { headers: auth('device') })).status).toBe(403);
    expect((await fetch(`${vigil.url}/v1/patients`, { headers: auth('analyst') })).status).toBe(403);
    const asClinician = await fetch(`${vigil.url}/v1/readings`, { method: 'POST', headers: { ...auth('clinician'), 'content-type': 'application/json' }, body: '{}' });
    expect(asClinician.status).toBe(403);
    expect((await fetch(`${vigil.url}/healthz`)).status).toBe(200);
  });

  it('prints a single-use sign-in link, and no token, in its start-up banner', async () => {
    const link = await eventually(async () => /sign in:\s+(\S+\/login\?code=\S+)/.exec(vigil.output())?.[1], 20_000, 'the sign-in link in the banner');
    expect(vigil.output()).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/);
    const first = await fetch(link, { redirect: 'manual' });
    expect(first.status).toBe(303);
    const cookie = first.headers.get('set-cookie')!.split(';')[0]!;
    expect((await fetch(`${vigil.url}/v1/patients`, { headers: { cookie } })).status).toBe(200);
    expect((await fetch(link, { redirect: 'manual' })).status).toBe(401);
  });

  it('vigil sql answers while vigil start holds the warehouse (through the server, read-only), and cannot write', async () => {
    const env = { ...process.env, VIGIL_DATA_DIR: dataDir, VIGIL_AUTH_SECRET: SECRET, PORT: new URL(vigil.url).port, VIGIL_LOG_LEVEL: 'warn' };
    const bin = path.resolve(import.meta.dirname, '../bin/vigil.js');
    const sql = (query: string) => new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [bin, 'sql', query, '--format', 'csv'], { env, timeout: 60_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }));
    });
    const read = await sql('select count(*) > 0 as has_admissions from admissions');
    expect(read.code, read.stderr).toBe(0);
    expect(read.stderr).toContain('/v1/sql');
    expect(read.stdout).toMatch(/^has_admissions\n(true|false)\n$/);
    const write = await sql('delete from admissions');
    expect(write.code, write.stderr).toBe(65);
    expect(write.stderr).toContain('only SELECT');
    const file = await sql("select * from read_csv('/etc/passwd')");
    expect(file.code).toBe(65);
  });

  it('loses nothing it acknowledged when killed with SIGKILL mid-stream', async () => {
    const base = Date.now() - 120_000;
    const acknowledged: number[] = [];
    // Post in the background and kill while requests are in flight.
    const posting = (async () => {
      for (let i = 0; i < 400; i++) {
        try {
          const response = await post({ deviceId: 'bed-kill', patientId: 'E2E-KILL', observedAt: base + i * 100, heartRate: 60 + (i % 40) });
          if (response.status === 202) acknowledged.push(i);
        } catch {
          return; // the server is gone
        }
      }
    })();
    await eventually(async () => (acknowledged.length >= 50 ? true : undefined), 15_000, '50 acknowledged readings');
    await vigil.kill();
    await posting;
    expect(acknowledged.length).toBeGreaterThanOrEqual(50);

    vigil = await start();
    const stored = await eventually(async () => {
      const rows = await vitalsOf('E2E-KILL', new Date(base - 1000).toISOString());
      const times = new Set(rows.map((r) => Date.parse(String(r.observedAt))));
      return acknowledged.every((i) => times.has(base + i * 100)) ? rows : undefined;
    }, 30_000, 'every acknowledged reading after the restart');
    expect(new Set(stored.map((r) => r.observedAt)).size).toBe(stored.length);
  }, budget(90_000));

  it('drains and exits 0 on SIGTERM, leaving the simulated ward’s admission records in the warehouse', async () => {
    // Every bed has had its first reading, so every opening patient was admitted.
    await eventually(async () => {
      const response = await fetch(`${vigil.url}/v1/patients`, { headers: auth('clinician') });
      const rows = (await response.json()) as { patientId: string }[];
      return rows.filter((p) => /^P\d{4}$/.test(p.patientId)).length >= 6 ? true : undefined;
    }, 20_000, 'six simulated patients');
    expect(await vigil.stop('SIGTERM')).toBe(0);
    // A clean shutdown (the simulator's sends aborted included) logs no error.
    expect(vigil.output()).not.toMatch(/"level":(50|60)/);
    const warehouse = await createDuckDbWarehouse({ path: path.join(dataDir, 'warehouse.duckdb') });
    try {
      const { rows } = await warehouse.query("SELECT count(DISTINCT a.patient_id) AS beds, count(p.date_of_birth) AS born FROM admissions a LEFT JOIN patients p USING (patient_id) WHERE a.patient_id LIKE 'P%'");
      const [{ beds, born }] = rows as [{ beds: number; born: number }];
      expect(beds).toBeGreaterThanOrEqual(6);
      expect(born).toBe(beds);
    } finally {
      await warehouse.close();
    }
    vigil = await start();
  }, budget(60_000));
});
