import { describe, expect, it } from 'vitest';
import { VigilError, isTransientFailure } from './errors.ts';

describe('isTransientFailure: the one classification of sick backend vs bad input', () => {
  it('takes our errors and flagged client errors at their word', () => {
    expect(isTransientFailure(new VigilError('BACKEND_UNAVAILABLE', 'down'))).toBe(true);
    expect(isTransientFailure(new VigilError('VALIDATION_FAILED', 'bad'))).toBe(false);
    expect(isTransientFailure(new VigilError('INTERNAL', 'x', { retriable: true }))).toBe(true);
    // kafkajs sets `retriable`; it wins over a code that would say otherwise.
    expect(isTransientFailure({ retriable: false, code: 14 })).toBe(false);
    expect(isTransientFailure({ retriable: true })).toBe(true);
  });

  it('reads gRPC statuses (Pub/Sub, Bigtable), HTTP statuses (BigQuery, GCS) and Node/SQLite codes alike', () => {
    for (const grpc of [2, 4, 8, 10, 13, 14]) expect(isTransientFailure({ code: grpc }), `gRPC ${grpc}`).toBe(true);
    for (const grpc of [3, 5, 6, 7, 9, 16]) expect(isTransientFailure({ code: grpc }), `gRPC ${grpc}`).toBe(false);
    for (const http of [408, 429, 500, 502, 503, 504]) {
      expect(isTransientFailure({ code: http }), `HTTP ${http} as code`).toBe(true);
      expect(isTransientFailure({ status: http }), `HTTP ${http} as status`).toBe(true);
      expect(isTransientFailure({ code: String(http) }), `HTTP '${http}'`).toBe(true);
    }
    for (const http of [400, 403, 404, 409]) expect(isTransientFailure({ code: http }), `HTTP ${http}`).toBe(false);
    for (const node of ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'SQLITE_BUSY']) {
      expect(isTransientFailure(Object.assign(new Error(node), { code: node })), node).toBe(true);
    }
    expect(isTransientFailure(Object.assign(new Error('constraint'), { code: 'SQLITE_CONSTRAINT' }))).toBe(false);
  });

  it('treats unknown failures as not transient, so they dead-letter rather than loop', () => {
    expect(isTransientFailure(new Error('boom'))).toBe(false);
    expect(isTransientFailure('boom')).toBe(false);
    expect(isTransientFailure(undefined)).toBe(false);
    expect(isTransientFailure(null)).toBe(false);
  });
});
