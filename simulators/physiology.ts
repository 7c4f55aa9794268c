import { news2 } from '../core/domain/news2.ts';
import type { Consciousness } from '../core/domain/reading.ts';
import { clamp, logistic } from './admission.ts';
import type { ClinicalProfile, SimulatedAdmission } from './admission.ts';
import type { Course } from './course.ts';
import type { Random } from '../core/seeded-random.ts';
import type { SimulationParameters, VitalName } from './simulation-parameters.ts';

/** What the bedside monitor measured, before any device fault: rounded as a monitor shows it. */
export interface MeasuredVitals {
  readonly heartRate: number;
  readonly systolic: number;
  readonly diastolic: number;
  /** °C, one decimal. */
  readonly temperature: number;
  readonly spo2: number;
  readonly respiratoryRate: number;
  readonly onOxygen: boolean;
  readonly consciousness: Consciousness;
}

export interface VitalSigns {
  /** Measures the patient `hours` after admission. Calls must come in non-decreasing time. */
  measure(hours: number): MeasuredVitals;
}

const VITALS: readonly VitalName[] = ['heartRate', 'respiratoryRate', 'systolic', 'diastolic', 'temperature', 'spo2'];

/**
 * The observation model: each vital = resting value + the gain of the sign that moves it × that
 * sign's level (each sign on its own lagged path, course.ts) + slow autocorrelated drift (an OU
 * process per vital, so consecutive sets resemble each other) + white measurement error, then
 * rounded. Oxygen is a nurse's reaction to a low measured SpO2; confusion follows its own sign.
 */
export function createVitalSigns(admission: SimulatedAdmission, course: Course, random: Random, p: SimulationParameters): VitalSigns {
  const drift = new Map<VitalName, number>();
  let lastHours: number | undefined;
  let onOxygen = admission.chronic.homeOxygen;
  const scale2 = admission.profile.spo2Scale === 2;
  const target = scale2 ? p.oxygen.copdTargetSpo2 : p.oxygen.targetSpo2;
  const { resting } = admission;
  const g = p.signGain;

  function advanceDrift(hours: number): void {
    for (const vital of VITALS) {
      const { sd, tauHours } = p.drift[vital];
      const previous = drift.get(vital);
      if (previous === undefined || lastHours === undefined) {
        drift.set(vital, random.normal(0, sd));
        continue;
      }
      const decay = Math.exp(-Math.max(0, hours - lastHours) / tauHours);
      drift.set(vital, previous * decay + sd * Math.sqrt(1 - decay * decay) * random.normal());
    }
    lastHours = hours;
  }

  const noisy = (vital: VitalName, value: number): number => value + drift.get(vital)! + random.normal(0, p.measurementSd[vital]);

  return {
    measure(hours) {
      advanceDrift(hours);
      const s = course.signLevels(hours);
      const heartRate = Math.round(clamp(noisy('heartRate', resting.heartRate + g.tachycardia * admission.heartRateResponse * s.tachycardia), 25, 220));
      const respiratoryRate = Math.round(clamp(noisy('respiratoryRate', resting.respiratoryRate + g.tachypnoea * s.tachypnoea), 4, 60));
      const systolic = Math.round(clamp(noisy('systolic', resting.systolic - g.hypotension * s.hypotension), 55, 240));
      const diastolicRaw = noisy('diastolic', resting.diastolic - g.hypotension * g.diastolicShare * s.hypotension);
      // A pulse pressure under 10 mmHg is not a real measurement; keep the pair physiological.
      const diastolic = Math.round(clamp(Math.min(diastolicRaw, systolic - 10), 25, 150));
      const temperature = Math.round(clamp(noisy('temperature', resting.temperature + g.fever * s.fever), 33, 42.5) * 10) / 10;

      const spo2OnAir = noisy('spo2', resting.spo2 - g.hypoxaemia * s.hypoxaemia ** g.hypoxaemiaExponent);
      if (!onOxygen && spo2OnAir < target && random.chance(p.oxygen.startProbability)) onOxygen = true;
      else if (onOxygen && !admission.chronic.homeOxygen && spo2OnAir >= target + p.oxygen.stopMargin && random.chance(p.oxygen.stopProbability)) onOxygen = false;
      // Scale 2: oxygen is titrated to the 88–92 % target, not pushed to the top.
      const withOxygen = scale2 ? Math.max(spo2OnAir, Math.min(spo2OnAir + p.oxygen.boost, p.oxygen.scale2Ceiling)) : spo2OnAir + p.oxygen.boost;
      const spo2 = Math.round(clamp(onOxygen ? withOxygen : spo2OnAir, 60, 100));

      const c = p.consciousness;
      const impaired = s.confusion > 0 && random.chance(logistic((s.confusion - c.midpoint) / c.scale));
      const consciousness: Consciousness = impaired ? random.pickWeighted(c.levels) : admission.chronic.confusion ? 'C' : 'A';

      return { heartRate, systolic, diastolic, temperature, spo2, respiratoryRate, onOxygen, consciousness };
    },
  };
}

/** NEWS2 of one full observation set as the chart scores it with the patient's recorded profile. */
export function news2OfSet(v: MeasuredVitals, profile: ClinicalProfile): { readonly score: number; readonly redParameter: boolean } {
  const result = news2(
    { respiratoryRate: v.respiratoryRate, spo2: v.spo2, onOxygen: v.onOxygen, systolic: v.systolic, heartRate: v.heartRate, consciousness: v.consciousness, temperatureC: v.temperature },
    { spo2Scale: profile.spo2Scale, baselineConfusion: profile.baselineConfusion },
  );
  return { score: result.score, redParameter: Object.values(result.components).some((points) => points === 3) };
}
