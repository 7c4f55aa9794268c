import { expect } from 'vitest';
import { signToken } from '../../http/auth.ts';
import { bloodPressureExample, heartRateExample } from '../../ingest/fhir/spec-vital-signs-examples.ts';
import { connectMllp, msaOf } from '../../simulators/device-protocols/mllp-client.ts';
import type { VigilProcess } from './vigil-process.ts';
import { eventually } from './vigil-process.ts';

/**
 * Issue 16, item 1, as senders cause it: a PCD-01 monitor sends NIBP and pulse of one moment in two
 * ORU^R01 messages over MLLP; a FHIR client posts one Observation per vital. Both get AA/201, and
 * afterwards each reading holds every vital, identically in the time series (the API) and in the
 * warehouse (`warehouseRows`, whatever reads it on the backend under test). Runs against a started
 * `vigil start` (VIGIL_SIMULATE=0, the default sender VIGIL-SIM allowed).
 */
export interface MergeScenario {
  readonly vigil: VigilProcess;
  readonly secret: string;
  /** The `vitals` rows of a patient: `device_id, heart_rate, systolic, diastolic, spo2`. */
  readonly warehouseRows: (patientId: string) => Promise<Record<string, unknown>[]>;
  /** Patient ids are prefixed with it, so runs against shared backends see only their own. */
  readonly patientPrefix?: string;
  readonly timeoutMs?: number;
}

interface ApiReading { heartRate: number | null; systolic: number | null; diastolic: number | null; spo2: number | null; deviceId: string }

