import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeAuditLogContract } from '../../core/contracts/audit-log-contract.ts';
import { createSqliteAuditLog } from './audit-log-sqlite.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'vigil-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Every call opens another handle on the same file: two processes on one host share it this way.
describeAuditLogContract('embedded SQLite', async () => createSqliteAuditLog({ path: path.join(dir, 'contract.sqlite') }));

describe('embedded SQLite audit log', () => {
  it('creates the folder of its file', async () => {
    const file = path.join(dir, 'nested', 'deeper', 'audit.sqlite');
    const audit = createSqliteAuditLog({ path: file });
    await audit.append({ at: 1, actor: 'a', role: 'admin', action: 'GET /v1/audit', status: 200 });
    await audit.close();
    const reopened = createSqliteAuditLog({ path: file });
    expect(await reopened.list({ limit: 5 })).toHaveLength(1);
    await reopened.close();
  });

  it('keeps the order of appends among entries of the same millisecond (newest appended first)', async () => {
    const audit = createSqliteAuditLog({ path: ':memory:' });
    for (const actor of ['first', 'second', 'third']) await audit.append({ at: 7, actor, role: 'clinician', action: 'GET /v1/patients', status: 200 });
    expect((await audit.list({ limit: 5 })).map((e) => e.actor)).toEqual(['third', 'second', 'first']);
    await audit.close();
  });
});
