import { createReadStream } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse';
import type { Consciousness } from '../core/domain/reading.ts';
import type { FeatureInput, FeatureReading } from './features.ts';
import { completedYears } from '../core/domain/admission.ts';
import TRAINING_CONFIG from './training-config.json' with { type: 'json' };

/**
 * Prediction points from a cohort's CSVs (the layout `vigil simulate --write-csv` writes), as
 * cohort_data.py builds them for training (its docstring defines them): t = admission +
 * firstAfterHours, then every everyHours while on the ward; the window holds the readings that had
 * ARRIVED by t (received_at ≤ t) observed in (t − 6 h, t]; label = event in (t, t + horizon].
 * Expected deaths under palliative care have no points. Used by the card test and `vigil model
 * evaluate`.
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const LONG_WINDOW_MS = 6 * HOUR_MS;

export interface CohortReading extends FeatureReading {
  /** Epoch ms the reading reached the pipeline (received_at); the model sees it only from then. */
  readonly receivedAt: number;
}

/** One admission of a cohort, with what the card's subgroups and alert burden need. */
export interface CohortStay {
  readonly patientId: string;
  readonly admittedAt: number;
  /** Event, or discharge (or death) when there is none. */
  readonly endsAt: number;
  readonly eventAt: number | null;
  readonly outcome: 'event' | 'discharge' | 'expected_death';
  readonly age: number;
  readonly admissionType: string;
  readonly observationMode: 'continuous' | 'intermittent';
  readonly spo2Scale: 1 | 2;
  readonly baselineConfusion: boolean;
  readonly readings: CohortReading[];
}

export interface PredictionPoint extends FeatureInput {
  readonly patientId: string;
  readonly now: number;
  readonly label: boolean;
  readonly readings: readonly CohortReading[];
  readonly spo2Scale: 1 | 2;
  readonly baselineConfusion: boolean;
  readonly stay: CohortStay;
}

async function* rows(file: string): AsyncGenerator<Record<string, string>> {
  yield* createReadStream(file).pipe(parse({ columns: true }));
}

const num = (text: string | undefined): number | null => (text === undefined || text === '' ? null : Number(text));

/**
 * Reads a cohort's stays (expected deaths included; predictionPoints leaves them out). `keep`
 * selects patients (e.g. a split); the other rows are skipped as they stream by. profiles.csv is
 * optional (absent: scale 1, no baseline confusion).
 */
export async function readCohortStays(dir: string, keep: (patientId: string) => boolean = () => true): Promise<Map<string, CohortStay>> {
  const births = new Map<string, string>();
  for await (const row of rows(path.join(dir, 'patients.csv'))) if (keep(row.patient_id!)) births.set(row.patient_id!, row.date_of_birth!);
  const outcomes = new Map<string, Record<string, string>>();
  for await (const row of rows(path.join(dir, 'outcomes.csv'))) if (births.has(row.patient_id!)) outcomes.set(row.admission_id!, row);
  const profiles = new Map<string, Record<string, string>>();
  try {
    for await (const row of rows(path.join(dir, 'profiles.csv'))) if (births.has(row.patient_id!)) profiles.set(row.patient_id!, row);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const stays = new Map<string, CohortStay>();
  for await (const row of rows(path.join(dir, 'admissions.csv'))) {
    const born = births.get(row.patient_id!);
    const outcome = outcomes.get(row.admission_id!);
    if (born === undefined || outcome === undefined) continue;
    const profile = profiles.get(row.patient_id!);
    const eventAt = outcome.outcome === 'event' ? Date.parse(outcome.event_at!) : null;
    stays.set(row.patient_id!, {
      patientId: row.patient_id!,
      admittedAt: Date.parse(row.admitted_at!),
      endsAt: eventAt ?? Date.parse(row.died_at || row.discharged_at!),
      eventAt,
      outcome: outcome.outcome as CohortStay['outcome'],
      age: completedYears(born, row.admitted_at!),
      admissionType: row.admission_type!,
      observationMode: outcome.observation_mode === 'intermittent' ? 'intermittent' : 'continuous',
      spo2Scale: profile?.spo2_scale === '2' ? 2 : 1,
      baselineConfusion: profile?.baseline_confusion === 'true',
      readings: [],
    });
  }
  for await (const row of rows(path.join(dir, 'vitals.csv'))) {
    const stay = stays.get(row.patient_id!);
    if (!stay) continue;
    const observedAt = Date.parse(row.observed_at!);
    stay.readings.push({
      readingId: row.reading_id!,
      observedAt,
      receivedAt: row.received_at ? Date.parse(row.received_at) : observedAt,
      heartRate: num(row.heart_rate), systolic: num(row.systolic), diastolic: num(row.diastolic),
      temperatureC: num(row.temperature_c), spo2: num(row.spo2), respiratoryRate: num(row.respiratory_rate),
      onOxygen: row.on_oxygen === '' ? null : row.on_oxygen === 'true',
      consciousness: (row.consciousness || null) as Consciousness | null,
    });
  }
  for (const stay of stays.values()) stay.readings.sort((a, b) => a.observedAt - b.observedAt || (a.readingId < b.readingId ? -1 : 1));
  return stays;
}

export interface PredictionTimes {
  readonly firstAfterHours: number;
  readonly everyHours: number;
  readonly horizonHours: number;
}

const DEFAULT_TIMES: PredictionTimes = { ...TRAINING_CONFIG.predictionTimes, horizonHours: TRAINING_CONFIG.horizonHours };

export function* predictionPoints(stays: Iterable<CohortStay> | Map<string, CohortStay>, times: PredictionTimes = DEFAULT_TIMES): Generator<PredictionPoint> {
  const first = times.firstAfterHours * HOUR_MS;
  const every = times.everyHours * HOUR_MS;
  const horizon = times.horizonHours * HOUR_MS;
  for (const stay of stays instanceof Map ? stays.values() : stays) {
    if (stay.outcome === 'expected_death') continue;
    for (let now = stay.admittedAt + first; now < stay.endsAt; now += every) {
      const readings = stay.readings.filter((r) => r.observedAt > now - LONG_WINDOW_MS && r.observedAt <= now && r.receivedAt <= now);
      yield {
        patientId: stay.patientId, now, label: stay.eventAt !== null && stay.eventAt - now <= horizon, readings,
        spo2Scale: stay.spo2Scale, baselineConfusion: stay.baselineConfusion, stay,
      };
    }
  }
}

/** Ward days of the stays that have prediction points (the alert burden's denominator); with `firstHours`, only each stay's first hours. */
export function patientDays(stays: Iterable<CohortStay> | Map<string, CohortStay>, firstHours?: number): number {
  let total = 0;
  for (const stay of stays instanceof Map ? stays.values() : stays) {
    if (stay.outcome === 'expected_death') continue;
    const length = stay.endsAt - stay.admittedAt;
    total += firstHours === undefined ? length : Math.min(length, firstHours * HOUR_MS);
  }
  return total / DAY_MS;
}
