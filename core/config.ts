import path from 'node:path';
import { VigilError } from './errors.ts';
import { deepFreeze } from './deep-freeze.ts';
import { DEFAULTS } from './defaults.ts';

/**
 * Every setting Vigil reads, with every default in this one place. `loadConfig` validates once at
 * start-up and returns a frozen object; a bad value fails fast with a message naming the variable.
 */
export interface VigilConfig {
  readonly http: {
    readonly port: number;
    readonly host: string;
    readonly bodyLimitBytes: number;
    /** Whole request (headers and body) must arrive within this; a trickled body is cut off (408). */
    readonly requestTimeoutMs: number;
    readonly headersTimeoutMs: number;
    /** A socket with no traffic either way for this long is closed (SSE heartbeats keep streams alive). */
    readonly idleTimeoutMs: number;
    readonly keepAliveTimeoutMs: number;
    readonly maxConnections: number;
    /** Fastify `trustProxy`: false, true, a hop count, or a list of proxy addresses/CIDRs. */
    readonly trustProxy: boolean | number | string;
  };
  readonly auth: {
    /** HS256 secret. `generated` is true when none was configured and one was made for this run. */
    readonly secret: string;
    readonly generated: boolean;
    /** Longest a token may live (exp − iat, or exp − now without iat); longer ones are refused. */
    readonly maxLifetimeSeconds: number;
    /** Tolerated clock difference for `iat` in the future. */
    readonly clockSkewSeconds: number;
    /** When set, tokens must carry this `aud` / `iss`. */
    readonly audience: string | undefined;
    readonly issuer: string | undefined;
    /** The hospital identity provider's JWKS (RS256/ES256 tokens); HS256 with `secret` works alongside. */
    readonly jwksUrl: string | undefined;
    readonly jwksCacheSeconds: number;
    /** Claim holding the Vigil role in identity-provider tokens. */
    readonly roleClaim: string;
  };
  readonly dataDir: string;
  readonly bus: {
    readonly kind: 'embedded' | 'pubsub' | 'kafka';
    readonly readingsTopic: string;
    readonly deadLetterTopic: string;
    readonly subscription: string;
    readonly kafkaBrokers: readonly string[];
    readonly kafkaPartitions: number;
    /** VIGIL_EDGE_PUBLISH_TIMEOUT_MS: the edges answer 503/AR when the bus has not confirmed within it. */
    readonly edgePublishTimeoutMs: number;
  };
  readonly timeseries: {
    readonly kind: 'embedded' | 'bigtable';
    readonly bigtableInstance: string;
    readonly bigtableTable: string;
    /** Signed-out sessions (core/ports/session-revocations.ts) when the time series is on Bigtable. */
    readonly bigtableSessionsTable: string;
    /** The audit log (core/ports/audit-log.ts) when the time series is on Bigtable. */
    readonly bigtableAuditTable: string;
    /** Alert episodes and acknowledgements (core/ports/alert-store.ts) when the time series is on Bigtable. */
    readonly bigtableAlertsTable: string;
    /** Bed and device associations (core/ports/device-associations.ts) when the time series is on Bigtable. */
    readonly bigtableAssociationsTable: string;
  };
  readonly warehouse: { readonly kind: 'duckdb' | 'bigquery'; readonly bigqueryDataset: string; readonly bigqueryLocation: string; readonly duckdbMemoryMb: number };
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
    /** Keyed state: readings of recent patient windows the processor holds at most (0: off, every re-score reads the store). */
    readonly keyedStateReadings: number;
  };
  /**
   * How long Vigil keeps what it stores (core/ports/retention.ts). Days; 0 keeps forever. The
   * embedded stores are purged by the processor every `purgeIntervalMs`; at scale `vigil
   * provision` sets the backends' own expiry (Bigtable GC rules, BigQuery partition expiration).
   */
  readonly retention: {
    /** Readings, scores, closed alerts and dead letters (VIGIL_RETENTION_DAYS). */
    readonly days: number;
    /** The audit log (VIGIL_AUDIT_RETENTION_DAYS): kept longer, as regulation asks. */
    readonly auditDays: number;
    readonly purgeIntervalMs: number;
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
    /** Senders (MSH-3, or MSH-3@MSH-4) whose messages are accepted on plain MLLP; everyone else gets AR. */
    readonly allowedSenders: string;
    /** Senders (as in allowedSenders) whose ADT messages are recorded; empty = ADT refused (AR). */
    readonly adtSenders: string;
    /** VIGIL_MLLP_SENDER_SETTINGS as given (JSON or a file path); parsed by ingest/hl7's parseSenderSettings. */
    readonly senderSettings: string;
    /** Bind address: loopback for plain MLLP unless explicitly opened; VIGIL_MLLP_HOST (default VIGIL_HOST) with TLS. */
    readonly host: string;
    /** mTLS (PEM file paths); null for plain MLLP. */
    readonly tls: { readonly certPath: string; readonly keyPath: string; readonly caPath: string } | null;
    /** `identity=SENDER|SENDER;...`: which senders each client certificate may speak for (with TLS). */
    readonly certificateSenders: string;
    /** Plain MLLP bound beyond loopback (VIGIL_MLLP_INSECURE_PLAINTEXT_BIND): anyone who can connect may send. */
    readonly insecurePlaintext: boolean;
    readonly maxConnections: number;
    readonly maxConnectionsPerPeer: number;
    readonly reservedConnections: number;
    /** Peer addresses allowed into the reserved connections and beyond the per-peer cap. */
    readonly trustedPeers: readonly string[];
    readonly idleTimeoutMs: number;
  };
  readonly alerts: {
    /** NEWS2 aggregate that opens an alert (RCP: 5 calls for an urgent response). */
    readonly news2: number;
    /** Also open when one parameter scores 3 (NEWS2 level "low-medium"). */
    readonly news2RedParameter: boolean;
    /**
     * Model probability that opens an alert when set explicitly (`VIGIL_ALERT_RISK_PERCENT`);
     * null: the loaded model's deployed threshold (its card's `deployedThreshold`), else
     * `ALERT_DEFAULTS.risk`.
     */
    readonly risk: number | null;
    /** Every value must stay below this long before an alert closes (hysteresis). */
    readonly holdMs: number;
    /** How often each instance looks for alert changes made by other instances (SSE `alert` events). */
    readonly refreshMs: number;
  };
  readonly news2: {
    /**
     * A vital counts towards NEWS2 only if observed within this long of the patient's newest
     * reading: one observation set, never values stitched from different hours.
     */
    readonly maxAgeMs: number;
  };
  /**
   * `shown`: the model's risk is on the API, the stream, the dashboard and alerts. `silent`: it is
   * scored and stored (time series and warehouse) for local validation, but the API and the
   * stream answer `risk` as `{"mode": "silent"}` and no alert opens on it.
   */
  readonly riskMode: RiskMode;
  readonly modelPath: string;
  /**
   * A site's local recalibration of the model (`vigil model recalibrate` writes it). `explicit`:
   * VIGIL_RISK_CALIBRATION named it, so it must exist; else the default place is used when present.
   */
  readonly riskCalibration: { readonly path: string; readonly explicit: boolean };
  readonly logLevel: string;
}

