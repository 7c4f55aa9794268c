import { describe, expect, it } from 'vitest';
import type { SessionRevocations } from '../ports/session-revocations.ts';
import { openPortForSuite } from './provisioned-port.ts';
import { runPrefix } from './wait-for.ts';

/** The session revocation contract (core/ports/session-revocations.ts), run by every adapter's tests. */
export function describeSessionRevocationsContract(name: string, make: () => Promise<SessionRevocations>, options: { testTimeoutMs?: number } = {}): void {
  const prefix = runPrefix('revocation');
  const timeout = options.testTimeoutMs ?? 30_000;

  describe(`session revocations contract: ${name}`, () => {
    let store: SessionRevocations;
    openPortForSuite(make, (port) => { store = port; }, timeout);

    it('an id never revoked is not revoked', async () => {
      expect(await store.isRevoked(`${prefix}-never`)).toBe(false);
    }, timeout);

    it('a revoked id stays revoked until its expiry, and only that id', async () => {
      const id = `${prefix}-a`;
      await store.revoke(id, Date.now() + 3_600_000);
      expect(await store.isRevoked(id)).toBe(true);
      expect(await store.isRevoked(`${prefix}-b`)).toBe(false);
      await expect(store.revoke(id, Date.now() + 3_600_000)).resolves.toBeUndefined();
      expect(await store.isRevoked(id)).toBe(true);
    }, timeout);

    it('a revocation whose session has expired anyway is no longer reported', async () => {
      const id = `${prefix}-expired`;
      await store.revoke(id, Date.now() - 1_000);
      expect(await store.isRevoked(id)).toBe(false);
    }, timeout);

    it('ids are compared exactly (no prefix or case folding)', async () => {
      const id = `${prefix}-Exact`;
      await store.revoke(id, Date.now() + 3_600_000);
      expect(await store.isRevoked(id.toLowerCase())).toBe(false);
      expect(await store.isRevoked(id.slice(0, -1))).toBe(false);
    }, timeout);
  });
}
