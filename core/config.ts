import path from 'node:path';
import { VigilError } from './errors.ts';

/**
 * Every setting Vigil reads, with every default in this one place. `loadConfig` validates once at
 * start-up and returns a frozen object; a bad value fails fast with a message naming the variable.
 */
export interface VigilConfig {
  readonly http: { readonly port: number; readonly host: string; readonly bodyLimitBytes: number };
  readonly auth: {
    /** HS256 secret. `generated` is true when none was configured and one was made for this run. */
    readonly secret: string;
    readonly generated: boolean;
  };
  readonly dataDir: string;
  readonly bus: {
    readonly kind: 'memory' | 'pubsub' | 'kafka';
    readonly readingsTopic: string;
    readonly deadLetterTopic: string;
    readonly subscription: string;
    readonly kafkaBrokers: readonly string[];
    readonly kafkaPartitions: number;
  };
  readonly timeseries: { readonly kind: 'embedded' | 'bigtable'; readonly bigtableInstance: string; readonly bigtableTable: string };
  readonly warehouse: { readonly kind: 'duckdb' | 'bigquery'; readonly bigqueryDataset: string; readonly bigqueryLocation: string };
  readonly objectStore: { readonly bucket: string };
  readonly googleCloudProject: string;
  readonly processor: {
    readonly maxBatchSize: number;
    readonly maxBatchWaitMs: number;
    readonly maxInFlight: number;
    readonly ackDeadlineMs: number;
    readonly maxDeliveryAttempts: number;
    /** Re-score a patient at most this often (debounce). */
    readonly rescoreDebounceMs: number;
  };
  readonly simulate: {
    readonly patients: number;
    readonly intervalMs: number;
    readonly seed: number;
    /** `json`: every simulated monitor posts JSON; `mixed`: some speak HL7 v2/MLLP and some FHIR. */
    readonly protocols: 'json' | 'mixed';
  };
  readonly mllp: {
    readonly port: number;
    /** Senders (MSH-3, or MSH-3@MSH-4) whose messages are accepted; everyone else gets AR. */
    readonly allowedSenders: string;
  };
  readonly alerts: {
    /** NEWS2 aggregate that opens an alert (RCP: 5 calls for an urgent response). */
    readonly news2: number;
    /** Model probability that opens an alert. */
    readonly risk: number;
    /** Every value must stay below this long before an alert closes (hysteresis). */
    readonly holdMs: number;
  };
  readonly modelPath: string;
  /**
   * A site's local recalibration of the model (`vigil model recalibrate` writes it). `explicit`:
   * VIGIL_RISK_CALIBRATION named it, so it must exist; else the default place is used when present.
   */
  readonly riskCalibration: { readonly path: string; readonly explicit: boolean };
  readonly logLevel: string;
}

type Env = Readonly<Record<string, string | undefined>>;

