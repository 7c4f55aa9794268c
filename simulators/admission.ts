import type { Random } from '../core/seeded-random.ts';
import { SIGNS } from './simulation-parameters.ts';
import type { AdmissionType, Phenotype, Sign, SignPath, SignPattern, SimulationParameters, Trajectory } from './simulation-parameters.ts';

const HOUR_MS = 3_600_000;

export type EventKind = 'death' | 'icu_escalation';

export type AdmissionOutcome =
  | { readonly kind: 'event'; readonly atHours: number; readonly eventKind: EventKind }
  | { readonly kind: 'discharged'; readonly atHours: number }
  /** A death expected under palliative (end-of-life) care: not an event a warning score should catch. */
  | { readonly kind: 'expected_death'; readonly atHours: number };

/** What a clinician records in the patient's profile, and the NEWS2 chart honours. */
export interface ClinicalProfile {
  /** 2 for hypercapnic respiratory failure (target SpO2 88–92 %), else 1. */
  readonly spo2Scale: 1 | 2;
  /** Confusion known before admission (dementia): NEWS2 scores only new confusion. */
  readonly baselineConfusion: boolean;
}

/** Continuous: a bedside monitor records a full set every hour. Intermittent: nurses' rounds. */
export type ObservationMode = 'continuous' | 'intermittent';

export interface ChronicConditions {
  readonly copd: boolean;
  /** COPD with chronic hypoxaemia and hypercapnic risk: SpO2 scale 2 is prescribed. */
  readonly hypercapnic: boolean;
  readonly homeOxygen: boolean;
  readonly tachycardia: boolean;
  readonly lowBloodPressure: boolean;
  readonly confusion: boolean;
  readonly lowGradeFever: boolean;
  readonly betaBlocker: boolean;
}

export interface RestingVitals {
  readonly heartRate: number;
  readonly respiratoryRate: number;
  readonly systolic: number;
  readonly diastolic: number;
  readonly temperature: number;
  readonly spo2: number;
}

/**
 * The hidden course of the stay's acute illness, before the ward's response: progress(t) rises
 * from `onsetHours` (negative when the illness was already under way on arrival) and reaches 1
 * (the event) at `onsetHours + rampHours`, as ((t − onset)/ramp)^exponent. Recovering patients
 * arrive at `initialProgress` and resolve with `tauHours`.
 */
export type IllnessPlan =
  | { readonly kind: 'none' }
  | { readonly kind: 'resolving'; readonly initialProgress: number; readonly tauHours: number }
  | {
      readonly kind: 'deteriorating' | 'dying';
      readonly onsetHours: number;
      readonly rampHours: number;
      readonly exponent: number;
      readonly abrupt: boolean;
      /** Whether the illness turns if the ward responds in time (drawn up front, like fate). */
      readonly reversible: boolean;
      readonly responseDelayHours: number;
      readonly recoveryTauHours: number;
      readonly extraStayHours: number;
    };

/**
 * One simulated ward stay: who the patient is and their hidden physiology. How the stay ends is
 * decided by `createCourse` (course.ts) as the ward observes and responds.
 */
export interface SimulatedAdmission {
  readonly admissionId: string;
  readonly patientId: string;
  readonly sex: 'F' | 'M';
  readonly age: number;
  /** Epoch ms; hour 0 of the latent process. */
  readonly admittedAt: number;
  readonly dateOfBirth: string;
  readonly admissionType: AdmissionType;
  readonly admissionLocation: string;
  readonly insurance: string;
  readonly diagnosis: string;
  readonly trajectory: Trajectory;
  readonly phenotype: Phenotype;
  /** Hidden frailty/comorbidity factor (standard units): never in any CSV. */
  readonly frailty: number;
  /** Deteriorating only: whether the ramp is abrupt (little warning), and when it starts. */
  readonly abrupt: boolean;
  readonly onsetHours: number | null;
  readonly illness: IllnessPlan;
  /** The illness's sign paths for this patient (phenotype pattern after per-patient jitter). */
  readonly signs: Readonly<Record<Sign, SignPath>>;
  readonly chronic: ChronicConditions;
  readonly profile: ClinicalProfile;
  /** Under palliative care (end of life): a death is expected, not an event. */
  readonly palliative: boolean;
  readonly observationMode: ObservationMode;
  readonly resting: RestingVitals;
  /** Multiplies the tachycardia (blunted by beta-blockade). */
  readonly heartRateResponse: number;
  /** Planned length of stay (hours) if nothing happens. */
  readonly plannedStayHours: number;
  /**
   * How the stay ends. From `createAdmission` this is the course without any ward response (the
   * provisional end); cohort and ward replace it with the course's final outcome.
   */
  readonly outcome: AdmissionOutcome;
  readonly endHours: number;
}

