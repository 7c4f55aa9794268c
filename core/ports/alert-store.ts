import type { Alert } from '../domain/alert.ts';

/**
 * The alert store port: alert episodes and their acknowledgements, shared by every instance that
 * runs an alert engine or serves `/v1/alerts`.
 *
 * Promises (checked by the contract suite in core/contracts/alert-store-contract.ts, run by every
 * adapter, including two handles on one store racing):
 * - `openOnce` is an atomic "open if this patient has no open alert": however many engines offer
 *   an episode for one patient at once, exactly one is opened and every caller gets that one back.
 * - `update` changes an alert only while it is open (`mergeAlertUpdate` in core/domain/alert.ts:
 *   reasons and peaks are never lost to a concurrent writer, the acknowledgement is never touched);
 *   it answers undefined and writes nothing once the alert is closed. Closing frees the patient
 *   for a new episode.
 * - `acknowledge` is first-one-stands: a later acknowledgement, on any instance, changes nothing
 *   and gets the first one back.
 * - Every write resolves once it is durable and visible to every reader on every instance.
 */
export interface AlertStore {
  readonly kind: string;
  /** Creates tables, families or files; idempotent. */
  provision(): Promise<void>;
  /** Opens `candidate` unless its patient has an open alert; answers the patient's open alert. */
  openOnce(candidate: Alert): Promise<{ opened: boolean; alert: Alert }>;
  /** The patient's open alert, if any. */
  openFor(patientId: string): Promise<Alert | undefined>;
  /** Records the new state of an open alert (merged, see above); the stored alert, or undefined when it is no longer open. */
  update(next: Alert): Promise<Alert | undefined>;
  /** First acknowledgement stands; the stored alert afterwards, or undefined when there is no such alert. */
  acknowledge(id: string, at: number, by: string): Promise<Alert | undefined>;
  get(id: string): Promise<Alert | undefined>;
  /** Every alert still open, oldest first. */
  listOpen(): Promise<Alert[]>;
  /** Newest first; `visibleOnly` keeps alerts that are open or not yet acknowledged (isVisible). */
  list(query: { visibleOnly: boolean; limit: number }): Promise<Alert[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
