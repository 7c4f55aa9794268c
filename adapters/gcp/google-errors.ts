import { VigilError, isTransientFailure } from '../../core/errors.ts';

/**
 * The Google clients fail with gRPC status codes (Pub/Sub, Bigtable) or HTTP statuses (BigQuery,
 * Cloud Storage). These helpers read either, so adapters branch on meaning, not on the transport;
 * whether a failure is transient is core/errors.ts `isTransientFailure`, the one classification.
 */
interface ErrorShape {
  readonly code?: unknown;
  readonly status?: unknown;
  readonly errors?: unknown;
}

const GRPC_NOT_FOUND = 5;
const GRPC_ALREADY_EXISTS = 6;

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

/**
 * A Go server's words for a request body it could not finish reading (a deadline or a cut
 * connection), or for JSON cut short: our bodies are JSON.stringify's, so a syntax error in one
 * means the server got part of it, never that the rows were wrong.
 */
const BODY_NOT_READ = new RegExp([
  String.raw`\bi/o timeout\b`, String.raw`\bunexpected EOF\b`, 'connection reset by peer',
  'unexpected end of JSON input', String.raw`invalid character '.{1,8}' (looking for beginning of|after object key|after array element|in string literal)`,
  'expected (comma|colon) after object (value|key)',
].join('|'));

/**
 * A 400 that says the server could not read our request, not that it refused what was in it: the
 * BigQuery emulator answers so when its 15 s ReadTimeout cuts a (gzipped) insertAll body mid-read
 * on a starved machine, as `invalid: json: string unexpected end of JSON input` and the like.
 * Sending the same request again can succeed, so it is an outage, never a reason to dead-letter.
 */
function isRequestNotRead(error: unknown): boolean {
  const code = codeOf(error);
  if (code !== 400 && code !== '400') return false;
  return BODY_NOT_READ.test(error instanceof Error ? error.message : String((error as { message?: unknown }).message ?? ''));
}

/**
 * Wraps a client error in a VigilError that says whether retrying can help, keeping the client
 * error as `cause`. `what` names the operation, never the data (no patient ids in messages).
 */
export function backendError(error: unknown, what: string): VigilError {
  if (error instanceof VigilError) return error;
  if (isNotFound(error)) return new VigilError('NOT_FOUND', `${what}: not found (run vigil provision?)`, { cause: error });
  const reason = error instanceof Error ? error.message : String(error);
  return isTransientFailure(error) || isRequestNotRead(error)
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
