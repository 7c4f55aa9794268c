/**
 * Every number of the generative process, in one declared place. simulators/PHYSIOLOGY.md gives
 * each its source (or says plainly that it is an assumption). `createWard` and `generateCohort`
 * take an override that is merged over these defaults, so a shifted cohort never edits code paths.
 *
 * Units: hours for time, the vital's own unit for vitals (bpm, mmHg, °C, %, /min). "Progress" is
 * the hidden course of one acute illness: 0 = the patient's own baseline, 1 = the event (death,
 * cardiac arrest or unplanned ICU admission).
 */
import { deepFreeze } from '../core/deep-freeze.ts';

export type Trajectory = 'stable' | 'deteriorating' | 'recovering' | 'palliative';
export type AdmissionType = 'EMERGENCY' | 'URGENT' | 'ELECTIVE';
export type Phenotype = 'sepsis' | 'respiratory' | 'haemorrhage' | 'cardiac' | 'neurological';
export type VitalName = 'heartRate' | 'respiratoryRate' | 'systolic' | 'diastolic' | 'temperature' | 'spo2';
/** The clinical signs an illness moves, each along its own latent path. */
export type Sign = 'tachycardia' | 'tachypnoea' | 'fever' | 'hypotension' | 'hypoxaemia' | 'confusion';
export const SIGNS: readonly Sign[] = ['tachycardia', 'tachypnoea', 'fever', 'hypotension', 'hypoxaemia', 'confusion'];

/**
 * One sign's path along an illness: it starts once progress passes `lag` and reaches `amplitude`
 * (in units of the sign's gain) at progress 1. A sign with a larger lag appears later: that is
 * the phenotype's order of signs.
 */
export interface SignPath {
  readonly lag: number;
  readonly amplitude: number;
}
export type SignPattern = Readonly<Partial<Record<Sign, SignPath>>>;

export interface SimulationParameters {
  readonly admissionTypeMix: Readonly<Record<AdmissionType, number>>;
  readonly age: { readonly mean: number; readonly sd: number; readonly min: number; readonly max: number };

  /**
   * Risk comes from the patient: a hidden frailty/comorbidity factor F ~ N(mean, 1) and age.
   * P(a deterioration during the stay) = logistic(intercept + perDecade·(age − 65)/10 +
   * perFrailty·F + admissionType[type]).
   */
  readonly risk: {
    readonly frailtyMean: number;
    readonly intercept: number;
    readonly perDecade: number;
    readonly perFrailty: number;
    /** Log-odds added by admission type: modest, EMERGENCY the reference. */
    readonly admissionType: Readonly<Record<AdmissionType, number>>;
  };
  /** P(under palliative care) = logistic(intercept + perDecade·(age − 65)/10 + perFrailty·F). */
  readonly palliative: {
    readonly intercept: number;
    readonly perDecade: number;
    readonly perFrailty: number;
    /** Share of palliative patients who die on the ward (the rest go home or to a hospice). */
    readonly deathShare: number;
    /** Hours over which an expected death unfolds once the final decline starts. */
    readonly declineHours: readonly [number, number];
    readonly signs: SignPattern;
  };
  /** Patients admitted with an acute illness that resolves: progress A·exp(−t/τ) from arrival. */
  readonly recovering: {
    readonly probability: number;
    readonly progress: readonly [number, number];
    readonly tauHours: readonly [number, number];
  };

  readonly phenotypeMix: Readonly<Record<Phenotype, number>>;
  readonly phenotypeSigns: Readonly<Record<Phenotype, SignPattern>>;
  /** Per patient, each lag moves by U(−lagJitter, +lagJitter) and each amplitude ×U(1 − a, 1 + a). */
  readonly signJitter: { readonly lag: number; readonly amplitude: number };

  readonly deterioration: {
    /** Share already under way on arrival (progress U(arrivalProgress) at hour 0). */
    readonly onArrivalShare: number;
    readonly arrivalProgress: readonly [number, number];
    /** Otherwise onset at U(laterOnsetFraction)·planned stay. */
    readonly laterOnsetFraction: readonly [number, number];
    /** Share with little warning (arrhythmia, embolism, a large bleed): ramp of abruptHours. */
    readonly abruptShare: number;
    readonly abruptHours: readonly [number, number];
    /** Otherwise the ramp from onset to the event lasts LogN(ln median, sigma) hours, clamped. */
    readonly rampMedianHours: number;
    readonly rampSigma: number;
    readonly rampHours: readonly [number, number];
    /** progress = (elapsed / ramp)^exponent: slow at first, faster towards the event. */
    readonly exponent: number;
  };

