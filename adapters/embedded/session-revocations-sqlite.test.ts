import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeSessionRevocationsContract } from '../../core/contracts/session-revocations-contract.ts';
import { createSqliteSessionRevocations } from './session-revocations-sqlite.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'vigil-revocations-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeSessionRevocationsContract('embedded SQLite', async () => createSqliteSessionRevocations({ path: path.join(dir, 'contract.sqlite') }));

describe('embedded SQLite session revocations', () => {
  it('a revocation written by one process handle is seen by another on the same file (instances on one host share it)', async () => {
    const file = path.join(dir, 'shared.sqlite');
    const a = createSqliteSessionRevocations({ path: file });
    const b = createSqliteSessionRevocations({ path: file });
    await a.revoke('s-1', Date.now() + 60_000);
    expect(await b.isRevoked('s-1')).toBe(true);
    await a.close();
    await b.close();
  });
});
