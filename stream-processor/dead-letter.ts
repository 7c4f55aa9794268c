import { createHash } from 'node:crypto';
import type { ReadingProblem } from '../core/domain/normalize-reading.ts';
import type { RawReading } from '../core/domain/reading.ts';
import type { DeliveredMessage } from '../core/ports/bus.ts';
import { VigilError } from '../core/errors.ts';
import type { WarehouseRow } from '../core/ports/warehouse.ts';

/**
 * A message the processor could not turn into a reading, as it lands in the warehouse table
 * `dead_letters`: the reason, the field and the original bytes, so nothing is silently lost.
 */
export interface DeadLetter {
  /** Deterministic from the message content: a redelivered or re-sent message gives the same id and one row. */
  readonly deadLetterId: string;
  readonly receivedAt: number;
  readonly source: string;
  readonly reason: string;
  readonly field: string | null;
  readonly patientId: string | null;
  readonly payload: string;
  /** Low-cardinality label for the dead-letter metric, e.g. "undecodable:payload", "implausible:heartRate". */
  readonly metricReason: string;
}

/** The message could not be decoded at all (not Avro of our schema, not JSON, no identity). */
export function undecodableDeadLetter(message: DeliveredMessage, error: unknown): DeadLetter {
  const field = error instanceof VigilError && isFieldDetails(error.details) ? error.details.field : 'payload';
  const reason = error instanceof VigilError ? error.message : 'payload could not be decoded';
  return {
    deadLetterId: deadLetterIdOf(message),
    receivedAt: message.publishedAt.getTime(),
    source: 'bus',
    reason,
    field,
    patientId: null,
    payload: payloadText(message.data),
    metricReason: `undecodable:${field}`,
  };
}

/** The message decoded but a vital is malformed or implausible (normalize-reading.ts). */
export function rejectedDeadLetter(message: DeliveredMessage, raw: RawReading, problems: readonly ReadingProblem[]): DeadLetter {
  const first = problems[0]!;
  return {
    deadLetterId: deadLetterIdOf(message),
    receivedAt: raw.receivedAt,
    source: raw.source,
    reason: problems.map((p) => `${p.field} ${p.reason}`).join('; '),
    field: [...new Set(problems.map((p) => p.field))].join(','),
    patientId: raw.patientId,
    // The decoded record is the same data as the Avro bytes, and readable in SQL and on the dashboard.
    payload: isJson(message) ? payloadText(message.data) : JSON.stringify(raw),
    metricReason: `${first.kind}:${first.field}`,
  };
}

/** The reason of a value that differs from the one its reading already holds (core/domain/merge-reading.ts). */
export const CONFLICTING_VALUE = 'conflicting-value';

/**
 * The message offered values for vitals its reading already held, different from the held ones:
 * those values are kept here, not stored; the rest of the message merged. `field` names the vitals.
 */
export function conflictingValueDeadLetter(message: DeliveredMessage, raw: RawReading, vitals: readonly string[]): DeadLetter {
  const fields = [...new Set(vitals)];
  return {
    deadLetterId: deadLetterIdOf(message),
    receivedAt: raw.receivedAt,
    source: raw.source,
    reason: CONFLICTING_VALUE,
    field: fields.join(','),
    patientId: raw.patientId,
    payload: isJson(message) ? payloadText(message.data) : JSON.stringify(raw),
    metricReason: `${CONFLICTING_VALUE}:${fields[0]}`,
  };
}

export function deadLetterRow(letter: DeadLetter): WarehouseRow {
  return {
    dead_letter_id: letter.deadLetterId,
    received_at: new Date(letter.receivedAt),
    source: letter.source,
    reason: letter.reason,
    field: letter.field,
    patient_id: letter.patientId,
    payload: letter.payload,
  };
}

/**
 * Hash of the content type and bytes, not the bus message id: a device that re-sends the same bad
 * reading (a new bus message each time) still gives one dead letter.
 */
function deadLetterIdOf(message: DeliveredMessage): string {
  return createHash('sha256')
    .update(message.attributes['content-type'] ?? '')
    .update('\u0000')
    .update(message.data)
    .digest('hex')
    .slice(0, 32);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 text when the bytes are valid UTF-8 JSON (readable in SQL), else `base64:` and the bytes (Avro). */
export function payloadText(data: Uint8Array): string {
  try {
    const text = strictUtf8.decode(data);
    JSON.parse(text);
    return text;
  } catch {
    return `base64:${Buffer.from(data).toString('base64')}`;
  }
}

function isJson(message: DeliveredMessage): boolean {
  return (message.attributes['content-type'] ?? '').startsWith('application/json');
}

function isFieldDetails(details: unknown): details is { field: string } {
  return typeof details === 'object' && details !== null && typeof (details as { field?: unknown }).field === 'string';
}
