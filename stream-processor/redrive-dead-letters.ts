import type { RawReading } from '../core/domain/reading.ts';
import type { Bus, OutgoingMessage } from '../core/ports/bus.ts';
import type { Warehouse } from '../core/ports/warehouse.ts';
import { withRetry } from '../core/retry.ts';
import { CONTENT_TYPE_JSON, READING_ATTRIBUTES, decodeReading, encodeReading } from '../core/wire/reading-codec.ts';

/**
 * The redrive of dead letters (`vigil dead-letters list|replay`): finds rows of the warehouse table
 * `dead_letters` and puts the readings they hold back on the readings topic, once whatever sent
 * them there is fixed. Works through the Bus and Warehouse ports only, so on every backend.
 *
 * Replaying is idempotent without any bookkeeping here: a replayed reading keeps its reading id, so
 * the stores keep it once however often it is replayed; a reading that is still refused lands on
 * the same dead-letter row (the row id is a hash of the same bytes).
 */
export interface DeadLetterFilter {
  /** Received at or after this instant (epoch ms). */
  readonly since?: number;
  readonly patientId?: string;
  /** Case-insensitive substring of the reason. */
  readonly reason?: string;
  readonly limit: number;
  /** Skip this many of the ordered matches (paging a replay). */
  readonly offset?: number;
}

export interface DeadLetterRecord {
  readonly deadLetterId: string;
  readonly receivedAt: Date;
  readonly source: string;
  readonly reason: string;
  readonly field: string | null;
  readonly patientId: string | null;
  readonly payload: string;
}

/** Oldest first, so a replay keeps each patient's readings in the order they first arrived. */
export async function findDeadLetters(warehouse: Warehouse, filter: DeadLetterFilter): Promise<DeadLetterRecord[]> {
  const result = await warehouse.namedQuery('dead_letters_oldest', {
    since: new Date(filter.since ?? 0),
    patient_id: filter.patientId ?? '',
    reason: filter.reason ?? '',
  }, { limit: Math.trunc(filter.limit), offset: Math.trunc(filter.offset ?? 0) });
  return result.rows.map((row) => ({
    deadLetterId: String(row.dead_letter_id),
    receivedAt: row.received_at instanceof Date ? row.received_at : new Date(String(row.received_at)),
    source: String(row.source),
    reason: String(row.reason),
    field: typeof row.field === 'string' ? row.field : null,
    patientId: typeof row.patient_id === 'string' ? row.patient_id : null,
    payload: String(row.payload),
  }));
}

export type ReplayPlan =
  | { readonly replay: true; readonly encoding: 'avro' | 'json'; readonly message: OutgoingMessage }
  | { readonly replay: false; readonly skipped: string };

/** Edges that parse their own protocol and answer the sender; what they refused never reached the bus. */
const EDGE_SOURCES = new Set(['hl7v2', 'fhir']);

/**
 * The bus message a dead letter becomes again, as the edge publishes readings: an Avro reading as
 * Avro with the schema attributes, a JSON reading as its original JSON with `content-type:
 * application/json`, each keyed by patient. HL7 v2 and FHIR messages the edge refused are skipped:
 * their sender was told (ACK AE/AR, OperationOutcome) and resends the corrected message, and
 * re-parsing them here would bypass the edge's per-sender authorization and settings.
 */
export function replayPlanFor(letter: DeadLetterRecord): ReplayPlan {
  if (letter.field === null && EDGE_SOURCES.has(letter.source)) {
    return { replay: false, skipped: `refused at the ${letter.source} edge (resend from the sender)` };
  }
  if (letter.payload.startsWith('base64:')) {
    const bytes = Buffer.from(letter.payload.slice('base64:'.length), 'base64');
    try {
      const reading = decodeReading(bytes, READING_ATTRIBUTES);
      return { replay: true, encoding: 'avro', message: { data: bytes, attributes: READING_ATTRIBUTES, orderingKey: reading.patientId } };
    } catch {
      return { replay: false, skipped: 'not a reading (undecodable bytes)' };
    }
  }
  const text = Buffer.from(letter.payload, 'utf8');
  let reading: RawReading;
  try {
    reading = decodeReading(text, { 'content-type': CONTENT_TYPE_JSON });
  } catch {
    return { replay: false, skipped: 'not a reading (no device, patient or observation time)' };
  }
  const avro = avroRecordOf(letter.payload, reading);
  if (avro) return { replay: true, encoding: 'avro', message: { data: avro, attributes: READING_ATTRIBUTES, orderingKey: reading.patientId } };
  return { replay: true, encoding: 'json', message: { data: text, attributes: { 'content-type': CONTENT_TYPE_JSON }, orderingKey: reading.patientId } };
}

/**
 * The processor keeps a refused Avro reading as its decoded record in JSON (dead-letter.ts): every
 * field of the record and nothing else. Such a payload goes back as Avro, byte for byte what the
 * edge published; anything else is JSON as a producer sent it.
 */
function avroRecordOf(payload: string, decoded: RawReading): Buffer | undefined {
  const value = JSON.parse(payload) as Record<string, unknown>;
  const keys = Object.keys(value).sort().join(',');
  if (keys !== Object.keys(decoded).sort().join(',')) return undefined;
  try {
    return encodeReading(value as unknown as RawReading);
  } catch {
    return undefined;
  }
}

export interface ReplaySummary {
  readonly replayed: number;
  readonly byEncoding: Readonly<Record<'avro' | 'json', number>>;
  /** Count per reason a dead letter was not replayed. */
  readonly skipped: ReadonlyMap<string, number>;
}

const PUBLISH_BATCH = 500;

/** Publishes the replayable dead letters in order (nothing when `dryRun`), in batches, retrying a busy bus. */
export async function replayDeadLetters(options: { bus?: Bus; topic: string; letters: readonly DeadLetterRecord[]; dryRun: boolean }): Promise<ReplaySummary> {
  const skipped = new Map<string, number>();
  const byEncoding = { avro: 0, json: 0 };
  const messages: OutgoingMessage[] = [];
  for (const letter of options.letters) {
    const plan = replayPlanFor(letter);
    if (!plan.replay) {
      skipped.set(plan.skipped, (skipped.get(plan.skipped) ?? 0) + 1);
      continue;
    }
    byEncoding[plan.encoding]++;
    messages.push(plan.message);
  }
  if (!options.dryRun && messages.length > 0) {
    const bus = options.bus;
    if (!bus) throw new Error('replayDeadLetters needs a bus unless dryRun');
    for (let start = 0; start < messages.length; start += PUBLISH_BATCH) {
      const batch = messages.slice(start, start + PUBLISH_BATCH);
      await withRetry(() => bus.publish(options.topic, batch), { attempts: 6, initialDelayMs: 100, maxDelayMs: 5_000 });
    }
  }
  return { replayed: messages.length, byEncoding, skipped };
}
