import { VigilError } from '../core/errors.ts';
import type { TimeRange } from '../core/ports/timeseries-store.ts';
import { parseObservedAt } from '../core/wire/reading-codec.ts';
import { DEFAULTS } from '../core/defaults.ts';

/**
 * The `from`/`to`/`limit` query parameters of the history routes: ISO 8601 with an offset or
 * epoch milliseconds, `from` inclusive and `to` exclusive, by default the last six hours. Any span
 * is allowed: `limit` is what bounds an answer.
 */
export const DEFAULT_SPAN_MS = DEFAULTS.readApi.historySpanMs;
export const DEFAULT_LIMIT = DEFAULTS.readApi.historyLimit;
export const MAX_LIMIT = 20_000;

/** Querystring schema shared by the history routes (Fastify validates it before the handler). */
export const TIME_RANGE_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    from: { type: 'string', maxLength: 64 },
    to: { type: 'string', maxLength: 64 },
    limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT },
  },
} as const;

export function parseInstant(value: string, field: string): number {
  const ms = parseObservedAt(/^\d+$/.test(value) ? Number(value) : value);
  if (ms === undefined) {
    throw new VigilError('VALIDATION_FAILED', `${field} must be ISO 8601 with an offset or epoch milliseconds`, {
      details: [{ field, reason: 'not ISO 8601 with an offset or epoch milliseconds' }],
    });
  }
  return ms;
}

export function parseTimeRange(query: { from?: string; to?: string; limit: number }, now: number): TimeRange & { limit: number } {
  const to = query.to === undefined ? now : parseInstant(query.to, 'to');
  const from = query.from === undefined ? to - DEFAULT_SPAN_MS : parseInstant(query.from, 'from');
  if (from >= to) {
    throw new VigilError('VALIDATION_FAILED', 'from must be before to', { details: [{ field: 'from', reason: 'not before to' }] });
  }
  return { from, to, limit: query.limit };
}
