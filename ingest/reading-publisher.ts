import type { RawReading } from '../core/domain/reading.ts';
import { VigilError, isTransientFailure } from '../core/errors.ts';
import type { Logger } from '../core/observability/logger.ts';
import type { Metrics } from '../core/observability/metrics.ts';
import type { Bus, OutgoingMessage } from '../core/ports/bus.ts';
import { READING_ATTRIBUTES, encodeReading } from '../core/wire/reading-codec.ts';
import { DEFAULTS } from '../core/defaults.ts';

/**
 * Puts accepted readings on the bus for every edge (HTTP JSON, FHIR, HL7 v2, simulator).
 *
 * Concurrent `publish` calls are coalesced into `bus.publish` batches bounded by count, bytes and
 * age, so a thousand small device requests cost a few bus round trips, not a thousand. A call
 * resolves only when the bus accepted all of its readings, and rejects when any batch holding one
 * of them failed (the caller answers 503; readings carry deterministic ids, so a device resending
 * the whole request cannot create duplicates).
 *
 * Backpressure: at most `maxPending` readings wait for the bus at once. A call that would go past
 * it is refused at once with a retriable BACKPRESSURE error (HTTP 503 + Retry-After) instead of
 * queueing: the devices hold their readings and retry, so memory here stays bounded.
 *
 * Bound (`publishTimeoutMs`, VIGIL_EDGE_PUBLISH_TIMEOUT_MS): a call the bus has not confirmed
 * within it rejects with a retriable BACKEND_UNAVAILABLE error, so no device waits on a bus that
 * hangs. Its readings stay counted in `pending` until the bus settles them (they are still held by
 * the bus client), so a hung bus fills `maxPending` and later calls are refused at once instead of
 * piling up. Such a publish may still succeed later; the device, told 503, resends the same
 * readings with the same ids and the stores keep each reading id once, so nothing is doubled.
 *
 * The bus's state changes (stopped confirming / confirming again) are logged once each, not once
 * per refused request.
 */
export interface ReadingPublisher {
  publish(readings: readonly RawReading[]): Promise<void>;
  /** Readings accepted by `publish` and not yet settled by the bus. */
  readonly pending: number;
  /** The most one `publish` call may hand over (larger calls could never be accepted). */
  readonly maxPending: number;
  /**
   * Refuses new calls, flushes what is waiting and resolves once the bus settled everything, or
   * after `publishTimeoutMs` at most (every call still waiting has been answered by then).
   */
  close(): Promise<void>;
}

export interface ReadingPublisherOptions {
  readonly bus: Bus;
  readonly topic: string;
  readonly metrics: Metrics;
  readonly maxBatchMessages?: number;
  readonly maxBatchBytes?: number;
  /** The oldest reading of a batch waits at most this long for others to join it. */
  readonly maxBatchDelayMs?: number;
  readonly maxPending?: number;
  /** A call not confirmed by the bus within this long rejects (retriable); see above. */
  readonly publishTimeoutMs?: number;
  readonly logger?: Logger;
}

/** Commented in core/defaults.ts. */
export const PUBLISHER_DEFAULTS = DEFAULTS.publisher;

interface Waiter {
  batches: number;
  failed: boolean;
  resolve(): void;
  reject(error: unknown): void;
}

interface Batch {
  messages: OutgoingMessage[];
  bytes: number;
  /** Readings per source, for the ingested counter. */
  sources: Map<string, number>;
  waiters: Waiter[];
}

const emptyBatch = (): Batch => ({ messages: [], bytes: 0, sources: new Map(), waiters: [] });

