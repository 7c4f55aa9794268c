import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { RiskMode } from '../core/config.ts';
import type { PatientSummary } from '../core/domain/patient-summary.ts';
import { inRiskMode } from '../core/domain/patient-summary.ts';
import type { PatientUpdates } from '../core/domain/patient-updates.ts';
import type { Metrics } from '../core/observability/metrics.ts';
import type { TimeSeriesStore } from '../core/ports/timeseries-store.ts';
import { summarizeWard } from './ward-summary.ts';
import type { WardCensus } from './ward-census.ts';
import { placeOnWard } from './ward-census.ts';
import { DEFAULTS } from '../core/defaults.ts';

/**
 * `GET /v1/stream`: Server-Sent Events for the live ward. A client gets a `retry:` hint, one
 * `event: patient` per patient as a snapshot, then one per update, and a comment line as a
 * heartbeat so proxies keep the connection open. A client that does not keep up is disconnected
 * once its buffer passes `maxBufferBytes`; EventSource reconnects and starts from a fresh snapshot,
 * which is both the cheapest and the most correct way for it to catch up.
 *
 * A stream lives no longer than the credential that opened it: at its expiry, or at the first
 * heartbeat after its session was signed out, the client gets `event: session-expired` and the
 * stream ends, so the page signs in again instead of watching the ward on a dead credential.
 */
export interface StreamOptions {
  readonly heartbeatMs: number;
  readonly maxBufferBytes: number;
  /** Reconnect delay suggested to EventSource. */
  readonly retryMs: number;
}

/** Commented in core/defaults.ts. */
export const DEFAULT_STREAM_OPTIONS: StreamOptions = DEFAULTS.stream;

export function patientEventOf(summary: PatientSummary): string {
  return `event: patient\ndata: ${JSON.stringify(summary)}\n\n`;
}

/** A patient left the ward (ADT discharge): the client drops their tile; their history stays readable. */
export const PATIENT_LEFT_EVENT = 'patient-left';
const patientLeftEvent = (patientId: string): string => `event: ${PATIENT_LEFT_EVENT}\ndata: ${JSON.stringify({ patientId })}\n\n`;

/** Alert changes, sent as `event: alert` after the patient snapshot (see alerts/alert-engine.ts). */
export interface AlertFeed {
  /** The alerts a newly connected ward must show. */
  current(): readonly object[];
  subscribe(listener: (alert: object) => void): () => void;
}

const alertEvent = (alert: object): string => `event: alert\ndata: ${JSON.stringify(alert)}\n\n`;

