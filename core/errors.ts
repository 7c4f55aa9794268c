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

/** Whether an error (ours or a client library's) is worth retrying. Unknown errors are not. */
export function isRetriable(error: unknown): boolean {
  if (error instanceof VigilError) return error.retriable;
  if (typeof error === 'object' && error !== null) {
    const e = error as { retriable?: unknown; code?: unknown };
    if (typeof e.retriable === 'boolean') return e.retriable;
    // gRPC status codes used by the Google clients: UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED,
    // RESOURCE_EXHAUSTED, INTERNAL (transient on streaming pulls).
    if (typeof e.code === 'number') return [4, 8, 10, 13, 14].includes(e.code);
    if (typeof e.code === 'string') return ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'SQLITE_BUSY'].includes(e.code);
  }
  return false;
}