const DIAGNOSES: Readonly<Record<Phenotype, readonly string[]>> = {
  sepsis: ['SEPSIS', 'PNEUMONIA', 'URINARY TRACT INFECTION', 'CELLULITIS', 'CHOLANGITIS'],
  respiratory: ['COPD EXACERBATION', 'PNEUMONIA', 'PULMONARY EMBOLISM', 'ASTHMA', 'INFLUENZA'],
  haemorrhage: ['GASTROINTESTINAL BLEED', 'POST-OPERATIVE BLEEDING', 'ANAEMIA', 'HIP FRACTURE'],
  cardiac: ['CHEST PAIN', 'CONGESTIVE HEART FAILURE', 'ATRIAL FIBRILLATION', 'SYNCOPE'],
  neurological: ['STROKE', 'SEIZURE', 'HYPOGLYCAEMIA', 'FALL', 'ALCOHOL WITHDRAWAL'],
};

const ADMISSION_LOCATIONS: Readonly<Record<AdmissionType, readonly string[]>> = {
  EMERGENCY: ['EMERGENCY ROOM ADMIT', 'EMERGENCY ROOM ADMIT', 'TRANSFER FROM HOSP/EXTRAM'],
  URGENT: ['CLINIC REFERRAL/PREMATURE', 'TRANSFER FROM HOSP/EXTRAM'],
  ELECTIVE: ['PHYS REFERRAL/NORMAL DELI'],
};

export interface AdmissionIdentity {
  readonly admissionId: string;
  readonly patientId: string;
  readonly admittedAt: number;
}

/**
 * Draws one admission from `random` (a stream of its own, so admissions are independent). The
 * draw order below is part of the determinism promise: reordering it changes every cohort.
 */
