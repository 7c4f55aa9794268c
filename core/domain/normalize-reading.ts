import { parseBloodPressure } from './parse-blood-pressure.ts';
import type { Consciousness, RawReading, VitalReading } from './reading.ts';
import { CONSCIOUSNESS_LEVELS } from './validate-ingest.ts';
import type { FieldError } from './validate-ingest.ts';

/**
 * The processor's judgement of a bus record: blood pressure split, temperature in °C, and every
 * value checked against what a living patient can show.
 *
 * Policy: ONE implausible or malformed vital rejects the WHOLE reading. A device that sends a heart
 * rate of 900 is not trusted for the SpO2 it sent in the same breath, and a partial row would make
 * NEWS2 quietly score fewer parameters. The rejected reading goes to the dead letters with every
 * problem and its original payload, so nothing is lost and the decision can be revisited.
 *
 * The edge (validate-ingest.ts) already refuses bad shapes for JSON posted over HTTP; they are
 * checked again here because other producers (kcat with JSON values, older edges) write the bus
 * directly.
 */

/**
 * Physiologically possible limits, inclusive. These reject device and transcription errors
 * (lead-off zeros, a pulse of 900, a temperature typed in °F as °C), NOT clinical extremes: the
 * values NEWS2 scores 3 for (RR ≤ 8, SpO2 ≤ 91, systolic ≤ 90, pulse ≤ 40, 35 °C) lie well inside
 * so a deteriorating patient is never dropped.
 */
export const PLAUSIBLE_RANGES = Object.freeze({
  /** bpm. Below 20 is a monitor artefact or arrest (the alarm system's job); 300 covers SVT in adults. */
  heartRate: { min: 20, max: 300, unit: 'bpm' },
  /** mmHg. Below 40 no pressure is measurable non-invasively; 300 is beyond any cuff reading. */
  systolic: { min: 40, max: 300, unit: 'mmHg' },
  /** mmHg. Must also be below systolic. */
  diastolic: { min: 10, max: 200, unit: 'mmHg' },
  /** °C, after conversion. 25 °C is deep accidental hypothermia; 45 °C is beyond survivable hyperthermia. */
  temperatureC: { min: 25, max: 45, unit: '°C' },
  /** %. Pulse oximeters are not calibrated below ~70 % and values under 50 are probe artefacts; above 100 is impossible. */
  spo2: { min: 50, max: 100, unit: '%' },
  /** breaths/min. 0–1 is a sensor that lost the patient; 80 covers the fastest neonatal rates. */
  respiratoryRate: { min: 2, max: 80, unit: 'breaths/min' },
} as const);

export type ProblemKind = 'invalid' | 'implausible';

/** A field problem with its kind: `invalid` (shape/type) or `implausible` (outside PLAUSIBLE_RANGES). */
export interface ReadingProblem extends FieldError {
  kind: ProblemKind;
}

export type NormalizeResult = { ok: true; reading: VitalReading } | { ok: false; problems: ReadingProblem[] };

export function normalizeReading(raw: RawReading): NormalizeResult {
  const problems: ReadingProblem[] = [];
  const problem = (kind: ProblemKind, field: string, value: unknown, reason: string): void => {
    problems.push({ kind, field, value, reason });
  };

  const inRange = (field: string, name: keyof typeof PLAUSIBLE_RANGES, value: number | null, original: unknown = value): number | null => {
    if (value === null) return null;
    if (!Number.isFinite(value)) {
      problem('invalid', field, original, 'must be a number');
      return null;
    }
    const { min, max, unit } = PLAUSIBLE_RANGES[name];
    if (value < min || value > max) problem('implausible', field, original, `must be between ${min} and ${max} ${unit}`);
    return value;
  };

  const heartRate = inRange('heartRate', 'heartRate', raw.heartRate);
  const spo2 = inRange('spo2', 'spo2', raw.spo2);
  const respiratoryRate = inRange('respiratoryRate', 'respiratoryRate', raw.respiratoryRate);

  let systolic: number | null = null;
  let diastolic: number | null = null;
  if (raw.bloodPressure !== null) {
    const bp = parseBloodPressure(raw.bloodPressure);
    if (!bp.ok) {
      problem('invalid', 'bloodPressure', raw.bloodPressure, bp.reason);
    } else {
      // Name which number was wrong: "systolic must be …" says more than a bare range.
      for (const part of ['systolic', 'diastolic'] as const) {
        const problemsBefore = problems.length;
        const value = inRange('bloodPressure', part, bp.value[part], raw.bloodPressure);
        if (problems.length > problemsBefore) problems.at(-1)!.reason = `${part} ${problems.at(-1)!.reason}`;
        if (part === 'systolic') systolic = value;
        else diastolic = value;
      }
      if (systolic !== null && diastolic !== null && diastolic >= systolic) {
        problem('implausible', 'bloodPressure', raw.bloodPressure, 'diastolic must be below systolic');
      }
    }
  }

  let temperatureC: number | null = null;
  if (raw.temperature !== null) {
    const unit = raw.temperatureUnit ?? 'C';
    if (unit !== 'C' && unit !== 'F') {
      problem('invalid', 'temperatureUnit', raw.temperatureUnit, 'must be C or F');
    } else {
      const celsius = unit === 'F' ? fahrenheitToCelsius(raw.temperature) : raw.temperature;
      temperatureC = inRange('temperature', 'temperatureC', celsius, raw.temperature);
      if (unit === 'F' && problems.at(-1)?.field === 'temperature') problems.at(-1)!.reason += ' (after conversion from °F)';
    }
  }

  let consciousness: Consciousness | null = null;
  if (raw.consciousness !== null) {
    if (CONSCIOUSNESS_LEVELS.includes(raw.consciousness as Consciousness)) consciousness = raw.consciousness as Consciousness;
    else problem('invalid', 'consciousness', raw.consciousness, 'must be one of A, C, V, P, U (ACVPU)');
  }

  const anyVital = [heartRate, systolic, temperatureC, spo2, respiratoryRate, raw.onOxygen, consciousness].some((v) => v !== null);
  if (problems.length === 0 && !anyVital) problem('invalid', 'vitals', null, 'at least one vital sign must be present');
  if (problems.length > 0) return { ok: false, problems };

  return {
    ok: true,
    reading: {
      readingId: raw.readingId,
      patientId: raw.patientId,
      deviceId: raw.deviceId,
      observedAt: raw.observedAt,
      receivedAt: raw.receivedAt,
      heartRate, systolic, diastolic, temperatureC, spo2, respiratoryRate,
      onOxygen: raw.onOxygen,
      consciousness,
    },
  };
}

/** °F to °C, kept to 0.01 °C so 98.6 °F stores as 37 rather than 36.99999999999999. */
export function fahrenheitToCelsius(fahrenheit: number): number {
  return Math.round(((fahrenheit - 32) * 5) / 9 * 100) / 100;
}
