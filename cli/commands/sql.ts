import { writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { Bool, DateDay, Float64, Int64, Table, tableToIPC, Timestamp, TimeUnit, Utf8, vectorFromArray } from 'apache-arrow';
import type { DataType } from 'apache-arrow';
import { stringify } from 'csv-stringify/sync';
import { loadConfig } from '../../core/config.ts';
import type { VigilConfig } from '../../core/config.ts';
import { VigilError } from '../../core/errors.ts';
import { createLogger } from '../../core/observability/logger.ts';
import type { Logger } from '../../core/observability/logger.ts';
import type { QueryResult, Warehouse } from '../../core/ports/warehouse.ts';
import { openWarehouse } from '../wiring/open-backends.ts';
import { auditAnalystCommand } from '../wiring/audit-analyst-command.ts';
import { signToken } from '../../http/auth.ts';
import { SQL_MAX_ROWS, SQL_TIMEOUT_MS } from '../../dashboard-api/sql-route.ts';
import type { CliCommand } from '../command.ts';
import { UsageError, parseCommandArgs } from '../command.ts';

const FORMATS = ['table', 'csv', 'json', 'arrow'] as const;
type Format = (typeof FORMATS)[number];

const help = `Usage: vigil sql "<query>" [--format table|csv|json|arrow] [--out <file>]

Runs one query on the configured warehouse, in its dialect: DuckDB SQL for the embedded
warehouse, GoogleSQL for BigQuery. Tables: patients, admissions, icustays, vitals, risk_scores;
views: patient_unified, icu_waiting_times, vitals_hourly, latest_risk (analytics-sql/README.md).

Options:
  --format <f>   table (default: aligned text), csv (header line, RFC 4180), json (an array of
                 objects; timestamps ISO 8601 UTC, dates YYYY-MM-DD, integers beyond 2^53 as
                 strings), arrow (Arrow IPC stream: pipe it to a file, or read it with pyarrow,
                 DuckDB or polars)
  --out <file>   write to a file instead of stdout
  -h, --help     show this help

Read-only: on DuckDB the file is opened read-only, without access to other files, the network or
extension installs, and with its configuration locked (INSERT, UPDATE, DELETE, DROP, COPY … TO,
ATTACH, read_csv('<path>') and INSTALL are refused). On BigQuery the credentials' IAM role decides:
give analysts roles/bigquery.dataViewer and roles/bigquery.jobUser only. Each query is recorded
in the audit log ($VIGIL_DATA_DIR/audit.sqlite) with the OS user, not the query text.

While "vigil start" holds the DuckDB file, the query goes to that server instead (POST /v1/sql:
one SELECT, at most 10,000 rows and 30 s, audited there), as an analyst: VIGIL_TOKEN, or a
5-minute analyst token signed with VIGIL_AUTH_SECRET; VIGIL_URL (default http://127.0.0.1:$PORT).
It says which path it took on stderr.

Exit status: 0 on success; 65 when the warehouse refuses the query (the message says why); 69
when neither the file nor a server can answer.

Environment: VIGIL_WAREHOUSE (duckdb|bigquery), VIGIL_DATA_DIR (the DuckDB file is
$VIGIL_DATA_DIR/warehouse.duckdb), and the BigQuery variables for VIGIL_WAREHOUSE=bigquery.`;

export interface SqlCommandIo {
  readonly openWarehouse: () => Promise<Warehouse>;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Records that a query ran and how it ended (exit status); never the query text. */
  readonly audit?: (status: number) => Promise<void>;
  /** When the warehouse file is held by a running server: ask that server (`POST /v1/sql`). */
  readonly viaServer?: ServerQuery;
}

export interface ServerQuery {
  readonly url: string;
  run(query: string): Promise<{ ok: true; result: QueryResult; truncated: boolean } | { ok: false; status: number; message: string }>;
}

async function answerViaServer(server: ServerQuery, query: string, format: Format, out: string | undefined, io: SqlCommandIo): Promise<number> {
  io.stderr.write(`vigil sql: the warehouse is held by a running server; asking it read-only (POST ${server.url}/v1/sql, audited there)\n`);
  let answer;
  try {
    answer = await server.run(query);
  } catch (error) {
    io.stderr.write(`vigil sql: cannot reach ${server.url}: ${(error as Error).message}\n`);
    return 69;
  }
  if (!answer.ok) {
    io.stderr.write(`vigil sql: ${answer.message} (HTTP ${answer.status})\n`);
    return answer.status === 400 ? 65 : 69;
  }
  if (answer.truncated) io.stderr.write(`vigil sql: only the first ${answer.result.rows.length} rows (the server's limit)\n`);
  const output = formatResult(answer.result, format);
  if (out) await writeFile(out, output);
  else io.stdout.write(output);
  return 0;
}

/**
 * `POST /v1/sql` on a running server, as an analyst: with VIGIL_TOKEN, or a 5-minute analyst token
 * signed with VIGIL_AUTH_SECRET. JSON values come back as JSON allows; times become Dates again.
 */
export function serverQuery(url: string, token: string): ServerQuery {
  return {
    url,
    async run(query) {
      const res = await fetch(`${url}/v1/sql`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ query, maxRows: SQL_MAX_ROWS }),
        signal: AbortSignal.timeout(SQL_TIMEOUT_MS + 10_000),
      });
      const body = (await res.json()) as { error?: string; columns?: QueryResult['columns']; rows?: QueryResult['rows']; truncated?: boolean };
      if (!res.ok) return { ok: false, status: res.status, message: body.error ?? 'refused' };
      const columns = body.columns ?? [];
      const times = columns.filter((c) => c.type === 'TIMESTAMP' || c.type === 'DATE').map((c) => c.name);
      const rows = (body.rows ?? []).map((row) => {
        const copy = { ...row };
        for (const name of times) if (typeof copy[name] === 'string') copy[name] = new Date(copy[name]);
        return copy;
      });
      return { ok: true, result: { columns, rows }, truncated: body.truncated === true };
    },
  };
}

