import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { describeObjectStoreContract } from '../../core/contracts/object-store-contract.ts';
import { createFsObjectStore } from './object-store-fs.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'vigil-objects-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeObjectStoreContract('fs', async () => createFsObjectStore({ dir: path.join(dir, 'contract') }));

describe('fs object store', () => {
  it('gives file:// URIs of the stored file', async () => {
    const store = createFsObjectStore({ dir: path.join(dir, 'uri') });
    await store.provision();
    await store.put('a/b.csv', new TextEncoder().encode('x'));
    expect(fileURLToPath(store.uri('a/b.csv'))).toBe(path.join(dir, 'uri', 'a', 'b.csv'));
  });

  it('refuses keys that would leave its folder', async () => {
    const store = createFsObjectStore({ dir: path.join(dir, 'escape') });
    for (const key of ['../x', 'a/../../x', '/etc/passwd', '', 'a//b']) {
      await expect(store.put(key, new Uint8Array([1])), key).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    }
  });

  it('leaves the old object whole and no temporary file behind when a streamed put fails', async () => {
    const store = createFsObjectStore({ dir: path.join(dir, 'atomic') });
    await store.put('k.csv', new TextEncoder().encode('old'));
    const failing = Readable.from((async function* () {
      yield Buffer.from('new, partial');
      throw new Error('source broke');
    })());
    await expect(store.put('k.csv', failing)).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    expect(new TextDecoder().decode(await store.get('k.csv'))).toBe('old');
    expect(readdirSync(path.join(dir, 'atomic'))).toEqual(['k.csv']);
  });
});
