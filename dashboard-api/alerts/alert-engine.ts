import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { PatientSummary } from '../../core/domain/patient-summary.ts';
import type { PatientUpdates } from '../../core/domain/patient-updates.ts';
import { VigilError } from '../../core/errors.ts';
import type { Logger } from '../../core/observability/logger.ts';
import type { Alert, AlertThresholds, AlertView } from './alert.ts';
import { alertView, alertableRisk, crossedThresholds, isOnlyIncomplete, mergeReasons, validateThresholds } from './alert.ts';
import type { AlertStore } from './alert-store-sqlite.ts';

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const SYSTEM_CLOCK: Clock = Object.freeze({ now: () => Date.now() });

/** Alerts the ward shows at most; older unacknowledged ones are still in the store and `all`. */
export const VISIBLE_ALERTS_MAX = 500;

export interface AlertEngine {
  /** Newest first. `visible`: open or not yet acknowledged (what the ward shows). */
  list(query?: { include?: 'visible' | 'all'; limit?: number }): AlertView[];
  /** The visible alerts: what a newly connected dashboard needs first. */
  current(): AlertView[];
  /** Records who acknowledged the alert and when. Idempotent: the first acknowledgement stands. */
  acknowledge(id: string, by: string): AlertView;
  /** Every change of any alert (opened, settling, closed, acknowledged). Returns the unsubscriber. */
  subscribe(listener: (alert: AlertView) => void): () => void;
  /**
   * Closes the alerts whose hold period has run out without a new update (a patient whose
   * monitor went quiet while below threshold). Runs every `sweepIntervalMs` on its own.
   */
  sweep(): void;
  /** Stops following updates and the sweep timer; the store is the caller's to close. */
  stop(): void;
}

export interface AlertEngineDeps {
  readonly updates: PatientUpdates;
  readonly store: AlertStore;
  readonly thresholds: AlertThresholds;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** How often `sweep` runs by itself (default 15 s; 0 turns the timer off). */
  readonly sweepIntervalMs?: number;
}

const maxOf = (a: number | null, b: number | null | undefined): number | null =>
  b === null || b === undefined ? a : a === null ? b : Math.max(a, b);

/**
 * Turns the stream of patient summaries into alerts (see alert.ts for the rules). One open alert
 * per patient at most; its state is kept in memory for speed and written through to the store
 * on every change, and read back from the store at start, so a restart loses nothing.
 */
export function createAlertEngine(deps: AlertEngineDeps): AlertEngine {
  const { updates, store } = deps;
  const thresholds = validateThresholds(deps.thresholds);
  const clock = deps.clock ?? SYSTEM_CLOCK;
  const emitter = new EventEmitter();
  // One listener per connected dashboard.
  emitter.setMaxListeners(0);
  const open = new Map<string, Alert>();
  for (const alert of store.listOpen()) open.set(alert.patientId, alert);

  const record = (alert: Alert): void => {
    store.save(alert);
    if (alert.status === 'open') open.set(alert.patientId, alert);
    else open.delete(alert.patientId);
    emitter.emit('alert', alertView(alert));
  };

  const evaluate = (summary: PatientSummary): void => {
    // No score yet: nothing is known about this patient's state, so nothing changes.
    const risk = alertableRisk(summary, thresholds);
    if (!summary.news2 && risk === null) return;
    const now = clock.now();
    const reasons = crossedThresholds(summary, thresholds);
    const news2 = summary.news2?.score ?? null;
    const current = open.get(summary.patientId);
    if (reasons.length > 0) {
      if (!current) {
        record({
          id: randomUUID(), patientId: summary.patientId, status: 'open', openedAt: now, closedAt: null, reasons,
          news2Score: news2, riskScore: risk, peakNews2: news2, peakRisk: risk, belowSince: null,
          acknowledgedAt: null, acknowledgedBy: null,
        });
        return;
      }
      const peakNews2 = maxOf(current.peakNews2, news2);
      const peakRisk = maxOf(current.peakRisk, risk);
      const merged = mergeReasons(current.reasons, reasons);
      if (current.belowSince !== null || peakNews2 !== current.peakNews2 || peakRisk !== current.peakRisk || merged.length !== current.reasons.length) {
        record({ ...current, reasons: merged, belowSince: null, peakNews2, peakRisk });
      }
      return;
    }
    if (!current) return;
    if (isOnlyIncomplete(current)) record({ ...current, status: 'closed', closedAt: now, belowSince: current.belowSince ?? now });
    else if (current.belowSince === null) record({ ...current, belowSince: now });
    else closeIfHeld(current, now);
  };

  const closeIfHeld = (alert: Alert, now: number): void => {
    if (alert.belowSince !== null && now - alert.belowSince >= thresholds.holdMs) {
      record({ ...alert, status: 'closed', closedAt: now });
    }
  };

  const unsubscribe = updates.subscribe((summary) => {
    // The publisher is the processor: an alert-store failure must not break its scoring loop.
    try {
      evaluate(summary);
    } catch (error) {
      deps.logger?.error({ err: error }, 'alert evaluation failed; the next update retries');
    }
  });

  const sweep = (): void => {
    const now = clock.now();
    for (const alert of [...open.values()]) closeIfHeld(alert, now);
  };
  const sweepIntervalMs = deps.sweepIntervalMs ?? 15_000;
  const timer = sweepIntervalMs > 0 ? setInterval(() => {
    try {
      sweep();
    } catch (error) {
      deps.logger?.error({ err: error }, 'alert sweep failed');
    }
  }, sweepIntervalMs) : undefined;
  timer?.unref();

  const list: AlertEngine['list'] = (query = {}) =>
    store.list({ visibleOnly: (query.include ?? 'visible') === 'visible', limit: query.limit ?? VISIBLE_ALERTS_MAX }).map(alertView);

  return {
    list,
    current: () => list({ include: 'visible' }),
    acknowledge(id, by) {
      // The store is written through on every change, so it always holds the newest state.
      const alert = store.get(id);
      if (!alert) throw new VigilError('NOT_FOUND', 'no such alert');
      if (alert.acknowledgedAt !== null) return alertView(alert);
      const acknowledged: Alert = { ...alert, acknowledgedAt: clock.now(), acknowledgedBy: by };
      record(acknowledged);
      return alertView(acknowledged);
    },
    subscribe(listener) {
      emitter.on('alert', listener);
      return () => emitter.off('alert', listener);
    },
    sweep,
    stop() {
      unsubscribe();
      if (timer) clearInterval(timer);
    },
  };
}
