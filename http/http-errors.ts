import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../core/errors.ts';
import { VigilError, isTransientFailure } from '../core/errors.ts';

/**
 * The one place where errors become HTTP answers. Every route throws a VigilError (or lets Fastify
 * throw one of its own); this maps both to `{ "error", "code", "details" }` with the status from
 * core/errors.ts, so a status is never chosen in a route.
 */
export interface ErrorBody {
  error: string;
  code: string;
  details: unknown[];
}

/** Seconds a client should wait before retrying a retriable 503 (backpressure, backend down). */
export const RETRY_AFTER_SECONDS = 1;

/** Fastify's own error codes that mean "the client sent something wrong". */
const FASTIFY_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_JSON_BODY: 'VALIDATION_FAILED',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'VALIDATION_FAILED',
  FST_ERR_VALIDATION: 'VALIDATION_FAILED',
};

export function toVigilError(error: unknown): VigilError {
  if (error instanceof VigilError) return error;
  const e = error as Partial<FastifyError> & { message?: string };
  if (e.validation) {
    const details = e.validation.map((v) => ({ field: fieldOf(v.instancePath, v.params), reason: v.message ?? 'invalid' }));
    return new VigilError('VALIDATION_FAILED', `invalid request ${e.validationContext ?? 'input'}`, { cause: error, details });
  }
  const mapped = e.code ? FASTIFY_CODES[e.code] : undefined;
  if (mapped === 'PAYLOAD_TOO_LARGE') {
    return new VigilError(mapped, 'request body is larger than the configured limit (VIGIL_BODY_LIMIT_BYTES); send fewer readings per request', { cause: error });
  }
  if (mapped) return new VigilError(mapped, e.message ?? 'invalid request', { cause: error });
  return new VigilError('INTERNAL', 'internal error', { cause: error });
}

/** A Fastify client error we have no catalog code for (415, 406 ...) keeps Fastify's own status. */
function passthroughStatus(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown }).statusCode;
  if (error instanceof VigilError || typeof status !== 'number') return undefined;
  const code = (error as { code?: string }).code;
  return status >= 400 && status < 500 && !(code && FASTIFY_CODES[code]) ? status : undefined;
}

function fieldOf(instancePath: string | undefined, params: Record<string, unknown> | undefined): string {
  const missing = params?.missingProperty;
  const base = (instancePath ?? '').replace(/^\//, '').replaceAll('/', '.');
  if (typeof missing === 'string') return base ? `${base}.${missing}` : missing;
  return base || '(body)';
}

function detailsOf(error: VigilError): unknown[] {
  if (error.details === undefined) return [];
  return Array.isArray(error.details) ? error.details : [error.details];
}

export function sendError(reply: FastifyReply, error: VigilError, status: number = error.status): FastifyReply {
  if (status === 503 && error.retriable) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  const body: ErrorBody = { error: error.message, code: error.code, details: detailsOf(error) };
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

/** Installs the error and not-found handlers. Server errors are logged by code, never with request data. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const passthrough = passthroughStatus(error);
    if (passthrough !== undefined) {
      const e = error as FastifyError;
      return sendError(reply, new VigilError('VALIDATION_FAILED', e.message, { cause: error }), passthrough);
    }
    const vigilError = toVigilError(error);
    // A retriable 503 (bus down, disk full, backpressure) is logged once by whoever saw the state
    // change (ingest/reading-publisher.ts, the bus adapter); per request it is only debug noise.
    if (vigilError.status === 503 && vigilError.retriable) {
      request.log.debug({ code: vigilError.code }, vigilError.message);
    } else if (vigilError.status >= 500) {
      const cause = vigilError.cause as { name?: string; code?: unknown; stack?: string } | undefined;
      // Name, code and stack frames locate the fault; the message is left out, as backends put
      // values (ids, SQL parameters) into theirs.
      const where = cause?.stack?.split('\n').slice(1, 9).join('\n');
      request.log.error(
        { code: vigilError.code, retriable: isTransientFailure(vigilError), cause: cause ? { name: cause.name, code: cause.code, stack: where } : undefined },
        vigilError.code === 'INTERNAL' ? `internal error: ${(error as Error)?.name ?? 'unknown'}` : vigilError.message,
      );
    }
    return sendError(reply, vigilError);
  });
  app.setNotFoundHandler((_request, reply) => sendError(reply, new VigilError('NOT_FOUND', 'no such route')));
}

