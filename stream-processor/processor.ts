import type { VigilConfig } from '../core/config.ts';
import type { PatientUpdates } from '../core/domain/patient-updates.ts';
import type { Logger } from '../core/observability/logger.ts';
import type { Metrics } from '../core/observability/metrics.ts';
import type { Bus, DeliveredMessage } from '../core/ports/bus.ts';
import type { TimeSeriesStore } from '../core/ports/timeseries-store.ts';
import type { Warehouse } from '../core/ports/warehouse.ts';
import type { RetryOptions } from '../core/retry.ts';
import type { AdmissionLookup } from './admission-context.ts';
import { conflictDeadLetters } from './conflicting-values.ts';
import type { DeadLetter } from './dead-letter.ts';
import { deadLetterRow } from './dead-letter.ts';
import { logSafeError } from '../core/observability/log-safe-error.ts';
import type { ParsedBatch } from './parse-batch.ts';
import { parseBatch } from './parse-batch.ts';
import { createRescoreScheduler } from './rescore-scheduler.ts';
import type { RiskModel } from '../core/ports/risk-model.ts';
import { scorePatients } from './score-patients.ts';
import { createKeyedWindows } from './keyed-window.ts';
import { vitalsRow } from './vitals-row.ts';
import { createStoreOutage, StoreHoldStopped } from './store-outage.ts';

export interface ProcessorSettings extends Readonly<Omit<VigilConfig['processor'], 'keyedStateReadings'>> {
  /** Keyed state (keyed-window.ts): readings held at most; 0 or absent: off. */
  readonly keyedStateReadings?: number;
  readonly topic: string;
  readonly subscription: string;
  readonly deadLetterTopic: string;
  /** Patients waiting to be re-scored at most (default 10,000); beyond, the bus handler waits. */
  readonly maxPendingRescores?: number;
  /** Retries of each scoring write (default: 5 attempts, 100 ms doubling to 2 s). */
  readonly retry?: RetryOptions;
  /** Backoff of store writes held through an outage (store-outage.ts); default 100 ms doubling to 5 s. */
  readonly storeBackoff?: { readonly initialMs: number; readonly maxMs: number };
  /** NEWS2 counts a vital only if observed within this long of the newest reading (VIGIL_NEWS2_MAX_AGE_MINUTES; default 1 h). */
  readonly news2MaxAgeMs?: number;
}

export interface ProcessorDeps {
  readonly bus: Bus;
  readonly timeseries: TimeSeriesStore;
  readonly warehouse: Warehouse;
  readonly updates: PatientUpdates;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly settings: ProcessorSettings;
  /** Scores NEWS2 only when absent. */
  readonly riskModel?: RiskModel;
  /** The admission context the model is given; see admission-context.ts. */
  readonly admissions?: AdmissionLookup;
}

export interface Processor {
  /** Stops receiving, finishes in-flight batches (ack or nack; a batch held through an outage is left to the bus), then scores every patient still pending. */
  stop(): Promise<void>;
  /** Stores this processor found down on its last write (named by /readyz). */
  downBackends(): string[];
}

// Bounded so one batch's retries stay well inside the bus ack deadline (30 s by default).
const DEFAULT_RETRY: RetryOptions = { attempts: 5, initialDelayMs: 100, maxDelayMs: 2_000 };
const SCORING_BATCH = 64;
const SCORING_CONCURRENCY = 2;

/**
 * One stream-processor instance. Per bus batch: decode, normalize, merge messages of one reading
 * id, write the time-series store, then the warehouse (`vitals`, `dead_letters`), and only once every write has
 * been accepted, ack. When a store keeps failing the whole batch is nacked for redelivery (the
 * writes are idempotent, so writing it again is safe); nothing is acked that was not stored, and bad
 * input never stops the pipeline: it becomes a dead letter. Affected patients are then re-scored
 * (see score-patients.ts), debounced per patient.
 *
 * Keeps no state another instance needs: run as many as the bus has partitions. Keyed state
 * (keyed-window.ts), when on, is a cache of the store, correct only while this instance sees all
 * of its patients' readings.
 */
