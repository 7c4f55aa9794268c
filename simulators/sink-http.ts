import { VigilError } from '../core/errors.ts';
import { sleep, withRetry } from '../core/retry.ts';
import type { ReadingSink, SinkStats } from './reading-sink.ts';

export interface HttpSinkOptions {
  /** Base URL of the edge, e.g. http://127.0.0.1:8080 (the sink posts to /v1/readings). */
  readonly url: string;
  /** A device JWT. */
  readonly token: string;
  /** A batch is sent when it holds this many readings (default 500)… */
  readonly maxBatchSize?: number;
  /** …or this many bytes of JSON (default 512 KiB, half the edge's default body limit)… */
  readonly maxBatchBytes?: number;
  /** …or when its oldest reading has waited this long (default 200 ms). */
  readonly maxBatchAgeMs?: number;
  /** Requests in flight at most (default 4). `write` waits while all are busy. */
  readonly concurrency?: number;
  /** Attempts per request, for 429/503 and network failures (default 8). */
  readonly attempts?: number;
  readonly signal?: AbortSignal;
  /** Injected for tests; default the global fetch. */
  readonly fetch?: typeof fetch;
}

/** Longest Retry-After honoured; a longer one is treated as this (the simulator keeps moving). */
const MAX_RETRY_AFTER_MS = 30_000;

/**
 * Posts readings to `POST /v1/readings` in JSON arrays, bounded by count, bytes and age, with at
 * most `concurrency` requests in flight. 429 and 503 are retried after their Retry-After (then the
 * retry helper's backoff); 400 counts the batch's readings as rejected and moves on; 401/403 stop
 * the sink (a wrong token will not get better).
 *
 * The edge answers all or nothing (one invalid item refuses the whole request), so a reading with a
 * malformed value goes in a request of its own: its 400, if any, cannot take valid readings down.
 */
export function createHttpSink(options: HttpSinkOptions): ReadingSink {
  const endpoint = new URL('/v1/readings', options.url).toString();
  const maxBatchSize = options.maxBatchSize ?? 500;
  const maxBatchBytes = options.maxBatchBytes ?? 512 * 1024;
  const maxBatchAgeMs = options.maxBatchAgeMs ?? 200;
  const concurrency = options.concurrency ?? 4;
  const doFetch = options.fetch ?? globalThis.fetch;
  let written = 0, accepted = 0, rejected = 0, retries = 0;
  let buffer: string[] = [];
  let bufferBytes = 0;
  let ageTimer: NodeJS.Timeout | undefined;
  let fatal: unknown;
  const inFlight = new Set<Promise<void>>();

  async function post(items: readonly string[]): Promise<void> {
    const body = items.length === 1 ? items[0]! : `[${items.join(',')}]`;
    await withRetry(async () => {
      const response = await doFetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
        body,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const text = await response.text();
      if (response.status === 202 || response.status === 200) {
        accepted += acceptedCount(text, items.length);
        return;
      }
      if (response.status === 400 || response.status === 413) {
        rejected += items.length;
        return;
      }
      if (response.status === 429 || response.status === 503) {
        await sleep(retryAfterMs(response.headers.get('retry-after')), options.signal);
        throw new VigilError('BACKPRESSURE', `edge answered ${response.status}`);
      }
      if (response.status === 401 || response.status === 403) {
        throw new VigilError(response.status === 401 ? 'UNAUTHENTICATED' : 'FORBIDDEN', `edge refused the device token (${response.status})`);
      }
      throw new VigilError('BACKEND_UNAVAILABLE', `edge answered ${response.status}`, { retriable: response.status >= 500 });
    }, {
      attempts: options.attempts ?? 8, initialDelayMs: 50, maxDelayMs: 2_000,
      ...(options.signal ? { signal: options.signal } : {}),
      onRetry: () => { retries++; },
    });
  }

  async function dispatch(items: string[]): Promise<void> {
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    if (fatal) throw fatal;
    const request = post(items).catch((error: unknown) => { fatal ??= error; }).finally(() => inFlight.delete(request));
    inFlight.add(request);
  }

  async function sendBuffer(): Promise<void> {
    clearTimeout(ageTimer);
    ageTimer = undefined;
    if (buffer.length === 0) return;
    const items = buffer;
    buffer = [];
    bufferBytes = 0;
    await dispatch(items);
  }

  return {
    async write(readings) {
      if (fatal) throw fatal;
      for (const reading of readings) {
        written++;
        const json = JSON.stringify(reading.body);
        if (reading.faults.malformed !== null) {
          await dispatch([json]);
          continue;
        }
        if (buffer.length > 0 && bufferBytes + json.length + 1 > maxBatchBytes) await sendBuffer();
        buffer.push(json);
        bufferBytes += json.length + 1;
        if (buffer.length >= maxBatchSize) await sendBuffer();
      }
      if (buffer.length > 0 && !ageTimer) {
        ageTimer = setTimeout(() => void sendBuffer().catch((error: unknown) => { fatal ??= error; }), maxBatchAgeMs);
        ageTimer.unref();
      }
    },
    async flush() {
      await sendBuffer();
      await Promise.all(inFlight);
      if (fatal) throw fatal;
    },
    stats: (): SinkStats => ({ written, accepted, rejected, retries }),
  };
}

function acceptedCount(text: string, fallback: number): number {
  try {
    const value = (JSON.parse(text) as { accepted?: unknown }).accepted;
    return typeof value === 'number' ? value : fallback;
  } catch {
    return fallback;
  }
}

/** Retry-After is delta-seconds or an HTTP date; absent or unreadable means one second. */
export function retryAfterMs(header: string | null, now = Date.now()): number {
  if (header === null) return 1000;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - now;
  return Number.isFinite(ms) ? Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms)) : 1000;
}
