import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VigilError } from '../errors.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import { runPrefix } from './wait-for.ts';

/**
 * The object-store contract (core/ports/object-store.ts), run by every object-store adapter's
 * tests. Every key lives under a per-run prefix, and the suite deletes what it wrote.
 */
export function describeObjectStoreContract(name: string, makeStore: () => Promise<ObjectStore>, options: { testTimeoutMs?: number } = {}): void {
  const prefix = `${runPrefix('contract')}/`;
  const timeout = options.testTimeoutMs ?? 30_000;
  const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
  const text = (b: Uint8Array): string => new TextDecoder().decode(b);

  describe(`object store contract: ${name}`, () => {
    let store: ObjectStore;

    beforeAll(async () => {
      store = await makeStore();
      await store.provision();
    }, timeout);

    afterAll(async () => {
      if (!store) return;
      for (const key of await store.list(prefix)) await store.delete(key);
      await store.close();
    }, timeout);

    it('provision is idempotent', async () => {
      await expect(store.provision()).resolves.toBeUndefined();
    }, timeout);

    it('puts and gets bytes exactly, and a second put replaces the object', async () => {
      const key = `${prefix}bytes/a.bin`;
      const all = Uint8Array.from({ length: 256 }, (_, i) => i);
      await store.put(key, all, 'application/octet-stream');
      expect(Array.from(await store.get(key))).toEqual(Array.from(all));
      await store.put(key, bytes('second'));
      expect(text(await store.get(key))).toBe('second');
    }, timeout);

    it('stores a streamed body', async () => {
      const key = `${prefix}stream/vitals.csv`;
      const lines = Array.from({ length: 5_000 }, (_, i) => `r${i},P${i % 24},72\n`);
      await store.put(key, Readable.from(lines.map((l) => Buffer.from(l))), 'text/csv');
      expect(text(await store.get(key))).toBe(lines.join(''));
    }, timeout);

    it('rejects get of a missing key with NOT_FOUND', async () => {
      const error = await store.get(`${prefix}missing/nothing.csv`).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VigilError);
      expect((error as VigilError).code).toBe('NOT_FOUND');
    }, timeout);

    it('lists the keys under a prefix, sorted, and nothing outside it', async () => {
      const keys = ['list/b.csv', 'list/a.csv', 'list/sub/c.csv', 'list-other/x.csv', 'lis.csv'].map((k) => `${prefix}${k}`);
      for (const key of keys) await store.put(key, bytes(key));
      expect(await store.list(`${prefix}list/`)).toEqual([`${prefix}list/a.csv`, `${prefix}list/b.csv`, `${prefix}list/sub/c.csv`]);
      expect(await store.list(`${prefix}list`)).toEqual([
        `${prefix}list-other/x.csv`, `${prefix}list/a.csv`, `${prefix}list/b.csv`, `${prefix}list/sub/c.csv`,
      ]);
      expect(await store.list(`${prefix}nothing-here/`)).toEqual([]);
    }, timeout);

    it('deletes objects; deleting a missing key is not an error', async () => {
      const key = `${prefix}delete/once.csv`;
      await store.put(key, bytes('x'));
      await store.delete(key);
      await expect(store.get(key)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(await store.list(`${prefix}delete/`)).toEqual([]);
      await expect(store.delete(key)).resolves.toBeUndefined();
    }, timeout);

    it('gives a URI that names the key', async () => {
      const key = `${prefix}uri/batch 1.csv`;
      const uri = store.uri(key);
      expect(uri).toMatch(/^[a-z][a-z0-9+.-]*:\/\//);
      expect(decodeURI(uri).endsWith(key)).toBe(true);
    }, timeout);
  });
}
