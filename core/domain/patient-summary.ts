import type { Consciousness, News2Level, RiskFactor, RiskScore, VitalReading } from './reading.ts';

/**
 * What the API and the live stream say about a patient: the newest value of each vital (a reading
 * may carry only some of them), the latest NEWS2 and the model's risk. `GET /v1/patients` returns
 * these and every SSE event carries one.
 */
export interface LatestVitals {
  /** Epoch ms of the newest reading that contributed. */
  observedAt: number;
  heartRate: number | null;
  systolic: number | null;
  diastolic: number | null;
  temperatureC: number | null;
  spo2: number | null;
  respiratoryRate: number | null;
  onOxygen: boolean | null;
  consciousness: Consciousness | null;
}

export interface PatientSummary {
  patientId: string;
  latest: (Omit<LatestVitals, 'observedAt'> & { observedAt: string }) | null;
  news2: { score: number; level: News2Level } | null;
  risk: { score: number | null; model: string | null; factors: RiskFactor[]; scoredAt: string } | null;
}

const VITAL_KEYS = ['heartRate', 'systolic', 'diastolic', 'temperatureC', 'spo2', 'respiratoryRate', 'onOxygen', 'consciousness'] as const;

/**
 * Newest non-missing value of each vital among `readings` (any order). Systolic and diastolic are
 * taken from the same reading so a pressure is never stitched from two measurements.
 */
export function latestVitals(readings: readonly VitalReading[]): LatestVitals | null {
  if (readings.length === 0) return null;
  const newestFirst = [...readings].sort((a, b) => b.observedAt - a.observedAt || (a.readingId < b.readingId ? 1 : -1));
  const latest: LatestVitals = {
    observedAt: newestFirst[0]!.observedAt,
    heartRate: null, systolic: null, diastolic: null, temperatureC: null,
    spo2: null, respiratoryRate: null, onOxygen: null, consciousness: null,
  };
  for (const key of VITAL_KEYS) {
    if (key === 'diastolic') continue;
    const source = newestFirst.find((r) => r[key] !== null);
    if (!source) continue;
    if (key === 'systolic') {
      latest.systolic = source.systolic;
      latest.diastolic = source.diastolic;
    } else {
      (latest as unknown as Record<string, unknown>)[key] = source[key];
    }
  }
  return latest;
}

export function summarizePatient(patientId: string, recent: readonly VitalReading[], score: RiskScore | undefined): PatientSummary {
  const latest = latestVitals(recent);
  return {
    patientId,
    latest: latest ? { ...latest, observedAt: new Date(latest.observedAt).toISOString() } : null,
    news2: score ? { score: score.news2Score, level: score.news2Level } : null,
    risk: score
      ? { score: score.riskScore, model: score.model, factors: score.factors, scoredAt: new Date(score.scoredAt).toISOString() }
      : null,
  };
}