  /**
   * The ward's response: when an observation set's NEWS2 (with the patient's profile) reaches
   * `news2Threshold`, the team treats. With `reversalProbability` the illness turns after
   * `delayHours` and resolves with time constant `recoveryTauHours`; otherwise it runs on to the
   * event. A reversed patient goes home `extraStayHours` after the turn at the earliest.
   */
  readonly response: {
    readonly news2Threshold: number;
    readonly reversalProbability: number;
    readonly delayHours: readonly [number, number];
    readonly recoveryTauHours: readonly [number, number];
    readonly extraStayHours: readonly [number, number];
  };
  /** P(death | event) = logistic(intercept + perYear·(age − 70)); otherwise ICU escalation. */
  readonly deathGivenEvent: { readonly intercept: number; readonly perYear: number };

  readonly stay: {
    /** Planned length of stay (hours) ~ LogNormal(ln(medianHours), sigma), clamped. */
    readonly medianHours: number;
    readonly sigma: number;
    readonly minHours: number;
    readonly maxHours: number;
    /** Length of an ICU stay after escalation (days), for icustays.csv. */
    readonly icuDays: { readonly median: number; readonly sigma: number };
  };

  /**
   * Per-patient resting vitals ~ N(mean, sd) clamped to `range`, the normal resting range of an
   * adult without the chronic conditions below (which move a value outside it on purpose).
   */
  readonly baseline: {
    readonly heartRate: { readonly mean: number; readonly sd: number; readonly range: readonly [number, number] };
    readonly respiratoryRate: { readonly mean: number; readonly sd: number; readonly range: readonly [number, number] };
    readonly systolic: { readonly mean: number; readonly sd: number; readonly range: readonly [number, number] };
    /** Diastolic = systolic·ratio + N(0, sd). */
    readonly diastolic: { readonly ratio: number; readonly sd: number };
    readonly temperature: { readonly mean: number; readonly sd: number; readonly range: readonly [number, number] };
    readonly spo2: { readonly mean: number; readonly sd: number; readonly range: readonly [number, number] };
  };

  /**
   * Chronic conditions that make a patient look alarming while well: the false positives of an
   * early-warning score. Probabilities are per admission.
   */
  readonly chronic: {
    /**
     * COPD; a `hypercapnicShare` of it with chronic hypoxaemia (resting SpO2 `hypercapnicSpo2`,
     * SpO2 scale 2 prescribed, oxygen titrated to 88–92 %), the rest with SpO2 `spo2`.
     */
    readonly copd: {
      readonly probability: number;
      readonly respiratoryPhenotypeFactor: number;
      readonly hypercapnicShare: number;
      readonly hypercapnicSpo2: readonly [number, number];
      readonly spo2: readonly [number, number];
      readonly respiratoryRateShift: number;
      readonly homeOxygenShare: number;
    };
    readonly tachycardia: { readonly probability: number; readonly shift: readonly [number, number] };
    readonly lowBloodPressure: { readonly probability: number; readonly systolic: readonly [number, number] };
    /** Chronic confusion (dementia) among the old: recorded as baseline confusion. */
    readonly confusion: { readonly probability: number; readonly minAge: number };
    readonly lowGradeFever: { readonly probability: number; readonly shift: readonly [number, number] };
    /** Beta-blocked patients: resting HR lower and the tachycardia blunted. */
    readonly betaBlocker: { readonly probability: number; readonly shift: number; readonly gainFactor: number; readonly minHeartRate: number };
  };

  /** What a sign at level 1 does to its vital. */
  readonly signGain: {
    readonly tachycardia: number;
    readonly tachypnoea: number;
    readonly fever: number;
    /** Systolic falls by this at level 1; diastolic by diastolicShare of it. */
    readonly hypotension: number;
    readonly diastolicShare: number;
    /** SpO2 on air falls by gain·level^exponent (desaturation accelerates late). */
    readonly hypoxaemia: number;
    readonly hypoxaemiaExponent: number;
  };
  /** P(not Alert) = logistic((confusion level − midpoint)/scale); then C/V/P/U by these weights. */
  readonly consciousness: { readonly midpoint: number; readonly scale: number; readonly levels: Readonly<Record<'C' | 'V' | 'P' | 'U', number>> };

