import { ValueReject } from './value-reject.ts';
import { instantOfWallTime } from '../core/domain/time-zone.ts';

/**
 * Dates and timestamps as they appear in hospital CSVs, parsed by declared formats only:
 *
 * - `iso`: `YYYY-MM-DD`, optionally `[T ]HH:MM[:SS[.fff]]` and a zone (`Z`, `+01:00`, `+0100`).
 * - `us`: `M/D/YYYY[ H:MM[:SS]]`, month first (MIMIC-III is a US data set, and the spreadsheet
 *   re-saves of it write US dates). Day-first files are not accepted: 4/5 cannot be told apart.
 *
 * Nothing ambiguous is guessed. A two-digit year (`10/23/64`) is refused unless the caller says
 * which century it is in; a timestamp without a zone is read in the declared IANA zone, and a
 * wall time that zone skips or repeats (daylight-saving changes) is refused.
 */
export type DateFormat = 'iso' | 'us';

export interface DateReadOptions {
  readonly formats: readonly DateFormat[];
  /** IANA zone for timestamps without an offset, e.g. `UTC`, `America/New_York`. */
  readonly timeZone: string;
  /** The first two digits to put before a two-digit year (21 reads 64 as 2164); absent: refuse. */
  readonly century?: number;
}


interface Fields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
  hasTime: boolean;
  /** Minutes east of UTC, when the text carries a zone. */
  offsetMinutes?: number;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}:?\d{2})?)?$/;
const US = /^(\d{1,2})\/(\d{1,2})\/(\d+)(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$/;

/** Reads a TIMESTAMP: an instant, as a Date. */
export function readTimestamp(text: string, options: DateReadOptions): Date | ValueReject {
  const fields = readFields(text, options);
  if (fields instanceof ValueReject) return fields;
  const wall = utcMs(fields.year, fields.month - 1, fields.day, fields.hour, fields.minute, fields.second, fields.millisecond);
  if (fields.offsetMinutes !== undefined) return new Date(wall - fields.offsetMinutes * 60_000);
  if (options.timeZone === 'UTC') return new Date(wall);
  return wallTimeInZone(wall, options.timeZone, text);
}

/** Reads a DATE: a calendar day (a midnight time of day is allowed, any other time is refused). */
export function readDate(text: string, options: DateReadOptions): Date | ValueReject {
  const fields = readFields(text, options);
  if (fields instanceof ValueReject) return fields;
  if (fields.hour || fields.minute || fields.second || fields.millisecond || fields.offsetMinutes) {
    return new ValueReject('time-on-date', `"${text}" has a time of day or zone, the column holds a date`);
  }
  return new Date(utcMs(fields.year, fields.month - 1, fields.day));
}

function readFields(text: string, options: DateReadOptions): Fields | ValueReject {
  let fields: Fields | undefined;
  if (options.formats.includes('iso')) {
    const m = ISO.exec(text);
    if (m) {
      fields = {
        year: Number(m[1]), month: Number(m[2]), day: Number(m[3]),
        hour: Number(m[4] ?? 0), minute: Number(m[5] ?? 0), second: Number(m[6] ?? 0),
        millisecond: m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0,
        hasTime: m[4] !== undefined,
        ...(m[8] ? { offsetMinutes: zoneOffsetMinutes(m[8]) } : {}),
      };
    }
  }
  if (!fields && options.formats.includes('us')) {
    const m = US.exec(text);
    if (m) {
      const yearText = m[3]!;
      let year = Number(yearText);
      if (yearText.length === 2) {
        if (options.century === undefined) {
          return new ValueReject('two-digit-year', `two-digit year "${yearText}" in "${text}": the century is ambiguous (give it with --century)`);
        }
        year = options.century * 100 + year;
      } else if (yearText.length !== 4) {
        return notADate(text, options);
      }
      fields = {
        year, month: Number(m[1]), day: Number(m[2]),
        hour: Number(m[4] ?? 0), minute: Number(m[5] ?? 0), second: Number(m[6] ?? 0), millisecond: 0,
        hasTime: m[4] !== undefined,
      };
    }
  }
  if (!fields) return notADate(text, options);
  const check = new Date(utcMs(fields.year, fields.month - 1, fields.day));
  if (
    fields.month < 1 || fields.month > 12 || check.getUTCDate() !== fields.day || check.getUTCMonth() !== fields.month - 1 ||
    fields.hour > 23 || fields.minute > 59 || fields.second > 59
  ) {
    return new ValueReject('not-a-date', `"${text}" is not a real date or time`);
  }
  return fields;
}

/** Date.UTC, except that the years 0–99 stay themselves (Date.UTC reads them as 1900–1999). */
function utcMs(year: number, monthIndex: number, day: number, hour = 0, minute = 0, second = 0, millisecond = 0): number {
  const date = new Date(0);
  date.setUTCFullYear(year, monthIndex, day);
  date.setUTCHours(hour, minute, second, millisecond);
  return date.getTime();
}

function notADate(text: string, options: DateReadOptions): ValueReject {
  const expected = options.formats.map((f) => (f === 'iso' ? 'YYYY-MM-DD[ HH:MM[:SS]][zone]' : 'M/D/YYYY[ H:MM[:SS]]')).join(' or ');
  return new ValueReject('not-a-date', `"${text}" is not a date in the declared format (${expected})`);
}

function zoneOffsetMinutes(zone: string): number {
  if (zone === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
}

/** Throws a RangeError for a zone name Intl does not know; call once when options are read. */
export function checkTimeZone(timeZone: string): void {
  new Intl.DateTimeFormat('en-US', { timeZone });
}

/** `wallMs` read in `zone`; a skipped or repeated wall time is a reject, never a guess. */
function wallTimeInZone(wallMs: number, zone: string, text: string): Date | ValueReject {
  const instant = instantOfWallTime(wallMs, zone);
  if (instant.ok) return new Date(instant.epochMs);
  return instant.kind === 'gap'
    ? new ValueReject('local-time-gap', `"${text}" does not exist in ${zone} (clocks skipped it)`)
    : new ValueReject('local-time-ambiguous', `"${text}" happened twice in ${zone} (clocks went back); give the offset`);
}
