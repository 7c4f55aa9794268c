import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../http/auth.ts';
import { connectMllp, msaOf } from '../simulators/device-protocols/mllp-client.ts';
import type { MllpClient } from '../simulators/device-protocols/mllp-client.ts';
import type { VigilProcess } from './test-support/vigil-process.ts';
import { eventually, startVigil } from './test-support/vigil-process.ts';

/**
 * Issue 16, "Done when": an ADT A01 → ORU → A02 → ORU → A03 sequence over MLLP, against `vigil
 * start` (embedded), as a hospital's ADT system and a bedside gateway would send it on one
 * listener. Checked through what clinicians and analysts see: the ward (`GET /v1/patients`, the
 * SSE stream), the patient's history, and the warehouse rows the model's admission context is read from.
 */
const SECRET = 'adt-e2e-secret-0123456789';
const PATIENT = 'MRN-ADT-E2E';
const VISIT = 'VN-ADT-E2E';
const MINUTE = 60_000;
let dir: string;
let vigil: VigilProcess;
let adtSystem: MllpClient;
let monitor: MllpClient;

const auth = (role: 'clinician' | 'analyst'): Record<string, string> =>
  ({ authorization: `Bearer ${signToken(SECRET, { sub: `adt-e2e-${role}`, role, expiresIn: '1h' })}` });
