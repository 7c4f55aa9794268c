import { Bigtable } from '@google-cloud/bigtable';
import type { GcRule, Table } from '@google-cloud/bigtable';
import { VigilError } from '../../core/errors.ts';
import type { Logger } from '../../core/observability/logger.ts';
import { backendError, createIfMissing } from './google-errors.ts';

/** Where a Bigtable adapter's table is: every Bigtable adapter takes these. */
export interface BigtableTableOptions {
  readonly projectId: string;
  readonly instanceId: string;
  readonly tableId: string;
  readonly logger: Logger;
}

/** A row as the client's getRows returns it: family -> qualifier -> cells, newest first. */
export interface BigtableRow {
  readonly id: string;
  readonly data: Record<string, Record<string, { value: string | Buffer; timestamp?: string | number }[]>>;
}

/** Column families by name, each with its garbage-collection rule; undefined: keep every cell. */
export type FamilyRules = Readonly<Record<string, GcRule | undefined>>;

/**
 * One adapter's table and the life cycle every Bigtable adapter shares: the client opened once,
 * a guard that refuses work after `close`, and `provision` that creates the table or brings its
 * families up to date.
 */
export interface BigtableTable {
  readonly table: Table;
  readonly logger: Logger;
  /** Throws SHUTTING_DOWN once closed, so a late call fails clearly instead of on a closed channel. */
  assertOpen(): void;
  /**
   * Creates the table with `families`, or on an existing table adds the families it lacks and
   * (re)applies every rule: setting a family's rule to the rule it has is a no-op, and a changed
   * rule (a new retention) takes effect on the next provision.
   */
  provision(families: FamilyRules): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens the table named by `options` for the adapter `component`; `what` names its contents in
 * errors and logs ("the audit log").
 */
export function openBigtableTable(options: BigtableTableOptions, component: string, what: string): BigtableTable {
  for (const name of ['projectId', 'instanceId', 'tableId'] as const) {
    if (!options?.[name]) throw new VigilError('CONFIG_INVALID', `${component} needs ${name}`);
  }
  const logger = options.logger.child({ component });
  // Client-side metrics export to Cloud Monitoring with ADC; the emulator has no credentials to give,
  // and a failed export surfaces as an unhandled rejection about once a minute.
  const client = new Bigtable({ projectId: options.projectId, metricsEnabled: !process.env.BIGTABLE_EMULATOR_HOST });
  const table = client.instance(options.instanceId).table(options.tableId);
  let closed = false;
  const assertOpen = (): void => {
    if (closed) throw new VigilError('SHUTTING_DOWN', `${what} is closed`);
  };
  return {
    table,
    logger,
    assertOpen,
    async provision(families) {
      assertOpen();
      try {
        const all = Object.entries(families).map(([name, rule]) => ({ name, ...(rule ? { rule } : {}) }));
        if (await createIfMissing(() => table.create({ families: all })) === 'created') {
          logger.info({ table: options.tableId }, `Bigtable table for ${what} created`);
          return;
        }
        const [existing] = await table.getFamilies();
        const have = new Set(existing.map((f) => f.id));
        for (const [name, rule] of Object.entries(families)) {
          // No rule (keep forever) is sent as a family with no GC rule, which clears an earlier one.
          if (have.has(name)) await table.family(name).setMetadata(rule ? { rule } : {});
          else await createIfMissing(() => table.createFamily(name, rule ? { rule } : {}));
        }
      } catch (error) {
        throw backendError(error, `Bigtable provision of table ${options.tableId} (the instance must exist)`);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await client.close();
    },
  };
}
