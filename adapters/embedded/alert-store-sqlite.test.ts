import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { describeAlertStoreContract } from '../../core/contracts/alert-store-contract.ts';
import { createSqliteAlertStore } from './alert-store-sqlite.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'vigil-alert-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Two handles on one file: instances on one host share it.
describeAlertStoreContract('embedded SQLite (two handles on one file)', async () => {
  const file = path.join(dir, 'alerts.sqlite');
  return [createSqliteAlertStore({ path: file }), createSqliteAlertStore({ path: file })];
});