/** HL7 TS with an explicit offset, to the second. */
const hl7 = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19).replace(/[-T:]/g, '')}+0000`;
const start = Math.floor((Date.now() - 3 * 60 * MINUTE) / 1000) * 1000;
const at = (minutes: number): number => start + minutes * MINUTE;

function pv1(location: string, admitted: number, extra: { prior?: string; discharged?: number; disposition?: string } = {}): string {
  const f = Array.from({ length: 46 }, () => '');
  f[1] = '1'; f[2] = 'I'; f[3] = location; f[4] = 'E'; f[6] = extra.prior ?? ''; f[7] = '004777^ATTEND^AARON^A';
  f[10] = 'MED'; f[19] = VISIT; f[36] = extra.disposition ?? ''; f[44] = hl7(admitted); f[45] = extra.discharged ? hl7(extra.discharged) : '';
  return `PV1|${f.slice(1).join('|')}`.replace(/\|+$/, '');
}
const adt = (event: string, structure: string, when: number, visit: string): string => [
  `MSH|^~\\&|EPIC-ADT|GOOD HEALTH HOSPITAL|VIGIL|WARD|${hl7(when)}||ADT^${event}^${structure}|ADT-${event}-${when}|P|2.5.1`,
  `EVN|${event}|${hl7(when)}`,
  `PID|1||${PATIENT}^^^GOOD HEALTH HOSPITAL^MR~123456789^^^USSSA^SS||EVERYMAN^ADAM^A||19610615|M|||2222 HOME STREET^^GREENSBORO^NC^27401`,
  visit,
].join('\r');
/** An IHE PCD-01 ORU^R01 from a bedside gateway: the device in OBX-18, the time in OBR-7 and OBX-14. */
const oru = (controlId: string, when: number, v: { hr: number; rr: number; spo2: number; sys: number; dia: number; temp: number }): string => {
  const t = hl7(when);
  const rows = [
    `149530^MDC_PULS_OXIM_PULS_RATE^MDC|1.0.1.1|${v.hr}|264864^MDC_DIM_BEAT_PER_MIN^MDC`,
    `151562^MDC_RESP_RATE^MDC|1.0.1.2|${v.rr}|264928^MDC_DIM_RESP_PER_MIN^MDC`,
    `150456^MDC_PULS_OXIM_SAT_O2^MDC|1.0.1.3|${v.spo2}|262688^MDC_DIM_PERCENT^MDC`,
    `150301^MDC_PRESS_CUFF_SYS^MDC|1.0.1.4|${v.sys}|266016^MDC_DIM_MMHG^MDC`,
    `150302^MDC_PRESS_CUFF_DIA^MDC|1.0.1.5|${v.dia}|266016^MDC_DIM_MMHG^MDC`,
    `150364^MDC_TEMP_BODY^MDC|1.0.1.6|${v.temp}|268192^MDC_DIM_DEGC^MDC`,
  ];
  return [
    `MSH|^~\\&|VIGIL-SIM|ICU|VIGIL|HOSP|${t}||ORU^R01^ORU_R01|${controlId}|P|2.6|||AL|NE`,
    `PID|||${PATIENT}^^^GOOD HEALTH HOSPITAL^MR||EVERYMAN^ADAM`,
    `OBR|1|${controlId}^GATEWAY||182777000^monitoring of patient^SCT|||${t}`,
    ...rows.map((r, i) => `OBX|${i + 1}|NM|${r}|||||R|||${t}||||BEDSIDE-7^^0123456789ABCDEF^EUI-64`),
  ].join('\r');
};

interface WardPatient { patientId: string; bed?: string | null; latest: { heartRate: number | null; observedAt: string } | null; news2: { score: number } | null; risk: { score: number | null } | null }
const ward = async (): Promise<WardPatient[]> => {
  const response = await fetch(`${vigil.url}/v1/patients`, { headers: auth('clinician') });
  expect(response.status).toBe(200);
  return (await response.json()) as WardPatient[];
};
const onWard = (): Promise<WardPatient | undefined> => ward().then((all) => all.find((p) => p.patientId === PATIENT));
const sql = async (query: string): Promise<Record<string, unknown>[]> => {
  const response = await fetch(`${vigil.url}/v1/sql`, { method: 'POST', headers: { ...auth('analyst'), 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
  const body = (await response.json()) as { rows?: Record<string, unknown>[]; error?: string };
  if (!response.ok) throw new Error(`POST /v1/sql answered ${response.status}: ${body.error}`);
  return body.rows ?? [];
};

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-adt-e2e-'));
  vigil = await startVigil('start', {
    VIGIL_DATA_DIR: path.join(dir, 'data'), VIGIL_AUTH_SECRET: SECRET, VIGIL_SIMULATE: '0', VIGIL_MLLP_ADT_SENDERS: 'EPIC-ADT',
  });
  const output = await eventually(async () => (/MLLP on/.test(vigil.output()) ? vigil.output() : undefined), 10_000, 'the MLLP banner line');
  const port = Number(/MLLP on [\d.]+:(\d+)/.exec(output)![1]);
  adtSystem = await connectMllp({ host: '127.0.0.1', port });
  monitor = await connectMllp({ host: '127.0.0.1', port });
}, 60_000);
afterAll(async () => {
  await adtSystem?.close();
  await monitor?.close();
  await vigil?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('ADT A01 → ORU → A02 → ORU → A03 over one MLLP listener (vigil start, embedded)', () => {
  it('gives the right patient, bed, admission context and risk, and the patient leaves the ward on discharge', async () => {
    // A01: admitted to 4N-401-A.
    expect(msaOf(await adtSystem.send(adt('A01', 'ADT_A01', at(0), pv1('4N^401^A', at(0)))))).toMatchObject({ code: 'AA' });
    // The admission and patient rows the processor's admission context reads (stream-processor/admission-context.ts).
    const context = await sql(`SELECT a.admission_id, a.admitted_at, a.admission_type, a.admission_location, p.gender, p.date_of_birth
      FROM admissions AS a JOIN patients AS p USING (patient_id) WHERE a.patient_id = '${PATIENT}' AND a.cancelled_at IS NULL`);
    expect(context).toHaveLength(1);
    expect(context[0]).toMatchObject({ admission_id: VISIT, admission_type: 'EMERGENCY', admission_location: '4N-401-A', gender: 'M' });
    expect(Date.parse(String(context[0]!.admitted_at))).toBe(at(0));
    expect(String(context[0]!.date_of_birth)).toMatch(/^1961-06-15/);

    // ORU in bed 4N-401-A: a deteriorating patient.
    expect(msaOf(await monitor.send(oru('ORU-1', at(30), { hr: 128, rr: 26, spo2: 90, sys: 96, dia: 60, temp: 38.6 })))).toMatchObject({ code: 'AA' });
    const first = await eventually(async () => {
      const p = await onWard();
      return p?.risk?.score != null && p.latest?.heartRate === 128 ? p : undefined;
    }, 20_000, `${PATIENT} on GET /v1/patients with the first reading and a risk score`);
    expect(first.bed).toBe('4N-401-A');
    expect(first.news2!.score, 'NEWS2 of RR 26, SpO2 90, sys 96, HR 128, 38.6 °C').toBeGreaterThanOrEqual(11);
    expect(first.risk!.score).toBeGreaterThan(0);
    expect(first.risk!.score).toBeLessThanOrEqual(1);

    // A02: transferred to 4N-402-B; the next ORU is the same patient in the new bed.
    expect(msaOf(await adtSystem.send(adt('A02', 'ADT_A02', at(60), pv1('4N^402^B', at(0), { prior: '4N^401^A' }))))).toMatchObject({ code: 'AA' });
    expect((await onWard())?.bed).toBe('4N-402-B');
    expect(msaOf(await monitor.send(oru('ORU-2', at(90), { hr: 92, rr: 18, spo2: 96, sys: 122, dia: 78, temp: 37.2 })))).toMatchObject({ code: 'AA' });
    const second = await eventually(async () => {
      const p = await onWard();
      return p?.latest?.heartRate === 92 && p.risk?.score != null ? p : undefined;
    }, 20_000, `${PATIENT} on GET /v1/patients with the second reading`);
    expect(second.bed).toBe('4N-402-B');
    expect(second.news2!.score, 'recovered vitals score lower').toBeLessThan(first.news2!.score);

    // A03 with a live viewer: the stream says the patient left, the ward no longer lists them.
    const abort = new AbortController();
    const stream = await fetch(`${vigil.url}/v1/stream`, { headers: auth('clinician'), signal: abort.signal });
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    let text = '';
    const leftEvent = new RegExp(`event: patient-left\\ndata: \\{"patientId":"${PATIENT}"\\}`);
    try {
      // The snapshot first: the patient is on the ward with their bed.
      const deadline = Date.now() + 10_000;
      while (!text.includes(`"patientId":"${PATIENT}"`) && Date.now() < deadline) text += new TextDecoder().decode((await reader.read()).value);
      expect(text, 'the stream snapshot shows the patient and bed').toMatch(new RegExp(`"patientId":"${PATIENT}".*"bed":"4N-402-B"|"bed":"4N-402-B".*"patientId":"${PATIENT}"`));
      expect(msaOf(await adtSystem.send(adt('A03', 'ADT_A03', at(150), pv1('4N^402^B', at(0), { discharged: at(150), disposition: '01' }))))).toMatchObject({ code: 'AA' });
      const until = Date.now() + 10_000;
      while (!leftEvent.test(text) && Date.now() < until) text += new TextDecoder().decode((await reader.read()).value);
    } finally {
      abort.abort();
    }
    expect(text, 'a patient-left event on the live stream').toMatch(leftEvent);
    expect(await onWard(), 'the discharged patient is not on the ward').toBeUndefined();

    // History stays: both readings, and the admission with its discharge.
    const to = encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString());
    const history = await fetch(`${vigil.url}/v1/patients/${PATIENT}/vitals?from=${encodeURIComponent(new Date(at(0)).toISOString())}&to=${to}`, { headers: auth('clinician') });
    expect(history.status).toBe(200);
    const body = (await history.json()) as { heartRate: number }[] | { readings: { heartRate: number }[] };
    expect((Array.isArray(body) ? body : body.readings).map((r) => r.heartRate)).toEqual([128, 92]);
    const discharged = await sql(`SELECT discharged_at, discharge_location FROM admissions WHERE admission_id = '${VISIT}'`);
    expect(Date.parse(String(discharged[0]!.discharged_at))).toBe(at(150));
    expect(discharged[0]!.discharge_location).toBe('01');
  }, 90_000);
});
