import { ApiError } from '@google-cloud/common';
import { describe, expect, it } from 'vitest';
import { backendError } from './google-errors.ts';

/** ApiError as the BigQuery client builds it from an error body the emulator (or BigQuery) wrote. */
function apiError(code: number, message: string, reason: string): ApiError {
  return new ApiError({ code, message, errors: [{ reason, message }], response: undefined as never });
}

describe('backendError: whether retrying a Google call can help', () => {
  it('a 400 saying the request body could not be read in time is an outage (retriable), not a rejection', () => {
    // What the BigQuery emulator answers when its 15 s ReadTimeout cuts an insertAll body mid-read.
    const error = backendError(apiError(400, 'read tcp 127.0.0.1:9050->127.0.0.1:53412: i/o timeout', 'invalid'), 'BigQuery insert into vitals');
    expect(error.code).toBe('BACKEND_UNAVAILABLE');
    expect(error.retriable).toBe(true);
    expect(backendError(apiError(400, 'unexpected EOF', 'invalid'), 'BigQuery insert').retriable).toBe(true);
    // What a 30-minute soak's saturated emulator answered 54 times: a gzipped body cut mid-read, decoded as far as it got.
    for (const message of [
      'invalid: json: string unexpected end of JSON input',
      'invalid: expected comma after object value',
      'invalid: expected colon after object key',
      "invalid: invalid character '\u0000' looking for beginning of value",
    ]) expect(backendError(apiError(400, message, 'invalid'), 'BigQuery insert').retriable, message).toBe(true);
  });

  it('a 400 about the data stays a rejection, so the batch is not retried forever', () => {
    const error = backendError(apiError(400, 'no such field: heart_rat.', 'invalid'), 'BigQuery insert into vitals');
    expect(error.code).toBe('BACKEND_REJECTED');
    expect(error.retriable).toBe(false);
  });

  it('a 503 is retriable and a 404 says to provision', () => {
    expect(backendError(apiError(503, 'backend error', 'backendError'), 'BigQuery query').retriable).toBe(true);
    expect(backendError(apiError(404, 'Not found: Table p:d.t', 'notFound'), 'BigQuery query').code).toBe('NOT_FOUND');
  });
});