export function createReadingPublisher(options: ReadingPublisherOptions): ReadingPublisher {
  const { bus, topic, metrics } = options;
  const maxBatchMessages = positiveInt('maxBatchMessages', options.maxBatchMessages ?? PUBLISHER_DEFAULTS.maxBatchMessages);
  const maxBatchBytes = positiveInt('maxBatchBytes', options.maxBatchBytes ?? PUBLISHER_DEFAULTS.maxBatchBytes);
  const maxBatchDelayMs = nonNegativeInt('maxBatchDelayMs', options.maxBatchDelayMs ?? PUBLISHER_DEFAULTS.maxBatchDelayMs);
  const maxPending = positiveInt('maxPending', options.maxPending ?? PUBLISHER_DEFAULTS.maxPending);
  const publishTimeoutMs = positiveInt('publishTimeoutMs', options.publishTimeoutMs ?? PUBLISHER_DEFAULTS.publishTimeoutMs);
  const { logger } = options;

  let batch = emptyBatch();
  let timer: NodeJS.Timeout | undefined;
  let pending = 0;
  let closed = false;
  const inFlight = new Set<Promise<void>>();
  let busFailing = false;

  function busFails(why: 'timeout' | 'refused', error?: unknown): void {
    if (busFailing) return;
    busFailing = true;
    const cause = error as { name?: string; code?: unknown } | undefined;
    logger?.warn({ why, publishTimeoutMs, pending, cause: cause ? { name: cause.name, code: cause.code } : undefined },
      'bus is not confirming readings; the edges answer 503/AR until it does');
  }
  function busConfirms(): void {
    if (!busFailing) return;
    busFailing = false;
    logger?.info({ pending }, 'bus confirms readings again; the edges accept');
  }

  function flush(): void {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (batch.messages.length === 0) return;
    const sent = batch;
    batch = emptyBatch();
    // Through a promise chain so that an adapter throwing synchronously still settles the waiters.
    const done = Promise.resolve().then(() => bus.publish(topic, sent.messages)).then(
      () => {
        pending -= sent.messages.length;
        busConfirms();
        for (const [source, count] of sent.sources) metrics.readingsIngested.inc({ source }, count);
        for (const waiter of sent.waiters) {
          if (--waiter.batches === 0 && !waiter.failed) waiter.resolve();
        }
      },
      (error: unknown) => {
        pending -= sent.messages.length;
        const refusal = busError(error);
        if (refusal.retriable) busFails('refused', error);
        for (const waiter of sent.waiters) {
          if (waiter.failed) continue;
          waiter.failed = true;
          waiter.reject(refusal);
        }
      },
    );
    inFlight.add(done);
    void done.finally(() => inFlight.delete(done));
  }

  function add(waiter: Waiter, reading: RawReading, data: Buffer): void {
    if (batch.messages.length > 0 && batch.bytes + data.byteLength > maxBatchBytes) flush();
    batch.messages.push({ data, attributes: READING_ATTRIBUTES, orderingKey: reading.patientId });
    batch.bytes += data.byteLength;
    batch.sources.set(reading.source, (batch.sources.get(reading.source) ?? 0) + 1);
    if (batch.waiters.at(-1) !== waiter) {
      batch.waiters.push(waiter);
      waiter.batches++;
    }
    if (batch.messages.length >= maxBatchMessages || batch.bytes >= maxBatchBytes) flush();
  }

  return {
    get pending() {
      return pending;
    },
    maxPending,
    publish(readings) {
      if (closed) return Promise.reject(new VigilError('SHUTTING_DOWN', 'the ingest edge is shutting down'));
      if (readings.length === 0) return Promise.resolve();
      if (pending + readings.length > maxPending) {
        return Promise.reject(new VigilError('BACKPRESSURE', 'too many readings waiting for the bus; retry shortly', {
          details: [{ pending, maxPending }],
        }));
      }
      // Encode everything first: a reading that cannot be encoded must not leave half a request queued.
      let encoded: Buffer[];
      try {
        encoded = readings.map(encodeReading);
      } catch (cause) {
        return Promise.reject(new VigilError('INTERNAL', 'a reading does not fit the bus schema', { cause }));
      }
      pending += readings.length;
      return new Promise<void>((resolve, reject) => {
        const bound = setTimeout(() => {
          if (waiter.failed) return;
          waiter.failed = true;
          busFails('timeout');
          reject(new VigilError('BACKEND_UNAVAILABLE', `the bus did not confirm the readings within ${publishTimeoutMs} ms; nothing was accepted, resend shortly`));
        }, publishTimeoutMs);
        const waiter: Waiter = {
          batches: 0, failed: false,
          resolve: () => { clearTimeout(bound); resolve(); },
          reject: (error) => { clearTimeout(bound); reject(error); },
        };
        for (let i = 0; i < readings.length; i++) add(waiter, readings[i]!, encoded[i]!);
        if (batch.messages.length > 0 && timer === undefined) timer = setTimeout(flush, maxBatchDelayMs);
      });
    },
    async close() {
      closed = true;
      flush();
      // Bounded like a call: a publish the bus has not confirmed by then was already answered 503
      // to its device, so shutdown does not wait on a hung bus.
      let giveUp: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...inFlight]),
        new Promise((resolve) => {
          giveUp = setTimeout(resolve, publishTimeoutMs);
        }),
      ]);
      clearTimeout(giveUp);
    },
  };
}

function busError(error: unknown): VigilError {
  if (error instanceof VigilError) return error;
  return isTransientFailure(error)
    ? new VigilError('BACKEND_UNAVAILABLE', 'the bus did not accept the readings; retry shortly', { cause: error })
    : new VigilError('BACKEND_REJECTED', 'the bus refused the readings', { cause: error });
}

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new VigilError('CONFIG_INVALID', `createReadingPublisher: ${name} must be a positive integer`);
  return value;
}

function nonNegativeInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) throw new VigilError('CONFIG_INVALID', `createReadingPublisher: ${name} must be an integer ≥ 0`);
  return value;
}