export const SESSION_EXPIRED_EVENT = 'session-expired';
const sessionExpiredEvent = (reason: 'expired' | 'signed-out'): string => `event: ${SESSION_EXPIRED_EVENT}\ndata: ${JSON.stringify({ reason })}\n\n`;
/** setTimeout's longest delay; a later expiry is checked again at the heartbeat. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function registerPatientStream(
  app: FastifyInstance,
  deps: { timeseries: TimeSeriesStore; updates: PatientUpdates; metrics: Metrics; alerts?: AlertFeed; riskMode?: RiskMode; census?: WardCensus },
  options: StreamOptions = DEFAULT_STREAM_OPTIONS,
): void {
  const { timeseries, updates, metrics } = deps;
  // VIGIL_RISK_MODE=silent: every patient event carries `"risk": {"mode": "silent"}` instead of the model's risk.
  const patientEvent = (summary: PatientSummary): string => patientEventOf(inRiskMode(summary, deps.riskMode ?? 'shown'));
  const openStreams = new Set<PassThrough>();

  // Open streams would keep server.close() waiting forever: end them first.
  app.addHook('preClose', async () => {
    for (const stream of openStreams) stream.end();
  });

  // No automatic HEAD route: it would open a stream nobody reads.
  app.get('/v1/stream', { config: { access: 'clinician', audit: true }, exposeHeadRoute: false }, async (request, reply) => {
    // Subscribe before reading the snapshot so nothing that happens meanwhile is missed; updates
    // that arrive during the snapshot are kept per patient (newest wins) and sent after it.
    const pending = new Map<string, PatientSummary>();
    const stream = new PassThrough();
    let live = false;
    let closed = false;
    let allowance = 0;
    const send = (chunk: string): void => {
      if (closed) return;
      stream.write(chunk);
      if (stream.writableLength > options.maxBufferBytes + allowance) {
        request.log.warn({ sub: request.principal?.sub, bufferedBytes: stream.writableLength }, 'SSE client too slow, disconnecting');
        reply.raw.destroy();
      }
    };
    // With a census, each update is placed on the ward (its bed) first; one for a patient who has
    // left (a late reading after discharge) is not sent. Per patient in order, so the newest stays last.
    const placing = new Map<string, Promise<void>>();
    const leftDuringSnapshot = new Set<string>();
    const deliver = (update: PatientSummary): void => {
      if (live) send(patientEvent(update));
      else pending.set(update.patientId, update);
    };
    const unsubscribe = updates.subscribe((update) => {
      const census = deps.census;
      if (!census) return deliver(update);
      const previous = placing.get(update.patientId) ?? Promise.resolve();
      const next = previous.then(() => placeOnWard(update, census)).then(
        (placed) => { if (placed) deliver(placed); },
        () => deliver(update), // census unreadable: show the update rather than hide a patient
      ).finally(() => { if (placing.get(update.patientId) === next) placing.delete(update.patientId); });
      placing.set(update.patientId, next);
    });
    const unsubscribeLeft = updates.subscribeLeft((patientId) => {
      pending.delete(patientId);
      if (live) send(patientLeftEvent(patientId));
      else leftDuringSnapshot.add(patientId);
    });
    // Alerts change rarely (one ward's worth at most during a snapshot); all are kept, in order.
    const pendingAlerts: object[] = [];
    const unsubscribeAlerts = deps.alerts?.subscribe((alert) => {
      if (live) send(alertEvent(alert));
      else pendingAlerts.push(alert);
    });

    let snapshot: PatientSummary[];
    try {
      snapshot = await summarizeWard(timeseries, { ...(deps.census ? { census: deps.census } : {}) });
    } catch (error) {
      unsubscribe();
      unsubscribeLeft();
      unsubscribeAlerts?.();
      stream.destroy();
      throw error;
    }

    openStreams.add(stream);
    metrics.sseClients.inc();
    const credential = request.credential!;
    const endSession = (reason: 'expired' | 'signed-out'): void => {
      if (closed) return;
      send(sessionExpiredEvent(reason));
      cleanup();
    };
    const heartbeat = setInterval(() => {
      send(': heartbeat\n\n');
      app.credentialHolds(credential).then(
        (holds) => { if (!holds) endSession(credential.expiresAt <= Date.now() ? 'expired' : 'signed-out'); },
        // The revocation list is unreachable: keep streaming until the expiry timer ends it.
        () => undefined,
      );
    }, options.heartbeatMs);
    const expiry = setTimeout(() => endSession('expired'), Math.min(MAX_TIMER_MS, Math.max(0, credential.expiresAt - Date.now())));
    const cleanup = (): void => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      clearTimeout(expiry);
      unsubscribe();
      unsubscribeLeft();
      unsubscribeAlerts?.();
      openStreams.delete(stream);
      metrics.sseClients.dec();
      stream.end();
    };
    reply.raw.once('close', cleanup);
    stream.once('close', cleanup);

    // The snapshot is bounded by the ward's size, so it does not count against the client's buffer.
    stream.write(`retry: ${options.retryMs}\n\n`);
    for (const summary of snapshot) {
      if (!pending.has(summary.patientId) && !leftDuringSnapshot.has(summary.patientId)) stream.write(patientEvent(summary));
    }
    for (const summary of pending.values()) stream.write(patientEvent(summary));
    pending.clear();
    leftDuringSnapshot.clear();
    for (const alert of [...(deps.alerts?.current() ?? []), ...pendingAlerts]) stream.write(alertEvent(alert));
    pendingAlerts.length = 0;
    allowance = stream.writableLength;
    live = true;

    return reply
      .header('content-type', 'text/event-stream; charset=utf-8')
      .header('cache-control', 'no-store, no-transform')
      // Tells nginx-style proxies not to buffer the stream.
      .header('x-accel-buffering', 'no')
      .send(stream);
  });
}
