import { loadConfig } from '../../core/config.ts';
import { isAcceptableId } from '../../core/domain/validate-ingest.ts';
import { VigilError } from '../../core/errors.ts';
import { createLogger } from '../../core/observability/logger.ts';
import type { Bus } from '../../core/ports/bus.ts';
import type { Warehouse } from '../../core/ports/warehouse.ts';
import { parseObservedAt } from '../../core/wire/reading-codec.ts';
import { openBus, openWarehouse } from '../wiring/open-backends.ts';
import type { DeadLetterFilter, DeadLetterRecord } from '../../stream-processor/redrive-dead-letters.ts';
import { findDeadLetters, replayDeadLetters } from '../../stream-processor/redrive-dead-letters.ts';
import type { CliCommand } from '../command.ts';
import { UsageError, parseCommandArgs } from '../command.ts';

const LIST_DEFAULT_LIMIT = 1_000;
/** Dead letters read and published per round of a replay. */
const REPLAY_PAGE = 1_000;

const FILTERS = `Filters (all optional, combined with AND):
  --since <time>     received at or after this instant: ISO 8601 with an offset, or epoch ms
  --patient <id>     filed under this patient (an id ingest accepts)
  --reason <text>    the reason contains this text (case-insensitive)
  --limit <n>        at most n dead letters, oldest first (list: default ${LIST_DEFAULT_LIMIT},
                     and it says when more match; replay: default all, in pages of ${REPLAY_PAGE})
  -h, --help         show this help`;

const LOCK = `While "vigil start" (or any process) holds the embedded DuckDB warehouse, this command
cannot open it: it says so and exits 69; stop the server first (readers can use the admin route
GET /v1/dead-letters meanwhile).`;

const LIST_HELP = `Usage: vigil dead-letters list [filters] [--json]

Lists the dead letters (warehouse table dead_letters): id, received_at, reason, patient_id,
source and payload size. The payload itself can hold patient data: it is printed only with
--json (full rows, one JSON object per line), for an operator.

${FILTERS}
  --json             full rows including the payload, as JSON lines

${LOCK}`;

const REPLAY_HELP = `Usage: vigil dead-letters replay [filters] [--dry-run]

Puts the matching dead letters back on the readings topic, once the cause that dead-lettered
them is fixed, as the edge publishes readings: Avro readings as Avro (schema attributes), JSON
readings as their original JSON (content-type: application/json), keyed by patient.

Skipped, and counted by reason: HL7 v2 and FHIR messages the edge refused (their sender was
answered AE/AR or an OperationOutcome and resends the corrected message; replaying them here
would bypass the edge's per-sender checks), and payloads that are not a reading at all.

Idempotent: a replayed reading keeps its reading id, so the stores keep it once however often it
is replayed; a reading still refused lands on the same dead-letter row again. Replaying does not
delete or mark the dead letter.

${FILTERS}
  --dry-run          count what would be replayed and skipped, publish nothing

${LOCK}`;

const help = `Usage: vigil dead-letters list|replay [--since <time>] [--patient <id>] [--reason <text>]

Lists the input the pipeline could not use, and replays it onto the readings topic once its cause
is fixed. Works on every bus (embedded, Pub/Sub, Kafka) and warehouse (DuckDB, BigQuery).

Run "vigil dead-letters <list|replay> --help" for the options.

Exit status: 0 on success; 69 when the warehouse or bus cannot be opened.`;

const SUBCOMMAND_HELP: Readonly<Record<string, string>> = { list: LIST_HELP, replay: REPLAY_HELP };

export interface DeadLettersIo {
  readonly openWarehouse: () => Promise<Warehouse>;
  readonly openBus: () => Promise<Bus>;
  readonly readingsTopic: string;
  /** BigQuery dataset (config.warehouse.bigqueryDataset); unused on DuckDB. */
  readonly dataset: string;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Dead letters per round of a replay (default REPLAY_PAGE; tests make it small to page). */
  readonly replayPage?: number;
}

