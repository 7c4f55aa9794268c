import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';

/** What the route needs of the warehouse: the embedded DuckDB adapter's consistent file copy. */
export interface WarehouseSnapshots {
  snapshotTo(file: string): Promise<{ bytes: number }>;
}

/** Folder of the data folder the snapshots go to; the CLI on the same host moves them into its backup. */
export const SNAPSHOT_FOLDER = 'snapshots';
/** A snapshot nobody fetched (its `vigil backup` died) is removed at the next request after this. */
const ABANDONED_AFTER_MS = 3_600_000;

/**
 * `POST /v1/admin/warehouse-snapshot` (admin, audited): a consistent copy of the embedded DuckDB
 * warehouse the server holds, so `vigil backup` works while `vigil start` runs (DuckDB lets one
 * process open the file). The server writes it under its own data folder, at a name it chooses
 * (`snapshots/warehouse-<uuid>.duckdb`; the caller names no path), and answers
 * `{ "file": "<path relative to VIGIL_DATA_DIR>", "bytes": n }`; the CLI, sharing the data
 * folder, moves it into the backup. Appends wait while the file is copied (about a second per
 * few hundred MB).
 */
export function registerWarehouseSnapshotRoute(app: FastifyInstance, deps: { warehouse: WarehouseSnapshots; dataDir: string }): void {
  const folder = path.join(deps.dataDir, SNAPSHOT_FOLDER);
  app.post('/v1/admin/warehouse-snapshot', { config: { access: 'admin', audit: true } }, async () => {
    await mkdir(folder, { recursive: true });
    await removeAbandoned(folder);
    const name = `warehouse-${randomUUID()}.duckdb`;
    const { bytes } = await deps.warehouse.snapshotTo(path.join(folder, name));
    return { file: `${SNAPSHOT_FOLDER}/${name}`, bytes };
  });
}

async function removeAbandoned(folder: string): Promise<void> {
  for (const name of await readdir(folder)) {
    const file = path.join(folder, name);
    const { mtimeMs } = await stat(file).catch(() => ({ mtimeMs: Date.now() }));
    if (Date.now() - mtimeMs > ABANDONED_AFTER_MS) await rm(file, { force: true });
  }
}
