/**
 * An alert episode as every store and the engine hold it (the rules that open and close it live
 * with the engine in dashboard-api/alerts/alert.ts). Kept in the kernel because the AlertStore
 * port (core/ports/alert-store.ts) and its adapters need the shape and the visibility rule.
 */
export type AlertReason = 'news2' | 'news2-red-parameter' | 'risk' | 'observations-incomplete';

/** Most urgent first: the ward styles an alert by its first reason in this order. */
export const ALERT_REASON_ORDER: readonly AlertReason[] = ['news2', 'news2-red-parameter', 'risk', 'observations-incomplete'];

export interface Alert {
  readonly id: string;
  readonly patientId: string;
  readonly status: 'open' | 'closed';
  /** Epoch ms (processing time) of the update that opened it. */
  readonly openedAt: number;
  readonly closedAt: number | null;
  /** Why it opened, and every reason seen since while open (ALERT_REASON_ORDER). */
  readonly reasons: readonly AlertReason[];
  readonly news2Score: number | null;
  readonly riskScore: number | null;
  /** Highest values seen while open. */
  readonly peakNews2: number | null;
  readonly peakRisk: number | null;
  /** Since when every value has been below its threshold (null while above). */
  readonly belowSince: number | null;
  readonly acknowledgedAt: number | null;
  readonly acknowledgedBy: string | null;
}

/** `a` then the reasons of `b` it lacks, in ALERT_REASON_ORDER. */
export function mergeReasons(a: readonly AlertReason[], b: readonly AlertReason[]): AlertReason[] {
  return ALERT_REASON_ORDER.filter((r) => a.includes(r) || b.includes(r));
}

/** Only `observations-incomplete`: the least urgent alert, answered by a complete observation set. */
export function isOnlyIncomplete(alert: Pick<Alert, 'reasons'>): boolean {
  return alert.reasons.length > 0 && alert.reasons.every((r) => r === 'observations-incomplete');
}

/** Open, or closed but not yet acknowledged (an alert only for incomplete observations needs none). */
export function isVisible(alert: Alert): boolean {
  return alert.status === 'open' || (alert.acknowledgedAt === null && !isOnlyIncomplete(alert));
}

const maxOf = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.max(a, b));

/**
 * The state a store records when an engine updates an open alert it read earlier (`next`) while
 * another engine may have written since (`stored`): nothing recorded is lost. Reasons are the
 * union and peaks the maximum of both; the rest (latest scores, belowSince, closing) is `next`'s.
 * The identity and the acknowledgement are always the stored ones: an update never opens another
 * episode, and never erases or replaces an acknowledgement.
 */
export function mergeAlertUpdate(stored: Alert, next: Alert): Alert {
  return {
    ...next,
    id: stored.id,
    patientId: stored.patientId,
    openedAt: stored.openedAt,
    reasons: mergeReasons(stored.reasons, next.reasons),
    peakNews2: maxOf(stored.peakNews2, next.peakNews2),
    peakRisk: maxOf(stored.peakRisk, next.peakRisk),
    acknowledgedAt: stored.acknowledgedAt,
    acknowledgedBy: stored.acknowledgedBy,
  };
}
