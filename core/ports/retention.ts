/**
 * Retention: how long Vigil keeps what it stores, and the purge that enforces it where the backend
 * does not expire data itself.
 *
 * The embedded stores (SQLite time series, DuckDB warehouse, audit log, alert store) implement
 * `purgeOlderThan`, and the stream processor calls it every VIGIL_RETENTION_PURGE_INTERVAL_S
 * (stream-processor/retention-purge.ts). At scale the backends expire data themselves, set by
 * `vigil provision`: Bigtable column-family GC rules, BigQuery partition expiration; the buses keep
 * messages only until they are delivered (Kafka `retention.ms`, Pub/Sub message retention), see
 * each adapter's README. Their adapters have no purge method.
 *
 * Promises (checked by core/contracts/retention-contract.ts, run by every adapter that purges):
 * - `purgeOlderThan(cutoff)` removes exactly the records whose time (the store says which: a
 *   reading's `observedAt`, an audit entry's `at`, a closed alert's `closedAt`) is before
 *   `cutoff` (epoch ms, exclusive), and answers how many it removed. Records at or after the
 *   cutoff are untouched; an open alert is never removed.
 * - It is idempotent (a second call with the same cutoff removes nothing) and safe beside writers:
 *   a record written while it runs is not lost.
 */
export interface PurgeResult {
  /** Records removed (rows or entries; the store says which it counts). */
  readonly removed: number;
}

/** A store that enforces retention by deleting (the embedded ones). */
export interface RetentionPurge {
  purgeOlderThan(cutoffMs: number): Promise<PurgeResult>;
}

const DAY_MS = 86_400_000;

/** Retention in days as configured: 0 keeps forever. */
export type RetentionDays = number;

/** The cutoff a purge at `nowMs` uses for `days` of retention, or undefined when 0 (keep forever). */
export function retentionCutoff(nowMs: number, days: RetentionDays): number | undefined {
  return days > 0 ? nowMs - days * DAY_MS : undefined;
}

/** The store's purge, when it has one (embedded adapters do; backends that expire data themselves do not). */
export function purgeOf(store: object | undefined): RetentionPurge | undefined {
  const candidate = store as Partial<RetentionPurge> | undefined;
  return typeof candidate?.purgeOlderThan === 'function' ? (candidate as RetentionPurge) : undefined;
}
