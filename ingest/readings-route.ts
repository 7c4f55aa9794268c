import type { FastifyInstance } from 'fastify';
import type { RawReading } from '../core/domain/reading.ts';
import { toRawReading } from '../core/domain/validate-ingest.ts';
import { VigilError } from '../core/errors.ts';
import type { Metrics } from '../core/observability/metrics.ts';
import type { ReadingPublisher } from './reading-publisher.ts';

/** Most readings one request may carry; a gateway sends more as several requests. */
export const MAX_READINGS_PER_REQUEST = 10_000;
export const JSON_SOURCE = 'json';

export interface ReadingItemError {
  readonly index: number;
  readonly field: string;
  readonly reason: string;
}

/**
 * `POST /v1/readings` (device role): one reading (the README's "A reading") or an array of them.
 *
 * All or nothing: when any item is invalid the answer is 400 with one detail per problem
 * (`index`, `field`, `reason`) and nothing is published, so a device can fix and resend the whole
 * request without creating a half-stored batch. Otherwise `202 {"accepted": n}` once the bus has
 * every reading; 503 + Retry-After when the bus is slow (backpressure) or unavailable; 413 when
 * the body is over `VIGIL_BODY_LIMIT_BYTES`.
 */
export function registerReadingsRoute(app: FastifyInstance, deps: {
  publisher: ReadingPublisher;
  metrics: Metrics;
  bodyLimitBytes: number;
}): void {
  const { publisher, metrics } = deps;
  const maxItems = Math.min(MAX_READINGS_PER_REQUEST, publisher.maxPending);

  app.post('/v1/readings', {
    bodyLimit: deps.bodyLimitBytes,
    config: { access: 'device' },
    schema: {
      // Only the envelope here; each item goes through toRawReading, which reports every problem.
      body: { anyOf: [{ type: 'object' }, { type: 'array', minItems: 1, maxItems }] },
      response: { 202: { type: 'object', properties: { accepted: { type: 'integer' } } } },
    },
  }, async (request, reply) => {
    const items: unknown[] = Array.isArray(request.body) ? request.body : [request.body];
    const receivedAt = Date.now();
    const readings: RawReading[] = [];
    const errors: ReadingItemError[] = [];
    let invalidItems = 0;
    for (let index = 0; index < items.length; index++) {
      const result = toRawReading(items[index], { receivedAt, source: JSON_SOURCE });
      if (result.ok) {
        readings.push(result.reading);
      } else {
        invalidItems++;
        for (const e of result.errors) errors.push({ index, field: e.field, reason: e.reason });
      }
    }
    if (invalidItems > 0) {
      metrics.readingsRefused.inc({ source: JSON_SOURCE }, invalidItems);
      const what = invalidItems === 1 ? '1 reading is invalid' : `${invalidItems} readings are invalid`;
      throw new VigilError('VALIDATION_FAILED', `${what}; nothing was accepted`, { details: errors });
    }
    await publisher.publish(readings);
    return reply.code(202).send({ accepted: readings.length });
  });
}
