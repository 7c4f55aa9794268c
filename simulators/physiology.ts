import type { Consciousness } from '../core/domain/reading.ts';
import { clamp, logistic, severityAt } from './admission.ts';
import type { SimulatedAdmission } from './admission.ts';
import type { Random } from './seeded-random.ts';
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
 * The observation model: vitals = resting value + gain·weight·f(s) + slow autocorrelated drift
 * (an OU process per vital, so consecutive readings resemble each other) + white measurement
 * error, then rounded. Oxygen is a nurse's reaction to a low measured SpO2 and raises later
 * SpO2 readings; confusion appears only near the event threshold.
 */
export function createVitalSigns(admission: SimulatedAdmission, random: Random, p: SimulationParameters): VitalSigns {
  const drift = new Map<VitalName, number>();
  let lastHours: number | undefined;
  let onOxygen = admission.chronic.homeOxygen;
  const target = admission.chronic.copd ? p.oxygen.copdTargetSpo2 : p.oxygen.targetSpo2;
  const { resting, weights } = admission;
  const g = p.gain;

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
      const s = severityAt(admission, hours);
      const effect = Math.max(0, s);
      const heartRate = Math.round(clamp(noisy('heartRate', resting.heartRate + g.heartRate * weights.heartRate * effect), 25, 220));
      const respiratoryRate = Math.round(clamp(noisy('respiratoryRate', resting.respiratoryRate + g.respiratoryRate * weights.respiratoryRate * effect), 4, 60));
      const systolic = Math.round(clamp(noisy('systolic', resting.systolic - g.systolic * weights.bloodPressure * effect), 55, 240));
      const diastolicRaw = noisy('diastolic', resting.diastolic - g.systolic * g.diastolicShare * weights.bloodPressure * effect);
      // A pulse pressure under 10 mmHg is not a real measurement; keep the pair physiological.
      const diastolic = Math.round(clamp(Math.min(diastolicRaw, systolic - 10), 25, 150));
      const temperature = Math.round(clamp(noisy('temperature', resting.temperature + g.temperature * weights.temperature * effect), 33, 42.5) * 10) / 10;

      const spo2OnAir = noisy('spo2', resting.spo2 - g.spo2 * weights.spo2 * effect ** g.spo2Exponent);
      if (!onOxygen && spo2OnAir < target && random.chance(p.oxygen.startProbability)) onOxygen = true;
      else if (onOxygen && !admission.chronic.homeOxygen && spo2OnAir >= target + p.oxygen.stopMargin && random.chance(p.oxygen.stopProbability)) onOxygen = false;
      const spo2 = Math.round(clamp(spo2OnAir + (onOxygen ? p.oxygen.boost : 0), 60, 100));

      const c = p.consciousness;
      const impaired = random.chance(logistic((s - c.midpoint) / c.scale));
      const consciousness: Consciousness = impaired ? random.pickWeighted(c.levels) : admission.chronic.confusion ? 'C' : 'A';

      return { heartRate, systolic, diastolic, temperature, spo2, respiratoryRate, onOxygen, consciousness };
    },
  };
}