/** HL7 TS with offset, to the second: OBR-7 and OBX-14 of both messages. */
const hl7Time = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19).replace(/[-T:]/g, '')}+0000`;

/** An IHE PCD-01 ORU^R01 as a bedside monitor sends it: the device in OBX-18, the time in OBR-7 and OBX-14. */
const pcd01 = (controlId: string, patient: string, time: string, observations: string[]): string => [
  `MSH|^~\\&|VIGIL-SIM|ICU|VIGIL|HOSP|${time}||ORU^R01^ORU_R01|${controlId}|P|2.6|||AL|NE||UNICODE UTF-8|||IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO`,
  `PID|||${patient}^^^HOSP^MR||Merge^Test`,
  `OBR|1|${controlId}^MONITOR^0123456789ABCDEF^EUI-64||182777000^monitoring of patient^SCT|||${time}`,
  ...observations.map((obx, i) => `OBX|${i + 1}|NM|${obx}|||||R|||${time}||||MONITOR-BED-9^^0123456789ABCDEF^EUI-64`),
].join('\r');
/** OBX-3 .. OBX-6 (code, sub-id, value, unit) of one observation; pcd01 fills in the rest. */
const obx = (code: string, subId: string, value: number, unit: string): string => `${code}|${subId}|${value}|${unit}`;

export async function runReadingMergeScenario(s: MergeScenario): Promise<void> {
  const timeoutMs = s.timeoutMs ?? 20_000;
  const prefix = s.patientPrefix ?? '';
  const hl7Patient = `${prefix}PMERGE-HL7`;
  const fhirPatient = `${prefix}PMERGE-FHIR`;
  const token = (role: 'clinician' | 'device', sub = 'e2e'): Record<string, string> =>
    ({ authorization: `Bearer ${signToken(s.secret, { sub, role, expiresIn: '1h' })}` });

  const vitalsOf = async (patient: string): Promise<ApiReading[]> => {
    const to = encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString());
    const response = await fetch(`${s.vigil.url}/v1/patients/${patient}/vitals?from=2026-01-01T00:00:00Z&to=${to}`, { headers: token('clinician') });
    if (response.status === 404) return [];
    const body = (await response.json()) as { readings?: ApiReading[] } | ApiReading[];
    return Array.isArray(body) ? body : (body.readings ?? []);
  };
  /** Waits until the API shows one reading of the patient holding `vitals`. */
  const mergedReading = (patient: string, vitals: Partial<ApiReading>): Promise<ApiReading[]> => eventually(async () => {
    const readings = await vitalsOf(patient);
    return readings.length === 1 && Object.entries(vitals).every(([k, v]) => readings[0]![k as keyof ApiReading] === v) ? readings : undefined;
  }, timeoutMs, `one reading of ${patient} on /v1/patients/:id/vitals holding ${JSON.stringify(vitals)}`);

  const output = await eventually(async () => (/MLLP on/.test(s.vigil.output()) ? s.vigil.output() : undefined), 10_000, 'the MLLP banner line');
  const port = Number(/MLLP on [\d.]+:(\d+)/.exec(output)![1]);

  // HL7 v2 over MLLP: one moment, two messages.
  const time = hl7Time(Math.floor((Date.now() - 60_000) / 1000) * 1000);
  const monitor = await connectMllp({ host: '127.0.0.1', port });
  const nibp = pcd01('MRG-1', hl7Patient, time, [
    obx('150301^MDC_PRESS_CUFF_SYS^MDC', '1.0.1.1', 150, '266016^MDC_DIM_MMHG^MDC'),
    obx('150302^MDC_PRESS_CUFF_DIA^MDC', '1.0.1.2', 92, '266016^MDC_DIM_MMHG^MDC'),
  ]);
  const pulse = pcd01('MRG-2', hl7Patient, time, [
    obx('149530^MDC_PULS_OXIM_PULS_RATE^MDC', '1.0.2.1', 88, '264864^MDC_DIM_BEAT_PER_MIN^MDC'),
    obx('150456^MDC_PULS_OXIM_SAT_O2^MDC', '1.0.2.2', 95, '262688^MDC_DIM_PERCENT^MDC'),
  ]);
  try {
    expect(msaOf(await monitor.send(nibp))).toMatchObject({ code: 'AA', controlId: 'MRG-1' });
    await mergedReading(hl7Patient, { systolic: 150, diastolic: 92 });
    expect(msaOf(await monitor.send(pulse))).toMatchObject({ code: 'AA', controlId: 'MRG-2' });
  } finally {
    await monitor.close();
  }
  const [hl7] = await mergedReading(hl7Patient, { systolic: 150, diastolic: 92, heartRate: 88, spo2: 95 });
  expect(hl7!.deviceId).toBe('MONITOR-BED-9');

  // FHIR: one Observation per vital, same effectiveDateTime and device.
  const effective = new Date(Math.floor((Date.now() - 120_000) / 1000) * 1000).toISOString();
  const post = async (observation: Record<string, unknown>): Promise<number> => (await fetch(`${s.vigil.url}/fhir/Observation`, {
    method: 'POST', headers: { ...token('device', 'fhir-gateway'), 'content-type': 'application/fhir+json' },
    body: JSON.stringify({ ...observation, subject: { reference: `Patient/${fhirPatient}` }, device: { reference: 'Device/bp-monitor-4' } }),
  })).status;
  expect(await post(bloodPressureExample(effective))).toBe(201);
  await mergedReading(fhirPatient, { systolic: 107, diastolic: 60 });
  expect(await post(heartRateExample(effective))).toBe(201);
  await mergedReading(fhirPatient, { systolic: 107, diastolic: 60, heartRate: 44 });

  // The warehouse holds the same readings, each once.
  const inWarehouse = async (patient: string, expected: Record<string, unknown>): Promise<void> => {
    const rows = await eventually(async () => {
      const found = await s.warehouseRows(patient);
      return found.length === 1 && Object.entries(expected).every(([k, v]) => found[0]![k] === v) ? found : undefined;
    }, timeoutMs, `one warehouse row of ${patient} holding ${JSON.stringify(expected)}`);
    expect(rows).toEqual([expected]);
  };
  await inWarehouse(hl7Patient, { device_id: 'MONITOR-BED-9', heart_rate: 88, systolic: 150, diastolic: 92, spo2: 95 });
  await inWarehouse(fhirPatient, { device_id: 'bp-monitor-4', heart_rate: 44, systolic: 107, diastolic: 60, spo2: null });
}
