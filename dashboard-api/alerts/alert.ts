import { ALERT_DEFAULTS, type RiskMode } from '../../core/config.ts';
import type { PatientSummary } from '../../core/domain/patient-summary.ts';
import { shownRisk } from '../../core/domain/patient-summary.ts';
import type { Alert, AlertReason } from '../../core/domain/alert.ts';
import { isVisible } from '../../core/domain/alert.ts';
import { VigilError } from '../../core/errors.ts';

/**
 * An alert: one episode of a patient above a threshold. It opens when NEWS2 or the model's risk
 * crosses its threshold and closes only after every value has stayed below for the hold period
 * (hysteresis), so a patient hovering at the edge does not raise a new alert with every reading.
 * A clinician acknowledges it; until then it stays on the ward view even after it closed, so an
 * episode nobody saw is never lost.
 *
 * `observations-incomplete`: the latest NEWS2 lacks parameters (not observed within the maximum
 * age of the newest reading), so the score is only a lower bound; not knowing is its own alert
 * state, never silence. It is the least urgent reason: the ward shows it apart from NEWS2 and risk.
 * Reasons accumulate while an alert is open, so an episode that escalates shows why. An alert
 * only for incomplete observations closes as soon as a complete set below every threshold
 * arrives (its question is answered; the hold period is for scores hovering at a threshold) and
 * then leaves the ward without acknowledgement: the full set taken is the response it asked for.
 */
export type { Alert, AlertReason } from '../../core/domain/alert.ts';
export { ALERT_REASON_ORDER, isOnlyIncomplete, isVisible, mergeReasons } from '../../core/domain/alert.ts';

/** An alert as the API and the SSE stream show it: ISO times, and whether the ward must show it. */
export interface AlertView {
  readonly id: string;
  readonly patientId: string;
  readonly status: 'open' | 'closed';
  readonly openedAt: string;
  readonly closedAt: string | null;
  readonly reasons: readonly AlertReason[];
  readonly news2Score: number | null;
  readonly riskScore: number | null;
  readonly peakNews2: number | null;
  readonly peakRisk: number | null;
  readonly belowSince: string | null;
  readonly acknowledgedAt: string | null;
  readonly acknowledgedBy: string | null;
  /** Open, or closed but not yet acknowledged. */
  readonly visible: boolean;
}

export interface AlertThresholds {
  /** NEWS2 aggregate at or above which an alert opens (RCP: 5 calls for an urgent response). */
  readonly news2: number;
  /** Also open when one parameter scores 3 (NEWS2 level "low-medium"). */
  readonly news2RedParameter: boolean;
  /** Model probability (0..1) at or above which an alert opens. */
  readonly risk: number;
  /** How long every value must stay below before the alert closes. */
  readonly holdMs: number;
  /** `silent`: the model's risk never opens or keeps an alert (VIGIL_RISK_MODE). Default `shown`. */
  readonly riskMode?: RiskMode;
}

/** The defaults live in core/config.ts (ALERT_DEFAULTS), with the variables that override them. */
export const DEFAULT_ALERT_THRESHOLDS: AlertThresholds = Object.freeze({ ...ALERT_DEFAULTS, riskMode: 'shown' as const });

/**
 * The thresholds a deployment runs with. The risk threshold is, in order: the one configured
 * explicitly (VIGIL_ALERT_RISK_PERCENT), the loaded model's deployed threshold (its card's
 * `deployedThreshold`, chosen where the model was evaluated), else the default.
 */
export function resolveAlertThresholds(
  configured: { news2: number; news2RedParameter: boolean; risk: number | null; holdMs: number },
  options: { riskMode?: RiskMode; model?: { deployedThreshold?: number } } = {},
): AlertThresholds {
  return validateThresholds({
    news2: configured.news2,
    news2RedParameter: configured.news2RedParameter,
    risk: configured.risk ?? options.model?.deployedThreshold ?? ALERT_DEFAULTS.risk,
    holdMs: configured.holdMs,
    riskMode: options.riskMode ?? 'shown',
  });
}

/** Fails fast on thresholds that could never or would always fire. */
export function validateThresholds(thresholds: AlertThresholds): AlertThresholds {
  const problems: { field: string; reason: string }[] = [];
  if (!Number.isInteger(thresholds.news2) || thresholds.news2 < 1 || thresholds.news2 > 20) problems.push({ field: 'news2', reason: 'must be an integer 1..20' });
  if (!(thresholds.risk > 0 && thresholds.risk <= 1)) problems.push({ field: 'risk', reason: 'must be in (0, 1]' });
  if (!Number.isFinite(thresholds.holdMs) || thresholds.holdMs < 0) problems.push({ field: 'holdMs', reason: 'must be a non-negative number of milliseconds' });
  if (problems.length > 0) throw new VigilError('CONFIG_INVALID', 'invalid alert thresholds', { details: problems });
  return Object.freeze({ ...thresholds });
}

/**
 * Which thresholds a patient's latest summary crosses; empty when none. A single red parameter is
 * recognised by the NEWS2 level the scorer assigned (it knows the patient's SpO2 scale); at an
 * aggregate of 5 or more the aggregate threshold covers it with the default settings.
 */
export function crossedThresholds(summary: PatientSummary, thresholds: AlertThresholds): AlertReason[] {
  const reasons: AlertReason[] = [];
  if (summary.news2 && summary.news2.score >= thresholds.news2) reasons.push('news2');
  else if (summary.news2 && thresholds.news2RedParameter && summary.news2.level === 'low-medium') reasons.push('news2-red-parameter');
  const risk = alertableRisk(summary, thresholds);
  if (risk !== null && risk >= thresholds.risk) reasons.push('risk');
  if (summary.news2 && !summary.news2.complete) reasons.push('observations-incomplete');
  return reasons;
}

/** The model's risk as the alert engine may use it: none in silent mode or when not shown. */
export function alertableRisk(summary: PatientSummary, thresholds: AlertThresholds): number | null {
  if (thresholds.riskMode === 'silent') return null;
  const score = shownRisk(summary)?.score;
  return typeof score === 'number' ? score : null;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function alertView(alert: Alert): AlertView {
  return {
    id: alert.id,
    patientId: alert.patientId,
    status: alert.status,
    openedAt: new Date(alert.openedAt).toISOString(),
    closedAt: iso(alert.closedAt),
    reasons: alert.reasons,
    news2Score: alert.news2Score,
    riskScore: alert.riskScore,
    peakNews2: alert.peakNews2,
    peakRisk: alert.peakRisk,
    belowSince: iso(alert.belowSince),
    acknowledgedAt: iso(alert.acknowledgedAt),
    acknowledgedBy: alert.acknowledgedBy,
    visible: isVisible(alert),
  };
}
