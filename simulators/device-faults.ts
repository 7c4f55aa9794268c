import type { MeasuredVitals } from './physiology.ts';
import { createRandom } from '../core/seeded-random.ts';
import type { Random } from '../core/seeded-random.ts';
import type { FaultRates } from './simulation-parameters.ts';

/**
 * Bedside devices and how they misbehave: dropped fields, re-sent readings, late (out-of-order)
 * delivery, malformed values and °F thermometers. Rates are per reading (FaultRates).
 */

/** What a bad value looks like, and what should stop it: the edge (`toRawReading`) or the processor's plausibility checks. */
export const MALFORMED_KINDS = Object.freeze({
  'bp-truncated': { stoppedBy: 'edge', field: 'bloodPressure' },
  'bp-not-numeric': { stoppedBy: 'edge', field: 'bloodPressure' },
  'bp-diastolic-above-systolic': { stoppedBy: 'processor', field: 'bloodPressure' },
  'hr-impossible': { stoppedBy: 'processor', field: 'heartRate' },
  'spo2-impossible': { stoppedBy: 'processor', field: 'spo2' },
  'rr-negative': { stoppedBy: 'processor', field: 'respiratoryRate' },
  'temperature-impossible': { stoppedBy: 'processor', field: 'temperature' },
  'consciousness-unknown': { stoppedBy: 'edge', field: 'consciousness' },
  'hr-not-a-number': { stoppedBy: 'edge', field: 'heartRate' },
  'observed-at-without-offset': { stoppedBy: 'edge', field: 'observedAt' },
  'patient-id-missing': { stoppedBy: 'edge', field: 'patientId' },
} as const satisfies Record<string, { stoppedBy: 'edge' | 'processor'; field: string }>);

export type MalformedKind = keyof typeof MALFORMED_KINDS;
const MALFORMED_KIND_NAMES = Object.keys(MALFORMED_KINDS) as MalformedKind[];

const DROPPABLE = ['heartRate', 'bloodPressure', 'temperature', 'spo2', 'respiratoryRate', 'onOxygen', 'consciousness'] as const;

export interface ReadingFaults {
  readonly droppedFields: readonly string[];
  readonly malformed: MalformedKind | null;
  /** Delivered after later readings of the same device. */
  readonly late: boolean;
  /** This is the second sending of a reading already delivered. */
  readonly duplicate: boolean;
  readonly fahrenheit: boolean;
}

/** One reading as delivered by a simulated device. */
export interface SimulatedReading {
  /** The ingest JSON (the README's "A reading") exactly as the device sends it; may be malformed. */
  readonly body: Readonly<Record<string, unknown>>;
  /** The patient it is about, even when the body lost its patientId (ordering key, ground truth). */
  readonly patientId: string;
  readonly deviceId: string;
  /** Epoch ms the device measured at. */
  readonly observedAt: number;
  /** Epoch ms the edge gets it, in simulated time (sinks stamp their own receive time). */
  readonly receivedAt: number;
  readonly faults: ReadingFaults;
  /** What was really measured, before faults (°C). */
  readonly measured: MeasuredVitals;
}

export interface Measurement {
  readonly patientId: string;
  readonly observedAt: number;
  readonly vitals: MeasuredVitals;
}

export interface Device {
  readonly deviceId: string;
  readonly fahrenheit: boolean;
  /** Sends one measurement; returns what reaches the edge now (nothing, it, copies, earlier held ones). */
  send(measurement: Measurement, receivedAt: number): SimulatedReading[];
  /** Everything still held back (a device flushing its queue, e.g. at the end of a stay). */
  drain(receivedAt: number): SimulatedReading[];
}

/** Whether a device's thermometer reports °F: a property of the device, fixed for the run. */
export function isFahrenheitDevice(seed: number, deviceId: string, share: number): boolean {
  return createRandom(seed, 'thermometer', deviceId).chance(share);
}

/** The longest a late reading is held back, in later readings of the same device. */
const MAX_HELD_READINGS = 4;

