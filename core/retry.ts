import { isTransientFailure } from './errors.ts';

export interface RetryOptions {
  /** Attempts in total, including the first. */
  readonly attempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** Stop early when this signal aborts (shutdown). */
  readonly signal?: AbortSignal;
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Override which errors are retried; defaults to `isTransientFailure`. */
  readonly retryOn?: (error: unknown) => boolean;
}

export const DEFAULT_RETRY: RetryOptions = Object.freeze({ attempts: 6, initialDelayMs: 100, maxDelayMs: 5_000 });

/**
 * Runs `operation` until it succeeds, the error is not retriable, attempts run out or the signal
 * aborts. Backoff is exponential with full jitter; the last error is rethrown unchanged, so its
 * `cause` chain survives.
 */
export async function withRetry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions = DEFAULT_RETRY): Promise<T> {
  const retryOn = options.retryOn ?? isTransientFailure;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (attempt >= options.attempts || !retryOn(error) || options.signal?.aborted) throw error;
      const ceiling = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** (attempt - 1));
      const delayMs = Math.round(Math.random() * ceiling);
      options.onRetry?.(error, attempt, delayMs);
      await sleep(delayMs, options.signal);
    }
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
