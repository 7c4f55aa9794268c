import { deepFreeze } from './deep-freeze.ts';

/**
 * Vigil's built-in defaults, in one place, each with why it is what it is. The modules that use
 * them import from here (their old names, e.g. PUBLISHER_DEFAULTS, are these objects). Defaults a
 * variable overrides are read in core/config.ts, and the README's configuration table states them.
 */
export const DEFAULTS = deepFreeze({
  /** The ingest edge's publisher (ingest/reading-publisher.ts). */
  publisher: {
    // 1,000 messages is Pub/Sub's per-request maximum; about 150 KB of Avro readings.
    maxBatchMessages: 1000,
    // Below Kafka's default 1 MB request size and Pub/Sub's 10 MB.
    maxBatchBytes: 900_000,
    // Small next to a device's round trip; long enough to gather concurrent requests under load.
    maxBatchDelayMs: 5,
    // About 1 s of the target rate: enough to ride out a slow bus round trip, a few MB of memory.
    maxPending: 100_000,
    // Well past a healthy bus round trip (tens of ms), well inside a device's own request timeout.
    publishTimeoutMs: 5_000,
  },
  /** The HL7 v2 MLLP listener (ingest/hl7/mllp-server.ts). */
  mllp: {
    // An ORU^R01 from a monitor is a few KB; 1 MiB allows a gateway's large batch and bounds memory.
    maxFrameBytes: 1_048_576,
    // Monitors keep one connection open and send every few seconds to minutes.
    idleTimeoutMs: 5 * 60_000,
    // A real frame arrives in milliseconds; 30 s tolerates a congested WAN, not a trickle.
    frameTimeoutMs: 30_000,
    maxConnections: 512,
    // A gateway or interface engine opens a handful of connections; 32 leaves room, 520 does not.
    maxConnectionsPerPeer: 32,
    reservedConnections: 32,
    // A TLS handshake takes milliseconds; a peer without a certificate should not hold a slot for 2 min.
    handshakeTimeoutMs: 10_000,
    maxQueuedFrames: 16,
    closeTimeoutMs: 10_000,
  },
  /** Server-Sent Events to the dashboard (dashboard-api/patient-stream.ts). */
  stream: {
    // Shorter than the HTTP idle timeout (60 s), so an idle but healthy stream is never cut.
    heartbeatMs: 15_000,
    // About a thousand patient events: far more than a healthy client ever has waiting.
    maxBufferBytes: 512 * 1024,
    // Reconnect delay suggested to EventSource.
    retryMs: 3_000,
  },
  /** Alerts (dashboard-api/alerts/); VIGIL_ALERT_* override them (core/config.ts). */
  alerts: {
    news2: 5,
    news2RedParameter: true,
    // Used only when neither VIGIL_ALERT_RISK_PERCENT nor the model card sets a threshold.
    risk: 0.33,
    // Long enough that a re-positioned probe or a cough does not close and reopen the episode.
    holdMs: 15 * 60_000,
    // How often an engine looks for alert changes made by other instances (VIGIL_ALERT_REFRESH_MS).
    refreshMs: 1_000,
  },
  /** NEWS2 scoring (core/domain/news2-observation-set.ts). */
  news2: {
    // RCP charts are filled hourly at the most frequent: one hour holds one observation set.
    maxAgeMs: 60 * 60_000,
  },
  /** The processor's admission lookup (stream-processor/admission-context.ts): a cache, not state. */
  admissionLookup: {
    // Admissions change rarely; five minutes bounds how stale a transfer or discharge can be.
    ttlMs: 5 * 60_000,
    // "No admission on record" is believed briefly: the record may arrive after the first readings.
    missingTtlMs: 30_000,
    maxPatients: 20_000,
    // Patients per query: a query of a few KB on either engine.
    chunkSize: 200,
  },
  /** The read API's history and admin lists (dashboard-api/). */
  readApi: {
    // The history routes' default span: a nursing shift and a half.
    historySpanMs: 6 * 60 * 60_000,
    historyLimit: 5_000,
    // GET /v1/dead-letters without ?since=: the last day.
    deadLettersSinceMs: 24 * 60 * 60_000,
    // POST /v1/sql rows when the analyst names no limit.
    sqlRows: 1_000,
    // FHIR Observation search page size (_count).
    fhirCount: 50,
  },
});
