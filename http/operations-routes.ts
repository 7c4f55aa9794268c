import type { FastifyInstance } from 'fastify';
import { VigilError } from '../core/errors.ts';
import type { Metrics } from '../core/observability/metrics.ts';

/** A backend `/readyz` checks, e.g. `{ name: 'bus', ping: () => bus.ping() }`. */
export interface ReadinessCheck {
  readonly name: string;
  ping(): Promise<void>;
}

/** A backend that has not answered within this is reported as failing. */
export const READINESS_TIMEOUT_MS = 2_000;

/**
 * `/healthz` (the process is alive), `/readyz` (every backend answers; 503 names the ones that
 * do not; once shutdown begins Fastify itself answers 503 on open connections) and `/metrics`
 * (Prometheus text). None needs a token: they carry no patient data.
 */
export function registerOperationsRoutes(app: FastifyInstance, deps: {
  metrics: Metrics;
  readiness: readonly ReadinessCheck[];
  readinessTimeoutMs?: number;
}): void {
  const timeoutMs = deps.readinessTimeoutMs ?? READINESS_TIMEOUT_MS;

  app.get('/healthz', { config: { access: 'public' } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { config: { access: 'public' } }, async () => {
    const results = await Promise.all(deps.readiness.map(async (check) => {
      try {
        await pingWithin(check, timeoutMs);
        return { name: check.name, ok: true as const };
      } catch (error) {
        return { name: check.name, ok: false as const, reason: reasonOf(error) };
      }
    }));
    const failing = results.filter((r) => !r.ok);
    if (failing.length > 0) {
      throw new VigilError('BACKEND_UNAVAILABLE', `not ready: ${failing.map((f) => f.name).join(', ')}`, {
        details: failing.map((f) => ({ backend: f.name, reason: f.reason })),
      });
    }
    return { status: 'ready', checks: results.map((r) => r.name) };
  });

  app.get('/metrics', { config: { access: 'public' } }, async (_request, reply) => {
    const text = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(text);
  });
}

async function pingWithin(check: ReadinessCheck, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([check.ping(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // Backend messages can be long (stack-like gRPC details); the first line says enough.
  return message.split('\n')[0]!.slice(0, 200);
}