  /** AR(1)/OU noise per vital: stationary sd and correlation time (hours). */
  readonly drift: Readonly<Record<VitalName, { readonly sd: number; readonly tauHours: number }>>;
  /** White measurement error per reading (sd), before rounding. */
  readonly measurementSd: Readonly<Record<VitalName, number>>;

  readonly oxygen: {
    /** Nurses start oxygen when measured SpO2 is below target (88 for scale 2, else this). */
    readonly targetSpo2: number;
    readonly copdTargetSpo2: number;
    /** Chance per observation set below target that oxygen is started. */
    readonly startProbability: number;
    /** Oxygen adds this to SpO2 (capped at 100; at the 88–92 % band's top for scale 2). */
    readonly boost: number;
    readonly scale2Ceiling: number;
    /** Stopped (per set, with this chance) once SpO2 on air would be ≥ target + margin. */
    readonly stopProbability: number;
    readonly stopMargin: number;
  };

  /**
   * When full observation sets are taken in a cohort. A `continuousShare` of patients is on a
   * monitor that records a set every continuousMinutes ± jitter. Everyone else is observed at the
   * RCP (2017) NEWS2 frequency given the previous set: the first band whose `minScore` the score
   * reaches (or `redParameter` when one parameter scores 3) gives the next interval, U(hours).
   * `fixedHours`, when set, replaces the bands (every set U(fixedHours) apart whatever the score).
   */
  readonly observation: {
    readonly continuousShare: number;
    readonly continuousMinutes: number;
    readonly continuousJitterMinutes: number;
    readonly firstSetHours: readonly [number, number];
    readonly bands: readonly { readonly minScore: number; readonly hours: readonly [number, number] }[];
    readonly redParameterHours: readonly [number, number];
    readonly fixedHours: readonly [number, number] | null;
  };
  /** Transmission delay of an on-time reading (seconds). */
  readonly transmitSeconds: readonly [number, number];
}

