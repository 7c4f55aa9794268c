import { randomUUID } from 'node:crypto';
import { VigilError } from '../../core/errors.ts';
import type { AuditEntry, AuditLog, AuditQuery } from '../../core/ports/audit-log.ts';
import { auditEntryProblem } from '../../core/ports/audit-log.ts';
import { MAX_MS, SEPARATOR, escapeId, reversedTime, timeRangeKeys } from './bigtable-row-keys.ts';
import type { BigtableRow, BigtableTableOptions } from './bigtable-table.ts';
import { openBigtableTable } from './bigtable-table.ts';
import { backendError } from './google-errors.ts';

/**
 * The shared audit log on Bigtable (core/ports/audit-log.ts), in its own table (`audit` by
 * default) so its retention is not the vitals' 30 days. Why Bigtable rather than a BigQuery
 * table: adapters/gcp/README.md, "Audit log".
 *
 * Each entry is written as three rows holding the same JSON cell, one per way it is read:
 *
 *   t#<reversed ms>#<entryId>              the ward's trail, newest first
 *   p#<patient>#<reversed ms>#<entryId>    one patient's trail (only when the entry names one)
 *   a#<actor>#<reversed ms>#<entryId>      one user's trail
 *
 * in one MutateRows request, so an append costs one round trip. `<entryId>` is a random UUID, so
 * two instances appending in the same millisecond never share a row; a retried append rewrites
 * the same rows and cells (same keys, cell timestamp = the entry's time), so it cannot double.
 * Ids are percent-escaped as in the vitals table (bigtable-row-keys.ts). Nothing is deleted by
 * Vigil's code: the family keeps one version and, with `retentionDays` (VIGIL_AUDIT_RETENTION_DAYS,
 * six years by default), a max-age GC rule expires entries by their time (the cell timestamp);
 * `provision` (re)applies the rule.
 */
export interface BigtableAuditLogOptions extends BigtableTableOptions {
  /** Entries older than this many days are garbage-collected by Bigtable; 0 or absent keeps them. */
  readonly retentionDays?: number;
}

const FAMILY = 'e';
const COLUMN = 'j';
/** Rows read per request when a filter is applied after the scan (patient and actor together). */
const SCAN_PAGE = 500;
type IndexKind = 't' | 'p' | 'a';

function indexPrefix(kind: IndexKind, id?: string): string {
  return kind === 't' ? `t${SEPARATOR}` : `${kind}${SEPARATOR}${escapeId(id!)}${SEPARATOR}`;
}

function keysOf(entry: AuditEntry, entryId: string): string[] {
  const tail = `${reversedTime(entry.at)}${SEPARATOR}${entryId}`;
  return [
    `${indexPrefix('t')}${tail}`,
    ...(entry.patientId === undefined ? [] : [`${indexPrefix('p', entry.patientId)}${tail}`]),
    `${indexPrefix('a', entry.actor)}${tail}`,
  ];
}

/** Only the entry's own fields, in the port's shape, whatever else a future writer stored. */
function entryOf(json: string): AuditEntry {
  const stored = JSON.parse(json) as AuditEntry;
  return {
    at: stored.at, actor: stored.actor, role: stored.role, action: stored.action,
    ...(stored.patientId === undefined ? {} : { patientId: stored.patientId }),
    status: stored.status,
  };
}

export function createBigtableAuditLog(options: BigtableAuditLogOptions): AuditLog {
  const bigtable = openBigtableTable(options, 'audit-log-bigtable', 'the audit log');
  const { table, assertOpen: open } = bigtable;
  const retentionDays = options.retentionDays ?? 0;
  const families = { [FAMILY]: retentionDays > 0 ? { age: { seconds: retentionDays * 86_400 }, versions: 1, union: true } : { versions: 1 } };

  async function scan(start: string, end: string, limit: number): Promise<BigtableRow[]> {
    open();
    try {
      const [found] = await table.getRows({
        ranges: [{ start: { value: start, inclusive: true }, end: { value: end, inclusive: false } }],
        limit,
        filter: [{ column: { cellLimit: 1 } }],
      });
      return found as unknown as BigtableRow[];
    } catch (error) {
      throw backendError(error, 'Bigtable read of the audit log');
    }
  }

  async function list(query: AuditQuery): Promise<AuditEntry[]> {
    open();
    if (query.limit <= 0) return [];
    // The most selective index the query names; the other filter (if any) is applied to what it yields.
    const prefix = query.patientId !== undefined ? indexPrefix('p', query.patientId)
      : query.actor !== undefined ? indexPrefix('a', query.actor)
      : indexPrefix('t');
    const filtered = query.patientId !== undefined && query.actor !== undefined;
    const range = timeRangeKeys(prefix, query.since ?? 0, Math.min(query.until ?? MAX_MS + 1, MAX_MS + 1));
    if (!range) return [];
    const pageSize = filtered ? Math.max(query.limit, SCAN_PAGE) : query.limit;
    const found: AuditEntry[] = [];
    let start = range.start;
    for (;;) {
      const page = await scan(start, range.end, pageSize);
      for (const row of page) {
        const value = row.data[FAMILY]?.[COLUMN]?.[0]?.value;
        if (value === undefined) continue;
        const entry = entryOf(value.toString());
        if (query.actor !== undefined && entry.actor !== query.actor) continue;
        found.push(entry);
        if (found.length === query.limit) return found;
      }
      if (page.length < pageSize) return found;
      // The next page starts right after the last key read.
      start = `${page.at(-1)!.id}\u0000`;
    }
  }

  return {
    kind: 'bigtable',
    provision: () => bigtable.provision(families),
    async append(entry) {
      open();
      const problem = auditEntryProblem(entry);
      if (problem) throw new VigilError('VALIDATION_FAILED', `audit entry ${problem.field} ${problem.reason}`, { details: problem });
      const value = JSON.stringify(entry);
      const cell = { [FAMILY]: { [COLUMN]: { value, timestamp: new Date(entry.at) } } };
      try {
        await table.mutate(keysOf(entry, randomUUID()).map((key) => ({ key, method: 'insert', data: cell })));
      } catch (error) {
        // Some index rows may be written: the entry then shows in some reads, never in none of
        // the ward's trail unless that row failed too. The caller's read fails either way.
        const partial = (error as { name?: string }).name === 'PartialFailureError';
        throw partial
          ? new VigilError('BACKEND_UNAVAILABLE', 'Bigtable append to the audit log: some rows were not written', { cause: error })
          : backendError(error, 'Bigtable append to the audit log');
      }
    },
    list,
    async ping() {
      // Any one row of the ward's trail (or none): the table answers.
      await scan(indexPrefix('t'), 't$', 1);
    },
    close: () => bigtable.close(),
  };
}
