import type { Random } from './seeded-random.ts';
import type { AdmissionType, Phenotype, PhenotypeWeights, SimulationParameters, Trajectory } from './simulation-parameters.ts';

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
 * One simulated ward stay: who the patient is, their hidden physiology, and (decided up front by
 * the latent process, never from a vital) how the stay ends. Times are hours since admission.
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
  /** Deteriorating only: whether the ramp is abrupt (little warning), and when it starts. */
  readonly abrupt: boolean;
  readonly onsetHours: number | null;
  readonly restingSeverity: number;
  readonly chronic: ChronicConditions;
  readonly profile: ClinicalProfile;
  /** Under palliative care (end of life): a death is expected, not an event. */
  readonly palliative: boolean;
  readonly observationMode: ObservationMode;
  readonly resting: RestingVitals;
  /** Phenotype weights after per-patient jitter (and beta-blockade for heart rate). */
  readonly weights: PhenotypeWeights;
  /** Latent severity s on the grid t_k = k·gridHours, k = 0..n. */
  readonly severity: Float64Array;
  readonly gridHours: number;
  readonly outcome: AdmissionOutcome;
  /** Where the ward stay ends (the event, or discharge). */
  readonly endHours: number;
}

const DIAGNOSES: Readonly<Record<Phenotype, readonly string[]>> = {
  sepsis: ['SEPSIS', 'PNEUMONIA', 'URINARY TRACT INFECTION', 'CELLULITIS', 'CHOLANGITIS'],
  respiratory: ['COPD EXACERBATION', 'PNEUMONIA', 'PULMONARY EMBOLISM', 'ASTHMA', 'INFLUENZA'],
  cardiovascular: ['CHEST PAIN', 'GASTROINTESTINAL BLEED', 'CONGESTIVE HEART FAILURE', 'ATRIAL FIBRILLATION', 'SYNCOPE'],
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
  const trajectory = random.pickWeighted(p.trajectoryMix[admissionType]);
  const phenotype = random.pickWeighted(p.phenotypeMix);
  const diagnosis = random.pick(DIAGNOSES[phenotype]);
  const admissionLocation = random.pick(ADMISSION_LOCATIONS[admissionType]);
  const insurance = age >= 65 ? (random.chance(0.9) ? 'Medicare' : 'Private') : random.pick(['Private', 'Private', 'Medicaid', 'Self Pay']);
  const dateOfBirth = isoDate(identity.admittedAt - (age * 365.25 + random.between(0, 365)) * 24 * HOUR_MS);

  const c = p.chronic;
  const copd = random.chance(c.copd.probability * (phenotype === 'respiratory' ? 2 : 1));
  const chronic: ChronicConditions = {
    copd,
    homeOxygen: copd && random.chance(c.copd.homeOxygenShare),
    tachycardia: random.chance(c.tachycardia.probability),
    lowBloodPressure: random.chance(c.lowBloodPressure.probability),
    confusion: age >= c.confusion.minAge && random.chance(c.confusion.probability),
    lowGradeFever: random.chance(c.lowGradeFever.probability),
    betaBlocker: random.chance(c.betaBlocker.probability),
  };

  const b = p.baseline;
  let heartRate = random.normal(b.heartRate.mean, b.heartRate.sd);
  if (chronic.tachycardia) heartRate += random.between(...c.tachycardia.shift);
  if (chronic.betaBlocker) heartRate += c.betaBlocker.shift;
  let respiratoryRate = random.normal(b.respiratoryRate.mean, b.respiratoryRate.sd);
  if (copd) respiratoryRate += c.copd.respiratoryRateShift;
  const systolic = chronic.lowBloodPressure ? random.between(...c.lowBloodPressure.systolic) : random.normal(b.systolic.mean, b.systolic.sd);
  const diastolic = Math.min(systolic - 25, systolic * b.diastolic.ratio + random.normal(0, b.diastolic.sd));
  let temperature = random.normal(b.temperature.mean, b.temperature.sd);
  if (chronic.lowGradeFever) temperature += random.between(...c.lowGradeFever.shift);
  const spo2 = copd ? random.between(...c.copd.spo2) : Math.min(b.spo2.max, random.normal(b.spo2.mean, b.spo2.sd));
  const resting: RestingVitals = { heartRate, respiratoryRate, systolic, diastolic, temperature, spo2 };

  const base = p.phenotypeWeights[phenotype];
  const jitter = (): number => random.between(1 - p.weightJitter, 1 + p.weightJitter);
  const weights: PhenotypeWeights = {
    heartRate: base.heartRate * jitter() * (chronic.betaBlocker ? c.betaBlocker.gainFactor : 1),
    respiratoryRate: base.respiratoryRate * jitter(),
    bloodPressure: base.bloodPressure * jitter(),
    temperature: base.temperature * jitter(),
    spo2: base.spo2 * jitter(),
  };

  const L = p.latent;
  const mu = clamp(random.normal(L.baseline.mean + L.baseline.agePerYear * (age - 65), L.baseline.sd), 0, L.baseline.max);
  const plannedStay = clamp(Math.exp(Math.log(p.stay.medianHours) + p.stay.sigma * random.normal()), p.stay.minHours, p.stay.maxHours);

  // The mean path m(t) of the latent severity, by trajectory class (README, "Latent severity").
  let mean: (t: number) => number = () => mu;
  let horizon = plannedStay;
  let abrupt = false;
  let onsetHours: number | null = null;
  if (trajectory === 'recovering') {
    const amplitude = random.between(...L.recovery.amplitude);
    const tau = random.between(...L.recovery.tauHours);
    mean = (t) => mu + amplitude * Math.exp(-t / tau);
    horizon = clamp(Math.max(plannedStay, 2.5 * tau + random.between(...p.stay.recoveryExtraHours)), p.stay.minHours, p.stay.maxHours);
  } else if (trajectory === 'deteriorating') {
    const D = L.deterioration;
    abrupt = random.chance(D.abruptShare);
    const t0 = Math.max(D.minOnsetHours, random.between(...D.onsetFraction) * plannedStay);
    onsetHours = t0;
    if (abrupt) {
      const jump = L.eventThreshold + random.between(...D.abruptOvershoot) - mu;
      const tau = random.between(...D.abruptTauHours);
      mean = (t) => mu + (t > t0 ? jump * (1 - Math.exp(-(t - t0) / tau)) : 0);
    } else {
      const rate = (L.eventThreshold - mu) / random.between(...D.gradualHoursToThreshold);
      mean = (t) => mu + rate * Math.max(0, t - t0);
    }
    // A deteriorating patient is not sent home: the stay runs until the event or the longest stay.
    horizon = p.stay.maxHours;
  }

  // s(t) = m(t) + z(t), z an Ornstein–Uhlenbeck process, exact discretisation on the grid.
  const steps = Math.ceil(horizon / L.gridHours);
  const severity = new Float64Array(steps + 1);
  const decay = Math.exp(-L.fluctuation.theta * L.gridHours);
  const innovation = L.fluctuation.sd * Math.sqrt(1 - decay * decay);
  let z = random.normal(0, L.fluctuation.sd);
  let eventStep = -1;
  for (let k = 0; k <= steps; k++) {
    if (k > 0) z = z * decay + innovation * random.normal();
    severity[k] = mean(k * L.gridHours) + z;
    if (eventStep < 0 && k > 0 && severity[k]! >= L.eventThreshold) eventStep = k;
  }

  let outcome: AdmissionOutcome;
  if (eventStep > 0) {
    const pDeath = logistic(L.deathGivenEvent.intercept + L.deathGivenEvent.perYear * (age - 70));
    outcome = { kind: 'event', atHours: eventStep * L.gridHours, eventKind: random.chance(pDeath) ? 'death' : 'icu_escalation' };
  } else {
    outcome = { kind: 'discharged', atHours: steps * L.gridHours };
  }

  return {
    ...identity,
    sex, age, dateOfBirth, admissionType, admissionLocation, insurance, diagnosis,
    trajectory, phenotype, abrupt, onsetHours, restingSeverity: mu, chronic, resting, weights,
    profile: { spo2Scale: chronic.copd ? 2 : 1, baselineConfusion: chronic.confusion },
    palliative: false,
    observationMode: 'continuous',
    severity: severity.subarray(0, Math.round(outcome.atHours / L.gridHours) + 1),
    gridHours: L.gridHours,
    outcome,
    endHours: outcome.atHours,
  };
}

/** Latent severity at any time of the stay: linear between grid points. */
export function severityAt(admission: SimulatedAdmission, hours: number): number {
  const { severity, gridHours } = admission;
  const position = clamp(hours / gridHours, 0, severity.length - 1);
  const k = Math.floor(position);
  const next = Math.min(k + 1, severity.length - 1);
  const fraction = position - k;
  return severity[k]! * (1 - fraction) + severity[next]! * fraction;
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
