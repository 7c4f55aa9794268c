import { describe, expect, it } from 'vitest';
import { VigilError } from '../errors.ts';
import { logSafeError } from './log-safe-error.ts';

describe('logSafeError', () => {
  it('keeps the class a backend message opens with and drops the values it quotes', () => {
    const cause = new Error('Constraint Error: Duplicate key "patient_id: 10006" violates primary key constraint');
    const logged = logSafeError(new VigilError('VALIDATION_FAILED', `DuckDB: ${cause.message}`, { cause }));
    expect(logged).toMatchObject({ name: 'VigilError', code: 'VALIDATION_FAILED', retriable: false, cause: { name: 'Error', kind: 'Constraint Error' } });
    expect(JSON.stringify(logged)).not.toContain('10006');
  });

  it('gives no class for a message that opens with anything but a known class', () => {
    expect(logSafeError(new Error('Smith Jones Error: admitted'))).not.toHaveProperty('kind');
    expect(logSafeError(new Error('TransactionContext Error: Current transaction is aborted'))).toMatchObject({ kind: 'TransactionContext Error' });
  });

  it('gives no class for a message that does not open with one', () => {
    const logged = logSafeError(new Error('patient 10006 has no admission: Error: missing'));
    expect(logged).not.toHaveProperty('kind');
    expect(JSON.stringify(logged)).not.toContain('10006');
  });

  it('describes a thrown non-object by its type', () => {
    expect(logSafeError('boom')).toEqual({ name: 'string', retriable: false });
  });
});