export type RiskMode = 'shown' | 'silent';

/** Alert defaults (commented in core/defaults.ts; the alert engine's DEFAULT_ALERT_THRESHOLDS are these). */
export const ALERT_DEFAULTS = Object.freeze({ news2: DEFAULTS.alerts.news2, news2RedParameter: DEFAULTS.alerts.news2RedParameter, risk: DEFAULTS.alerts.risk, holdMs: DEFAULTS.alerts.holdMs });

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
      // A 1 MiB gateway flush takes well under a second on a ward network; 30 s is generous.
      requestTimeoutMs: int(env, 'VIGIL_HTTP_REQUEST_TIMEOUT_MS', 30_000, 100, 600_000),
      headersTimeoutMs: int(env, 'VIGIL_HTTP_HEADERS_TIMEOUT_MS', 10_000, 100, 600_000),
      // Longer than the SSE heartbeat (15 s), so an idle but healthy stream is never cut.
      idleTimeoutMs: int(env, 'VIGIL_HTTP_IDLE_TIMEOUT_MS', 60_000, 100, 3_600_000),
      keepAliveTimeoutMs: int(env, 'VIGIL_HTTP_KEEPALIVE_TIMEOUT_MS', 5_000, 100, 600_000),
      maxConnections: int(env, 'VIGIL_HTTP_MAX_CONNECTIONS', 2_000, 1, 1_000_000),
      trustProxy: trustProxy(env.VIGIL_TRUST_PROXY),
    },
    auth: {
      ...(secret ? { secret, generated: false } : { secret: randomSecret(), generated: true }),
      // 30 days: the longest token Vigil itself signs (the in-process simulated ward's).
      maxLifetimeSeconds: int(env, 'VIGIL_AUTH_MAX_LIFETIME_SECONDS', 30 * 24 * 3600, 60, 366 * 24 * 3600),
      clockSkewSeconds: int(env, 'VIGIL_AUTH_CLOCK_SKEW_SECONDS', 60, 0, 600),
      audience: optional(env, 'VIGIL_AUTH_AUDIENCE'),
      issuer: optional(env, 'VIGIL_AUTH_ISSUER'),
      jwksUrl: jwksUrl(env.VIGIL_AUTH_JWKS_URL),
      jwksCacheSeconds: int(env, 'VIGIL_AUTH_JWKS_CACHE_SECONDS', 600, 1, 86_400),
      roleClaim: str(env, 'VIGIL_AUTH_ROLE_CLAIM', 'role'),
    },
    dataDir,
    bus: {
      // `memory` is the old name of the embedded bus (a durable SQLite file, never memory): still accepted.
      kind: busKind(env),
      readingsTopic: str(env, 'VIGIL_READINGS_TOPIC', env.VIGIL_BUS === 'kafka' ? 'vigil.readings' : 'vigil-readings'),
      deadLetterTopic: str(env, 'VIGIL_DEAD_LETTER_TOPIC', env.VIGIL_BUS === 'kafka' ? 'vigil.readings.dead' : 'vigil-readings-dead'),
      subscription: str(env, 'VIGIL_SUBSCRIPTION', 'vigil-processor'),
      kafkaBrokers: str(env, 'KAFKA_BROKERS', '127.0.0.1:9092').split(',').map((b) => b.trim()).filter(Boolean),
      // 12 partitions let up to 12 processor instances share the topic.
      kafkaPartitions: int(env, 'VIGIL_KAFKA_PARTITIONS', 12, 1, 1000),
      // A device hears back within this (plus parsing) even when the bus hangs; see ingest/README.md.
      edgePublishTimeoutMs: int(env, 'VIGIL_EDGE_PUBLISH_TIMEOUT_MS', 5_000, 100, 120_000),
    },
    timeseries: {
      kind: oneOf(env, 'VIGIL_TIMESERIES', ['embedded', 'bigtable'] as const, 'embedded'),
      bigtableInstance: str(env, 'VIGIL_BIGTABLE_INSTANCE', 'vigil'),
      bigtableTable: str(env, 'VIGIL_BIGTABLE_TABLE', 'vitals'),
      bigtableSessionsTable: str(env, 'VIGIL_BIGTABLE_SESSIONS_TABLE', 'sessions'),
      bigtableAuditTable: str(env, 'VIGIL_BIGTABLE_AUDIT_TABLE', 'audit'),
      bigtableAlertsTable: str(env, 'VIGIL_BIGTABLE_ALERTS_TABLE', 'alerts'),
      bigtableAssociationsTable: str(env, 'VIGIL_BIGTABLE_ASSOCIATIONS_TABLE', 'associations'),
    },
    warehouse: {
      kind: oneOf(env, 'VIGIL_WAREHOUSE', ['duckdb', 'bigquery'] as const, 'duckdb'),
      bigqueryDataset: str(env, 'VIGIL_BIGQUERY_DATASET', 'vigil'),
      bigqueryLocation: str(env, 'VIGIL_BIGQUERY_LOCATION', 'US'),
      // DuckDB's own buffer pool, outside the V8 heap: unset, DuckDB would take 80 % of the host's RAM.
      duckdbMemoryMb: int(env, 'VIGIL_DUCKDB_MEMORY_MB', 384, 64, 1_048_576),
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
      // On by default only where one processor sees all of a patient's readings (stream-processor/keyed-window.ts).
      keyedStateReadings: int(env, 'VIGIL_KEYED_STATE_READINGS', busKind(env) === 'embedded' ? 200_000 : 0, 0, 100_000_000),
    },
    retention: {
      // 0: nothing is deleted unless the operator decides how long to keep it.
      days: int(env, 'VIGIL_RETENTION_DAYS', 0, 0, 36_500),
      // Six years: HIPAA's documentation retention (45 CFR 164.316(b)(2)); many sites must keep longer.
      auditDays: int(env, 'VIGIL_AUDIT_RETENTION_DAYS', 2_190, 0, 36_500),
      // Hourly: a purge removes about an hour's data, a short pause for the processor.
      purgeIntervalMs: int(env, 'VIGIL_RETENTION_PURGE_INTERVAL_S', 3_600, 1, 604_800) * 1000,
    },
    simulate: {
      patients: int(env, 'VIGIL_SIMULATE', 24, 0, 100_000),
      // One reading per patient every 2 s keeps a 24-bed demo ward visibly alive.
      intervalMs: int(env, 'VIGIL_SIMULATE_INTERVAL_MS', 2000, 1, 3_600_000),
      seed: int(env, 'VIGIL_SIMULATE_SEED', 42, 0, 2 ** 31 - 1),
      protocols: oneOf(env, 'VIGIL_SIMULATE_PROTOCOLS', ['json', 'mixed'] as const, 'json'),
    },
    mllp: mllpConfig(env),
    alerts: {
      news2: int(env, 'VIGIL_ALERT_NEWS2', ALERT_DEFAULTS.news2, 1, 20),
      news2RedParameter: ALERT_DEFAULTS.news2RedParameter,
      risk: env.VIGIL_ALERT_RISK_PERCENT ? int(env, 'VIGIL_ALERT_RISK_PERCENT', 0, 1, 100) / 100 : null,
      holdMs: int(env, 'VIGIL_ALERT_HOLD_MINUTES', ALERT_DEFAULTS.holdMs / 60_000, 0, 24 * 60) * 60_000,
      // One store read per second per instance: another instance's acknowledgement shows within it.
      refreshMs: int(env, 'VIGIL_ALERT_REFRESH_MS', DEFAULTS.alerts.refreshMs, 100, 60_000),
    },
    // Hourly is the most frequent RCP observation schedule below continuous monitoring.
    news2: { maxAgeMs: int(env, 'VIGIL_NEWS2_MAX_AGE_MINUTES', 60, 1, 24 * 60) * 60_000 },
    riskMode: oneOf(env, 'VIGIL_RISK_MODE', ['shown', 'silent'] as const, 'shown'),
    modelPath: path.resolve(str(env, 'VIGIL_MODEL', new URL('../models/recovery-risk.onnx', import.meta.url).pathname)),
    riskCalibration: {
      path: path.resolve(str(env, 'VIGIL_RISK_CALIBRATION', path.join(dataDir, 'local-calibration.json'))),
      explicit: (env.VIGIL_RISK_CALIBRATION ?? '') !== '',
    },
    logLevel: oneOf(env, 'VIGIL_LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
  };
  return deepFreeze(config);
}