export function createDevice(options: { deviceId: string; seed: number; faults: FaultRates; random: Random }): Device {
  const { deviceId, faults, random } = options;
  const fahrenheit = isFahrenheitDevice(options.seed, deviceId, faults.fahrenheitDevices);
  let held: { reading: SimulatedReading; releaseAfter: number; duplicate: boolean }[] = [];

  function withCopies(reading: SimulatedReading, receivedAt: number, duplicate: boolean): SimulatedReading[] {
    const delivered = { ...reading, receivedAt };
    if (!duplicate) return [delivered];
    const copy: SimulatedReading = { ...reading, receivedAt: receivedAt + Math.round(random.between(1, 30) * 1000), faults: { ...reading.faults, duplicate: true } };
    return [delivered, copy];
  }

  return {
    deviceId,
    fahrenheit,
    send(measurement, receivedAt) {
      // Fixed draw order per reading, whatever fires, so one fault does not shift the others.
      const drop = random.chance(faults.dropField);
      const dropCount = random.int(1, 3);
      const malformed = random.chance(faults.malformed) ? random.pick(MALFORMED_KIND_NAMES) : null;
      const late = random.chance(faults.late);
      const holdFor = random.int(1, MAX_HELD_READINGS);
      const duplicate = random.chance(faults.duplicate);

      const droppedFields = drop ? pickDistinct(random, DROPPABLE, dropCount) : [];
      const body = ingestBody(deviceId, measurement, fahrenheit);
      for (const field of droppedFields) {
        delete body[field];
        if (field === 'temperature') delete body.temperatureUnit;
      }
      if (malformed) corrupt(body, malformed, measurement.vitals);
      const reading: SimulatedReading = {
        body, patientId: measurement.patientId, deviceId, observedAt: measurement.observedAt, receivedAt,
        faults: { droppedFields, malformed, late, duplicate: false, fahrenheit }, measured: measurement.vitals,
      };

      const released: typeof held = [];
      held = held.filter((entry) => (--entry.releaseAfter <= 0 ? (released.push(entry), false) : true));
      const out: SimulatedReading[] = [];
      if (late) held.push({ reading, releaseAfter: holdFor, duplicate });
      else out.push(...withCopies(reading, receivedAt, duplicate));
      for (const entry of released) out.push(...withCopies(entry.reading, receivedAt + 1 + out.length, entry.duplicate));
      return out;
    },
    drain(receivedAt) {
      const out = held.flatMap((entry, i) => withCopies(entry.reading, receivedAt + i, entry.duplicate));
      held = [];
      return out;
    },
  };
}

function ingestBody(deviceId: string, m: Measurement, fahrenheit: boolean): Record<string, unknown> {
  const v = m.vitals;
  // Key order is fixed: serialised bodies are compared byte for byte across runs.
  return {
    deviceId,
    patientId: m.patientId,
    observedAt: isoTimestamp(m.observedAt),
    heartRate: v.heartRate,
    bloodPressure: `${v.systolic}/${v.diastolic}`,
    temperature: fahrenheit ? Math.round((v.temperature * 9) / 5 * 10 + 320) / 10 : v.temperature,
    temperatureUnit: fahrenheit ? 'F' : 'C',
    spo2: v.spo2,
    respiratoryRate: v.respiratoryRate,
    onOxygen: v.onOxygen,
    consciousness: v.consciousness,
  };
}

function corrupt(body: Record<string, unknown>, kind: MalformedKind, v: MeasuredVitals): void {
  switch (kind) {
    case 'bp-truncated': body.bloodPressure = `${v.systolic}/`; break;
    case 'bp-not-numeric': body.bloodPressure = 'abc'; break;
    case 'bp-diastolic-above-systolic': body.bloodPressure = `${v.diastolic}/${v.systolic}`; break;
    case 'hr-impossible': body.heartRate = 900; break;
    case 'spo2-impossible': body.spo2 = 140; break;
    case 'rr-negative': body.respiratoryRate = -4; break;
    case 'temperature-impossible': body.temperature = 61.3; body.temperatureUnit = 'C'; break;
    case 'consciousness-unknown': body.consciousness = 'X'; break;
    case 'hr-not-a-number': body.heartRate = 'abc'; break;
    case 'observed-at-without-offset': body.observedAt = String(body.observedAt).replace(/Z$/, ''); break;
    case 'patient-id-missing': delete body.patientId; break;
  }
}

/** ISO 8601 in UTC as devices send it ("2026-11-22T10:00:00Z"); milliseconds only when there are some. */
export function isoTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function pickDistinct<T>(random: Random, items: readonly T[], count: number): T[] {
  const pool = [...items];
  const out: T[] = [];
  while (out.length < count && pool.length > 0) out.push(pool.splice(Math.floor(random.uniform() * pool.length), 1)[0]!);
  return out;
}