/** `vigil dead-letters` with its backends and streams as parameters (what the tests drive). */
export async function runDeadLetters(argv: readonly string[], io: DeadLettersIo): Promise<number> {
  const [subcommand, ...rest] = argv;
  if (subcommand !== 'list' && subcommand !== 'replay') {
    throw new UsageError(subcommand === undefined ? 'a subcommand is needed: list or replay' : `unknown subcommand "${subcommand}" (expected list or replay)`);
  }
  const { values } = parseCommandArgs(rest, {
    since: { type: 'string' }, patient: { type: 'string' }, reason: { type: 'string' }, limit: { type: 'string' },
    json: { type: 'boolean' }, 'dry-run': { type: 'boolean' },
  });
  if (subcommand === 'list' && values['dry-run'] === true) throw new UsageError('--dry-run is an option of replay');
  if (subcommand === 'replay' && values.json === true) throw new UsageError('--json is an option of list');
  const limit = parseLimit(values.limit);
  const filter = parseFilter(values);

  if (subcommand === 'list') {
    // One more than asked, to say when more match than were printed.
    const found = await withWarehouse(io, (warehouse) => findDeadLetters(warehouse, { ...filter, limit: (limit ?? LIST_DEFAULT_LIMIT) + 1 }));
    if (found === undefined) return 69;
    const letters = found.slice(0, limit ?? LIST_DEFAULT_LIMIT);
    if (values.json === true) {
      for (const letter of letters) io.stdout.write(`${JSON.stringify({ ...letter, receivedAt: letter.receivedAt.toISOString() })}\n`);
    } else {
      io.stdout.write(listTable(letters));
    }
    if (found.length > letters.length) io.stderr.write(`vigil dead-letters: more match than the ${letters.length} shown (oldest first): narrow with --since, --patient or --reason, or raise --limit\n`);
    return 0;
  }

  const dryRun = values['dry-run'] === true;
  let bus: Bus | undefined;
  if (!dryRun) {
    try {
      bus = await io.openBus();
    } catch (error) {
      io.stderr.write(`vigil dead-letters: cannot open the bus: ${(error as Error).message}\n`);
      return 69;
    }
  }
  try {
    const totals = await withWarehouse(io, (warehouse) => replayAll(warehouse, bus, { io, filter, limit, dryRun }));
    if (totals === undefined) return 69;
    const verb = dryRun ? 'would replay' : 'replayed';
    io.stdout.write(`${verb} ${totals.replayed} of ${totals.found} dead letters onto ${io.readingsTopic} (avro ${totals.byEncoding.avro}, json ${totals.byEncoding.json})\n`);
    const skippedTotal = [...totals.skipped.values()].reduce((a, b) => a + b, 0);
    io.stdout.write(`skipped ${skippedTotal}\n`);
    for (const [why, count] of totals.skipped) io.stdout.write(`  ${count}  ${why}\n`);
    return 0;
  } finally {
    await bus?.close();
  }
}

/**
 * Every matching dead letter (or the first `limit`), a page at a time, each page published before
 * the next is read: memory stays bounded however many there are.
 */
async function replayAll(warehouse: Warehouse, bus: Bus | undefined, options: { io: DeadLettersIo; filter: Omit<DeadLetterFilter, 'limit'>; limit: number | undefined; dryRun: boolean }) {
  const totals = { found: 0, replayed: 0, byEncoding: { avro: 0, json: 0 }, skipped: new Map<string, number>() };
  for (;;) {
    const pageSize = options.io.replayPage ?? REPLAY_PAGE;
    const remaining = options.limit === undefined ? pageSize : Math.min(pageSize, options.limit - totals.found);
    if (remaining <= 0) break;
    const page = await findDeadLetters(warehouse, { ...options.filter, limit: remaining, offset: totals.found });
    const summary = await replayDeadLetters({ ...(bus ? { bus } : {}), topic: options.io.readingsTopic, letters: page, dryRun: options.dryRun });
    totals.found += page.length;
    totals.replayed += summary.replayed;
    totals.byEncoding.avro += summary.byEncoding.avro;
    totals.byEncoding.json += summary.byEncoding.json;
    for (const [why, count] of summary.skipped) totals.skipped.set(why, (totals.skipped.get(why) ?? 0) + count);
    if (page.length < remaining) break;
  }
  return totals;
}

