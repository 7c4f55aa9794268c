/**
 * One catalog of Vigil's errors: each code has an HTTP status and says whether retrying can help.
 * Code paths branch on `code` or `retriable`, never on message text.
 */
export const ERROR_CATALOG = Object.freeze({
  CONFIG_INVALID: { status: 500, retriable: false },
  VALIDATION_FAILED: { status: 400, retriable: false },
  UNAUTHENTICATED: { status: 401, retriable: false },
  FORBIDDEN: { status: 403, retriable: false },
  NOT_FOUND: { status: 404, retriable: false },
  PAYLOAD_TOO_LARGE: { status: 413, retriable: false },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, retriable: false },
  BACKPRESSURE: { status: 503, retriable: true },
  BACKEND_UNAVAILABLE: { status: 503, retriable: true },
  BACKEND_REJECTED: { status: 500, retriable: false },
  SHUTTING_DOWN: { status: 503, retriable: true },
  INTERNAL: { status: 500, retriable: false },
} as const);

export type ErrorCode = keyof typeof ERROR_CATALOG;

export class VigilError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retriable: boolean;
  readonly details?: unknown;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: unknown; retriable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VigilError';
    this.code = code;
    this.status = ERROR_CATALOG[code].status;
    this.retriable = options.retriable ?? ERROR_CATALOG[code].retriable;
    if (options.details !== undefined) this.details = options.details;
  }
}

/** gRPC statuses (Pub/Sub, Bigtable): UNKNOWN, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL (transient on streaming pulls), UNAVAILABLE. */
const GRPC_TRANSIENT: ReadonlySet<number> = new Set([2, 4, 8, 10, 13, 14]);
/** HTTP statuses (BigQuery, Cloud Storage, the OIDC provider): timeout, rate limit, server errors. */
const HTTP_TRANSIENT: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);
/** Node socket and DNS failures, and SQLite's lock wait running out (another process holds the file). */
const NODE_TRANSIENT: ReadonlySet<string> = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'SQLITE_BUSY']);

/**
 * Whether a failure is transient: retrying (or holding the message for redelivery) can help,
 * because a backend is sick rather than the input bad. The one classification every path uses
 * (retry, HTTP 503 vs 500, the bus's hold-or-dead-letter, the Google adapters' error wrapping).
 * Ours say so (`VigilError.retriable`); a client error that carries a `retriable` flag (kafkajs)
 * is taken at its word; otherwise its gRPC status, HTTP status or Node/SQLite code decides.
 * Unknown errors are not transient: they dead-letter rather than loop.
 */
export function isTransientFailure(error: unknown): boolean {
  if (error instanceof VigilError) return error.retriable;
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { retriable?: unknown; code?: unknown; status?: unknown };
  if (typeof e.retriable === 'boolean') return e.retriable;
  const code = e.code ?? e.status;
  if (typeof code === 'number') return GRPC_TRANSIENT.has(code) || HTTP_TRANSIENT.has(code);
  if (typeof code === 'string') return NODE_TRANSIENT.has(code) || HTTP_TRANSIENT.has(Number(code));
  return false;
}
