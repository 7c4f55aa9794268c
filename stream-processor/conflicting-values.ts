import type { DeliveredMessage } from '../core/ports/bus.ts';
import type { IndexedConflict } from '../core/ports/timeseries-store.ts';
import type { DeadLetter } from './dead-letter.ts';
import { conflictingValueDeadLetter } from './dead-letter.ts';
import type { ParsedBatch, ReadingOrigin } from './parse-batch.ts';

/**
 * Conflicting values the time-series store reported (a value that differs from one the reading
 * already held, core/domain/merge-reading.ts) as dead letters with reason `conflicting-value`, one
 * per message that offered any, naming the vitals. A redelivered conflicting message gives the
 * same dead-letter id, so one row.
 */
export function conflictDeadLetters(parsed: Pick<ParsedBatch, 'origins'>, conflicts: readonly IndexedConflict[]): DeadLetter[] {
  const byMessage = new Map<DeliveredMessage, { origin: ReadingOrigin; vitals: string[] }>();
  for (const conflict of conflicts) {
    const origin = parsed.origins[conflict.index];
    if (!origin) continue;
    const entry = byMessage.get(origin.message) ?? { origin, vitals: [] };
    entry.vitals.push(conflict.vital);
    byMessage.set(origin.message, entry);
  }
  return [...byMessage.values()].map(({ origin, vitals }) => conflictingValueDeadLetter(origin.message, origin.raw, vitals));
}
