import { createAdmission } from './admission.ts';
import type { SimulatedAdmission } from './admission.ts';
import { createDevice } from './device-faults.ts';
import type { SimulatedReading } from './device-faults.ts';
import { createVitalSigns } from './physiology.ts';
import { createRandom } from './seeded-random.ts';
import { NO_FAULTS, withOverrides } from './simulation-parameters.ts';
import type { FaultRates, ParameterOverrides } from './simulation-parameters.ts';

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
  const { intervalMinutes, jitterMinutes } = p.cohortReadings;

  for (let i = 1; i <= options.admissions; i++) {
    const random = createRandom(options.seed, 'cohort-admission', i);
    const admittedAt = Math.floor((startAt + random.uniform() * spanMs) / 60_000) * 60_000;
    const admission = createAdmission(random, { admissionId: `A${pad(i, 6)}`, patientId: `P${pad(i, 6)}`, admittedAt }, p);
    const vitals = createVitalSigns(admission, createRandom(options.seed, 'cohort-vitals', i), p);
    const device = createDevice({ deviceId: `bed-${pad(((i - 1) % beds) + 1, 2)}`, seed: options.seed, faults, random: createRandom(options.seed, 'cohort-device', i) });

    const schedule = createRandom(options.seed, 'cohort-schedule', i);
    const endMs = admittedAt + admission.endHours * HOUR_MS;
    const deliveries: SimulatedReading[] = [];
    let lastReceived = admittedAt;
    for (let t = admittedAt + schedule.uniform() * intervalMinutes * 60_000; t < endMs; t += (intervalMinutes + schedule.between(-jitterMinutes, jitterMinutes)) * 60_000) {
      const observedAt = Math.floor(t / 1000) * 1000;
      const receivedAt = observedAt + Math.round(schedule.between(...p.transmitSeconds) * 1000);
      const measurement = { patientId: admission.patientId, observedAt, vitals: vitals.measure((observedAt - admittedAt) / HOUR_MS) };
      deliveries.push(...device.send(measurement, receivedAt));
      lastReceived = receivedAt;
    }
    deliveries.push(...device.drain(lastReceived + 1000));

    yield { admission, aftermath: aftermathOf(admission, createRandom(options.seed, 'cohort-aftermath', i), p.stay.icuDays), deliveries };
  }
}

function aftermathOf(a: SimulatedAdmission, random: ReturnType<typeof createRandom>, icuDays: { median: number; sigma: number }): StayAftermath {
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
