import { createAdmission } from './admission.ts';
import type { SimulatedAdmission } from './admission.ts';
import { createDevice } from './device-faults.ts';
import type { SimulatedReading } from './device-faults.ts';
import { createCourse } from './course.ts';
import { createVitalSigns, news2OfSet } from './physiology.ts';
import { createRandom } from '../core/seeded-random.ts';
import type { Random } from '../core/seeded-random.ts';
import { NO_FAULTS, withOverrides } from './simulation-parameters.ts';
import type { FaultRates, ParameterOverrides, SimulationParameters } from './simulation-parameters.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export interface CohortOptions {
  readonly seed: number;
  /** How many admissions (one patient each). */
  readonly admissions: number;
  readonly faults?: FaultRates;
  readonly parameters?: ParameterOverrides;
  /** Admissions start uniformly in [startAt, startAt + spanDays). Default 2025-01-01T00:00:00Z. */
  readonly startAt?: number;
  readonly spanDays?: number;
  /** Devices are named bed-01 … bed-NN (°F thermometers are per device). Default 32. */
  readonly beds?: number;
}

/** What happened after the ward stay, for admissions.csv and icustays.csv. */
export interface StayAftermath {
  readonly dischargedAt: number;
  readonly diedAt: number | null;
  readonly dischargeLocation: string;
  readonly icu: { readonly icustayId: string; readonly intime: number; readonly outtime: number; readonly losDays: number } | null;
  readonly totalCost: number;
}

export interface CohortAdmission {
  readonly admission: SimulatedAdmission;
  readonly aftermath: StayAftermath;
  /** Every delivery of the stay's readings in delivery order: duplicates and late ones included. */
  readonly deliveries: readonly SimulatedReading[];
}

export const DEFAULT_COHORT_START = Date.UTC(2025, 0, 1);

/**
 * Full histories of `admissions` ward stays, offline: no timers, one admission at a time (lazy,
 * so thousands fit in memory). The same options give the same cohort, byte for byte.
 */
export function* generateCohort(options: CohortOptions): Generator<CohortAdmission> {
  const p = withOverrides(options.parameters);
  const faults = options.faults ?? NO_FAULTS;
  const startAt = options.startAt ?? DEFAULT_COHORT_START;
  const spanMs = (options.spanDays ?? 365) * DAY_MS;
  const beds = options.beds ?? 32;

  for (let i = 1; i <= options.admissions; i++) {
    const random = createRandom(options.seed, 'cohort-admission', i);
    const admittedAt = Math.floor((startAt + random.uniform() * spanMs) / 60_000) * 60_000;
    const drawn = createAdmission(random, { admissionId: `A${pad(i, 6)}`, patientId: `P${pad(i, 6)}`, admittedAt }, p);
    const course = createCourse(drawn, p);
    const vitals = createVitalSigns(drawn, course, createRandom(options.seed, 'cohort-vitals', i), p);
    const device = createDevice({ deviceId: `bed-${pad(((i - 1) % beds) + 1, 2)}`, seed: options.seed, faults, random: createRandom(options.seed, 'cohort-device', i) });
    const schedule = createObservationSchedule(drawn, createRandom(options.seed, 'cohort-schedule', i), p);

    const deliveries: SimulatedReading[] = [];
    let lastReceived = admittedAt;
    // Full observation sets until the stay ends; the end moves if the ward's response succeeds.
    for (let hours = schedule.first(); hours < course.endHours(); ) {
      const observedAt = Math.floor((admittedAt + hours * HOUR_MS) / 1000) * 1000;
      const receivedAt = observedAt + Math.round(schedule.transmitSeconds() * 1000);
      const measured = vitals.measure((observedAt - admittedAt) / HOUR_MS);
      const scored = news2OfSet(measured, drawn.profile);
      course.observed(hours, scored.score);
      deliveries.push(...device.send({ patientId: drawn.patientId, observedAt, vitals: measured }, receivedAt));
      lastReceived = receivedAt;
      hours += schedule.nextIntervalHours(scored);
    }
    deliveries.push(...device.drain(lastReceived + 1000));

    const outcome = course.outcome();
    const admission: SimulatedAdmission = { ...drawn, outcome, endHours: outcome.atHours };
    yield { admission, aftermath: aftermathOf(admission, createRandom(options.seed, 'cohort-aftermath', i), p.stay.icuDays), deliveries };
  }
}