export function loadConfig(env: Env = process.env): VigilConfig {
  const dataDir = path.resolve(str(env, 'VIGIL_DATA_DIR', './data'));
  const secret = env.VIGIL_AUTH_SECRET;
  if (secret !== undefined && secret.length < 16) {
    throw configError('VIGIL_AUTH_SECRET', '<redacted>', 'must be at least 16 characters');
  }
  const config: VigilConfig = {
    http: {
      port: int(env, 'PORT', 8080, 0, 65535),
      host: str(env, 'VIGIL_HOST', '0.0.0.0'),
      // 1 MiB holds ~5,000 readings per request: enough for a gateway flush, small enough to bound memory.
      bodyLimitBytes: int(env, 'VIGIL_BODY_LIMIT_BYTES', 1_048_576, 1024, 64 * 1_048_576),
    },
    auth: secret ? { secret, generated: false } : { secret: randomSecret(), generated: true },
    dataDir,
    bus: {
      kind: oneOf(env, 'VIGIL_BUS', ['memory', 'pubsub', 'kafka'] as const, 'memory'),
      readingsTopic: str(env, 'VIGIL_READINGS_TOPIC', env.VIGIL_BUS === 'kafka' ? 'vigil.readings' : 'vigil-readings'),
      deadLetterTopic: str(env, 'VIGIL_DEAD_LETTER_TOPIC', env.VIGIL_BUS === 'kafka' ? 'vigil.readings.dead' : 'vigil-readings-dead'),
      subscription: str(env, 'VIGIL_SUBSCRIPTION', 'vigil-processor'),
      kafkaBrokers: str(env, 'KAFKA_BROKERS', '127.0.0.1:9092').split(',').map((b) => b.trim()).filter(Boolean),
      // 12 partitions let up to 12 processor instances share the topic.
      kafkaPartitions: int(env, 'VIGIL_KAFKA_PARTITIONS', 12, 1, 1000),
    },
    timeseries: {
      kind: oneOf(env, 'VIGIL_TIMESERIES', ['embedded', 'bigtable'] as const, 'embedded'),
      bigtableInstance: str(env, 'VIGIL_BIGTABLE_INSTANCE', 'vigil'),
      bigtableTable: str(env, 'VIGIL_BIGTABLE_TABLE', 'vitals'),
    },
    warehouse: {
      kind: oneOf(env, 'VIGIL_WAREHOUSE', ['duckdb', 'bigquery'] as const, 'duckdb'),
      bigqueryDataset: str(env, 'VIGIL_BIGQUERY_DATASET', 'vigil'),
      bigqueryLocation: str(env, 'VIGIL_BIGQUERY_LOCATION', 'US'),
    },
    objectStore: { bucket: str(env, 'VIGIL_BUCKET', 'vigil-landing') },
    googleCloudProject: str(env, 'GOOGLE_CLOUD_PROJECT', 'vigil-local'),
    processor: {
      maxBatchSize: int(env, 'VIGIL_BATCH_SIZE', 1000, 1, 100_000),
      maxBatchWaitMs: int(env, 'VIGIL_BATCH_WAIT_MS', 50, 0, 60_000),
      maxInFlight: int(env, 'VIGIL_MAX_IN_FLIGHT', 10_000, 1, 1_000_000),
      ackDeadlineMs: int(env, 'VIGIL_ACK_DEADLINE_MS', 30_000, 1000, 600_000),
      maxDeliveryAttempts: int(env, 'VIGIL_MAX_DELIVERY_ATTEMPTS', 5, 1, 100),
      rescoreDebounceMs: int(env, 'VIGIL_RESCORE_DEBOUNCE_MS', 250, 0, 60_000),
    },
    simulate: {
      patients: int(env, 'VIGIL_SIMULATE', 24, 0, 100_000),
      // One reading per patient every 2 s keeps a 24-bed demo ward visibly alive.
      intervalMs: int(env, 'VIGIL_SIMULATE_INTERVAL_MS', 2000, 1, 3_600_000),
      seed: int(env, 'VIGIL_SIMULATE_SEED', 42, 0, 2 ** 31 - 1),
      protocols: oneOf(env, 'VIGIL_SIMULATE_PROTOCOLS', ['json', 'mixed'] as const, 'json'),
    },
    mllp: {
      port: int(env, 'VIGIL_MLLP_PORT', 2575, 0, 65535),
      // The simulated ward's monitors identify as VIGIL-SIM; real deployments list their gateways.
      allowedSenders: str(env, 'VIGIL_MLLP_SENDERS', 'VIGIL-SIM'),
    },
    alerts: {
      news2: int(env, 'VIGIL_ALERT_NEWS2', 5, 1, 20),
      risk: int(env, 'VIGIL_ALERT_RISK_PERCENT', 33, 1, 100) / 100,
      holdMs: int(env, 'VIGIL_ALERT_HOLD_MINUTES', 15, 0, 24 * 60) * 60_000,
    },
    modelPath: path.resolve(str(env, 'VIGIL_MODEL', new URL('../models/recovery-risk.onnx', import.meta.url).pathname)),
    riskCalibration: {
      path: path.resolve(str(env, 'VIGIL_RISK_CALIBRATION', path.join(dataDir, 'local-calibration.json'))),
      explicit: (env.VIGIL_RISK_CALIBRATION ?? '') !== '',
    },
    logLevel: oneOf(env, 'VIGIL_LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
  };
  return deepFreeze(config);
}

function configError(name: string, value: string, reason: string): VigilError {
  return new VigilError('CONFIG_INVALID', `Invalid configuration: ${name}=${JSON.stringify(value)} ${reason}`, {
    details: { variable: name, reason },
  });
}

function str(env: Env, name: string, fallback: string): string {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  return value;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value)) throw configError(name, raw, 'must be an integer');
  if (value < min || value > max) throw configError(name, raw, `must be between ${min} and ${max}`);
  return value;
}

function oneOf<const T extends readonly string[]>(env: Env, name: string, allowed: T, fallback: T[number]): T[number] {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!allowed.includes(raw)) throw configError(name, raw, `must be one of ${allowed.join(', ')}`);
  return raw as T[number];
}

function randomSecret(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
