/**
 * Every number of the generative process, in one declared place (simulators/README.md writes the
 * equations that use them). Tune here; `createWard` and `generateCohort` take an override that is
 * merged over these defaults, so a tuning run never edits code paths.
 *
 * Units: hours for the latent process, the vital's own unit for vitals (bpm, mmHg, °C, %, /min).
 */

export type Trajectory = 'stable' | 'deteriorating' | 'recovering';
export type AdmissionType = 'EMERGENCY' | 'URGENT' | 'ELECTIVE';
export type Phenotype = 'sepsis' | 'respiratory' | 'cardiovascular';
export type VitalName = 'heartRate' | 'respiratoryRate' | 'systolic' | 'diastolic' | 'temperature' | 'spo2';

/** How strongly the latent severity moves each vital, per phenotype (multiplies `gain`). */
export interface PhenotypeWeights {
  readonly heartRate: number;
  readonly respiratoryRate: number;
  readonly bloodPressure: number;
  readonly temperature: number;
  readonly spo2: number;
}

export interface SimulationParameters {
  readonly admissionTypeMix: Readonly<Record<AdmissionType, number>>;
  /** Trajectory class probabilities given the admission type. */
  readonly trajectoryMix: Readonly<Record<AdmissionType, Readonly<Record<Trajectory, number>>>>;
  readonly phenotypeMix: Readonly<Record<Phenotype, number>>;
  readonly age: { readonly mean: number; readonly sd: number; readonly min: number; readonly max: number };

  readonly latent: {
    /** Step of the latent grid; outcomes are decided on it, independent of the reading rate. */
    readonly gridHours: number;
    /** Event when severity s(t) first reaches this. */
    readonly eventThreshold: number;
    /** Per-patient resting severity μ ~ N(mean + agePerYear·(age−65), sd), clamped to [0, max]. */
    readonly baseline: { readonly mean: number; readonly sd: number; readonly agePerYear: number; readonly max: number };
    /** Ornstein–Uhlenbeck fluctuation z(t): reversion rate θ (1/h) and stationary sd. */
    readonly fluctuation: { readonly theta: number; readonly sd: number };
    /** Recovering: m(t) = μ + A·exp(−t/τ). */
    readonly recovery: { readonly amplitude: readonly [number, number]; readonly tauHours: readonly [number, number] };
    /** Deteriorating: share that is abrupt, onset as a fraction of the planned stay, ramp shapes. */
    readonly deterioration: {
      readonly abruptShare: number;
      readonly onsetFraction: readonly [number, number];
      readonly minOnsetHours: number;
      /** Gradual: linear ramp reaching the threshold (before fluctuation) after H hours. */
      readonly gradualHoursToThreshold: readonly [number, number];
      /** Abrupt: m(t) = μ + J·(1 − exp(−(t−t0)/τa)), with μ + J = threshold + overshoot. */
      readonly abruptOvershoot: readonly [number, number];
      readonly abruptTauHours: readonly [number, number];
    };
    /** P(death | event) = logistic(intercept + perYear·(age − 70)); otherwise ICU escalation. */
    readonly deathGivenEvent: { readonly intercept: number; readonly perYear: number };
  };

  readonly stay: {
    /** Planned length of stay (hours) ~ LogNormal(ln(medianHours), sigma), clamped. */
    readonly medianHours: number;
    readonly sigma: number;
    readonly minHours: number;
    readonly maxHours: number;
    /** Recovering patients stay at least recoveryTauMultiple·τ + this many hours. */
    readonly recoveryExtraHours: readonly [number, number];
    /** Length of an ICU stay after escalation (days), for icustays.csv. */
    readonly icuDays: { readonly median: number; readonly sigma: number };
  };

  /** Per-patient resting vitals. */
  readonly baseline: {
    readonly heartRate: { readonly mean: number; readonly sd: number };
    readonly respiratoryRate: { readonly mean: number; readonly sd: number };
    readonly systolic: { readonly mean: number; readonly sd: number };
    /** Diastolic = systolic·ratio + N(0, sd). */
    readonly diastolic: { readonly ratio: number; readonly sd: number };
    readonly temperature: { readonly mean: number; readonly sd: number };
    readonly spo2: { readonly mean: number; readonly sd: number; readonly max: number };
  };