export function createAdmission(random: Random, identity: AdmissionIdentity, p: SimulationParameters): SimulatedAdmission {
  const age = Math.round(clamp(random.normal(p.age.mean, p.age.sd), p.age.min, p.age.max));
  const sex = random.chance(0.5) ? 'F' : 'M';
  const admissionType = random.pickWeighted(p.admissionTypeMix);
  const frailty = random.normal(p.risk.frailtyMean, 1);
  const decades = (age - 65) / 10;
  const palliative = random.chance(logistic(p.palliative.intercept + p.palliative.perDecade * decades + p.palliative.perFrailty * frailty));
  const pDeteriorate = logistic(p.risk.intercept + p.risk.perDecade * decades + p.risk.perFrailty * frailty + p.risk.admissionType[admissionType]);
  const deteriorates = !palliative && random.chance(pDeteriorate);
  const recovers = !palliative && !deteriorates && random.chance(p.recovering.probability);
  const trajectory: Trajectory = palliative ? 'palliative' : deteriorates ? 'deteriorating' : recovers ? 'recovering' : 'stable';
  const phenotype = random.pickWeighted(p.phenotypeMix);
  const diagnosis = random.pick(DIAGNOSES[phenotype]);
  const admissionLocation = random.pick(ADMISSION_LOCATIONS[admissionType]);
  const insurance = age >= 65 ? (random.chance(0.9) ? 'Medicare' : 'Private') : random.pick(['Private', 'Private', 'Medicaid', 'Self Pay']);
  const dateOfBirth = isoDate(identity.admittedAt - (age * 365.25 + random.between(0, 365)) * 24 * HOUR_MS);

  const c = p.chronic;
  const copd = random.chance(c.copd.probability * (phenotype === 'respiratory' ? c.copd.respiratoryPhenotypeFactor : 1));
  const hypercapnic = copd && random.chance(c.copd.hypercapnicShare);
  const chronic: ChronicConditions = {
    copd,
    hypercapnic,
    homeOxygen: hypercapnic && random.chance(c.copd.homeOxygenShare),
    tachycardia: random.chance(c.tachycardia.probability),
    lowBloodPressure: random.chance(c.lowBloodPressure.probability),
    confusion: age >= c.confusion.minAge && random.chance(c.confusion.probability),
    lowGradeFever: random.chance(c.lowGradeFever.probability),
    betaBlocker: random.chance(c.betaBlocker.probability),
  };

  const b = p.baseline;
  const resting_ = (v: { mean: number; sd: number; range: readonly [number, number] }): number => clamp(random.normal(v.mean, v.sd), v.range[0], v.range[1]);
  let heartRate = resting_(b.heartRate);
  if (chronic.tachycardia) heartRate += random.between(...c.tachycardia.shift);
  if (chronic.betaBlocker) heartRate = Math.max(c.betaBlocker.minHeartRate, heartRate + c.betaBlocker.shift);
  let respiratoryRate = resting_(b.respiratoryRate);
  if (copd) respiratoryRate += c.copd.respiratoryRateShift;
  const systolic = chronic.lowBloodPressure ? random.between(...c.lowBloodPressure.systolic) : resting_(b.systolic);
  const diastolic = Math.min(systolic - 25, systolic * b.diastolic.ratio + random.normal(0, b.diastolic.sd));
  let temperature = resting_(b.temperature);
  if (chronic.lowGradeFever) temperature += random.between(...c.lowGradeFever.shift);
  const spo2 = hypercapnic ? random.between(...c.copd.hypercapnicSpo2) : copd ? random.between(...c.copd.spo2) : resting_(b.spo2);
  const resting: RestingVitals = { heartRate, respiratoryRate, systolic, diastolic, temperature, spo2 };

  const pattern = palliative ? p.palliative.signs : p.phenotypeSigns[phenotype];
  const signs = jitterSigns(pattern, random, p);
  const plannedStayHours = clamp(Math.exp(Math.log(p.stay.medianHours) + p.stay.sigma * random.normal()), p.stay.minHours, p.stay.maxHours);
  const observationMode = random.chance(p.observation.continuousShare) ? 'continuous' : 'intermittent';

  const illness = drawIllness(random, trajectory, plannedStayHours, p);
  const provisional = provisionalEnd(illness, plannedStayHours, p);
  // Drawn for every admission (not only events) so the draw count does not depend on the outcome.
  const eventKind = random.chance(logistic(p.deathGivenEvent.intercept + p.deathGivenEvent.perYear * (age - 70))) ? 'death' : 'icu_escalation';
  const outcome: AdmissionOutcome = provisional.kind === 'event' ? { kind: 'event', atHours: provisional.atHours, eventKind } : provisional.kind === 'expected_death' ? { kind: 'expected_death', atHours: provisional.atHours } : { kind: 'discharged', atHours: provisional.atHours };
  const deteriorating = illness.kind === 'deteriorating' ? illness : null;

  return {
    ...identity,
    sex, age, dateOfBirth, admissionType, admissionLocation, insurance, diagnosis,
    trajectory, phenotype, frailty,
    abrupt: deteriorating?.abrupt ?? false,
    onsetHours: deteriorating ? deteriorating.onsetHours : null,
    illness, signs, chronic,
    profile: { spo2Scale: hypercapnic ? 2 : 1, baselineConfusion: chronic.confusion },
    palliative, observationMode, resting,
    heartRateResponse: chronic.betaBlocker ? c.betaBlocker.gainFactor : 1,
    plannedStayHours,
    outcome,
    endHours: outcome.atHours,
  };
}

