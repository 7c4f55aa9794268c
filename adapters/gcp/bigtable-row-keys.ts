import { VigilError } from '../../core/errors.ts';

/**
 * Row keys of the Bigtable time-series table (the design is explained in adapters/gcp/README.md).
 *
 *   r#<patient>#<reversed ms>#<readingId>   one reading        family v
 *   s#<patient>#<reversed ms>               one risk scoring   family s
 *   p#<patient>                             the profile        family p
 *   i#<patient>                             "has readings"     family i (listPatients)
 *
 * `<patient>` is the patient id with `%` and `#` percent-escaped, so it never contains the
 * separator: the prefix `r#P1#` can only match P1's rows, never P10's or "P1#"'s. Time is
 * reversed (MAX_MS - ms, zero-padded to 13 digits), so a patient's newest row sorts first: "latest"
 * is the first row under the prefix and "the last 6 h" is one contiguous scan from its start.
 */
export const SEPARATOR = '#';
/** Sorts right after the separator: the exclusive end of "every key starting with X#". */
const AFTER_SEPARATOR = '$';
/** The largest epoch millisecond a key can hold (year 2286); 13 digits. */
export const MAX_MS = 9_999_999_999_999;
const TIME_DIGITS = 13;

export type RowKind = 'r' | 's' | 'p' | 'i';

export function escapeId(id: string): string {
  return id.replaceAll('%', '%25').replaceAll('#', '%23');
}

export function unescapeId(escaped: string): string {
  return escaped.replaceAll('%23', '#').replaceAll('%25', '%');
}

export function reversedTime(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_MS) {
    throw new VigilError('VALIDATION_FAILED', `time ${ms} cannot be stored (epoch ms between 0 and ${MAX_MS})`);
  }
  return String(MAX_MS - ms).padStart(TIME_DIGITS, '0');
}

/** `r#<patient>#` and friends: every row of one patient of one kind starts with it. */
export function patientPrefix(kind: RowKind, patientId: string): string {
  return `${kind}${SEPARATOR}${escapeId(patientId)}${SEPARATOR}`;
}

export function readingKey(patientId: string, observedAt: number, readingId: string): string {
  return `${patientPrefix('r', patientId)}${reversedTime(observedAt)}${SEPARATOR}${readingId}`;
}

export function scoreKey(patientId: string, scoredAt: number): string {
  return `${patientPrefix('s', patientId)}${reversedTime(scoredAt)}`;
}

export function profileKey(patientId: string): string {
  return `p${SEPARATOR}${escapeId(patientId)}`;
}

export function indexKey(patientId: string): string {
  return `i${SEPARATOR}${escapeId(patientId)}`;
}

export const INDEX_PREFIX = `i${SEPARATOR}`;

export function patientOfIndexKey(key: string): string {
  return unescapeId(key.slice(INDEX_PREFIX.length));
}

/** Inclusive start and exclusive end keys; undefined when no time can fall in the range. */
export interface KeyRange {
  readonly start: string;
  readonly end: string;
}

/**
 * The keys of one patient's rows with `from <= time < to`. Reversed time turns the newest time
 * of the range into the start key and the oldest into the end key.
 */
export function timeRangeKeys(prefix: string, from: number, to: number): KeyRange | undefined {
  const newest = Math.min(Math.ceil(to) - 1, MAX_MS);
  const oldest = Math.max(Math.ceil(from), 0);
  if (newest < oldest) return undefined;
  return { start: `${prefix}${reversedTime(newest)}`, end: `${prefix}${reversedTime(oldest)}${AFTER_SEPARATOR}` };
}
