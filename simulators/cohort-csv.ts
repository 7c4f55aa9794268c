import { once } from 'node:events';
import { createWriteStream, mkdirSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import path from 'node:path';
import { stringify } from 'csv-stringify';
import type { Stringifier } from 'csv-stringify';
import { toRawReading } from '../core/domain/validate-ingest.ts';
import { TABLES } from '../core/warehouse-schema.ts';
import { readingIdOf } from '../core/wire/reading-codec.ts';
import { generateCohort } from './cohort.ts';
import type { CohortAdmission, CohortOptions } from './cohort.ts';
import { MALFORMED_KINDS } from './device-faults.ts';
import type { SimulatedReading } from './device-faults.ts';

const HOUR_MS = 3_600_000;

/** Columns of outcomes.csv: the ground truth the model card cites (simulators/README.md). */
export const OUTCOME_COLUMNS = ['admission_id', 'patient_id', 'trajectory', 'outcome', 'event_at', 'event_kind', 'phenotype', 'abrupt', 'onset_at', 'palliative', 'observation_mode'] as const;
/** profiles.csv: what a clinician recorded for the NEWS2 chart (SpO2 scale, baseline confusion). */
export const PROFILE_COLUMNS = ['patient_id', 'spo2_scale', 'baseline_confusion'] as const;
/** vitals.csv: the warehouse vitals columns plus the blood pressure text exactly as sent. */
export const VITALS_COLUMNS = [...TABLES.vitals.columns.map((c) => c.name), 'blood_pressure'] as const;

export const COHORT_FILES = {
  patients: TABLES.patients.columns.map((c) => c.name),
  admissions: TABLES.admissions.columns.map((c) => c.name),
  icustays: TABLES.icustays.columns.map((c) => c.name),
  vitals: VITALS_COLUMNS,
  outcomes: OUTCOME_COLUMNS,
  profiles: PROFILE_COLUMNS,
} as const;

export interface WriteCohortOptions extends CohortOptions {
  readonly dir: string;
  /** Also write readings.jsonl: every delivery's ingest JSON in delivery order, faults and all. */
  readonly rawJsonl?: boolean;
  /** Called every `progressEvery` admissions (default 500) and at the end. */
  readonly onProgress?: (done: number, total: number) => void;
  readonly progressEvery?: number;
}

export interface CohortSummary {
  readonly admissions: number;
  readonly events: number;
  readonly vitalsRows: number;
  readonly deliveries: number;
  readonly files: readonly string[];
}

type Row = Record<string, string>;

/**
 * Writes a cohort as Vigil's own CSV layout (warehouse column names as headers), streaming one
 * admission at a time with backpressure, so the size of the cohort does not bound memory.
 */
export async function writeCohortCsv(options: WriteCohortOptions): Promise<CohortSummary> {
  mkdirSync(options.dir, { recursive: true });
  const writers = Object.fromEntries(Object.entries(COHORT_FILES).map(([name, columns]) => [name, openCsv(path.join(options.dir, `${name}.csv`), columns)])) as Record<keyof typeof COHORT_FILES, CsvWriter>;
  const jsonl = options.rawJsonl ? createWriteStream(path.join(options.dir, 'readings.jsonl')) : undefined;
  let done = 0, events = 0, vitalsRows = 0, deliveries = 0;
  const every = options.progressEvery ?? 500;

  for (const stay of generateCohort(options)) {
    const { admission: a } = stay;
    await writers.patients.write(patientRow(stay));
    await writers.admissions.write(admissionRow(stay));
    if (stay.aftermath.icu) await writers.icustays.write(icuRow(stay));
    await writers.outcomes.write(outcomeRow(stay));
    await writers.profiles.write(profileRow(stay));
    if (a.outcome.kind === 'event') events++;
    for (const row of vitalsRowsOf(stay.deliveries)) {
      await writers.vitals.write(row);
      vitalsRows++;
    }
    deliveries += stay.deliveries.length;
    if (jsonl) {
      if (!jsonl.write(stay.deliveries.map((d) => JSON.stringify(d.body)).join('\n') + (stay.deliveries.length ? '\n' : ''))) await once(jsonl, 'drain');
    }
    done++;
    if (done % every === 0) options.onProgress?.(done, options.admissions);
  }
  await Promise.all(Object.values(writers).map((w) => w.close()));
  if (jsonl) {
    jsonl.end();
    await finished(jsonl);
  }
  options.onProgress?.(done, options.admissions);
  const files = [...Object.keys(COHORT_FILES).map((n) => `${n}.csv`), ...(jsonl ? ['readings.jsonl'] : [])];
  return { admissions: done, events, vitalsRows, deliveries, files };
}

interface CsvWriter {
  write(row: Row): Promise<void>;
  close(): Promise<void>;
}

function openCsv(file: string, columns: readonly string[]): CsvWriter {
  const out = createWriteStream(file);
  const csv: Stringifier = stringify({ header: true, columns: [...columns] });
  csv.pipe(out);
  return {
    async write(row) {
      if (!csv.write(row)) await once(csv, 'drain');
    },
    async close() {
      csv.end();
      await finished(out);
    },
  };
}

const iso = (ms: number | null): string => (ms === null ? '' : new Date(ms).toISOString().replace('.000Z', 'Z'));

function patientRow({ admission: a, aftermath }: CohortAdmission): Row {
  return {
    patient_id: a.patientId,
    gender: a.sex,
    date_of_birth: a.dateOfBirth,
    date_of_death: aftermath.diedAt === null ? '' : iso(aftermath.diedAt).slice(0, 10),
    expire_flag: String(aftermath.diedAt !== null),
  };
}

function admissionRow({ admission: a, aftermath }: CohortAdmission): Row {
  return {
    admission_id: a.admissionId,
    patient_id: a.patientId,
    admitted_at: iso(a.admittedAt),
    discharged_at: iso(aftermath.dischargedAt),
    died_at: iso(aftermath.diedAt),
    admission_type: a.admissionType,
    admission_location: a.admissionLocation,
    discharge_location: aftermath.dischargeLocation,
    insurance: a.insurance,
    diagnosis: a.diagnosis,
    hospital_expire_flag: String(aftermath.diedAt !== null),
    total_cost: aftermath.totalCost.toFixed(2),
  };
}

function icuRow({ admission: a, aftermath }: CohortAdmission): Row {
  const icu = aftermath.icu!;
  return {
    icustay_id: icu.icustayId,
    patient_id: a.patientId,
    admission_id: a.admissionId,
    first_careunit: 'MICU',
    last_careunit: 'MICU',
    icu_intime: iso(icu.intime),
    icu_outtime: iso(icu.outtime),
    los_days: String(icu.losDays),
  };
}

const OUTCOME_LABEL = { event: 'event', discharged: 'discharge', expected_death: 'expected_death' } as const;

function outcomeRow({ admission: a }: CohortAdmission): Row {
  const event = a.outcome.kind === 'event' ? a.outcome : null;
  return {
    admission_id: a.admissionId,
    patient_id: a.patientId,
    trajectory: a.trajectory,
    outcome: OUTCOME_LABEL[a.outcome.kind],
    event_at: event ? iso(a.admittedAt + event.atHours * HOUR_MS) : '',
    event_kind: event ? event.eventKind : '',
    phenotype: a.phenotype,
    abrupt: String(a.abrupt),
    onset_at: a.onsetHours === null ? '' : iso(Math.round(a.admittedAt + a.onsetHours * HOUR_MS)),
    palliative: String(a.palliative),
    observation_mode: a.observationMode,
  };
}

function profileRow({ admission: a }: CohortAdmission): Row {
  return { patient_id: a.patientId, spo2_scale: String(a.profile.spo2Scale), baseline_confusion: String(a.profile.baselineConfusion) };
}

/**
 * What the warehouse would hold after the pipeline: each reading once (first delivery), none of
 * those the edge refuses, °F converted to °C, and a value the processor would find implausible
 * left empty. `blood_pressure` keeps the text as sent.
 */
function* vitalsRowsOf(deliveries: readonly SimulatedReading[]): Generator<Row> {
  const seen = new Set<string>();
  for (const d of deliveries) {
    // The edge's own check decides what never reaches the warehouse.
    if (!toRawReading(d.body, { receivedAt: d.receivedAt, source: 'simulator' }).ok) continue;
    const kind = d.faults.malformed;
    const readingId = readingIdOf(d.deviceId, d.patientId, d.observedAt);
    if (seen.has(readingId)) continue;
    seen.add(readingId);
    const bad = kind ? MALFORMED_KINDS[kind].field : null;
    const b = d.body;
    const sent = (field: string): boolean => b[field] !== undefined && bad !== field;
    const temperature = sent('temperature') ? (b.temperatureUnit === 'F' ? Math.round(((Number(b.temperature) - 32) * 5) / 9 * 10) / 10 : Number(b.temperature)) : null;
    yield {
      reading_id: readingId,
      patient_id: d.patientId,
      device_id: d.deviceId,
      observed_at: iso(d.observedAt),
      received_at: iso(d.receivedAt),
      heart_rate: sent('heartRate') ? String(d.measured.heartRate) : '',
      systolic: sent('bloodPressure') ? String(d.measured.systolic) : '',
      diastolic: sent('bloodPressure') ? String(d.measured.diastolic) : '',
      temperature_c: temperature === null ? '' : String(temperature),
      spo2: sent('spo2') ? String(d.measured.spo2) : '',
      respiratory_rate: sent('respiratoryRate') ? String(d.measured.respiratoryRate) : '',
      on_oxygen: sent('onOxygen') ? String(d.measured.onOxygen) : '',
      consciousness: sent('consciousness') ? d.measured.consciousness : '',
      blood_pressure: typeof b.bloodPressure === 'string' ? b.bloodPressure : '',
    };
  }
}
