import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { PatientSummary } from '../../core/domain/patient-summary.ts';
import type { PatientUpdates } from '../../core/domain/patient-updates.ts';
import { VigilError } from '../../core/errors.ts';
import type { Logger } from '../../core/observability/logger.ts';
import type { AlertStore } from '../../core/ports/alert-store.ts';
import type { Alert, AlertThresholds, AlertView } from './alert.ts';
import { alertView, alertableRisk, crossedThresholds, isOnlyIncomplete, mergeReasons, validateThresholds } from './alert.ts';
import { createKeyedSerialQueue } from './keyed-serial-queue.ts';
import { DEFAULTS } from '../../core/defaults.ts';

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const SYSTEM_CLOCK: Clock = Object.freeze({ now: () => Date.now() });

/** Alerts the ward shows at most; older unacknowledged ones are still in the store and `all`. */
export const VISIBLE_ALERTS_MAX = 500;

/** How often an engine looks for alert changes made by other instances (VIGIL_ALERT_REFRESH_MS). */
export const DEFAULT_ALERT_REFRESH_MS = DEFAULTS.alerts.refreshMs;

export interface AlertEngine {
  /** Newest first, read from the shared store. `visible`: open or not yet acknowledged (what the ward shows). */
  list(query?: { include?: 'visible' | 'all'; limit?: number }): Promise<AlertView[]>;
  /** The visible alerts as last seen (own changes at once, other instances' within a refresh): what a newly connected dashboard needs first. */
  current(): AlertView[];
  /** Records who acknowledged the alert and when. Idempotent: the first acknowledgement, on any instance, stands. */
  acknowledge(id: string, by: string): Promise<AlertView>;
  /** Every change of any alert (opened, settling, closed, acknowledged), also those made by other instances. Returns the unsubscriber. */
  subscribe(listener: (alert: AlertView) => void): () => void;
  /**
   * Closes the alerts whose hold period has run out without a new update (a patient whose
   * monitor went quiet while below threshold). Runs every `sweepIntervalMs` on its own.
   */
  sweep(): Promise<void>;
  /** Announces alert changes made by other instances. Runs every `refreshIntervalMs` on its own. */
  refresh(): Promise<void>;
  /** Resolves once every update received so far has been evaluated and recorded. */
  idle(): Promise<void>;
  /** Stops following updates and the timers, and waits for evaluations under way; the store is the caller's to close. */
  stop(): Promise<void>;
}

export interface AlertEngineDeps {
  readonly updates: PatientUpdates;
  readonly store: AlertStore;
  readonly thresholds: AlertThresholds;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** How often `sweep` runs by itself (default 15 s; 0 turns the timer off). */
  readonly sweepIntervalMs?: number;
  /** How often `refresh` runs by itself (default DEFAULT_ALERT_REFRESH_MS; 0 turns the timer off). */
  readonly refreshIntervalMs?: number;
}

const maxOf = (a: number | null, b: number | null | undefined): number | null =>
  b === null || b === undefined ? a : a === null ? b : Math.max(a, b);

/** A change that would take an alert back (acknowledged to not, closed to open) comes from a stale read: never shown. */
const isRegression = (before: AlertView, after: AlertView): boolean =>
  (before.acknowledgedAt !== null && after.acknowledgedAt === null) || (before.status === 'closed' && after.status === 'open');

/**
 * Turns the stream of patient summaries into alerts (see alert.ts for the rules). The state lives
 * in the shared store (core/ports/alert-store.ts), so several engines (one per dashboard or
 * processor instance) can run on one ward: each decision reads the patient's open alert from the
 * store, the store opens an episode once per patient however many engines offer one, and updates
 * merge without losing a reason, a peak or an acknowledgement. Within one engine the updates of
 * one patient are evaluated one after the other (a per-patient queue), so two of them never
 * interleave between deciding and recording; different patients run side by side.
 */