/** `vigil sql` with the warehouse and output streams as parameters (what the tests drive). */
export async function runSql(argv: readonly string[], io: SqlCommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { format: { type: 'string', short: 'f' }, out: { type: 'string', short: 'o' } }, true);
  if (positionals.length !== 1) throw new UsageError('give the query as one argument (quote it)');
  const format = (values.format ?? 'table') as Format;
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`);
  const query = positionals[0]!;
  let warehouse: Warehouse;
  try {
    warehouse = await io.openWarehouse();
  } catch (error) {
    if (!(error instanceof VigilError && error.code === 'BACKEND_UNAVAILABLE')) throw error;
    if (io.viaServer) return answerViaServer(io.viaServer, query, format, values.out, io);
    io.stderr.write(`vigil sql: ${error.message}\n(a running "vigil start" holds the embedded warehouse: stop it, or query a copy of the file)\n`);
    await io.audit?.(69);
    return 69;
  }
  let result: QueryResult;
  try {
    result = await warehouse.query(query);
  } catch (error) {
    if (error instanceof VigilError && (error.code === 'BACKEND_REJECTED' || error.code === 'VALIDATION_FAILED')) {
      io.stderr.write(`vigil sql: ${error.message}\n`);
      await io.audit?.(65);
      return 65;
    }
    throw error;
  } finally {
    await warehouse.close();
  }
  await io.audit?.(0);
  const output = formatResult(result, format);
  if (values.out) await writeFile(values.out, output);
  else io.stdout.write(output);
  return 0;
}

export function formatResult(result: QueryResult, format: Format): string | Uint8Array {
  switch (format) {
    case 'table':
      return formatTable(result);
    case 'csv':
      return stringify(
        result.rows.map((row) => result.columns.map((c) => toText(row[c.name], c.type) ?? '')),
        { header: true, columns: result.columns.map((c) => c.name) },
      );
    case 'json':
      return `[${result.rows.map((row) => JSON.stringify(Object.fromEntries(result.columns.map((c) => [c.name, toJson(row[c.name], c.type)])))).join(',\n ')}]\n`;
    case 'arrow':
      return toArrowStream(result);
  }
}

function toText(value: unknown, type: string): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return type === 'DATE' ? value.toISOString().slice(0, 10) : value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  return String(value);
}

function toJson(value: unknown, type: string): unknown {
  if (value instanceof Date || typeof value === 'bigint') return toText(value, type);
  return value ?? null;
}

function formatTable(result: QueryResult): string {
  const header = result.columns.map((c) => c.name);
  const body = result.rows.map((row) => result.columns.map((c) => toText(row[c.name], c.type) ?? 'NULL'));
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i]!.length)));
  const numeric = result.columns.map((c) => c.type === 'INT64' || c.type === 'FLOAT64');
  const line = (cells: readonly string[]) =>
    cells.map((cell, i) => (numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const footer = `(${result.rows.length} row${result.rows.length === 1 ? '' : 's'})`;
  return `${[line(header), rule, ...body.map(line), footer].join('\n')}\n`;
}

/** An Arrow IPC stream with types from the result's column types (schema types, UTC timestamps). */
export function toArrowStream(result: QueryResult): Uint8Array {
  const vectors = Object.fromEntries(
    result.columns.map((c) => {
      const values = result.rows.map((row) => row[c.name] ?? null);
      const [type, convert] = arrowTypeFor(c.type);
      return [c.name, vectorFromArray(values.map((v) => (v === null ? null : convert(v))), type)];
    }),
  );
  return tableToIPC(new Table(vectors), 'stream');
}

function arrowTypeFor(type: string): [DataType, (value: unknown) => unknown] {
  switch (type) {
    case 'INT64':
      return [new Int64(), (v) => BigInt(v as number | bigint)];
    case 'FLOAT64':
      return [new Float64(), (v) => Number(v)];
    case 'BOOL':
      return [new Bool(), (v) => Boolean(v)];
    case 'TIMESTAMP':
      return [new Timestamp(TimeUnit.MILLISECOND, 'UTC'), (v) => (v as Date).getTime()];
    case 'DATE':
      return [new DateDay(), (v) => (v as Date).getTime()];
    default:
      return [new Utf8(), (v) => toText(v, type)];
  }
}

/** What `vigil sql` opens: the warehouse read-only, and the audit log it records each query in. */
export function analystAccess(config: VigilConfig, logger: Logger, env: NodeJS.ProcessEnv = process.env): Pick<SqlCommandIo, 'openWarehouse' | 'audit' | 'viaServer'> {
  const token = env.VIGIL_TOKEN || (config.auth.generated ? undefined : signToken(config.auth.secret, {
    sub: `os:${userInfo().username}`, role: 'analyst', expiresIn: 300, audience: config.auth.audience, issuer: config.auth.issuer,
  }));
  const url = (env.VIGIL_URL || `http://127.0.0.1:${config.http.port}`).replace(/\/+$/, '');
  return {
    openWarehouse: () => openWarehouse(config, logger, { readOnly: true }),
    audit: (status) => auditAnalystCommand(config, logger, 'vigil sql', status),
    ...(config.warehouse.kind === 'duckdb' && token ? { viaServer: serverQuery(url, token) } : {}),
  };
}

const sql: CliCommand = {
  name: 'sql',
  summary: 'run SQL on the configured warehouse',
  help,
  run(argv) {
    const config = loadConfig();
    const logger = createLogger({ level: config.logLevel, name: 'vigil-sql' });
    return runSql(argv, { ...analystAccess(config, logger), stdout: process.stdout, stderr: process.stderr });
  },
};

export default sql;
