import { Bigtable } from '@google-cloud/bigtable';
import type { Table } from '@google-cloud/bigtable';
import { VigilError } from '../../core/errors.ts';
import type { Logger } from '../../core/observability/logger.ts';
import type { SessionRevocations } from '../../core/ports/session-revocations.ts';
import { backendError, createIfMissing } from './google-errors.ts';

/**
 * The shared session revocation list on Bigtable (core/ports/session-revocations.ts), for several
 * Vigil hosts behind a load balancer. One row per signed-out session, `revoked#<sessionId>`, one
 * cell holding `{"expiresAt": <epoch ms>}`; `isRevoked` compares that expiry with the clock, and the
 * family's GC rule drops cells a day after they were written (sessions last at most 8 hours, page
 * tokens 10 minutes), so the table never grows past a day of sign-outs.
 */
export interface BigtableSessionRevocationsOptions {
  readonly projectId: string;
  readonly instanceId: string;
  readonly tableId: string;
  readonly logger: Logger;
}

const FAMILY = 'r';
const COLUMN = 'j';
const KEEP_SECONDS = 24 * 3600;
const keyOf = (sessionId: string): string => `revoked#${sessionId}`;

export function createBigtableSessionRevocations(options: BigtableSessionRevocationsOptions): SessionRevocations {
  for (const name of ['projectId', 'instanceId', 'tableId'] as const) {
    if (!options?.[name]) throw new VigilError('CONFIG_INVALID', `createBigtableSessionRevocations needs ${name}`);
  }
  const logger = options.logger.child({ component: 'session-revocations-bigtable' });
  const client = new Bigtable({ projectId: options.projectId, metricsEnabled: !process.env.BIGTABLE_EMULATOR_HOST });
  const table: Table = client.instance(options.instanceId).table(options.tableId);
  const rule = { age: { seconds: KEEP_SECONDS }, versions: 1, union: true };
  let closed = false;
  const open = (): void => {
    if (closed) throw new VigilError('SHUTTING_DOWN', 'the session revocation list is closed');
  };

  async function expiryOf(sessionId: string): Promise<number | undefined> {
    open();
    const key = keyOf(sessionId);
    try {
      const [found] = await table.getRows({
        ranges: [{ start: { value: key, inclusive: true }, end: { value: `${key}\u0000`, inclusive: false } }],
        filter: [{ column: { cellLimit: 1 } }],
      });
      const row = (found as unknown as { id: string; data: Record<string, Record<string, { value: string | Buffer }[]>> }[])
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
    async provision() {
      open();
      try {
        const created = await createIfMissing(() => table.create({ families: [{ name: FAMILY, rule }] }));
        if (created === 'created') {
          logger.info({ table: options.tableId }, 'Bigtable session revocation table created');
          return;
        }
        const [existing] = await table.getFamilies();
        if (existing.some((f) => f.id === FAMILY)) await table.family(FAMILY).setMetadata({ rule });
        else await createIfMissing(() => table.createFamily(FAMILY, { rule }));
      } catch (error) {
        throw backendError(error, `Bigtable provision of table ${options.tableId} (the instance must exist)`);
      }
    },
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
    async close() {
      if (closed) return;
      closed = true;
      await client.close();
    },
  };
}
