import { createReadStream, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse';
import type { Consciousness } from '../core/domain/reading.ts';
import { completedYears } from '../core/domain/admission.ts';
import type { FeatureReading } from './features.ts';

/**
 * A site's own cohort, read from the CSV layout `vigil simulate --write-csv` writes, for local
 * validation (`vigil model evaluate`, `vigil model recalibrate`). Every stay of every patient is
 * read (no train/test split: the site's data was never seen by training).
 *
 * Required: patients.csv, admissions.csv, vitals.csv, outcomes.csv. profiles.csv is optional (a
 * site without recorded profiles scores everyone on SpO2 scale 1 without baseline confusion).
 * A missing file, a missing column or an unreadable value is a `CohortError` naming the file and
 * the reason, never a silently smaller cohort.
 */

export interface CohortReading extends FeatureReading {
  /** Epoch ms the reading arrived (received_at); a window at t holds only readings arrived by t. */
  readonly receivedAt: number;
}

export interface CohortStay {
  readonly admissionId: string;
  readonly patientId: string;
  readonly admittedAt: number;
  /** Where the ward stay ends: the event, or discharge (or an expected death). */
  readonly endsAt: number;
  /** The label's event (death or ICU escalation), null when none. */
  readonly eventAt: number | null;
  /** An expected death under palliative care: not a positive label; its points are excluded. */
  readonly expectedDeath: boolean;
  readonly age: number;
  readonly admissionType: string;
  /** `continuous` or `intermittent`, when outcomes.csv says. */
  readonly observationMode: string | null;
  readonly spo2Scale: 1 | 2;
  readonly baselineConfusion: boolean;
  /** Sorted by (observedAt, readingId). */
  readonly readings: CohortReading[];
}

export class CohortError extends Error {
  override readonly name = 'CohortError';
  readonly file: string;
  readonly reason: string;
  constructor(file: string, reason: string) {
    super(`${file}: ${reason}`);
    this.file = file;
    this.reason = reason;
  }
}

const REQUIRED: Readonly<Record<string, readonly string[]>> = {
  'patients.csv': ['patient_id', 'date_of_birth'],
  'admissions.csv': ['admission_id', 'patient_id', 'admitted_at', 'discharged_at', 'admission_type'],
  'outcomes.csv': ['admission_id', 'patient_id', 'outcome', 'event_at'],
  'vitals.csv': ['reading_id', 'patient_id', 'observed_at', 'heart_rate', 'systolic', 'diastolic', 'temperature_c', 'spo2', 'respiratory_rate', 'on_oxygen', 'consciousness'],
  'profiles.csv': ['patient_id', 'spo2_scale', 'baseline_confusion'],
};

/** outcomes.csv `outcome` values: the simulator wrote `discharged` before it wrote `discharge`. */
const OUTCOMES = new Set(['event', 'discharge', 'discharged', 'expected_death']);

async function* rows(dir: string, file: string): AsyncGenerator<{ row: Record<string, string>; line: number }> {
  const full = path.join(dir, file);
  const parser = createReadStream(full).pipe(parse({ columns: true, info: true }));
  let checked = false;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
      if (!checked) {
        const missing = REQUIRED[file]!.filter((column) => !(column in record));
        if (missing.length > 0) throw new CohortError(file, `missing column(s) ${missing.join(', ')}`);
        checked = true;
      }
      yield { row: record, line: info.lines };
    }
  } catch (error) {
    if (error instanceof CohortError) throw error;
    throw new CohortError(file, `not readable as CSV (${(error as Error).message})`);
  }
}

function instant(file: string, line: number, column: string, text: string | undefined): number {
  const value = Date.parse(text ?? '');
  if (!Number.isFinite(value)) throw new CohortError(file, `line ${line}: ${column} is not a timestamp ("${text ?? ''}")`);
  return value;
}

function number(file: string, line: number, column: string, text: string | undefined): number | null {
  if (text === undefined || text === '') return null;
  const value = Number(text);
  if (!Number.isFinite(value)) throw new CohortError(file, `line ${line}: ${column} is not a number ("${text}")`);
  return value;
}

/** Checks the directory and its required files before anything is read. */
export function checkCohortDir(dir: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CohortError(dir, 'no such directory');
  for (const file of ['patients.csv', 'admissions.csv', 'vitals.csv', 'outcomes.csv']) {
    if (!existsSync(path.join(dir, file))) throw new CohortError(file, `missing in ${dir} (expected the layout vigil simulate --write-csv writes)`);
  }
}

