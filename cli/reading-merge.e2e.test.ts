import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../dashboard-api/auth.ts';
import { bloodPressureExample, heartRateExample } from '../ingest/fhir/spec-vital-signs-examples.ts';
import { connectMllp, msaOf } from '../simulators/device-protocols/mllp-client.ts';
import type { VigilProcess } from './test-support/vigil-process.ts';
import { eventually, startVigil } from './test-support/vigil-process.ts';

/**
 * Issue 16, item 1: readings merge, never erase. A PCD-01 monitor sends NIBP and pulse of one
 * moment in two ORU^R01 messages; a FHIR client posts one Observation per vital. Both get AA/201,
 * and afterwards the one reading holds every vital, identically in the time series (the API) and
 * in the warehouse (`POST /v1/sql`, what `vigil sql` asks a running server).
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

const token = (role: 'clinician' | 'analyst' | 'device', sub = 'e2e'): Record<string, string> =>
  ({ authorization: `Bearer ${signToken(SECRET, { sub, role, expiresIn: '1h' })}` });

/** HL7 TS with offset, a minute ago, to the second: OBR-7 and OBX-14 of both messages. */
const hl7Time = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19).replace(/[-T:]/g, '')}+0000`;

/** An IHE PCD-01 ORU^R01 as a bedside monitor sends it: the device in OBX-18, the time in OBR-7 and OBX-14. */
const pcd01 = (controlId: string, patient: string, time: string, observations: string[]): string => [
  `MSH|^~\\&|VIGIL-SIM|ICU|VIGIL|HOSP|${time}||ORU^R01^ORU_R01|${controlId}|P|2.6|||AL|NE||UNICODE UTF-8|||IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO`,
  `PID|||${patient}^^^HOSP^MR||Merge^Test`,
  `OBR|1|${controlId}^MONITOR^0123456789ABCDEF^EUI-64||182777000^monitoring of patient^SCT|||${time}`,
  ...observations.map((obx, i) => `OBX|${i + 1}|NM|${obx}|||||R|||${time}||||MONITOR-BED-9^^0123456789ABCDEF^EUI-64`),
].join('\r');
// OBX-3 .. OBX-6 (code, sub-id, value, unit) of each observation; the segment builder fills in the rest.
const obx = (code: string, subId: string, value: number, unit: string): string => `${code}|${subId}|${value}|${unit}`;

interface ApiReading { observedAt: string | number; heartRate: number | null; systolic: number | null; diastolic: number | null; spo2: number | null; deviceId: string }

async function vitalsOf(patient: string): Promise<ApiReading[]> {
  const to = encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString());
  const response = await fetch(`${vigil!.url}/v1/patients/${patient}/vitals?from=2026-01-01T00:00:00Z&to=${to}`, { headers: token('clinician') });
  if (response.status === 404) return [];
  const body = (await response.json()) as { readings?: ApiReading[] } | ApiReading[];
  return Array.isArray(body) ? body : (body.readings ?? []);
}

async function warehouseRows(patient: string): Promise<Record<string, unknown>[]> {
  const response = await fetch(`${vigil!.url}/v1/sql`, {
    method: 'POST', headers: { ...token('analyst'), 'content-type': 'application/json' },
    body: JSON.stringify({ query: `SELECT device_id, heart_rate, systolic, diastolic, spo2 FROM vitals WHERE patient_id = '${patient}'` }),
  });
  const body = (await response.json()) as { rows?: Record<string, unknown>[]; error?: string };
  if (!response.ok) throw new Error(`POST /v1/sql answered ${response.status}: ${body.error}`);
  return body.rows ?? [];
}

/** Waits until the API shows one reading holding `vitals`; says what it saw when it does not. */
async function mergedReading(patient: string, vitals: Partial<ApiReading>): Promise<ApiReading[]> {
  return eventually(async () => {
    const readings = await vitalsOf(patient);
    return readings.length === 1 && Object.entries(vitals).every(([k, v]) => readings[0]![k as keyof ApiReading] === v) ? readings : undefined;
  }, 20_000, `one reading of ${patient} holding ${JSON.stringify(vitals)} (last seen: see the API)`);
}

describe('readings merge, never erase (vigil start, embedded)', () => {
  it('two PCD-01 ORU messages (NIBP, then pulse and SpO2) and two FHIR Observations (blood pressure, then heart rate) each end as one reading holding every vital, in the API and in the warehouse alike', async () => {
    vigil = await startVigil('start', { VIGIL_DATA_DIR: path.join(dir, 'data'), VIGIL_AUTH_SECRET: SECRET, VIGIL_SIMULATE: '0' });
    const output = await eventually(async () => (/MLLP on/.test(vigil!.output()) ? vigil!.output() : undefined), 10_000, 'the MLLP banner line');
    const port = Number(/MLLP on [\d.]+:(\d+)/.exec(output)![1]);

    // HL7 v2 over MLLP: one moment, two messages.
    const time = hl7Time(Math.floor((Date.now() - 60_000) / 1000) * 1000);
    const monitor = await connectMllp({ host: '127.0.0.1', port });
    const nibp = pcd01('MRG-1', 'PMERGE-HL7', time, [
      obx('150301^MDC_PRESS_CUFF_SYS^MDC', '1.0.1.1', 150, '266016^MDC_DIM_MMHG^MDC'),
      obx('150302^MDC_PRESS_CUFF_DIA^MDC', '1.0.1.2', 92, '266016^MDC_DIM_MMHG^MDC'),
    ]);
    const pulse = pcd01('MRG-2', 'PMERGE-HL7', time, [
      obx('149530^MDC_PULS_OXIM_PULS_RATE^MDC', '1.0.2.1', 88, '264864^MDC_DIM_BEAT_PER_MIN^MDC'),
      obx('150456^MDC_PULS_OXIM_SAT_O2^MDC', '1.0.2.2', 95, '262688^MDC_DIM_PERCENT^MDC'),
    ]);
    expect(msaOf(await monitor.send(nibp))).toMatchObject({ code: 'AA', controlId: 'MRG-1' });
    await mergedReading('PMERGE-HL7', { systolic: 150, diastolic: 92 });
    expect(msaOf(await monitor.send(pulse))).toMatchObject({ code: 'AA', controlId: 'MRG-2' });
    await monitor.close();
    const [hl7] = await mergedReading('PMERGE-HL7', { systolic: 150, diastolic: 92, heartRate: 88, spo2: 95 });
    expect(hl7!.deviceId).toBe('MONITOR-BED-9');

    // FHIR: one Observation per vital, same effectiveDateTime and device.
    const effective = new Date(Math.floor((Date.now() - 120_000) / 1000) * 1000).toISOString();
    const post = async (observation: Record<string, unknown>): Promise<number> => (await fetch(`${vigil!.url}/fhir/Observation`, {
      method: 'POST', headers: { ...token('device', 'fhir-gateway'), 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ ...observation, subject: { reference: 'Patient/PMERGE-FHIR' }, device: { reference: 'Device/bp-monitor-4' } }),
    })).status;
    expect(await post(bloodPressureExample(effective))).toBe(201);
    await mergedReading('PMERGE-FHIR', { systolic: 107, diastolic: 60 });
    expect(await post(heartRateExample(effective))).toBe(201);
    await mergedReading('PMERGE-FHIR', { systolic: 107, diastolic: 60, heartRate: 44 });

    // The warehouse holds the same readings, each once.
    const inWarehouse = async (patient: string, expected: Record<string, unknown>): Promise<void> => {
      const rows = await eventually(async () => {
        const found = await warehouseRows(patient);
        return found.length === 1 && Object.entries(expected).every(([k, v]) => found[0]![k] === v) ? found : undefined;
      }, 20_000, `one warehouse row of ${patient} holding ${JSON.stringify(expected)}`);
      expect(rows).toEqual([expected]);
    };
    await inWarehouse('PMERGE-HL7', { device_id: 'MONITOR-BED-9', heart_rate: 88, systolic: 150, diastolic: 92, spo2: 95 });
    await inWarehouse('PMERGE-FHIR', { device_id: 'bp-monitor-4', heart_rate: 44, systolic: 107, diastolic: 60, spo2: null });
  }, 90_000);
});
