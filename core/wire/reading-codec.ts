import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import avro from 'avsc';
import type { RawReading } from '../domain/reading.ts';
import { VigilError } from '../errors.ts';

/**
 * The bus wire format of readings: Avro (schema reading.v1.avsc), identified by the attributes
 * below so a consumer can tell versions apart. JSON values are accepted too (content-type
 * application/json) so plain tools such as kcat can produce readings.
 */
const schema = JSON.parse(readFileSync(new URL('./reading.v1.avsc', import.meta.url), 'utf8')) as avro.Schema;
// timestamp-millis stays a plain long (epoch ms number): logical types are documentation here.
const readingType = avro.Type.forSchema(schema);

export const READING_SCHEMA_NAME = 'health.vigil.v1.RawReading';
export const READING_SCHEMA_VERSION = '1';
/** Hex SHA-256 of the schema's Parsing Canonical Form (Avro's standard fingerprint). */
export const READING_SCHEMA_FINGERPRINT = readingType.fingerprint('sha256').toString('hex');

export const CONTENT_TYPE_AVRO = 'application/avro';
export const CONTENT_TYPE_JSON = 'application/json';

/** Attributes (Pub/Sub) or headers (Kafka) that travel with every encoded reading. */
export const READING_ATTRIBUTES: Readonly<Record<string, string>> = Object.freeze({
  'content-type': CONTENT_TYPE_AVRO,
  'vigil-schema': READING_SCHEMA_NAME,
  'vigil-schema-version': READING_SCHEMA_VERSION,
  'vigil-schema-fingerprint': READING_SCHEMA_FINGERPRINT,
});

export function encodeReading(reading: RawReading): Buffer {
  return readingType.toBuffer(reading);
}

/**
 * Decodes a bus payload. Avro unless the attributes say JSON; an Avro payload written with another
 * schema (fingerprint mismatch) is refused rather than misread.
 */
export function decodeReading(data: Uint8Array, attributes: Readonly<Record<string, string>> = {}): RawReading {
  const contentType = attributes['content-type'] ?? CONTENT_TYPE_AVRO;
  if (contentType.startsWith(CONTENT_TYPE_JSON)) return decodeJsonReading(data);
  const fingerprint = attributes['vigil-schema-fingerprint'];
  if (fingerprint !== undefined && fingerprint !== READING_SCHEMA_FINGERPRINT) {
    throw new VigilError('VALIDATION_FAILED', `unknown reading schema fingerprint ${fingerprint}`, { details: { field: 'schema' } });
  }
  try {
    return readingType.fromBuffer(Buffer.from(data.buffer, data.byteOffset, data.byteLength)) as RawReading;
  } catch (cause) {
    throw new VigilError('VALIDATION_FAILED', 'payload is not a valid Avro reading', { cause, details: { field: 'payload' } });
  }
}

/**
 * A JSON value on the bus: either the bus record itself or the ingest format of the README
 * (what a person types into kcat). Identity fields are required; the id is derived when absent.
 */
function decodeJsonReading(data: Uint8Array): RawReading {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch (cause) {
    throw new VigilError('VALIDATION_FAILED', 'payload is not valid JSON', { cause, details: { field: 'payload' } });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new VigilError('VALIDATION_FAILED', 'JSON reading must be an object', { details: { field: 'payload' } });
  }
  const v = value as Record<string, unknown>;
  const deviceId = requireString(v, 'deviceId');
  const patientId = requireString(v, 'patientId');
  const observedAt = parseObservedAt(v.observedAt);
  if (observedAt === undefined) {
    throw new VigilError('VALIDATION_FAILED', 'observedAt must be ISO 8601 with an offset or epoch milliseconds', { details: { field: 'observedAt' } });
  }
  const receivedAt = typeof v.receivedAt === 'number' ? v.receivedAt : Date.now();
  // Vitals keep whatever type they arrived with when it fits the record; the processor judges them.
  const num = (k: string): number | null => (typeof v[k] === 'number' ? (v[k] as number) : null);
  const text = (k: string): string | null => (typeof v[k] === 'string' ? (v[k] as string) : null);
  return {
    readingId: typeof v.readingId === 'string' ? v.readingId : readingIdOf(deviceId, patientId, observedAt),
    deviceId,
    patientId,
    observedAt,
    receivedAt,
    source: typeof v.source === 'string' ? v.source : 'json',
    heartRate: num('heartRate'),
    bloodPressure: text('bloodPressure'),
    temperature: num('temperature'),
    temperatureUnit: text('temperatureUnit'),
    spo2: num('spo2'),
    respiratoryRate: num('respiratoryRate'),
    onOxygen: typeof v.onOxygen === 'boolean' ? v.onOxygen : null,
    consciousness: text('consciousness'),
  };
}

function requireString(v: Record<string, unknown>, field: string): string {
  const value = v[field];
  if (typeof value !== 'string' || value.length === 0) {
    throw new VigilError('VALIDATION_FAILED', `${field} must be a non-empty string`, { details: { field } });
  }
  return value;
}

const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** ISO 8601 with an explicit offset, or epoch milliseconds. A zoneless time is ambiguous: undefined. */
export function parseObservedAt(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  if (typeof value !== 'string' || !ISO_WITH_OFFSET.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Deterministic reading id: the same device, patient and observation time always give the same
 * id, so a reading sent twice (device retry, redelivery) is stored once.
 */
export function readingIdOf(deviceId: string, patientId: string, observedAt: number): string {
  return createHash('sha256').update(`${deviceId}\u0000${patientId}\u0000${observedAt}`).digest('hex').slice(0, 32);
}
