import { createReadStream } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse';
import type { Consciousness } from '../core/domain/reading.ts';
import type { AdmissionContext, FeatureReading } from './features.ts';
import { completedYears } from './features.ts';
import { splitOf, TRAINING_CONFIG } from './training-cohort.ts';
import type { Split } from './training-cohort.ts';

/**
 * Prediction points from a cohort's CSVs, as cohort_data.py builds them for training (its
 * docstring defines them): the card test uses this to rebuild the test set in TypeScript.
 */

const HOUR_MS = 3_600_000;
const LONG_WINDOW_MS = 6 * HOUR_MS;

export interface PredictionPoint {
  readonly patientId: string;
  readonly now: number;
  readonly label: boolean;
  readonly readings: readonly FeatureReading[];
  readonly admission: AdmissionContext;
}

interface Stay {
  admittedAt: number;
  endsAt: number;
  eventAt: number | null;
  age: number;
  admissionType: string;
  readings: FeatureReading[];
}

async function* rows(file: string): AsyncGenerator<Record<string, string>> {
  yield* createReadStream(file).pipe(parse({ columns: true }));
}

const num = (text: string | undefined): number | null => (text === undefined || text === '' ? null : Number(text));

/** Reads the stays of the patients in `split` only (the other rows are skipped as they stream by). */
export async function readStays(dir: string, split: Split): Promise<Map<string, Stay>> {
  const births = new Map<string, string>();
  for await (const row of rows(path.join(dir, 'patients.csv'))) if (splitOf(row.patient_id!) === split) births.set(row.patient_id!, row.date_of_birth!);
  const events = new Map<string, number | null>();
  for await (const row of rows(path.join(dir, 'outcomes.csv'))) {
    if (births.has(row.patient_id!)) events.set(row.patient_id!, row.outcome === 'event' ? Date.parse(row.event_at!) : null);
  }
  const stays = new Map<string, Stay>();
  for await (const row of rows(path.join(dir, 'admissions.csv'))) {
    const born = births.get(row.patient_id!);
    if (born === undefined) continue;
    const eventAt = events.get(row.patient_id!) ?? null;
    stays.set(row.patient_id!, {
      admittedAt: Date.parse(row.admitted_at!),
      endsAt: eventAt ?? Date.parse(row.discharged_at!),
      eventAt,
      age: completedYears(born, row.admitted_at!),
      admissionType: row.admission_type!,
      readings: [],
    });
  }
  for await (const row of rows(path.join(dir, 'vitals.csv'))) {
    const stay = stays.get(row.patient_id!);
    if (!stay) continue;
    stay.readings.push({
      readingId: row.reading_id!,
      observedAt: Date.parse(row.observed_at!),
      heartRate: num(row.heart_rate), systolic: num(row.systolic), diastolic: num(row.diastolic),
      temperatureC: num(row.temperature_c), spo2: num(row.spo2), respiratoryRate: num(row.respiratory_rate),
      onOxygen: row.on_oxygen === '' ? null : row.on_oxygen === 'true',
      consciousness: (row.consciousness || null) as Consciousness | null,
    });
  }
  for (const stay of stays.values()) stay.readings.sort((a, b) => a.observedAt - b.observedAt || (a.readingId < b.readingId ? -1 : 1));
  return stays;
}

export function* predictionPoints(stays: Map<string, Stay>): Generator<PredictionPoint> {
  const first = TRAINING_CONFIG.predictionTimes.firstAfterHours * HOUR_MS;
  const every = TRAINING_CONFIG.predictionTimes.everyHours * HOUR_MS;
  const horizon = TRAINING_CONFIG.horizonHours * HOUR_MS;
  for (const [patientId, stay] of stays) {
    const admission = { admittedAt: stay.admittedAt, age: stay.age, admissionType: stay.admissionType };
    for (let now = stay.admittedAt + first; now < stay.endsAt; now += every) {
      const readings = stay.readings.filter((r) => r.observedAt > now - LONG_WINDOW_MS && r.observedAt <= now);
      yield { patientId, now, label: stay.eventAt !== null && stay.eventAt - now <= horizon, readings, admission };
    }
  }
}
