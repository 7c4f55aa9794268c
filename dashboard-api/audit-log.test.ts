import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteAuditLog } from './audit-log.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-audit-'));
  dirs.push(dir);
  return path.join(dir, 'nested', 'audit.sqlite');
}

describe('createSqliteAuditLog', () => {
  it('lists entries newest first, filtered by patient and time, bounded by limit', async () => {
    const audit = createSqliteAuditLog({ path: ':memory:' });
    const base = Date.parse('2026-11-22T10:00:00Z');
    await audit.append({ at: base, actor: 'a', role: 'clinician', action: 'GET /v1/patients', status: 200 });
    await audit.append({ at: base + 1, actor: 'b', role: 'clinician', action: 'GET /v1/patients/:patientId/vitals', patientId: 'P1', status: 200 });
    await audit.append({ at: base + 2, actor: 'c', role: 'admin', action: 'GET /v1/patients/:patientId/risk', patientId: 'P2', status: 403 });
    await audit.append({ at: base + 3, actor: 'd', role: 'clinician', action: 'PUT /v1/patients/:patientId/profile', patientId: 'P1', status: 200 });

    expect((await audit.list({ limit: 10 })).map((e) => e.actor)).toEqual(['d', 'c', 'b', 'a']);
    expect((await audit.list({ limit: 10, patientId: 'P1' })).map((e) => e.actor)).toEqual(['d', 'b']);
    expect((await audit.list({ limit: 10, since: base + 2 })).map((e) => e.actor)).toEqual(['d', 'c']);
    expect((await audit.list({ limit: 2 })).map((e) => e.actor)).toEqual(['d', 'c']);
    expect((await audit.list({ limit: 1, since: base, patientId: 'P2' }))[0]).toEqual({
      at: base + 2, actor: 'c', role: 'admin', action: 'GET /v1/patients/:patientId/risk', patientId: 'P2', status: 403,
    });
    expect((await audit.list({ limit: 10 })).at(-1)).not.toHaveProperty('patientId');
    await audit.close();
  });

  it('keeps entries in a file across reopen, creating its folder', async () => {
    const file = tempFile();
    const first = createSqliteAuditLog({ path: file });
    await first.append({ at: 1, actor: 'a', role: 'admin', action: 'GET /v1/audit', status: 200 });
    await first.close();
    const second = createSqliteAuditLog({ path: file });
    expect(await second.list({ limit: 5 })).toHaveLength(1);
    await second.close();
  });

  it('refuses appends after close with a retriable error', async () => {
    const audit = createSqliteAuditLog({ path: ':memory:' });
    await audit.close();
    await expect(audit.append({ at: 1, actor: 'a', role: 'admin', action: 'x', status: 200 })).rejects.toMatchObject({ code: 'SHUTTING_DOWN', retriable: true });
  });
});