export const SIMULATION_PARAMETERS: SimulationParameters = deepFreeze({
  admissionTypeMix: { EMERGENCY: 0.68, URGENT: 0.12, ELECTIVE: 0.2 },
  age: { mean: 66, sd: 17, min: 18, max: 99 },

  risk: {
    frailtyMean: 0,
    intercept: -2.85,
    perDecade: 0.25,
    perFrailty: 0.6,
    admissionType: { EMERGENCY: 0, URGENT: -0.1, ELECTIVE: -0.5 },
  },
  palliative: {
    intercept: -4.6,
    perDecade: 0.45,
    perFrailty: 0.5,
    deathShare: 0.6,
    declineHours: [24, 96],
    signs: {
      tachypnoea: { lag: 0.1, amplitude: 0.9 },
      confusion: { lag: 0.2, amplitude: 1.2 },
      tachycardia: { lag: 0.3, amplitude: 0.6 },
      hypoxaemia: { lag: 0.4, amplitude: 0.7 },
      hypotension: { lag: 0.5, amplitude: 0.8 },
    },
  },
  recovering: { probability: 0.2, progress: [0.15, 0.4], tauHours: [8, 30] },

  phenotypeMix: { sepsis: 0.35, respiratory: 0.25, cardiac: 0.15, haemorrhage: 0.12, neurological: 0.13 },
  phenotypeSigns: {
    sepsis: {
      tachypnoea: { lag: 0, amplitude: 1 },
      fever: { lag: 0, amplitude: 1 },
      tachycardia: { lag: 0.05, amplitude: 1 },
      hypoxaemia: { lag: 0.4, amplitude: 0.5 },
      hypotension: { lag: 0.6, amplitude: 0.9 },
      confusion: { lag: 0.7, amplitude: 0.9 },
    },
    respiratory: {
      tachypnoea: { lag: 0, amplitude: 1.1 },
      hypoxaemia: { lag: 0.1, amplitude: 1.2 },
      tachycardia: { lag: 0.35, amplitude: 0.6 },
      fever: { lag: 0.3, amplitude: 0.3 },
      hypotension: { lag: 0.8, amplitude: 0.3 },
      confusion: { lag: 0.8, amplitude: 0.7 },
    },
    haemorrhage: {
      tachycardia: { lag: 0, amplitude: 1.1 },
      tachypnoea: { lag: 0.3, amplitude: 0.6 },
      hypotension: { lag: 0.45, amplitude: 1.1 },
      confusion: { lag: 0.75, amplitude: 0.8 },
    },
    cardiac: {
      tachycardia: { lag: 0, amplitude: 0.8 },
      tachypnoea: { lag: 0.15, amplitude: 0.9 },
      hypoxaemia: { lag: 0.3, amplitude: 0.7 },
      hypotension: { lag: 0.5, amplitude: 0.8 },
      confusion: { lag: 0.8, amplitude: 0.6 },
    },
    neurological: {
      confusion: { lag: 0, amplitude: 1.3 },
      tachypnoea: { lag: 0.5, amplitude: 0.4 },
      tachycardia: { lag: 0.6, amplitude: 0.3 },
      hypoxaemia: { lag: 0.7, amplitude: 0.3 },
    },
  },
  signJitter: { lag: 0.05, amplitude: 0.2 },

  deterioration: {
    onArrivalShare: 0.4,
    arrivalProgress: [0, 0.4],
    laterOnsetFraction: [0.05, 0.8],
    abruptShare: 0.15,
    abruptHours: [0.5, 3],
    rampMedianHours: 24,
    rampSigma: 0.5,
    rampHours: [6, 96],
    exponent: 1.5,
  },
  response: {
    news2Threshold: 5,
    reversalProbability: 0.6,
    delayHours: [0.5, 2],
    recoveryTauHours: [6, 24],
    extraStayHours: [24, 72],
  },
  deathGivenEvent: { intercept: -1.5, perYear: 0.05 },

  stay: {
    medianHours: 84,
    sigma: 0.55,
    minHours: 24,
    maxHours: 14 * 24,
    icuDays: { median: 3, sigma: 0.6 },
  },

  baseline: {
    heartRate: { mean: 74, sd: 10, range: [55, 100] },
    respiratoryRate: { mean: 15, sd: 1.5, range: [12, 20] },
    systolic: { mean: 136, sd: 15, range: [110, 180] },
    diastolic: { ratio: 0.6, sd: 6 },
    temperature: { mean: 36.8, sd: 0.25, range: [36.2, 37.4] },
    spo2: { mean: 97.4, sd: 1, range: [95, 99.5] },
  },

  chronic: {
    copd: { probability: 0.06, respiratoryPhenotypeFactor: 2, hypercapnicShare: 0.5, hypercapnicSpo2: [88, 92], spo2: [94, 96], respiratoryRateShift: 3, homeOxygenShare: 0.3 },
    tachycardia: { probability: 0.06, shift: [20, 30] },
    lowBloodPressure: { probability: 0.04, systolic: [94, 104] },
    confusion: { probability: 0.06, minAge: 78 },
    lowGradeFever: { probability: 0.04, shift: [0.9, 1.4] },
    /** The beta-blocked resting HR does not fall below `minHeartRate` (a ward would not accept it as usual). */
    betaBlocker: { probability: 0.15, shift: -8, gainFactor: 0.4, minHeartRate: 55 },
  },

  signGain: { tachycardia: 45, tachypnoea: 14, fever: 2.2, hypotension: 55, diastolicShare: 0.55, hypoxaemia: 10, hypoxaemiaExponent: 1.3 },
  consciousness: { midpoint: 0.6, scale: 0.07, levels: { C: 0.6, V: 0.25, P: 0.1, U: 0.05 } },

  drift: {
    heartRate: { sd: 4, tauHours: 1.5 },
    respiratoryRate: { sd: 1, tauHours: 2 },
    systolic: { sd: 6, tauHours: 2 },
    diastolic: { sd: 4, tauHours: 2 },
    temperature: { sd: 0.2, tauHours: 4 },
    spo2: { sd: 0.7, tauHours: 1 },
  },
  measurementSd: { heartRate: 1.5, respiratoryRate: 0.7, systolic: 3, diastolic: 2.5, temperature: 0.1, spo2: 0.6 },

  oxygen: { targetSpo2: 92, copdTargetSpo2: 88, startProbability: 0.8, boost: 5, scale2Ceiling: 92, stopProbability: 0.3, stopMargin: 3 },

  observation: {
    continuousShare: 0.1,
    continuousMinutes: 60,
    continuousJitterMinutes: 5,
    firstSetHours: [0, 0.5],
    bands: [
      { minScore: 7, hours: [0.25, 0.5] },
      { minScore: 5, hours: [0.5, 1] },
      { minScore: 1, hours: [4, 6] },
      { minScore: 0, hours: [8, 12] },
    ],
    redParameterHours: [0.5, 1],
    fixedHours: null,
  },
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