  /**
   * Chronic conditions that make a patient look alarming while their latent severity is low: the
   * false positives of an early-warning score. Probabilities are per admission.
   */
  readonly chronic: {
    readonly copd: { readonly probability: number; readonly spo2: readonly [number, number]; readonly respiratoryRateShift: number; readonly homeOxygenShare: number };
    readonly tachycardia: { readonly probability: number; readonly shift: readonly [number, number] };
    readonly lowBloodPressure: { readonly probability: number; readonly systolic: readonly [number, number] };
    readonly confusion: { readonly probability: number; readonly minAge: number };
    readonly lowGradeFever: { readonly probability: number; readonly shift: readonly [number, number] };
    /** Beta-blocked patients: resting HR lower and the HR response blunted. */
    readonly betaBlocker: { readonly probability: number; readonly shift: number; readonly gainFactor: number };
  };

  /** Vital = baseline + gain·weight·f(s) + autocorrelated noise + measurement noise. */
  readonly gain: {
    readonly heartRate: number;
    readonly respiratoryRate: number;
    /** Systolic falls by this per unit s; diastolic by diastolicShare of it. */
    readonly systolic: number;
    readonly diastolicShare: number;
    readonly temperature: number;
    /** SpO2 falls by gain·w·s^exponent (desaturation accelerates late). */
    readonly spo2: number;
    readonly spo2Exponent: number;
  };
  readonly phenotypeWeights: Readonly<Record<Phenotype, PhenotypeWeights>>;
  /** Each weight is multiplied per patient by U(1 − jitter, 1 + jitter). */
  readonly weightJitter: number;

  /** AR(1)/OU noise per vital: stationary sd and correlation time (hours). */
  readonly drift: Readonly<Record<VitalName, { readonly sd: number; readonly tauHours: number }>>;
  /** White measurement error per reading (sd), before rounding. */
  readonly measurementSd: Readonly<Record<VitalName, number>>;

  readonly oxygen: {
    /** Nurses start oxygen when measured SpO2 is below target (88 for COPD, else this). */
    readonly targetSpo2: number;
    readonly copdTargetSpo2: number;
    /** Chance per reading below target that oxygen is started (delay in reacting). */
    readonly startProbability: number;
    /** Oxygen adds this to SpO2 (capped at spo2 max). */
    readonly boost: number;
    /** Stopped (per reading, with this chance) once SpO2 on air would be ≥ target + margin. */
    readonly stopProbability: number;
    readonly stopMargin: number;
  };

  /** P(not Alert) = logistic((s − midpoint)/scale); then C/V/P/U by these weights. */
  readonly consciousness: { readonly midpoint: number; readonly scale: number; readonly levels: Readonly<Record<'C' | 'V' | 'P' | 'U', number>> };

  /** Cohort readings: one per `intervalMinutes` ± `jitterMinutes` (bedside monitor upload). */
  readonly cohortReadings: { readonly intervalMinutes: number; readonly jitterMinutes: number };
  /** Transmission delay of an on-time reading (seconds). */
  readonly transmitSeconds: readonly [number, number];
}

