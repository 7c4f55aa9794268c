/**
 * Wall-clock times in an IANA time zone, for the senders (CSV files, monitors) that write times
 * without an offset and are configured with the zone they mean. One home for the rule so the
 * batch loader and the HL7 edge read "02:30 on the night clocks go forward" the same way.
 */

/** True when `zone` is an IANA time zone this runtime knows. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export type WallTimeResult =
  | { readonly ok: true; readonly epochMs: number }
  /** `gap`: clocks skipped this wall time; `ambiguous`: it happened twice (clocks went back). */
  | { readonly ok: false; readonly kind: 'gap' | 'ambiguous' };

/**
 * The instant at which `zone`'s clocks show the wall time `wallMs` (a wall time encoded as if it
 * were UTC). The offsets in force a day either side are the only candidates (no zone changes its
 * offset twice within two days); a wall time neither produces was skipped by a clock change, and
 * one both produce happened twice — either reading could be an hour wrong, so neither is chosen.
 */
export function instantOfWallTime(wallMs: number, zone: string): WallTimeResult {
  const candidates = new Set([zoneOffsetAt(zone, wallMs - DAY_MS), zoneOffsetAt(zone, wallMs + DAY_MS)]);
  const matches = [...candidates].filter((offset) => zoneOffsetAt(zone, wallMs - offset) === offset);
  if (matches.length === 0) return { ok: false, kind: 'gap' };
  if (matches.length > 1) return { ok: false, kind: 'ambiguous' };
  return { ok: true, epochMs: wallMs - matches[0]! };
}

const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

/** Offset of `zone` from UTC at the instant `instantMs`, in milliseconds (to the second). */
function zoneOffsetAt(zone: string, instantMs: number): number {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(zone, formatter);
  }
  const parts: Record<string, number> = {};
  for (const part of formatter.formatToParts(new Date(instantMs))) parts[part.type] = Number(part.value);
  // setUTCFullYear, not Date.UTC: the years 0–99 stay themselves.
  const wall = new Date(0);
  wall.setUTCFullYear(parts.year!, parts.month! - 1, parts.day!);
  wall.setUTCHours(parts.hour!, parts.minute!, parts.second!, 0);
  return wall.getTime() - Math.floor(instantMs / 1000) * 1000;
}
