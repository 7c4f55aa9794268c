import { parseObservedAt, readingIdOf } from '../wire/reading-codec.ts';
import { parseBloodPressure } from './parse-blood-pressure.ts';
import type { Consciousness, RawReading } from './reading.ts';

/**
 * The edge check every ingest path shares (HTTP JSON, HL7 v2, FHIR, the simulator's bus sink):
 * turns the ingest JSON of the README's "A reading" into the bus record, or says what is wrong with
 * every field at once so a device can fix them all in one go.
 *
 * The edge judges shape and type only. Whether a value is physiologically possible (a heart rate
 * of 900) is the processor's call (normalize-reading.ts), so such readings still reach the dead
 * letters with their original payload, where they can be inspected.
 */
export interface FieldError {
  field: string;
  value?: unknown;
  /** A short sentence for people, e.g. "must look like 120/80 (systolic/diastolic mmHg)". */
  reason: string;
}

export type ToRawReadingResult = { ok: true; reading: RawReading } | { ok: false; errors: FieldError[] };

export interface IngestContext {
  /** Epoch ms when the edge accepted the reading; also the clock for the future-time check. */
  receivedAt: number;
  /** Which edge accepted it: "json", "hl7v2", "fhir", "simulator". */
  source: string;
}

/** Device clocks drift; five minutes ahead is tolerated, more is a wrong clock or a wrong unit. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;
/** Before this, an epoch value is almost surely seconds sent as milliseconds (or a reset device clock). */
export const EARLIEST_OBSERVED_AT = Date.UTC(2000, 0, 1);

export const MAX_ID_LENGTH = 128;
// Letters, digits and a few separators seen in bed, device and MRN identifiers; no '/' (ids appear
// in URL paths), no spaces or control characters (ids appear in keys and file names).
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/;
/** The same rule as a JSON schema, for route parameters and queries: one id rule everywhere. */
export const ID_SCHEMA = Object.freeze({ type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH, pattern: ID_PATTERN.source } as const);

export const CONSCIOUSNESS_LEVELS: readonly Consciousness[] = ['A', 'C', 'V', 'P', 'U'];
const TEMPERATURE_UNITS = ['C', 'F'] as const;

const NUMERIC_VITALS = ['heartRate', 'temperature', 'spo2', 'respiratoryRate'] as const;
const VITAL_FIELDS = [...NUMERIC_VITALS, 'bloodPressure', 'onOxygen', 'consciousness'] as const;
const KNOWN_FIELDS: ReadonlySet<string> = new Set(['deviceId', 'patientId', 'observedAt', 'temperatureUnit', ...VITAL_FIELDS]);

export function toRawReading(input: unknown, context: IngestContext): ToRawReadingResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, errors: [{ field: 'reading', reason: 'must be a JSON object' }] };
  }
  const body = input as Record<string, unknown>;
  const errors: FieldError[] = [];
  const refuse = (field: string, reason: string): void => {
    errors.push(field in body ? { field, value: body[field], reason } : { field, reason });
  };

  for (const field of Object.keys(body)) {
    if (!KNOWN_FIELDS.has(field)) refuse(field, 'is not a field of a reading');
  }

  const deviceId = checkId(body.deviceId);
  if (deviceId.reason) refuse('deviceId', deviceId.reason);
  const patientId = checkId(body.patientId);
  if (patientId.reason) refuse('patientId', patientId.reason);

  const observedAt = parseObservedAt(body.observedAt);
  if (body.observedAt === undefined) {
    refuse('observedAt', 'is required');
  } else if (observedAt === undefined) {
    refuse('observedAt', 'must be ISO 8601 with an offset (e.g. 2026-11-22T10:00:00Z) or epoch milliseconds');
  } else if (observedAt < EARLIEST_OBSERVED_AT) {
    refuse('observedAt', 'is before 2000; epoch values must be milliseconds, not seconds');
  } else if (observedAt > context.receivedAt + MAX_CLOCK_SKEW_MS) {
    refuse('observedAt', 'is more than 5 minutes in the future; check the device clock');
  }

  // null counts as absent: HL7 and FHIR mappings produce it for a vital the device did not send.
  const present = (field: string): boolean => body[field] !== undefined && body[field] !== null;

  for (const field of NUMERIC_VITALS) {
    if (present(field) && (typeof body[field] !== 'number' || !Number.isFinite(body[field]))) refuse(field, 'must be a number');
  }
  if (present('bloodPressure')) {
    const bp = body.bloodPressure;
    const parsed = typeof bp === 'string' ? parseBloodPressure(bp) : undefined;
    if (!parsed?.ok) refuse('bloodPressure', parsed?.reason ?? 'must be text like 120/80 (systolic/diastolic mmHg)');
  }
  if (present('temperatureUnit') && !TEMPERATURE_UNITS.includes(body.temperatureUnit as 'C')) {
    refuse('temperatureUnit', 'must be C or F');
  }
  if (present('onOxygen') && typeof body.onOxygen !== 'boolean') refuse('onOxygen', 'must be true or false');
  if (present('consciousness') && !CONSCIOUSNESS_LEVELS.includes(body.consciousness as Consciousness)) {
    refuse('consciousness', 'must be one of A, C, V, P, U (ACVPU)');
  }
  if (!VITAL_FIELDS.some(present)) refuse('vitals', 'at least one vital sign must be present');

  if (errors.length > 0 || !deviceId.value || !patientId.value || observedAt === undefined) return { ok: false, errors };

  const num = (field: string): number | null => (present(field) ? (body[field] as number) : null);
  const text = (field: string): string | null => (present(field) ? (body[field] as string) : null);
  return {
    ok: true,
    reading: {
      readingId: readingIdOf(deviceId.value, patientId.value, observedAt),
      deviceId: deviceId.value,
      patientId: patientId.value,
      observedAt,
      receivedAt: context.receivedAt,
      source: context.source,
      heartRate: num('heartRate'),
      bloodPressure: text('bloodPressure'),
      temperature: num('temperature'),
      temperatureUnit: present('temperature') ? (text('temperatureUnit') ?? 'C') : text('temperatureUnit'),
      spo2: num('spo2'),
      respiratoryRate: num('respiratoryRate'),
      onOxygen: present('onOxygen') ? (body.onOxygen as boolean) : null,
      consciousness: text('consciousness'),
    },
  };
}

/** True for an id ingest would accept (pattern and length): what may be stored as a patient or device id. */
export function isAcceptableId(value: unknown): value is string {
  return checkId(value).value !== undefined;
}

function checkId(value: unknown): { value?: string; reason?: string } {
  if (value === undefined || value === null) return { reason: 'is required' };
  if (typeof value !== 'string' || value.length === 0) return { reason: 'must be a non-empty string' };
  if (value.length > MAX_ID_LENGTH) return { reason: `must be at most ${MAX_ID_LENGTH} characters` };
  if (!ID_PATTERN.test(value)) return { reason: 'may contain only letters, digits and . _ : @ - (starting with a letter or digit)' };
  return { value };
}
