import type { SessionRevocations } from '../../core/ports/session-revocations.ts';
import type { BigtableRow, BigtableTableOptions } from './bigtable-table.ts';
import { openBigtableTable } from './bigtable-table.ts';
import { backendError } from './google-errors.ts';

/**
 * The shared session revocation list on Bigtable (core/ports/session-revocations.ts), for several
 * Vigil hosts behind a load balancer. One row per signed-out session, `revoked#<sessionId>`, one
 * cell holding `{"expiresAt": <epoch ms>}`; `isRevoked` compares that expiry with the clock, and the
 * family's GC rule drops cells a day after they were written (sessions last at most 8 hours, page
 * tokens 10 minutes), so the table never grows past a day of sign-outs.
 */
export type BigtableSessionRevocationsOptions = BigtableTableOptions;

const FAMILY = 'r';
const COLUMN = 'j';
const KEEP_SECONDS = 24 * 3600;
const keyOf = (sessionId: string): string => `revoked#${sessionId}`;

export function createBigtableSessionRevocations(options: BigtableSessionRevocationsOptions): SessionRevocations {
  const bigtable = openBigtableTable(options, 'session-revocations-bigtable', 'the session revocation list');
  const { table, assertOpen: open } = bigtable;
  const families = { [FAMILY]: { age: { seconds: KEEP_SECONDS }, versions: 1, union: true } };

  async function expiryOf(sessionId: string): Promise<number | undefined> {
    open();
    const key = keyOf(sessionId);
    try {
      const [found] = await table.getRows({
        ranges: [{ start: { value: key, inclusive: true }, end: { value: `${key}\u0000`, inclusive: false } }],
        filter: [{ column: { cellLimit: 1 } }],
      });
      const row = (found as unknown as BigtableRow[])
        .find((r) => r.id === key);
      const value = row?.data[FAMILY]?.[COLUMN]?.[0]?.value;
      if (value === undefined) return undefined;
      const { expiresAt } = JSON.parse(value.toString()) as { expiresAt?: unknown };
      return typeof expiresAt === 'number' ? expiresAt : undefined;
    } catch (error) {
      throw backendError(error, 'Bigtable read of the session revocation list');
    }
  }

  return {
    kind: 'bigtable',
    provision: () => bigtable.provision(families),
    async revoke(sessionId, expiresAt) {
      open();
      // Revoking again keeps the later expiry, as the embedded adapter does.
      const known = await expiryOf(sessionId);
      const value = JSON.stringify({ expiresAt: Math.max(expiresAt, known ?? expiresAt) });
      try {
        await table.mutate([{ key: keyOf(sessionId), method: 'insert', data: { [FAMILY]: { [COLUMN]: { value, timestamp: new Date() } } } }]);
      } catch (error) {
        throw backendError(error, 'Bigtable write to the session revocation list');
      }
    },
    async isRevoked(sessionId) {
      const expiresAt = await expiryOf(sessionId);
      return expiresAt !== undefined && expiresAt > Date.now();
    },
    async ping() {
      await expiryOf('');
    },
    close: () => bigtable.close(),
  };
}
