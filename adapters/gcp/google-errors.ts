import { VigilError } from '../../core/errors.ts';

/**
 * The Google clients fail with gRPC status codes (Pub/Sub, Bigtable) or HTTP statuses (BigQuery,
 * Cloud Storage). These helpers read either, so adapters branch on meaning, not on the transport.
 */
interface ErrorShape {
  readonly code?: unknown;
  readonly status?: unknown;
  readonly errors?: unknown;
}

const GRPC_NOT_FOUND = 5;
const GRPC_ALREADY_EXISTS = 6;
/** UNKNOWN, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNAVAILABLE. */
const GRPC_TRANSIENT = new Set([2, 4, 8, 10, 13, 14]);
const HTTP_TRANSIENT = new Set([408, 429, 500, 502, 503, 504]);
const NODE_TRANSIENT = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);

function codeOf(error: unknown): unknown {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as ErrorShape;
  return e.code ?? e.status;
}

export function isNotFound(error: unknown): boolean {
  const code = codeOf(error);
  return code === GRPC_NOT_FOUND || code === 404 || code === '404';
}

export function isAlreadyExists(error: unknown): boolean {
  const code = codeOf(error);
  return code === GRPC_ALREADY_EXISTS || code === 409 || code === '409';
}

export function isTransient(error: unknown): boolean {
  const code = codeOf(error);
  if (typeof code === 'number') return GRPC_TRANSIENT.has(code) || HTTP_TRANSIENT.has(code);
  if (typeof code === 'string') return NODE_TRANSIENT.has(code) || HTTP_TRANSIENT.has(Number(code));
  return false;
}

/**
 * Wraps a client error in a VigilError that says whether retrying can help, keeping the client
 * error as `cause`. `what` names the operation, never the data (no patient ids in messages).
 */
export function backendError(error: unknown, what: string): VigilError {
  if (error instanceof VigilError) return error;
  if (isNotFound(error)) return new VigilError('NOT_FOUND', `${what}: not found (run vigil provision?)`, { cause: error });
  const reason = error instanceof Error ? error.message : String(error);
  return isTransient(error)
    ? new VigilError('BACKEND_UNAVAILABLE', `${what} failed: ${reason}`, { cause: error })
    : new VigilError('BACKEND_REJECTED', `${what} failed: ${reason}`, { cause: error });
}

/** Runs a create call and treats "already exists" as success (another process won the race). */
export async function createIfMissing(create: () => Promise<unknown>): Promise<'created' | 'existed'> {
  try {
    await create();
    return 'created';
  } catch (error) {
    if (isAlreadyExists(error)) return 'existed';
    throw error;
  }
}
