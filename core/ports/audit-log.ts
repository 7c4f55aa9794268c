/**
 * The audit log port: who read or changed which patient's data, and when.
 *
 * The read API appends one entry per call of a patient-data route before it answers, so a read
 * that cannot be recorded is not served (dashboard-api/audit-routes.ts). Every dashboard instance
 * behind a load balancer appends to the same log, and an admin reading it through any instance
 * sees the reads served by all of them; the log outlives every instance.
 *
 * Promises (checked by the contract suite in core/contracts/audit-log-contract.ts):
 * - Append-only: an entry, once `append` resolved, is durable, visible to every handle on the same
 *   log, and never changed by Vigil; it is removed only once older than VIGIL_AUDIT_RETENTION_DAYS
 *   (core/ports/retention.ts: the embedded log's purge, Bigtable's GC rule).
 * - `append` rejects (a retriable VigilError when the backend is unreachable or the handle closed)
 *   instead of dropping an entry; it never resolves without having stored it.
 * - `list` answers newest first (by `at`; entries with the same `at` in any order), filtered by
 *   patient, actor and time window, at most `limit` entries; ids are compared exactly.
 * - Handles appending concurrently lose nothing: every entry of each is visible through the other.
 */
export interface AuditEntry {
  /** Epoch milliseconds (an integer). */
  readonly at: number;
  /** Token subject of the caller. */
  readonly actor: string;
  readonly role: string;
  /** Method and route pattern, e.g. "GET /v1/patients/:patientId/vitals". */
  readonly action: string;
  /** The patient concerned; absent for ward-wide reads such as the list and the stream. */
  readonly patientId?: string;
  /** HTTP status the caller got. */
  readonly status: number;
}

export interface AuditQuery {
  readonly patientId?: string;
  readonly actor?: string;
  /** Epoch milliseconds, inclusive. */
  readonly since?: number;
  /** Epoch milliseconds, exclusive. */
  readonly until?: number;
  /** At most this many entries (the newest). */
  readonly limit: number;
}

export interface AuditLog {
  readonly kind: string;
  /** Creates the table (or file) when missing; idempotent. */
  provision(): Promise<void>;
  append(entry: AuditEntry): Promise<void>;
  /** Newest first. */
  list(query: AuditQuery): Promise<AuditEntry[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Twelve 9s: the largest epoch millisecond an entry may carry (year 2286), as in every store. */
const MAX_AT = 9_999_999_999_999;

/**
 * What every adapter accepts, so a bad entry fails the same way on every backend (a bug in the
 * caller, not a backend fault): VALIDATION_FAILED naming the field and why. Values are not echoed
 * (an actor or patient id is personal data).
 */
export function auditEntryProblem(entry: AuditEntry): { field: string; reason: string } | undefined {
  if (!Number.isInteger(entry.at) || entry.at < 0 || entry.at > MAX_AT) return { field: 'at', reason: `must be an integer epoch millisecond between 0 and ${MAX_AT}` };
  for (const field of ['actor', 'role', 'action'] as const) {
    if (typeof entry[field] !== 'string' || entry[field].length === 0) return { field, reason: 'must be a non-empty string' };
  }
  if (entry.patientId !== undefined && (typeof entry.patientId !== 'string' || entry.patientId.length === 0)) return { field: 'patientId', reason: 'must be a non-empty string when present' };
  if (!Number.isInteger(entry.status)) return { field: 'status', reason: 'must be an integer HTTP status' };
  return undefined;
}
