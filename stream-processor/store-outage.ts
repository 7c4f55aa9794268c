import { isTransientFailure } from '../core/errors.ts';
import { logSafeError } from '../core/observability/log-safe-error.ts';
import type { Logger } from '../core/observability/logger.ts';
import type { Metrics } from '../core/observability/metrics.ts';
import type { DeliveredMessage } from '../core/ports/bus.ts';

/**
 * The processor's hold path for a sick store. A store write that fails retriably is not the
 * batch's fault, so the batch is neither nacked nor dead-lettered: it is held (its ack deadlines
 * extended every third of a deadline), the write is tried again after a jittered backoff that
 * doubles up to a bound, for as long as the outage lasts. The bus counts no delivery attempt for a
 * held message, so an outage of any length never pushes valid readings toward
 * VIGIL_MAX_DELIVERY_ATTEMPTS.
 *
 * While a batch is held the subscriber stays at its in-flight bound, so nothing more is pulled and
 * memory stays bounded by `maxInFlight`. The outage is logged once when a backend goes down and
 * once when it answers again (never per message or per retry); `/metrics` shows it as
 * `vigil_backend_up{backend}` and `vigil_store_write_retries_total{backend}`.
 *
 * Errors that are not retriable (the store rejected the data) are thrown at once: the processor
 * nacks them as before, and such a batch may end as a dead letter.
 */
export interface StoreOutageOptions {
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** The bus ack deadline; held messages are extended every third of it. */
  readonly ackDeadlineMs: number;
  /** First pause after a failed write; doubles per consecutive failure of that backend. Default 100 ms. */
  readonly initialBackoffMs?: number;
  /** Longest pause between tries. Default 5 000 ms: a store that returns is used within ~5 s. */
  readonly maxBackoffMs?: number;
  /** Aborted on shutdown: a held write stops trying and throws `StoreHoldStopped`. */
  readonly signal: AbortSignal;
}

/** Thrown when shutdown ended a hold: the batch stays unsettled, and the bus hands it to the next processor. */
export class StoreHoldStopped extends Error {
  constructor(backend: string, cause: unknown) {
    super(`stopped while holding a batch for ${backend}`, { cause });
    this.name = 'StoreHoldStopped';
  }
}

interface BackendState {
  /** Consecutive failed writes; 0 while the backend answers. */
  failures: number;
  downSince: number;
  retries: number;
}

export interface StoreOutage {
  /** Runs one store write, holding `batch` through retriable failures until it succeeds. */
  write<T>(backend: string, batch: readonly DeliveredMessage[], operation: () => Promise<T>): Promise<T>;
  /** Backends whose last write failed retriably (for /readyz). */
  down(): string[];
}

export function createStoreOutage(options: StoreOutageOptions): StoreOutage {
  const { metrics, signal } = options;
  const logger = options.logger;
  const initial = options.initialBackoffMs ?? 100;
  const max = options.maxBackoffMs ?? 5_000;
  const extendEveryMs = Math.max(50, Math.floor(options.ackDeadlineMs / 3));
  const backends = new Map<string, BackendState>();

  const stateOf = (backend: string): BackendState => {
    let state = backends.get(backend);
    if (!state) backends.set(backend, (state = { failures: 0, downSince: 0, retries: 0 }));
    return state;
  };

  function markUp(backend: string): void {
    const state = stateOf(backend);
    metrics.backendUp.set({ backend }, 1);
    if (state.failures === 0) return;
    logger.info({ backend, downSeconds: (Date.now() - state.downSince) / 1000, retries: state.retries }, 'store answers again; held batches resume');
    state.failures = 0;
    state.retries = 0;
  }

  function markDown(backend: string, error: unknown, held: number): number {
    const state = stateOf(backend);
    metrics.backendUp.set({ backend }, 0);
    if (state.failures === 0) {
      state.downSince = Date.now();
      logger.warn({ backend, error: logSafeError(error), held }, 'store write failed retriably; holding the batch (not nacked) and retrying until the store answers');
    }
    state.failures++;
    state.retries++;
    metrics.storeWriteRetries.inc({ backend });
    const ceiling = Math.min(max, initial * 2 ** Math.min(30, state.failures - 1));
    return Math.round(Math.random() * ceiling);
  }

  return {
    async write(backend, batch, operation) {
      // Extended on a timer, not between tries: one try may itself take longer than a deadline
      // (a Google client retrying inside). A slow healthy write is extended the same way.
      const extender = setInterval(() => {
        void Promise.all(batch.map((m) => m.extendAckDeadline())).catch(() => undefined);
      }, extendEveryMs);
      try {
        for (;;) {
          try {
            const result = await operation();
            markUp(backend);
            return result;
          } catch (error) {
            if (!isTransientFailure(error)) throw error;
            const delayMs = markDown(backend, error, batch.length);
            await pause(delayMs, signal);
            if (signal.aborted) throw new StoreHoldStopped(backend, error);
          }
        }
      } finally {
        clearInterval(extender);
      }
    },
    down: () => [...backends].filter(([, s]) => s.failures > 0).map(([name]) => name),
  };
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, Math.max(1, ms));
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
