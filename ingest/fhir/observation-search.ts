import { ID_PATTERN, MAX_ID_LENGTH } from '../../core/domain/validate-ingest.ts';
import { FhirError } from './operation-outcome.ts';
import type { FhirIssue } from './operation-outcome.ts';
import { LOINC_SYSTEM, OBSERVATION_CATEGORY_SYSTEM } from './observation-to-reading.ts';
import type { ServedVital } from './reading-to-observations.ts';
import { SERVED_VITALS, VITAL_SIGN_DEFINITIONS } from './reading-to-observations.ts';
import { DEFAULTS } from '../../core/defaults.ts';

/**
 * The search parameters of `GET /fhir/Observation`, read strictly: a parameter Vigil does not
 * support is refused (400) rather than silently ignored, since ignoring `date` or `code` would
 * hand the caller more patient data than it asked for.
 *
 * - `patient` (required, one): `<id>` or `Patient/<id>`; `subject` is the same parameter.
 * - `date` (repeatable, each narrows): prefixes `eq` (default), `ge`, `gt`, `le`, `lt` on a
 *   value `YYYY`, `YYYY-MM`, `YYYY-MM-DD` (UTC days) or a time with an offset
 *   (`2026-11-22T10:00:00Z`, minutes or seconds or milliseconds). Each value is the span of its
 *   precision, as FHIR defines: `ge2026-11-22` is from that day's start, `gt2026-11-22` after its
 *   end, `le` up to the end, `lt` before the start.
 * - `code` (comma = or): a LOINC token `8867-4` or `http://loinc.org|8867-4`.
 * - `category`: `vital-signs` (with or without its system); any other category matches nothing.
 * - `_sort`: `date` (default, oldest first) or `-date` (newest first: "the latest vitals").
 * - `_count` (1..1000, default 50) and `_cursor` (from a `next` link).
 */
export const DEFAULT_COUNT = DEFAULTS.readApi.fhirCount;
export const MAX_COUNT = 1000;
const SUPPORTED = new Set(['patient', 'subject', 'date', 'code', 'category', '_sort', '_count', '_cursor', '_format']);
const JSON_FORMATS = new Set(['json', 'application/json', 'application/fhir+json']);

/** A position in the served order: readings by (observedAt, readingId) (both descending under `-date`), then vitals in SERVED_VITALS order. */
export interface SearchPosition {
  readonly observedAt: number;
  readonly readingId: string;
  readonly vitalIndex: number;
}

export interface ObservationSearch {
  readonly patientId: string;
  /** Epoch ms, inclusive. */
  readonly from: number;
  /** Epoch ms, exclusive. */
  readonly to: number;
  /** The vitals the `code` and `category` parameters let through (all when neither is given). */
  readonly vitals: ReadonlySet<ServedVital>;
  readonly count: number;
  /** `_sort=-date`: newest first. */
  readonly newestFirst: boolean;
  /** Serve only what comes after this (the previous page's last entry). */
  readonly after?: SearchPosition;
}

type Query = Readonly<Record<string, string | string[] | undefined>>;

const refuse = (issues: FhirIssue[]): never => {
  throw new FhirError(issues, { status: 400 });
};
const invalid = (parameter: string, diagnostics: string): FhirIssue => ({ code: 'invalid', expression: parameter, diagnostics });
const valuesOf = (query: Query, name: string): string[] => {
  const value = query[name];
  return value === undefined ? [] : [value].flat();
};