export async function createAlertEngine(deps: AlertEngineDeps): Promise<AlertEngine> {
  const { updates, store } = deps;
  const thresholds = validateThresholds(deps.thresholds);
  const clock = deps.clock ?? SYSTEM_CLOCK;
  const emitter = new EventEmitter();
  // One listener per connected dashboard.
  emitter.setMaxListeners(0);
  const queue = createKeyedSerialQueue((error) => deps.logger?.error({ err: error }, 'alert evaluation failed; the next update retries'));
  // What this engine last announced per alert, and the alerts the ward shows (current()).
  const announced = new Map<string, AlertView>();
  const visible = new Map<string, AlertView>();

  const announce = (view: AlertView): void => {
    const before = announced.get(view.id);
    if (before && (JSON.stringify(before) === JSON.stringify(view) || isRegression(before, view))) return;
    announced.set(view.id, view);
    if (view.visible) visible.set(view.id, view);
    else visible.delete(view.id);
    emitter.emit('alert', view);
  };
  const record = async (next: Alert): Promise<void> => {
    const stored = await store.update(next);
    if (stored) announce(alertView(stored));
  };

  const evaluate = async (summary: PatientSummary): Promise<void> => {
    // No score yet: nothing is known about this patient's state, so nothing changes.
    const risk = alertableRisk(summary, thresholds);
    if (!summary.news2 && risk === null) return;
    const now = clock.now();
    const reasons = crossedThresholds(summary, thresholds);
    const news2 = summary.news2?.score ?? null;
    let current = await store.openFor(summary.patientId);
    if (reasons.length > 0) {
      if (!current) {
        const offer: Alert = {
          id: randomUUID(), patientId: summary.patientId, status: 'open', openedAt: now, closedAt: null, reasons,
          news2Score: news2, riskScore: risk, peakNews2: news2, peakRisk: risk, belowSince: null,
          acknowledgedAt: null, acknowledgedBy: null,
        };
        const { opened, alert } = await store.openOnce(offer);
        announce(alertView(alert));
        if (opened) return;
        // Another engine opened this episode first: this update still counts towards it.
        current = alert;
      }
      const peakNews2 = maxOf(current.peakNews2, news2);
      const peakRisk = maxOf(current.peakRisk, risk);
      const merged = mergeReasons(current.reasons, reasons);
      if (current.belowSince !== null || peakNews2 !== current.peakNews2 || peakRisk !== current.peakRisk || merged.length !== current.reasons.length) {
        await record({ ...current, reasons: merged, belowSince: null, peakNews2, peakRisk });
      }
      return;
    }
    if (!current) return;
    if (isOnlyIncomplete(current)) await record({ ...current, status: 'closed', closedAt: now, belowSince: current.belowSince ?? now });
    else if (current.belowSince === null) await record({ ...current, belowSince: now });
    else await closeIfHeld(current, now);
  };

  const closeIfHeld = async (alert: Alert, now: number): Promise<void> => {
    if (alert.belowSince !== null && now - alert.belowSince >= thresholds.holdMs) {
      await record({ ...alert, status: 'closed', closedAt: now });
    }
  };

  const sweep = async (): Promise<void> => {
    for (const alert of await store.listOpen()) {
      queue.run(alert.patientId, async () => {
        const current = await store.openFor(alert.patientId);
        if (current) await closeIfHeld(current, clock.now());
      });
    }
    await queue.idle();
  };

  let refreshing: Promise<void> | undefined;
  const refreshOnce = async (): Promise<void> => {
    const seen = await store.list({ visibleOnly: true, limit: VISIBLE_ALERTS_MAX });
    const ids = new Set(seen.map((a) => a.id));
    for (const alert of seen) announce(alertView(alert));
    // Gone from the visible list (acknowledged and closed elsewhere): announce the final state once.
    for (const id of [...visible.keys()]) {
      if (ids.has(id)) continue;
      const alert = await store.get(id);
      if (alert) announce(alertView(alert));
      visible.delete(id);
    }
    for (const id of [...announced.keys()]) if (!visible.has(id)) announced.delete(id);
  };
  const refresh = (): Promise<void> => (refreshing ??= refreshOnce().finally(() => { refreshing = undefined; }));

  await refresh();
  const unsubscribe = updates.subscribe((summary) => {
    // The publisher is the processor: an alert-store failure must not break its scoring loop.
    queue.run(summary.patientId, () => evaluate(summary));
  });

  const every = (ms: number, what: string, run: () => Promise<void>): NodeJS.Timeout | undefined => {
    if (ms <= 0) return undefined;
    const timer = setInterval(() => {
      run().catch((error: unknown) => deps.logger?.error({ err: error }, `alert ${what} failed`));
    }, ms);
    timer.unref();
    return timer;
  };
  const timers = [
    every(deps.sweepIntervalMs ?? 15_000, 'sweep', sweep),
    every(deps.refreshIntervalMs ?? DEFAULT_ALERT_REFRESH_MS, 'refresh', refresh),
  ];

  const list: AlertEngine['list'] = async (query = {}) =>
    (await store.list({ visibleOnly: (query.include ?? 'visible') === 'visible', limit: query.limit ?? VISIBLE_ALERTS_MAX })).map(alertView);

  return {
    list,
    current: () => [...visible.values()].sort((x, y) => Date.parse(y.openedAt) - Date.parse(x.openedAt)),
    async acknowledge(id, by) {
      const stored = await store.acknowledge(id, clock.now(), by);
      if (!stored) throw new VigilError('NOT_FOUND', 'no such alert');
      const view = alertView(stored);
      announce(view);
      return view;
    },
    subscribe(listener) {
      emitter.on('alert', listener);
      return () => emitter.off('alert', listener);
    },
    sweep,
    refresh,
    idle: () => queue.idle(),
    async stop() {
      unsubscribe();
      for (const timer of timers) if (timer) clearInterval(timer);
      await queue.idle();
      await refreshing;
    },
  };
}
