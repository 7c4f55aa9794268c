import { VigilError } from '../../core/errors.ts';
import { withRetry } from '../../core/retry.ts';
import type { SimulatedReading } from '../device-faults.ts';
import type { ReadingSink, SinkStats } from '../reading-sink.ts';
import { readingToObservations } from './reading-to-fhir.ts';

export interface FhirSinkOptions {
  /** Base URL of the edge, e.g. http://127.0.0.1:8080 (the sink posts to /fhir). */
  readonly url: string;
  /** A device JWT. */
  readonly token: string;
  /** Readings per batch Bundle (default 50). */
  readonly readingsPerBundle?: number;
  readonly attempts?: number;
  readonly signal?: AbortSignal;
  readonly fetch?: typeof fetch;
}

/**
 * Sends simulated readings as a FHIR-speaking device gateway would: batch Bundles of vital-signs
 * Observations to `POST /fhir`. A reading is accepted when every entry made from it is 201;
 * 503 is retried with backoff; 401/403 stop the sink.
 */
export function createFhirSink(options: FhirSinkOptions): ReadingSink {
  const endpoint = new URL('/fhir', options.url).toString();
  const perBundle = options.readingsPerBundle ?? 50;
  const doFetch = options.fetch ?? globalThis.fetch;
  let written = 0, accepted = 0, rejected = 0, retries = 0;

  async function post(readings: readonly SimulatedReading[]): Promise<void> {
    const owners: number[] = [];
    const entry = readings.flatMap((r, i) => readingToObservations(r.body).map((resource) => {
      owners.push(i);
      return { resource, request: { method: 'POST', url: 'Observation' } };
    }));
    const body = JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry });
    const answer = await withRetry(async () => {
      const response = await doFetch(endpoint, {
        method: 'POST',
        headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/fhir+json' },
        body,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      if (response.status === 503 || response.status === 429) throw new VigilError('BACKPRESSURE', `FHIR edge answered ${response.status}`);
      if (response.status === 401 || response.status === 403) throw new VigilError('FORBIDDEN', `FHIR edge refused the token (${response.status})`);
      if (response.status !== 200) return { entry: [] as { response?: { status?: string } }[], status: response.status };
      return { ...(await response.json()) as { entry?: { response?: { status?: string } }[] }, status: 200 };
    }, {
      attempts: options.attempts ?? 6, initialDelayMs: 100, maxDelayMs: 5_000,
      onRetry: () => void retries++,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const failed = new Set<number>();
    if (answer.status !== 200) readings.forEach((_, i) => failed.add(i));
    (answer.entry ?? []).forEach((e, k) => {
      if (!e.response?.status?.startsWith('201')) failed.add(owners[k]!);
    });
    // A reading with no vital at all made no entry: the edge never saw it, so it counts as rejected.
    readings.forEach((_, i) => {
      if (!owners.includes(i)) failed.add(i);
    });
    rejected += failed.size;
    accepted += readings.length - failed.size;
  }

  return {
    async write(readings) {
      written += readings.length;
      for (let i = 0; i < readings.length; i += perBundle) await post(readings.slice(i, i + perBundle));
    },
    async flush() {},
    stats(): SinkStats {
      return { written, accepted, rejected, retries };
    },
  };
}
