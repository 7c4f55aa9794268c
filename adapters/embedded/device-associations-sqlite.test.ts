import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeDeviceAssociationsContract } from '../../core/contracts/device-associations-contract.ts';
import { createSqliteDeviceAssociations } from './device-associations-sqlite.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'vigil-associations-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeDeviceAssociationsContract('embedded SQLite', async () => createSqliteDeviceAssociations({ path: path.join(dir, 'contract.sqlite') }));

describe('embedded SQLite device associations', () => {
  it('an association written through one handle is seen through another on the same file (instances on one host share it)', async () => {
    const file = path.join(dir, 'shared.sqlite');
    const a = createSqliteDeviceAssociations({ path: file });
    const b = createSqliteDeviceAssociations({ path: file });
    await a.associate({ kind: 'bed', key: '4N-401-A', patientId: 'MRN1', from: 1_000, source: 'adt' });
    expect(await b.patientAt('bed', '4N-401-A', 2_000)).toBe('MRN1');
    await a.close();
    await b.close();
  });
});