export async function startProcessor(deps: ProcessorDeps): Promise<Processor> {
  const { bus, timeseries, warehouse, metrics, settings } = deps;
  const logger = deps.logger.child({ component: 'processor' });
  const retry: RetryOptions = {
    ...(settings.retry ?? DEFAULT_RETRY),
    onRetry: (error, attempt, delayMs) => logger.warn({ error: logSafeError(error), attempt, delayMs }, 'store write failed; retrying'),
  };

  const keyedWindows = settings.keyedStateReadings ? createKeyedWindows({ maxReadings: settings.keyedStateReadings }) : undefined;
  const rescore = createRescoreScheduler({
    debounceMs: settings.rescoreDebounceMs,
    maxPending: settings.maxPendingRescores ?? 10_000,
    maxBatch: SCORING_BATCH,
    concurrency: SCORING_CONCURRENCY,
    score: (patientIds) => scorePatients({
      ...deps, logger, retry,
      ...(settings.news2MaxAgeMs ? { news2MaxAgeMs: settings.news2MaxAgeMs } : {}),
      ...(keyedWindows ? { keyedWindows } : {}),
    }, patientIds),
    onError: (error, patients) => logger.error({ error: logSafeError(error), patients }, 're-scoring failed; the next reading will retry'),
  });

  /**
   * The time-series store first: it merges each reading into what it holds (core/domain/merge-reading.ts)
   * and says what it then holds and which values conflicted. The warehouse then gets exactly those
   * merged readings (it fills in the same way, so both stores hold the same reading), and the
   * conflicting values become dead letters. Resolves with every dead letter of the batch.
   */
  const stopSignal = new AbortController();
  const outage = createStoreOutage({
    metrics, logger, ackDeadlineMs: settings.ackDeadlineMs, signal: stopSignal.signal,
    ...(settings.storeBackoff ? { initialBackoffMs: settings.storeBackoff.initialMs, maxBackoffMs: settings.storeBackoff.maxMs } : {}),
  });

  async function storeBatch(batch: readonly DeliveredMessage[], parsed: ParsedBatch): Promise<DeadLetter[]> {
    const written = parsed.readings.length > 0 ? await outage.write(timeseries.kind, batch, () => timeseries.writeReadings(parsed.readings)) : undefined;
    // At once, whatever happens to the rest of the batch: keyed state follows what the store holds.
    if (written) keyedWindows?.update(written.stored);
    const deadLetters = [...parsed.deadLetters, ...conflictDeadLetters(parsed, written?.conflicts ?? [])];
    await Promise.all([
      written && written.stored.length > 0 && outage.write(warehouse.kind, batch, () => warehouse.append('vitals', written.stored.map(vitalsRow))),
      deadLetters.length > 0 && outage.write(warehouse.kind, batch, () => warehouse.append('dead_letters', deadLetters.map(deadLetterRow))),
    ]);
    return deadLetters;
  }

  /** Publish times of the batches in the handler, for vigil_processor_oldest_unacked_seconds. */
  const inHandler = new Map<readonly DeliveredMessage[], number>();
  const reportOldest = (): void => {
    const oldest = Math.min(...inHandler.values());
    metrics.oldestUnackedSeconds.set(Number.isFinite(oldest) ? Math.max(0, Date.now() - oldest) / 1000 : 0);
  };
  const oldestTimer = setInterval(reportOldest, 1_000);
  oldestTimer.unref();

  async function handleBatch(batch: readonly DeliveredMessage[]): Promise<void> {
    inHandler.set(batch, Math.min(...batch.map((m) => m.publishedAt.getTime())));
    try {
      await storeAndAck(batch);
    } finally {
      inHandler.delete(batch);
      reportOldest();
    }
  }

  async function storeAndAck(batch: readonly DeliveredMessage[]): Promise<void> {
    const started = performance.now();
    const parsed = parseBatch(batch);
    let deadLetters: DeadLetter[];
    try {
      deadLetters = await storeBatch(batch, parsed);
    } catch (error) {
      // Shutdown during an outage: left unsettled, the bus hands the batch on without a nack.
      if (error instanceof StoreHoldStopped) return;
      logger.error({ error: logSafeError(error), messages: batch.length }, 'batch not stored; nacked for redelivery');
      await Promise.all(batch.map((m) => m.nack()));
      return;
    }
    await Promise.all(batch.map((m) => m.ack()));

    // Distinct readings of the batch; further deliveries of an id (repeats, parts of one reading) count as duplicates.
    metrics.readingsProcessed.inc(new Set(parsed.readings.map((r) => r.readingId)).size);
    if (parsed.duplicates > 0) metrics.readingsDuplicate.inc(parsed.duplicates);
    for (const letter of deadLetters) metrics.deadLetters.inc({ reason: letter.metricReason });
    metrics.batchSeconds.observe((performance.now() - started) / 1000);
    if (parsed.readings.length > 0) {
      const newestReceived = Math.max(...parsed.readings.map((r) => r.receivedAt));
      metrics.lagSeconds.set(Math.max(0, Date.now() - newestReceived) / 1000);
    }
    if (deadLetters.length > 0) logger.warn({ deadLetters: deadLetters.length, messages: batch.length }, 'unusable messages or conflicting values moved to dead letters');

    await rescore.schedule(new Set(parsed.readings.map((r) => r.patientId)));
  }

  const subscription = await bus.subscribe({
    topic: settings.topic,
    subscription: settings.subscription,
    maxBatchSize: settings.maxBatchSize,
    maxBatchWaitMs: settings.maxBatchWaitMs,
    maxInFlight: settings.maxInFlight,
    ackDeadlineMs: settings.ackDeadlineMs,
    maxDeliveryAttempts: settings.maxDeliveryAttempts,
    deadLetterTopic: settings.deadLetterTopic,
  }, handleBatch);
  logger.info({ bus: bus.kind, subscription: settings.subscription, model: deps.riskModel?.name ?? null }, 'processor started');

  let stopping: Promise<void> | undefined;
  return {
    downBackends: () => outage.down(),
    stop: () => (stopping ??= (async () => {
      stopSignal.abort();
      clearInterval(oldestTimer);
      await subscription.close();
      await rescore.flush();
      logger.info('processor stopped');
    })()),
  };
}