/** Reads the query; every problem is reported at once, as a 400 OperationOutcome. `latest` bounds the search (now, plus the ingest's clock skew). */
export function parseObservationSearch(query: Query, latest: number): ObservationSearch {
  const issues: FhirIssue[] = [];
  for (const name of Object.keys(query)) {
    if (!SUPPORTED.has(name)) {
      issues.push({ code: 'not-supported', expression: name, diagnostics: `search parameter "${name.slice(0, 40)}" is not supported; Vigil takes patient, date, code, category, _sort, _count` });
    }
  }
  for (const format of valuesOf(query, '_format')) {
    if (!JSON_FORMATS.has(format)) issues.push({ code: 'not-supported', expression: '_format', diagnostics: 'only JSON is served' });
  }

  const patients = [...valuesOf(query, 'patient'), ...valuesOf(query, 'subject')];
  let patientId: string | undefined;
  if (patients.length === 0) {
    issues.push({ code: 'required', expression: 'patient', diagnostics: 'patient is required: one patient\'s vital signs per search (a ward-wide extract is `vigil export --deidentify`)' });
  } else if (patients.length > 1 || patients[0]!.includes(',')) {
    issues.push(invalid('patient', 'one patient per search'));
  } else {
    const id = patients[0]!.replace(/^Patient\//, '');
    if (id.length === 0 || id.length > MAX_ID_LENGTH || !ID_PATTERN.test(id)) issues.push(invalid('patient', 'patient must be a patient id or Patient/<id> (letters, digits, . _ : @ -, at most 128)'));
    else patientId = id;
  }

  let from = 0;
  let to = latest;
  for (const value of valuesOf(query, 'date')) {
    const bound = readDate(value);
    if ('issue' in bound) {
      issues.push(bound.issue);
      continue;
    }
    from = Math.max(from, bound.from);
    to = Math.min(to, bound.to);
  }

  let vitals = new Set<ServedVital>(SERVED_VITALS);
  for (const value of valuesOf(query, 'code')) {
    const wanted = new Set(value.split(',').flatMap((token) => vitalsOfCode(token)));
    vitals = new Set([...vitals].filter((v) => wanted.has(v)));
  }
  for (const value of valuesOf(query, 'category')) {
    const vitalSigns = value.split(',').some((token) => token === 'vital-signs' || token === `${OBSERVATION_CATEGORY_SYSTEM}|vital-signs`);
    if (!vitalSigns) vitals = new Set();
  }

  let count = DEFAULT_COUNT;
  const counts = valuesOf(query, '_count');
  if (counts.length > 1) issues.push(invalid('_count', '_count may be given once'));
  else if (counts.length === 1) {
    count = /^\d{1,5}$/.test(counts[0]!) ? Number(counts[0]) : Number.NaN;
    if (!(count >= 1 && count <= MAX_COUNT)) issues.push(invalid('_count', `_count must be a whole number from 1 to ${MAX_COUNT}`));
  }

  const sorts = valuesOf(query, '_sort');
  const newestFirst = sorts.length === 1 && sorts[0] === '-date';
  if (sorts.length > 1 || (sorts.length === 1 && sorts[0] !== 'date' && sorts[0] !== '-date')) {
    issues.push({ code: 'not-supported', expression: '_sort', diagnostics: '_sort must be date (oldest first) or -date (newest first)' });
  }

  const cursors = valuesOf(query, '_cursor');
  let after: SearchPosition | undefined;
  if (cursors.length > 1) issues.push(invalid('_cursor', '_cursor may be given once'));
  else if (cursors.length === 1) {
    after = decodeCursor(cursors[0]!);
    if (!after) issues.push(invalid('_cursor', '_cursor is not one Vigil issued; follow the next link as given'));
  }

  if (issues.length > 0 || patientId === undefined) return refuse(issues);
  return { patientId, from, to: Math.max(from, to), vitals, count, newestFirst, ...(after ? { after } : {}) };
}

/** The served vitals a `code` token names: any of their LOINC codings, with or without the LOINC system. */
function vitalsOfCode(token: string): ServedVital[] {
  const bar = token.lastIndexOf('|');
  const system = bar === -1 ? undefined : token.slice(0, bar);
  const code = bar === -1 ? token : token.slice(bar + 1);
  if (system !== undefined && system !== LOINC_SYSTEM) return [];
  return SERVED_VITALS.filter((vital) => VITAL_SIGN_DEFINITIONS[vital].codings.some((c) => c.code === code));
}

const DATE_VALUE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?(Z|[+-]\d{2}:\d{2}))?)?)?$/;