function jitterSigns(pattern: SignPattern, random: Random, p: SimulationParameters): Record<Sign, SignPath> {
  const out = {} as Record<Sign, SignPath>;
  for (const sign of SIGNS) {
    const path = pattern[sign];
    // Every sign draws, present or not, so adding a sign to one pattern leaves the other draws alone.
    const lagShift = random.between(-p.signJitter.lag, p.signJitter.lag);
    const scale = random.between(1 - p.signJitter.amplitude, 1 + p.signJitter.amplitude);
    out[sign] = path ? { lag: clamp(path.lag + lagShift, 0, 0.9), amplitude: path.amplitude * scale } : { lag: 1, amplitude: 0 };
  }
  return out;
}

function drawIllness(random: Random, trajectory: Trajectory, plannedStay: number, p: SimulationParameters): IllnessPlan {
  // Every branch draws the same number of values, so the trajectory does not shift later draws.
  const u = Array.from({ length: 9 }, () => random.uniform());
  const between = (range: readonly [number, number], x: number): number => range[0] + (range[1] - range[0]) * x;
  const D = p.deterioration;
  const R = p.response;
  if (trajectory === 'stable') return { kind: 'none' };
  if (trajectory === 'recovering') return { kind: 'resolving', initialProgress: between(p.recovering.progress, u[0]!), tauHours: between(p.recovering.tauHours, u[1]!) };
  if (trajectory === 'palliative') {
    if (u[0]! >= p.palliative.deathShare) return { kind: 'none' };
    const rampHours = between(p.palliative.declineHours, u[1]!);
    // The final decline starts somewhere in the stay; the death ends it.
    const onsetHours = between([0, 0.7], u[2]!) * plannedStay;
    return { kind: 'dying', onsetHours, rampHours, exponent: D.exponent, abrupt: false, reversible: false, responseDelayHours: 0, recoveryTauHours: 1, extraStayHours: 0 };
  }
  const abrupt = u[0]! < D.abruptShare;
  const rampHours = abrupt
    ? between(D.abruptHours, u[1]!)
    : clamp(Math.exp(Math.log(D.rampMedianHours) + D.rampSigma * normalFrom(u[1]!, u[8]!)), D.rampHours[0], D.rampHours[1]);
  // Already under way on arrival (the patient came in deteriorating), or starting later in the stay.
  const onArrival = u[2]! < D.onArrivalShare;
  const onsetHours = onArrival
    ? -rampHours * Math.pow(between(D.arrivalProgress, u[3]!), 1 / D.exponent)
    : between(D.laterOnsetFraction, u[3]!) * plannedStay;
  return {
    kind: 'deteriorating', onsetHours, rampHours, exponent: D.exponent, abrupt,
    reversible: u[4]! < R.reversalProbability,
    responseDelayHours: between(R.delayHours, u[5]!),
    recoveryTauHours: between(R.recoveryTauHours, u[6]!),
    extraStayHours: between(R.extraStayHours, u[7]!),
  };
}

/** The end of the stay if the ward never responds: the event (or expected death), else discharge. */
function provisionalEnd(illness: IllnessPlan, plannedStay: number, p: SimulationParameters): { kind: 'event'; atHours: number } | { kind: 'expected_death' | 'discharged'; atHours: number } {
  if (illness.kind === 'deteriorating') return { kind: 'event', atHours: illness.onsetHours + illness.rampHours };
  if (illness.kind === 'dying') return { kind: 'expected_death', atHours: illness.onsetHours + illness.rampHours };
  if (illness.kind === 'resolving') return { kind: 'discharged', atHours: clamp(Math.max(plannedStay, 2.5 * illness.tauHours), p.stay.minHours, p.stay.maxHours) };
  return { kind: 'discharged', atHours: plannedStay };
}

/** A standard normal from two uniforms (Box–Muller), for draws that must not consume extra values. */
function normalFrom(u1: number, u2: number): number {
  return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
}

export function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

export function logistic(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