export interface ObservationSchedule {
  /** Hours after admission of the first set. */
  first(): number;
  /** Hours to the next set, given this set's NEWS2 (RCP 2017 frequency for intermittent patients). */
  nextIntervalHours(set: { readonly score: number; readonly redParameter: boolean }): number;
  transmitSeconds(): number;
}

/**
 * When a cohort patient's observation sets are taken (simulation-parameters.ts, `observation`):
 * on a monitor every hour, or by nurses at the NEWS2-driven minimum frequency.
 */
export function createObservationSchedule(admission: SimulatedAdmission, random: Random, p: SimulationParameters): ObservationSchedule {
  const o = p.observation;
  const continuous = admission.observationMode === 'continuous';
  return {
    first: () => random.between(...o.firstSetHours),
    nextIntervalHours(set) {
      if (continuous) return (o.continuousMinutes + random.between(-o.continuousJitterMinutes, o.continuousJitterMinutes)) / 60;
      return random.between(...intermittentIntervalHours(set, p));
    },
    transmitSeconds: () => random.between(...p.transmitSeconds),
  };
}

/** The RCP band an intermittent patient's next set falls in, given the previous set's NEWS2. */
export function intermittentIntervalHours(set: { readonly score: number; readonly redParameter: boolean }, p: SimulationParameters): readonly [number, number] {
  const o = p.observation;
  if (o.fixedHours) return o.fixedHours;
  const band = o.bands.find((b) => set.score >= b.minScore) ?? o.bands[o.bands.length - 1]!;
  // A single red parameter asks for at least hourly sets even when the total is low.
  if (set.redParameter && o.redParameterHours[1] < band.hours[1]) return o.redParameterHours;
  return band.hours;
}

function aftermathOf(a: SimulatedAdmission, random: Random, icuDays: { median: number; sigma: number }): StayAftermath {
  const endAt = a.admittedAt + a.endHours * HOUR_MS;
  // Daily ward cost and ICU cost are round illustrative figures, not any hospital's tariff.
  const wardDailyCost = random.between(1800, 3200);
  if (a.outcome.kind === 'discharged') {
    const dischargeLocation = a.age >= 80 && random.chance(0.35) ? 'SNF' : random.chance(0.25) ? 'HOME HEALTH CARE' : 'HOME';
    return { dischargedAt: endAt, diedAt: null, dischargeLocation, icu: null, totalCost: money((a.endHours / 24) * wardDailyCost) };
  }
  if (a.outcome.kind === 'expected_death' || a.outcome.eventKind === 'death') {
    return { dischargedAt: endAt, diedAt: endAt, dischargeLocation: 'DEAD/EXPIRED', icu: null, totalCost: money((a.endHours / 24) * wardDailyCost + 4000) };
  }
  const losDays = Math.round(Math.exp(Math.log(icuDays.median) + icuDays.sigma * random.normal()) * 100) / 100;
  const outtime = endAt + Math.round(losDays * DAY_MS / 60_000) * 60_000;
  const stepDownDays = random.between(1, 5);
  const dischargedAt = outtime + Math.round(stepDownDays * DAY_MS / 60_000) * 60_000;
  return {
    dischargedAt,
    diedAt: null,
    dischargeLocation: random.chance(0.5) ? 'SNF' : 'HOME HEALTH CARE',
    icu: { icustayId: `I${a.admissionId.slice(1)}`, intime: endAt, outtime, losDays },
    totalCost: money(((a.endHours / 24) + stepDownDays) * wardDailyCost + losDays * random.between(7000, 11000)),
  };
}

function money(value: number): number {
  return Math.round(value * 100) / 100;
}

export function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}
