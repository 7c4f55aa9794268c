import type { FastifyInstance } from 'fastify';
import type { QueryResult } from '../core/ports/warehouse.ts';
import { DEFAULTS } from '../core/defaults.ts';

/** What the route needs of the warehouse: the DuckDB adapter's bounded, SELECT-only query. */
export interface AnalystQueries {
  analystQuery(sql: string, options: { maxRows: number; timeoutMs: number }): Promise<QueryResult & { truncated: boolean }>;
}

export const SQL_MAX_ROWS = 10_000;
export const SQL_DEFAULT_ROWS = DEFAULTS.readApi.sqlRows;
export const SQL_TIMEOUT_MS = 30_000;

/**
 * `POST /v1/sql` (analyst, audited): one SELECT on the warehouse the server holds, so `vigil sql`
 * works while `vigil start` runs. The warehouse is opened locked down (no file, network or
 * extension access, configuration locked) and the query must be a single SELECT; at most
 * `maxRows` rows (`truncated` says when there were more) and `SQL_TIMEOUT_MS` of work. Answers
 * JSON: `{ columns: [{name, type}], rows: [{...}], truncated }`, 64-bit integers as strings and
 * times as ISO 8601; the CLI turns that into a table, CSV, JSON or Arrow.
 */
export function registerSqlRoute(app: FastifyInstance, warehouse: AnalystQueries): void {
  app.post('/v1/sql', {
    config: { access: 'analyst', audit: true },
    schema: {
      body: {
        type: 'object',
        required: ['query'],
        additionalProperties: false,
        properties: {
          query: { type: 'string', minLength: 1, maxLength: 100_000 },
          maxRows: { type: 'integer', minimum: 1, maximum: SQL_MAX_ROWS, default: SQL_DEFAULT_ROWS },
        },
      },
    },
  }, async (request) => {
    const { query, maxRows } = request.body as { query: string; maxRows: number };
    const result = await warehouse.analystQuery(query, { maxRows, timeoutMs: SQL_TIMEOUT_MS });
    return {
      columns: result.columns,
      rows: result.rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, jsonValue(v)]))),
      truncated: result.truncated,
    };
  });
}

function jsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  return value ?? null;
}