export const SIMULATION_PARAMETERS: SimulationParameters = deepFreeze({
  admissionTypeMix: { EMERGENCY: 0.68, URGENT: 0.12, ELECTIVE: 0.2 },
  trajectoryMix: {
    EMERGENCY: { stable: 0.55, deteriorating: 0.2, recovering: 0.25 },
    URGENT: { stable: 0.6, deteriorating: 0.17, recovering: 0.23 },
    ELECTIVE: { stable: 0.8, deteriorating: 0.08, recovering: 0.12 },
  },
  phenotypeMix: { sepsis: 0.4, respiratory: 0.35, cardiovascular: 0.25 },
  age: { mean: 66, sd: 17, min: 18, max: 99 },

  latent: {
    gridHours: 0.25,
    eventThreshold: 1,
    baseline: { mean: 0.15, sd: 0.07, agePerYear: 0.002, max: 0.4 },
    fluctuation: { theta: 0.15, sd: 0.08 },
    recovery: { amplitude: [0.2, 0.45], tauHours: [8, 30] },
    deterioration: {
      abruptShare: 0.15,
      onsetFraction: [0.05, 0.7],
      minOnsetHours: 2,
      gradualHoursToThreshold: [12, 48],
      abruptOvershoot: [0.05, 0.3],
      abruptTauHours: [0.5, 2.5],
    },
    deathGivenEvent: { intercept: -1.5, perYear: 0.05 },
  },

  stay: {
    medianHours: 84,
    sigma: 0.55,
    minHours: 24,
    maxHours: 14 * 24,
    recoveryExtraHours: [12, 36],
    icuDays: { median: 3, sigma: 0.6 },
  },

  baseline: {
    heartRate: { mean: 72, sd: 10 },
    respiratoryRate: { mean: 14, sd: 1.5 },
    systolic: { mean: 136, sd: 15 },
    diastolic: { ratio: 0.6, sd: 6 },
    temperature: { mean: 36.8, sd: 0.25 },
    spo2: { mean: 97.4, sd: 1, max: 99.5 },
  },

  chronic: {
    copd: { probability: 0.06, spo2: [88, 92], respiratoryRateShift: 4, homeOxygenShare: 0.4 },
    tachycardia: { probability: 0.06, shift: [20, 35] },
    lowBloodPressure: { probability: 0.05, systolic: [92, 102] },
    confusion: { probability: 0.06, minAge: 78 },
    lowGradeFever: { probability: 0.04, shift: [0.9, 1.5] },
    betaBlocker: { probability: 0.15, shift: -8, gainFactor: 0.35 },
  },

  gain: { heartRate: 60, respiratoryRate: 16, systolic: 50, diastolicShare: 0.55, temperature: 2, spo2: 12, spo2Exponent: 1.5 },
  phenotypeWeights: {
    sepsis: { heartRate: 1, respiratoryRate: 0.9, bloodPressure: 1, temperature: 1, spo2: 0.6 },
    respiratory: { heartRate: 0.7, respiratoryRate: 1.2, bloodPressure: 0.4, temperature: 0.4, spo2: 1.3 },
    cardiovascular: { heartRate: 1.2, respiratoryRate: 0.7, bloodPressure: 1.3, temperature: 0, spo2: 0.5 },
  },
  weightJitter: 0.3,

  drift: {
    heartRate: { sd: 6, tauHours: 1.5 },
    respiratoryRate: { sd: 1.2, tauHours: 2 },
    systolic: { sd: 8, tauHours: 2 },
    diastolic: { sd: 5, tauHours: 2 },
    temperature: { sd: 0.25, tauHours: 4 },
    spo2: { sd: 0.8, tauHours: 1 },
  },
  measurementSd: { heartRate: 2, respiratoryRate: 0.8, systolic: 4, diastolic: 3, temperature: 0.1, spo2: 0.7 },

  oxygen: { targetSpo2: 92, copdTargetSpo2: 88, startProbability: 0.8, boost: 5, stopProbability: 0.3, stopMargin: 3 },

  consciousness: { midpoint: 0.95, scale: 0.04, levels: { C: 0.6, V: 0.25, P: 0.1, U: 0.05 } },

  cohortReadings: { intervalMinutes: 60, jitterMinutes: 5 },
  transmitSeconds: [0.2, 3],
});

/** Per-reading fault rates (fractions 0..1) of the simulated devices. */
export interface FaultRates {
  /** Reading with one to three vitals missing. */
  readonly dropField: number;
  /** Same reading sent again (identical body). */
  readonly duplicate: number;
  /** Held back and delivered after later readings of the same patient (late, out of order). */
  readonly late: number;
  /** One malformed value (see MALFORMED_KINDS in device-faults.ts). */
  readonly malformed: number;
  /** Share of devices (beds) whose thermometer reports °F. Per device, not per reading. */
  readonly fahrenheitDevices: number;
}

export const NO_FAULTS: FaultRates = Object.freeze({ dropField: 0, duplicate: 0, late: 0, malformed: 0, fahrenheitDevices: 0 });

/** What `--faults` without per-fault rates means: a realistic, noticeable mess. */
export const DEFAULT_FAULT_RATES: FaultRates = Object.freeze({ dropField: 0.05, duplicate: 0.02, late: 0.02, malformed: 0.01, fahrenheitDevices: 0.15 });

/** Deep partial, for overrides merged over SIMULATION_PARAMETERS. */
export type ParameterOverrides = { readonly [K in keyof SimulationParameters]?: DeepPartial<SimulationParameters[K]> };
type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { readonly [K in keyof T]?: DeepPartial<T[K]> } : T;

export function withOverrides(overrides: ParameterOverrides | undefined): SimulationParameters {
  if (!overrides) return SIMULATION_PARAMETERS;
  return deepFreeze(merge(SIMULATION_PARAMETERS, overrides) as SimulationParameters);
}

function merge(base: unknown, override: unknown): unknown {
  if (override === undefined) return base;
  if (typeof base !== 'object' || base === null || Array.isArray(base) || typeof override !== 'object' || override === null) return override;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(override)) out[key] = merge((base as Record<string, unknown>)[key], value);
  return out;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
