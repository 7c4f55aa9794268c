import { readFileSync } from 'node:fs';
import { VigilError } from '../../core/errors.ts';
import { isTimeZone } from '../../core/domain/time-zone.ts';
import type { MessageHeader } from './oru-to-readings.ts';
import { isKnownUnit } from './vital-codes.ts';

/**
 * Per-sender leniencies for MLLP (`VIGIL_MLLP_SENDER_SETTINGS`), as integration engines have: what
 * a given monitor gets wrong in a way that can be corrected without guessing. A sender without
 * settings is held to the strict default (times with a UTC offset, UCUM or MDC units).
 */
export interface SenderSettings {
  /** IANA zone for OBX-14/OBR-7 times written without an offset (GE monitors send local time). */
  readonly timezone?: string;
  /** Unit spellings this sender uses → the UCUM (or MDC) unit they mean, e.g. `bpm` → `/min`. */
  readonly unitAliases?: Readonly<Record<string, string>>;
}

/** Keyed like `VIGIL_MLLP_SENDERS` entries: `APP` or `APP@FACILITY`. */
export type SenderSettingsMap = ReadonlyMap<string, SenderSettings>;

/**
 * Parses the variable: JSON (text starting with `{` or `[`), or else the path of a file holding
 * one. `{ "GE-B40": { "timezone": "America/Chicago", "unitAliases": { "bpm": "/min" } } }`.
 * Anything unclear stops start-up: a wrong zone or alias would silently shift or rescale values.
 */
export function parseSenderSettings(text: string, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): Map<string, SenderSettings> {
  const trimmed = text.trim();
  if (trimmed === '') return new Map();
  const fail = (reason: string): never => {
    throw new VigilError('CONFIG_INVALID', `Invalid configuration: VIGIL_MLLP_SENDER_SETTINGS ${reason}`, { details: { variable: 'VIGIL_MLLP_SENDER_SETTINGS', reason } });
  };
  let source = trimmed;
  if (!/^[{[]/.test(trimmed)) {
    try {
      source = readFile(trimmed);
    } catch {
      return fail(`is neither JSON nor a readable file: ${trimmed}`);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(source);
  } catch {
    return fail('is not valid JSON');
  }
  if (!isObject(parsed)) return fail('must be a JSON object keyed by sender (APP or APP@FACILITY)');
  const map = new Map<string, SenderSettings>();
  for (const [sender, value] of Object.entries(parsed)) {
    if (sender === '' || sender.startsWith('@')) fail(`has an empty sender key "${sender}"`);
    if (!isObject(value)) return fail(`["${sender}"] must be an object`);
    const unknown = Object.keys(value).filter((k) => k !== 'timezone' && k !== 'unitAliases');
    if (unknown.length > 0) fail(`["${sender}"] has unknown keys ${unknown.join(', ')} (allowed: timezone, unitAliases)`);
    const { timezone, unitAliases } = value;
    if (timezone !== undefined && (typeof timezone !== 'string' || !isTimeZone(timezone))) {
      fail(`["${sender}"].timezone must be an IANA zone such as "Europe/Paris"`);
    }
    if (unitAliases !== undefined) {
      if (!isObject(unitAliases)) fail(`["${sender}"].unitAliases must be an object of "alias": "UCUM unit"`);
      for (const [alias, unit] of Object.entries(unitAliases as object)) {
        if (alias === '' || typeof unit !== 'string' || !isKnownUnit(unit)) {
          fail(`["${sender}"].unitAliases["${alias}"] must name a unit Vigil accepts (e.g. /min, %, Cel, [degF], mm[Hg])`);
        }
      }
    }
    map.set(sender, {
      ...(timezone !== undefined ? { timezone: timezone as string } : {}),
      ...(unitAliases !== undefined ? { unitAliases: Object.freeze({ ...(unitAliases as Record<string, string>) }) } : {}),
    });
  }
  return map;
}

/**
 * The settings of the message's sender: the `APP@FACILITY` entry when one matches, else the `APP`
 * entry; names match MSH-3.1 or MSH-3.2 (facility MSH-4.1 or MSH-4.2), as the allow-list does.
 */
export function settingsFor(map: SenderSettingsMap, header: MessageHeader): SenderSettings | undefined {
  for (const app of header.applicationNames) {
    for (const facility of header.facilityNames) {
      const exact = map.get(`${app}@${facility}`);
      if (exact) return exact;
    }
  }
  for (const app of header.applicationNames) {
    const any = map.get(app);
    if (any) return any;
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
