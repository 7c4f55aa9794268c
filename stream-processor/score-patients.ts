import { DEFAULT_NEWS2_MAX_AGE_MS, news2ObservationSet } from '../core/domain/news2-observation-set.ts';
import { summarizePatient } from '../core/domain/patient-summary.ts';
import type { PatientUpdates } from '../core/domain/patient-updates.ts';
import type { PatientProfile, RiskScore, VitalReading } from '../core/domain/reading.ts';
import type { Logger } from '../core/observability/logger.ts';
import type { Metrics } from '../core/observability/metrics.ts';
import type { TimeSeriesStore } from '../core/ports/timeseries-store.ts';
import type { Warehouse } from '../core/ports/warehouse.ts';
import type { RetryOptions } from '../core/retry.ts';
import { withRetry } from '../core/retry.ts';
import type { RiskModel, RiskModelOutput, ScoringInput } from '../core/ports/risk-model.ts';
import { MODEL_WINDOW_MS } from '../core/ports/risk-model.ts';
import type { AdmissionLookup } from './admission-context.ts';
import { logSafeError } from '../core/observability/log-safe-error.ts';
import { riskScoreRow } from './risk-score-row.ts';
import type { KeyedWindows } from './keyed-window.ts';

export interface ScoringDeps {
  readonly timeseries: TimeSeriesStore;
  readonly warehouse: Warehouse;
  readonly updates: PatientUpdates;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly retry: RetryOptions;
  readonly riskModel?: RiskModel;
  /** Gives the model each patient's admission (age, type, start); without it the model scores without. */
  readonly admissions?: AdmissionLookup;
  /** A vital counts towards NEWS2 only if observed within this long of the newest reading (default 1 h). */
  readonly news2MaxAgeMs?: number;
  /** Keyed state: warm windows are read from here instead of the store (keyed-window.ts). */
  readonly keyedWindows?: KeyedWindows;
}

/** Readings read back per patient at most: a reading a minute for 6 h is 360. */
const MAX_WINDOW_READINGS = 2_000;

/**
 * Re-scores patients from what the time-series store holds (stateless: any instance can score any
 * patient): NEWS2 on the latest observation set (each vital's newest value within the maximum age
 * of the newest reading, the rest named missing), the model on the last 6 h, both anchored on
 * the patient's newest reading so a replay of old data scores as it happened. Writes the scores to
 * both stores, then announces each patient's summary to live viewers.
 */
export async function scorePatients(deps: ScoringDeps, patientIds: readonly string[]): Promise<void> {
  const { timeseries, warehouse, updates, metrics, retry, riskModel } = deps;
  const windows = (await Promise.all(patientIds.map((id) => withRetry(() => readWindow(timeseries, id, deps.keyedWindows), retry))))
    .filter((w) => w !== undefined);
  if (windows.length === 0) return;

  const outputs = riskModel ? await scoreWithModel(deps, riskModel, await withAdmissions(deps.admissions, windows)) : undefined;
  const scores: RiskScore[] = windows.map((w, i) => {
    const set = news2ObservationSet(w.readings, {
      spo2Scale: w.profile?.spo2Scale ?? 1,
      baselineConfusion: w.profile?.baselineConfusion ?? false,
      maxAgeMs: deps.news2MaxAgeMs ?? DEFAULT_NEWS2_MAX_AGE_MS,
    })!;
    const output = outputs?.[i];
    return {
      patientId: w.patientId,
      scoredAt: w.now,
      news2Score: set.result.score,
      news2Level: set.result.level,
      news2Complete: set.complete,
      news2Missing: set.missing,
      riskScore: output ? output.probability : null,
      model: output ? riskModel!.name : null,
      factors: output ? output.factors : [],
    };
  });

  await Promise.all([
    withRetry(() => timeseries.writeRiskScores(scores), retry),
    withRetry(() => warehouse.append('risk_scores', scores.map(riskScoreRow)), retry),
  ]);
  metrics.scoresWritten.inc(scores.length);
  scores.forEach((score, i) => updates.publish(summarizePatient(score.patientId, windows[i]!.readings, score)));
}

interface PatientWindow extends ScoringInput {
  readonly readings: VitalReading[];
  readonly profile?: PatientProfile;
}

/**
 * The patient's window: from keyed state when warm, else read from the store (and seeded). The
 * profile is always read (one key; a clinician may change it at any time, from any instance).
 */
async function readWindow(timeseries: TimeSeriesStore, patientId: string, keyed: KeyedWindows | undefined): Promise<PatientWindow | undefined> {
  const warm = keyed?.window(patientId, MAX_WINDOW_READINGS);
  if (warm) {
    const profile = await timeseries.readPatientProfile(patientId);
    return { patientId, now: warm.now, readings: warm.readings, ...(profile ? { profile } : {}) };
  }
  keyed?.beginSeed(patientId);
  try {
    const newest = await timeseries.latestReading(patientId);
    if (!newest) {
      keyed?.seed(patientId, undefined, [], MAX_WINDOW_READINGS);
      return undefined;
    }
    const now = newest.observedAt;
    const [readings, profile] = await Promise.all([
      timeseries.readReadings(patientId, { from: now - MODEL_WINDOW_MS, to: now + 1, limit: MAX_WINDOW_READINGS, newestFirst: true }),
      timeseries.readPatientProfile(patientId),
    ]);
    keyed?.seed(patientId, now, readings, MAX_WINDOW_READINGS);
    return { patientId, now, readings, ...(profile ? { profile } : {}) };
  } catch (error) {
    keyed?.cancelSeed(patientId);
    throw error;
  }
}

async function withAdmissions(admissions: AdmissionLookup | undefined, windows: readonly PatientWindow[]): Promise<readonly ScoringInput[]> {
  if (!admissions) return windows;
  const contexts = await admissions.lookup(windows);
  return windows.map((w) => {
    const admission = contexts.get(w.patientId);
    return admission ? { ...w, admission } : w;
  });
}

/** A failing model degrades to NEWS2 only for this round rather than holding scores back. */
async function scoreWithModel(deps: ScoringDeps, model: RiskModel, inputs: readonly ScoringInput[]): Promise<(RiskModelOutput | undefined)[]> {
  try {
    const outputs = await model.score(inputs);
    return inputs.map((_, i) => {
      const output = outputs[i];
      return output && Number.isFinite(output.probability) ? output : undefined;
    });
  } catch (error) {
    deps.logger.warn({ error: logSafeError(error), model: model.name, patients: inputs.length }, 'risk model failed; scoring NEWS2 only');
    return inputs.map(() => undefined);
  }
}