function parseLimit(value: string | boolean | undefined): number | undefined {
  if (typeof value !== 'string') return undefined;
  const limit = Number(value);
  if (!Number.isSafeInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive integer');
  return limit;
}

function parseFilter(values: { since?: string | boolean; patient?: string | boolean; reason?: string | boolean }): Omit<DeadLetterFilter, 'limit'> {
  const text = (v: string | boolean | undefined) => (typeof v === 'string' ? v : undefined);
  const sinceText = text(values.since);
  const patient = text(values.patient);
  const reason = text(values.reason);
  let since: number | undefined;
  if (sinceText !== undefined) {
    since = parseObservedAt(/^\d+$/.test(sinceText) ? Number(sinceText) : sinceText);
    if (since === undefined) throw new UsageError('--since must be ISO 8601 with an offset (e.g. 2026-12-04T09:00:00Z) or epoch milliseconds');
  }
  if (patient !== undefined && !isAcceptableId(patient)) throw new UsageError('--patient is not an id ingest accepts');
  if (reason !== undefined && reason.length === 0) throw new UsageError('--reason needs some text');
  return { ...(since !== undefined ? { since } : {}), ...(patient !== undefined ? { patientId: patient } : {}), ...(reason !== undefined ? { reason } : {}) };
}

/** Runs `read` on the warehouse; undefined (after saying why) when it cannot be opened, e.g. held by `vigil start`. */
async function withWarehouse<T>(io: DeadLettersIo, read: (warehouse: Warehouse) => Promise<T>): Promise<T | undefined> {
  let warehouse: Warehouse;
  try {
    warehouse = await io.openWarehouse();
  } catch (error) {
    if (!(error instanceof VigilError && error.code === 'BACKEND_UNAVAILABLE')) throw error;
    // DuckDB names the lock when another process (a running `vigil start`) holds the file.
    const hint = /lock/i.test(error.message)
      ? '(a running "vigil start" holds the embedded warehouse: stop it first; GET /v1/dead-letters on the server lists them meanwhile)'
      : '(check VIGIL_DATA_DIR and the warehouse settings)';
    io.stderr.write(`vigil dead-letters: ${error.message}\n${hint}\n`);
    return undefined;
  }
  try {
    return await read(warehouse);
  } finally {
    await warehouse.close();
  }
}

function listTable(letters: readonly DeadLetterRecord[]): string {
  const header = ['id', 'received_at', 'source', 'patient_id', 'bytes', 'reason'];
  const rows = letters.map((l) => [l.deadLetterId, l.receivedAt.toISOString(), l.source, l.patientId ?? '-', String(Buffer.byteLength(l.payload)), l.reason]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return `${[line(header), ...rows.map(line), `(${letters.length} dead letter${letters.length === 1 ? '' : 's'})`].join('\n')}\n`;
}

const deadLetters: CliCommand & { helpFor(argv: readonly string[]): string } = {
  name: 'dead-letters',
  summary: 'list dead letters, and replay them onto the readings topic once fixed',
  help,
  helpFor: (argv) => SUBCOMMAND_HELP[argv[0] ?? ''] ?? help,
  run(argv) {
    const config = loadConfig();
    const logger = createLogger({ level: config.logLevel, name: 'vigil-dead-letters' });
    return runDeadLetters(argv, {
      openWarehouse: () => openWarehouse(config, logger, { readOnly: true }),
      openBus: () => openBus(config, logger),
      readingsTopic: config.bus.readingsTopic,
      dataset: config.warehouse.bigqueryDataset,
      stdout: process.stdout,
      stderr: process.stderr,
    });
  },
};

export default deadLetters;
