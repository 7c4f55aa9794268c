import { instantOfWallTime } from '../../domain/time-zone.ts';

/**
 * HL7 v2 timestamps (TS / DTM): `YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]`.
 *
 * A time without its offset is local time of an unknown zone; guessing it would put readings hours
 * off, so such a time is refused (the sender gets AE and can configure its offset), unless the
 * sender's settings name its zone. A date
 * without a time is refused too: a vital sign needs a moment, not a day.
 */
export type Hl7TimeResult = { ok: true; epochMs: number } | { ok: false; reason: string };

const TS = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:\.(\d{1,4}))?(?:([+-])(\d{2})(\d{2}))?$/;
const TS_WITHOUT_OFFSET = /^\d{8,14}(\.\d{1,4})?$/;

/**
 * `timezone` (an IANA zone, from a sender's settings) is used only for a time written without an
 * offset; without it such a time is refused. A zoneless time that does not exist in the zone (the
 * hour skipped when clocks go forward) or exists twice (the hour repeated when they go back) is
 * refused too: either answer could be an hour wrong.
 */
export function parseHl7Timestamp(text: string, timezone?: string): Hl7TimeResult {
  const value = text.trim();
  if (value.length === 0) return { ok: false, reason: 'time missing' };
  const m = TS.exec(value);
  if (!m || (m[8] === undefined && timezone === undefined)) {
    if (TS_WITHOUT_OFFSET.test(value)) {
      return value.length < 12
        ? { ok: false, reason: `time "${value}" has no hour and minute` }
        : { ok: false, reason: `time "${value}" has no UTC offset (+/-ZZZZ); local times are not guessed` };
    }
    return { ok: false, reason: `time "${value.slice(0, 32)}" is not an HL7 timestamp YYYYMMDDHHMM[SS[.SSSS]]+/-ZZZZ` };
  }
  const [, y, mo, d, h, mi, s = '0', frac = '', sign, oh = '0', om = '0'] = m;
  const month = Number(mo), day = Number(d), hour = Number(h), minute = Number(mi), second = Number(s);
  const offsetMinutes = Number(oh) * 60 + Number(om);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59 || Number(oh) > 14 || Number(om) > 59) {
    return { ok: false, reason: `time "${value}" is out of range` };
  }
  const ms = Math.round(Number(`0.${frac || '0'}`) * 1000);
  const utc = Date.UTC(Number(y), month - 1, day, hour, minute, second, ms);
  // Date.UTC rolls 31 February into March; a real calendar date survives the round trip.
  const check = new Date(utc);
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month - 1) return { ok: false, reason: `time "${value}" is not a calendar date` };
  if (sign === undefined) return fromWallClock(value, utc, timezone!);
  return { ok: true, epochMs: utc - (sign === '+' ? 1 : -1) * offsetMinutes * 60_000 };
}

/** The instant whose wall clock in `zone` reads `wall` (wall-clock fields encoded as if UTC). */
function fromWallClock(value: string, wall: number, zone: string): Hl7TimeResult {
  const instant = instantOfWallTime(wall, zone);
  if (instant.ok) return instant;
  return instant.kind === 'gap'
    ? { ok: false, reason: `time "${value}" does not exist in ${zone} (clocks went forward); send it with its UTC offset` }
    : { ok: false, reason: `time "${value}" occurs twice in ${zone} (clocks went back); send it with its UTC offset` };
}

/** Formats epoch ms as an HL7 timestamp in UTC with an explicit `+0000` offset. */
export function formatHl7Timestamp(epochMs: number): string {
  const iso = new Date(epochMs).toISOString(); // 2026-11-22T10:00:00.123Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  const millis = iso.slice(20, 23);
  return millis === '000' ? `${digits}+0000` : `${digits}.${millis}+0000`;
}
