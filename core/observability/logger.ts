import pino from 'pino';
import type { Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs. Patient data never goes into a log line: callers log ids of devices,
 * batches and counts only, and these paths are redacted as a second line of defence in case a
 * reading or request body is ever passed by mistake.
 */
export const REDACTED_PATHS = [
  'patientId', '*.patientId', 'patient_id', '*.patient_id',
  'reading', '*.reading', 'readings', 'payload', '*.payload', 'body', '*.body',
  'req.body', 'req.query', 'req.params', 'req.url',
  'req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]',
  'heartRate', 'bloodPressure', 'temperature', 'spo2', 'respiratoryRate',
];

export function createLogger(options: { level?: string; name?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      name: options.name ?? 'vigil',
      level: options.level ?? 'info',
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination,
  );
}
