import type { Consciousness, News2Level, News2ParameterName, RiskFactor, RiskScore, VitalReading } from './reading.ts';

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

/**
 * The NEWS2 of the patient's latest observation set. `complete` false means some parameters were
 * not observed within the maximum age of the newest reading: `score` is then a lower bound and
 * `missing` names what it lacks. `observedAt` is the set's newest reading, so its age shows.
 */
export interface News2Summary {
  score: number;
  level: News2Level;
  complete: boolean;
  missing: News2ParameterName[];
  observedAt: string;
}

export interface ShownRisk { score: number | null; model: string | null; factors: RiskFactor[]; scoredAt: string }
/** VIGIL_RISK_MODE=silent: the model's risk is scored and stored but not shown (and not alerted on). */
export interface SilentRisk { mode: 'silent' }

export interface PatientSummary {
  patientId: string;
  latest: (Omit<LatestVitals, 'observedAt'> & { observedAt: string }) | null;
  news2: News2Summary | null;
  risk: ShownRisk | SilentRisk | null;
  /** The bed ADT placed the patient in (PV1-3); null when ADT named none, absent without a ward census. */
  bed?: string | null;
}

/** The risk a summary shows, or undefined when it has none or it is silent. */
export function shownRisk(summary: PatientSummary): ShownRisk | undefined {
  return summary.risk && !('mode' in summary.risk) ? summary.risk : undefined;
}

/** The summary as a deployment in `riskMode` may show it: in silent mode the risk is withheld. */
export function inRiskMode(summary: PatientSummary, riskMode: 'shown' | 'silent'): PatientSummary {
  if (riskMode === 'shown' || summary.risk === null) return summary;
  return { ...summary, risk: { mode: 'silent' } };
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
    news2: score
      ? { score: score.news2Score, level: score.news2Level, complete: score.news2Complete, missing: score.news2Missing, observedAt: new Date(score.scoredAt).toISOString() }
      : null,
    risk: score
      ? { score: score.riskScore, model: score.model, factors: score.factors, scoredAt: new Date(score.scoredAt).toISOString() }
      : null,
  };
}