/** One `date` parameter as the [from, to) span of effective times it lets through. */
function readDate(raw: string): { from: number; to: number } | { issue: FhirIssue } {
  const prefix = /^(eq|ne|gt|lt|ge|le|sa|eb|ap)/.exec(raw)?.[1] ?? 'eq';
  // An unencoded `+` of an offset arrives as a space (form decoding): read it as the `+` it was.
  const value = (raw.startsWith(prefix) ? raw.slice(prefix.length) : raw).replace(/ (\d{2}:\d{2})$/, '+$1');
  if (!['eq', 'ge', 'gt', 'le', 'lt'].includes(prefix)) {
    return { issue: { code: 'not-supported', expression: 'date', diagnostics: `date prefix "${prefix}" is not supported; use eq, ge, gt, le or lt` } };
  }
  const span = spanOf(value);
  if (!span) {
    return { issue: invalid('date', `date "${value.slice(0, 40)}" must be YYYY, YYYY-MM, YYYY-MM-DD or a time with an offset (2026-11-22T10:00:00Z); a time without an offset is ambiguous`) };
  }
  switch (prefix) {
    case 'ge': return { from: span.start, to: Number.MAX_SAFE_INTEGER };
    case 'gt': return { from: span.end, to: Number.MAX_SAFE_INTEGER };
    case 'le': return { from: 0, to: span.end };
    case 'lt': return { from: 0, to: span.start };
    default: return { from: span.start, to: span.end };
  }
}

/** The span a date value stands for at its precision: [start, end) in epoch ms. */
function spanOf(value: string): { start: number; end: number } | undefined {
  const m = DATE_VALUE.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, ms, zone] = m;
  const year = Number(y);
  const month = mo === undefined ? 0 : Number(mo) - 1;
  const day = d === undefined ? 1 : Number(d);
  if (month > 11 || day < 1 || day > new Date(Date.UTC(year, month + 1, 0)).getUTCDate()) return undefined;
  if (h === undefined) {
    const start = Date.UTC(year, month, day);
    const end = d !== undefined ? Date.UTC(year, month, day + 1) : mo !== undefined ? Date.UTC(year, month + 1, 1) : Date.UTC(year + 1, 0, 1);
    return { start, end };
  }
  if (Number(h) > 23 || Number(mi) > 59 || (s !== undefined && Number(s) > 59)) return undefined;
  const offsetMinutes = zone === 'Z' ? 0 : (zone!.startsWith('-') ? -1 : 1) * (Number(zone!.slice(1, 3)) * 60 + Number(zone!.slice(4, 6)));
  const millis = ms === undefined ? 0 : Number(ms.padEnd(3, '0'));
  const start = Date.UTC(year, month, day, Number(h), Number(mi), s === undefined ? 0 : Number(s), millis) - offsetMinutes * 60_000;
  const step = ms !== undefined ? 1 : s !== undefined ? 1000 : 60_000;
  return { start, end: start + step };
}

/** The `_cursor` of a next link: opaque to callers, `observedAt.readingId.vitalIndex` inside. */
export function encodeCursor(position: SearchPosition): string {
  return Buffer.from(`${position.observedAt}.${position.readingId}.${position.vitalIndex}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): SearchPosition | undefined {
  if (cursor.length > 400) return undefined;
  const m = /^(\d{1,16})\.([A-Za-z0-9._:@-]{1,200})\.(\d)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) return undefined;
  return { observedAt: Number(m[1]), readingId: m[2]!, vitalIndex: Number(m[3]) };
}

/** True when `a` comes after `b` in the served order (readings newest first when `newestFirst`; a reading's vitals always in SERVED_VITALS order). */
export function isAfter(a: SearchPosition, b: SearchPosition, newestFirst = false): boolean {
  const sign = newestFirst ? -1 : 1;
  if (a.observedAt !== b.observedAt) return sign * (a.observedAt - b.observedAt) > 0;
  if (a.readingId !== b.readingId) return (a.readingId > b.readingId) === !newestFirst;
  return a.vitalIndex > b.vitalIndex;
}
