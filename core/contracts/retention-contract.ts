import { afterEach, describe, expect, it } from 'vitest';
import type { RetentionPurge } from '../ports/retention.ts';

/**
 * The retention contract (core/ports/retention.ts), run by every adapter that purges.
 *
 * `make` returns a fixture on a fresh, empty store each time. `put` stores one record whose
 * retention time (observedAt, at, closedAt...) is `at`, told apart by `label`, through the store's
 * own port; `labels` reads back, through the port, the labels still stored.
 */
export interface RetentionFixture {
  readonly store: RetentionPurge;
  put(label: string, at: number): Promise<void>;
  labels(): Promise<string[]>;
  close(): Promise<void>;
}

export function describeRetentionContract(name: string, make: () => Promise<RetentionFixture>): void {
  const T = Date.parse('2030-06-01T00:00:00Z');
  const HOUR = 3_600_000;

  describe(`retention contract: ${name}`, () => {
    let fixture: RetentionFixture | undefined;
    const open = async (): Promise<RetentionFixture> => (fixture = await make());
    afterEach(async () => {
      await fixture?.close();
      fixture = undefined;
    });

    it('removes exactly the records before the cutoff, keeps the one at it and later ones, and counts what it removed', async () => {
      const f = await open();
      await f.put('old-1', T - 2 * HOUR);
      await f.put('old-2', T - 1);
      await f.put('at-cutoff', T);
      await f.put('new', T + HOUR);
      const { removed } = await f.store.purgeOlderThan(T);
      expect(removed, 'records reported removed').toBe(2);
      expect((await f.labels()).sort(), 'records left after purging before the cutoff').toEqual(['at-cutoff', 'new']);
    });

    it('is idempotent: the same cutoff again removes nothing', async () => {
      const f = await open();
      await f.put('old', T - HOUR);
      await f.put('new', T + HOUR);
      expect((await f.store.purgeOlderThan(T)).removed).toBe(1);
      expect((await f.store.purgeOlderThan(T)).removed, 'a second purge with the same cutoff').toBe(0);
      expect(await f.labels()).toEqual(['new']);
    });

    it('removes nothing when every record is at or after the cutoff (and on an empty store)', async () => {
      const f = await open();
      expect((await f.store.purgeOlderThan(T)).removed, 'purge of an empty store').toBe(0);
      await f.put('a', T);
      await f.put('b', T + 1);
      expect((await f.store.purgeOlderThan(T)).removed).toBe(0);
      expect((await f.labels()).sort()).toEqual(['a', 'b']);
    });

    it('loses nothing written while it runs', async () => {
      const f = await open();
      for (let i = 0; i < 50; i += 1) await f.put(`old-${i}`, T - HOUR - i);
      const fresh = Array.from({ length: 50 }, (_, i) => `fresh-${i}`);
      const [purged] = await Promise.all([
        f.store.purgeOlderThan(T),
        ...fresh.map((label, i) => f.put(label, T + i)),
      ]);
      expect(purged.removed).toBe(50);
      const left = await f.labels();
      const missing = fresh.filter((label) => !left.includes(label));
      expect(missing, 'records written beside the purge and not found after it').toEqual([]);
      expect(left.filter((label) => label.startsWith('old-')), 'old records left behind').toEqual([]);
    });
  });
}