/**
 * Plain MLLP proves nothing about its sender (MSH-3 is whatever the sender writes), so without
 * TLS the listener binds to loopback, where only this host (or an interface engine on it) can
 * reach it; opening it wider takes a setting that says it is insecure.
 */
function mllpConfig(env: Env): VigilConfig['mllp'] {
  const paths = { certPath: env.VIGIL_MLLP_TLS_CERT ?? '', keyPath: env.VIGIL_MLLP_TLS_KEY ?? '', caPath: env.VIGIL_MLLP_TLS_CA ?? '' };
  const given = Object.values(paths).filter((p) => p !== '').length;
  if (given > 0 && given < 3) {
    throw configError('VIGIL_MLLP_TLS_CA', paths.caPath, 'VIGIL_MLLP_TLS_CERT, VIGIL_MLLP_TLS_KEY and VIGIL_MLLP_TLS_CA go together (client certificates are verified against the CA)');
  }
  const tls = given === 3 ? { certPath: path.resolve(paths.certPath), keyPath: path.resolve(paths.keyPath), caPath: path.resolve(paths.caPath) } : null;
  const certificateSenders = str(env, 'VIGIL_MLLP_CERT_SENDERS', '');
  if (tls && certificateSenders === '') {
    throw configError('VIGIL_MLLP_CERT_SENDERS', '', 'is required with VIGIL_MLLP_TLS_*: map each client certificate to the senders it may speak for (identity=SENDER|SENDER;...)');
  }
  const insecureBind = str(env, 'VIGIL_MLLP_INSECURE_PLAINTEXT_BIND', '');
  if (tls && insecureBind !== '') {
    throw configError('VIGIL_MLLP_INSECURE_PLAINTEXT_BIND', insecureBind, 'cannot be combined with VIGIL_MLLP_TLS_* (use VIGIL_MLLP_HOST for the TLS bind address)');
  }
  const host = tls ? str(env, 'VIGIL_MLLP_HOST', str(env, 'VIGIL_HOST', '0.0.0.0')) : (insecureBind || '127.0.0.1');
  const maxConnections = int(env, 'VIGIL_MLLP_MAX_CONNECTIONS', 512, 1, 100_000);
  return {
    port: int(env, 'VIGIL_MLLP_PORT', 2575, 0, 65535),
    // The simulated ward's monitors identify as VIGIL-SIM; real deployments list their gateways.
    allowedSenders: str(env, 'VIGIL_MLLP_SENDERS', 'VIGIL-SIM'),
    // ADT is a separate permission: a monitor may send vitals without being able to discharge anyone.
    adtSenders: str(env, 'VIGIL_MLLP_ADT_SENDERS', ''),
    // Per-sender leniencies (zone for zoneless times, unit aliases); empty = strict for everyone.
    senderSettings: str(env, 'VIGIL_MLLP_SENDER_SETTINGS', ''),
    host,
    tls,
    certificateSenders,
    insecurePlaintext: !tls && !isLoopback(host),
    maxConnections,
    maxConnectionsPerPeer: int(env, 'VIGIL_MLLP_MAX_CONNECTIONS_PER_PEER', 32, 1, 100_000),
    reservedConnections: int(env, 'VIGIL_MLLP_RESERVED_CONNECTIONS', Math.min(32, Math.floor(maxConnections / 4)), 0, maxConnections - 1),
    trustedPeers: str(env, 'VIGIL_MLLP_TRUSTED_PEERS', '').split(',').map((p) => p.trim()).filter(Boolean),
    idleTimeoutMs: int(env, 'VIGIL_MLLP_IDLE_TIMEOUT_S', 300, 1, 86_400) * 1000,
  };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
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

function busKind(env: Env): 'embedded' | 'pubsub' | 'kafka' {
  const kind = oneOf(env, 'VIGIL_BUS', ['embedded', 'memory', 'pubsub', 'kafka'] as const, 'embedded');
  return kind === 'memory' ? 'embedded' : kind;
}

function oneOf<const T extends readonly string[]>(env: Env, name: string, allowed: T, fallback: T[number]): T[number] {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!allowed.includes(raw)) throw configError(name, raw, `must be one of ${allowed.join(', ')}`);
  return raw as T[number];
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

function trustProxy(raw: string | undefined): boolean | number | string {
  if (raw === undefined || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) return Number(raw);
  // Addresses, CIDRs or proxy-addr's names (loopback, linklocal, uniquelocal), comma-separated.
  const entries = raw.split(',').map((e) => e.trim());
  if (entries.every((e) => /^[0-9A-Fa-f.:/]+$/.test(e) || ['loopback', 'linklocal', 'uniquelocal'].includes(e))) return entries.join(',');
  throw configError('VIGIL_TRUST_PROXY', raw, 'must be true, false, a hop count, or proxy addresses/CIDRs (comma-separated)');
}

function jwksUrl(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw configError('VIGIL_AUTH_JWKS_URL', raw, 'must be a URL');
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw configError('VIGIL_AUTH_JWKS_URL', raw, 'must be https (plain http only on loopback)');
  }
  return url.toString();
}

function randomSecret(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
}
