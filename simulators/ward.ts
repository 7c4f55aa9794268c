import { createAdmission } from './admission.ts';
import type { ClinicalProfile, SimulatedAdmission } from './admission.ts';
import { createDevice } from './device-faults.ts';
import type { Device, SimulatedReading } from './device-faults.ts';
import { createCourse } from './course.ts';
import type { Course } from './course.ts';
import { createVitalSigns, news2OfSet } from './physiology.ts';
import type { VitalSigns } from './physiology.ts';
import { createRandom } from '../core/seeded-random.ts';
import { NO_FAULTS, withOverrides } from './simulation-parameters.ts';
import type { FaultRates, ParameterOverrides } from './simulation-parameters.ts';
import { pad } from './cohort.ts';

const HOUR_MS = 3_600_000;

export interface WardOptions {
  /** Beds, each with a monitor `bed-NN` and one patient at a time. */
  readonly patients: number;
  readonly seed: number;
  readonly faults?: FaultRates;
  readonly parameters?: ParameterOverrides;
  /**
   * Simulated physiology time per wall-clock time. 1 is real time; the default 60 makes one real
   * minute a simulated hour, so a demo shows deteriorations within minutes. observedAt stays the
   * wall clock either way.
   */
  readonly timeScale?: number;
  /** Wall-clock epoch ms the ward opens at (default: the first `observe` call). */
  readonly startAt?: number;
  /**
   * Told of each admission as the patient takes a bed, before their first reading: what a
   * hospital's admission system (ADT) would record. `admittedAt` is the wall-clock start.
   */
  readonly onAdmit?: (admission: SimulatedAdmission) => void;
}

export interface WardStayEnded {
  readonly bed: number;
  readonly admission: SimulatedAdmission;
  /** Wall-clock epoch ms it ended. */
  readonly at: number;
}

export interface Ward {
  readonly beds: number;
  readonly seed: number;
  /** The patient in each bed now. */
  current(): readonly SimulatedAdmission[];
  /**
   * The bed's monitor takes a reading at wall-clock `at` (non-decreasing per bed). Returns what
   * reaches the edge now: usually one reading; none when held back; more with duplicates, late
   * ones released or a stay ending. A stay that ends is replaced by a new admission in the bed.
   */
  observe(bed: number, at: number): SimulatedReading[];
  /** Stays that ended so far (events and discharges), oldest first; at most the last 1,000. */
  ended(): readonly WardStayEnded[];
  /**
   * What a clinician would have recorded in the profile of the patient now in `bed` (SpO2 scale,
   * baseline confusion): for NEWS2 as the chart intends. Undefined before the bed's first reading.
   */
  profileOf(bed: number): WardPatientProfile | undefined;
}

export interface WardPatientProfile extends ClinicalProfile {
  readonly patientId: string;
}

interface BedState {
  admission: SimulatedAdmission;
  course: Course;
  vitals: VitalSigns;
  /** Wall-clock ms at which this admission was at latent hour 0. */
  hourZeroAt: number;
}

const MAX_ENDED_KEPT = 1000;

/**
 * A live ward: `patients` beds, each admission drawn from its own seeded stream. The first
 * patients arrive part-way through their stay (a ward is never empty at start); later ones are
 * admitted as beds free up. Patient ids are P0001, P0002, … in admission order.
 */
export function createWard(options: WardOptions): Ward {
  if (!Number.isInteger(options.patients) || options.patients < 1) throw new RangeError('patients must be a positive integer');
  const p = withOverrides(options.parameters);
  const timeScale = options.timeScale ?? 60;
  if (!(timeScale > 0)) throw new RangeError('timeScale must be positive');
  const faults = options.faults ?? NO_FAULTS;
  const seed = options.seed;
  let startAt = options.startAt;
  let admissionsSoFar = 0;
  const endedStays: WardStayEnded[] = [];
  const devices: Device[] = [];
  const beds: (BedState | undefined)[] = [];
  for (let bed = 0; bed < options.patients; bed++) {
    const deviceId = `bed-${pad(bed + 1, 2)}`;
    devices.push(createDevice({ deviceId, seed, faults, random: createRandom(seed, 'ward-device', bed) }));
  }

  function admit(hourZeroAt: number, alreadyHours: ((a: SimulatedAdmission) => number) | null): BedState {
    const seq = ++admissionsSoFar;
    const random = createRandom(seed, 'ward-admission', seq);
    const draft = createAdmission(random, { admissionId: `WA${pad(seq, 6)}`, patientId: `P${pad(seq, 4)}`, admittedAt: hourZeroAt }, p);
    const offsetHours = alreadyHours ? alreadyHours(draft) : 0;
    const shiftedZero = hourZeroAt - (offsetHours * HOUR_MS) / timeScale;
    const admission = { ...draft, admittedAt: Math.round(shiftedZero) };
    options.onAdmit?.(admission);
    const course = createCourse(admission, p);
    return { admission, course, vitals: createVitalSigns(admission, course, createRandom(seed, 'ward-vitals', seq), p), hourZeroAt: shiftedZero };
  }

  function withCourseOutcome(state: BedState): SimulatedAdmission {
    const outcome = state.course.outcome();
    return { ...state.admission, outcome, endHours: outcome.atHours };
  }

  function bedState(bed: number, at: number): BedState {
    startAt ??= at;
    let state = beds[bed];
    if (!state) {
      // Opening patients are somewhere in their stay, drawn from their own stream.
      const offsets = createRandom(seed, 'ward-opening', bed);
      state = admit(startAt, (a) => offsets.uniform() * a.endHours * 0.9);
      beds[bed] = state;
    }
    return state;
  }

  return {
    beds: options.patients,
    seed,
    current: () => beds.filter((b): b is BedState => b !== undefined).map(withCourseOutcome),
    ended: () => endedStays,
    profileOf(bed) {
      const state = beds[bed];
      return state ? { patientId: state.admission.patientId, ...state.admission.profile } : undefined;
    },
    observe(bed, at) {
      if (!Number.isInteger(bed) || bed < 0 || bed >= options.patients) throw new RangeError(`no bed ${bed}`);
      const device = devices[bed]!;
      const out: SimulatedReading[] = [];
      let state = bedState(bed, at);
      let hours = ((at - state.hourZeroAt) * timeScale) / HOUR_MS;
      if (hours >= state.course.endHours()) {
        out.push(...device.drain(at));
        endedStays.push({ bed, admission: withCourseOutcome(state), at });
        if (endedStays.length > MAX_ENDED_KEPT) endedStays.shift();
        state = admit(at, null);
        beds[bed] = state;
        hours = 0;
      }
      // Milliseconds kept: at benchmark rates one patient has several readings per second, and the
      // reading id (device, patient, observedAt) must still tell them apart.
      const vitals = state.vitals.measure(hours);
      // The ward responds to what it sees: a set at the urgent-response threshold brings treatment.
      state.course.observed(hours, news2OfSet(vitals, state.admission.profile).score);
      out.push(...device.send({ patientId: state.admission.patientId, observedAt: at, vitals }, at));
      return out;
    },
  };
}