export async function readCohort(dir: string, onProgress?: (message: string) => void): Promise<CohortStay[]> {
  checkCohortDir(dir);
  const births = new Map<string, string>();
  for await (const { row } of rows(dir, 'patients.csv')) births.set(row.patient_id!, row.date_of_birth!);

  const profiles = new Map<string, { spo2Scale: 1 | 2; baselineConfusion: boolean }>();
  if (existsSync(path.join(dir, 'profiles.csv'))) {
    for await (const { row, line } of rows(dir, 'profiles.csv')) {
      if (row.spo2_scale !== '1' && row.spo2_scale !== '2') throw new CohortError('profiles.csv', `line ${line}: spo2_scale must be 1 or 2 ("${row.spo2_scale}")`);
      profiles.set(row.patient_id!, { spo2Scale: row.spo2_scale === '2' ? 2 : 1, baselineConfusion: row.baseline_confusion === 'true' });
    }
  }

  const outcomes = new Map<string, { eventAt: number | null; expectedDeath: boolean; endsAt: number | null; observationMode: string | null }>();
  for await (const { row, line } of rows(dir, 'outcomes.csv')) {
    const outcome = row.outcome!;
    if (!OUTCOMES.has(outcome)) throw new CohortError('outcomes.csv', `line ${line}: outcome must be event, discharge or expected_death ("${outcome}")`);
    const eventAt = outcome === 'event' ? instant('outcomes.csv', line, 'event_at', row.event_at) : null;
    const endsAt = outcome === 'expected_death' && row.event_at ? instant('outcomes.csv', line, 'event_at', row.event_at) : eventAt;
    outcomes.set(row.admission_id!, { eventAt, expectedDeath: outcome === 'expected_death', endsAt, observationMode: row.observation_mode || null });
  }

  const stays = new Map<string, CohortStay>();
  const byPatient = new Map<string, CohortStay[]>();
  for await (const { row, line } of rows(dir, 'admissions.csv')) {
    const born = births.get(row.patient_id!);
    if (born === undefined) throw new CohortError('admissions.csv', `line ${line}: patient ${row.patient_id} is not in patients.csv`);
    const outcome = outcomes.get(row.admission_id!);
    if (outcome === undefined) throw new CohortError('outcomes.csv', `no outcome for admission ${row.admission_id} (admissions.csv line ${line})`);
    const admittedAt = instant('admissions.csv', line, 'admitted_at', row.admitted_at);
    const profile = profiles.get(row.patient_id!);
    const stay: CohortStay = {
      admissionId: row.admission_id!,
      patientId: row.patient_id!,
      admittedAt,
      endsAt: outcome.endsAt ?? instant('admissions.csv', line, 'discharged_at', row.discharged_at),
      eventAt: outcome.eventAt,
      expectedDeath: outcome.expectedDeath,
      age: completedYears(born, row.admitted_at!),
      admissionType: row.admission_type!,
      observationMode: outcome.observationMode,
      spo2Scale: profile?.spo2Scale ?? 1,
      baselineConfusion: profile?.baselineConfusion ?? false,
      readings: [],
    };
    stays.set(stay.admissionId, stay);
    byPatient.set(stay.patientId, [...(byPatient.get(stay.patientId) ?? []), stay]);
  }
  onProgress?.(`cohort: ${stays.size} admissions; reading vitals.csv`);

  let count = 0;
  for await (const { row, line } of rows(dir, 'vitals.csv')) {
    const observedAt = instant('vitals.csv', line, 'observed_at', row.observed_at);
    // A reading belongs to the patient's stay it was observed in (vitals.csv has no admission id).
    const stay = byPatient.get(row.patient_id!)?.find((s) => observedAt >= s.admittedAt && observedAt <= s.endsAt);
    if (!stay) continue;
    stay.readings.push({
      readingId: row.reading_id!,
      observedAt,
      // Without received_at, the reading is taken to have arrived when observed.
      receivedAt: row.received_at ? instant('vitals.csv', line, 'received_at', row.received_at) : observedAt,
      heartRate: number('vitals.csv', line, 'heart_rate', row.heart_rate),
      systolic: number('vitals.csv', line, 'systolic', row.systolic),
      diastolic: number('vitals.csv', line, 'diastolic', row.diastolic),
      temperatureC: number('vitals.csv', line, 'temperature_c', row.temperature_c),
      spo2: number('vitals.csv', line, 'spo2', row.spo2),
      respiratoryRate: number('vitals.csv', line, 'respiratory_rate', row.respiratory_rate),
      onOxygen: row.on_oxygen === '' ? null : row.on_oxygen === 'true',
      consciousness: (row.consciousness || null) as Consciousness | null,
    });
    if (++count % 500_000 === 0) onProgress?.(`cohort: ${count} vitals rows`);
  }
  const all = [...stays.values()];
  for (const stay of all) stay.readings.sort((a, b) => a.observedAt - b.observedAt || (a.readingId < b.readingId ? -1 : 1));
  return all;
}
