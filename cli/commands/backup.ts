import { rename, copyFile, rm } from 'node:fs/promises';
import { userInfo } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../core/config.ts';
import type { VigilConfig } from '../../core/config.ts';
import { VigilError } from '../../core/errors.ts';
import { createLogger } from '../../core/observability/logger.ts';
import { signToken } from '../../http/auth.ts';
import { vitalsRow } from '../../stream-processor/vitals-row.ts';
import { backupEmbedded } from '../backup/embedded-backup.ts';
import type { CliCommand } from '../command.ts';
import { UsageError, parseCommandArgs } from '../command.ts';
import { openAuditLog } from '../wiring/open-backends.ts';

const help = `Usage: vigil backup <dir>

Copies the embedded default's data folder (VIGIL_DATA_DIR) into <dir>, a new or empty folder,
consistently, while "vigil start" keeps running: bus.sqlite, warehouse.duckdb,
timeseries.sqlite, alerts.sqlite, audit.sqlite, sessions.sqlite (those present) and
local-calibration.json, with manifest.json (each file's size and SHA-256). "vigil restore <dir>"
puts it back.

How each store is copied:
  - SQLite files: VACUUM INTO on a connection of its own: one snapshot of the file, taken while
    the server keeps writing (WAL), written compact and without a WAL;
  - the DuckDB warehouse: when a running server holds the file, that server checkpoints and copies
    it (POST /v1/admin/warehouse-snapshot, as admin: VIGIL_TOKEN, or a 5-minute admin token signed
    with VIGIL_AUTH_SECRET; VIGIL_URL, default http://127.0.0.1:$PORT), into
    $VIGIL_DATA_DIR/snapshots/, and the copy is moved here; otherwise it is opened and copied here.
    Appends wait while it is copied (about a second per few hundred MB).
The bus is copied first and the time series last, so a restored set loses no reading that was
acknowledged before the backup and holds every warehouse reading in the time series too;
readings in flight are delivered again after a restore (stored once: ids are deterministic).
Readings that reached the time series during the copy but the warehouse only after its copy are
then appended to the warehouse copy, so the two copies hold the same readings.
Each backup is recorded in the audit log with the OS user.

Options:
  -h, --help   show this help

Exit status: 0 when written; 2 on a usage error; 65 when <dir> is not empty or the data folder
holds no stores; 69 when a store cannot be read (a server holds the warehouse and cannot be
reached); 78 for a non-embedded configuration (use the backends' own backups: Bigtable backups,
BigQuery table snapshots).

Environment: VIGIL_DATA_DIR, VIGIL_URL, VIGIL_TOKEN, VIGIL_AUTH_SECRET, PORT.`;

export interface BackupIo {
  readonly config: VigilConfig;
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** `vigil backup` with its configuration and streams as parameters (what the tests drive). */
export async function runBackup(argv: readonly string[], io: BackupIo): Promise<number> {
  const { positionals } = parseCommandArgs(argv, {}, true);
  if (positionals.length !== 1) throw new UsageError('give the backup folder as one argument');
  const dir = path.resolve(positionals[0]!);
  const { config } = io;
  if (config.bus.kind !== 'embedded' || config.timeseries.kind !== 'embedded' || config.warehouse.kind !== 'duckdb') {
    io.stderr.write('vigil backup: only the embedded default is backed up by Vigil (VIGIL_BUS=embedded, VIGIL_TIMESERIES=embedded, VIGIL_WAREHOUSE=duckdb); use Bigtable backups and BigQuery table snapshots at scale\n');
    return 78;
  }
  let status = 0;
  try {
    const manifest = await backupEmbedded({
      dataDir: config.dataDir,
      dir,
      snapshotWarehouse: (file) => snapshotWarehouse(config, io, file),
      levelStores: levelWarehouseCopy,
      onProgress: (line) => io.stdout.write(`${line}\n`),
    });
    io.stdout.write(`backup of ${config.dataDir} written to ${dir} (${manifest.files.length} files, manifest.json)\n`);
    return status;
  } catch (error) {
    if (!(error instanceof VigilError)) throw error;
    status = error.code === 'VALIDATION_FAILED' ? 65 : 69;
    io.stderr.write(`vigil backup: ${error.message}\n`);
    return status;
  } finally {
    await auditBackup(config, status).catch((error: unknown) => io.stderr.write(`vigil backup: not recorded in the audit log: ${(error as Error).message}\n`));
  }
}

/** The warehouse copy: our own when the file is free, the running server's when it holds it. */
async function snapshotWarehouse(config: VigilConfig, io: BackupIo, file: string): Promise<void> {
  const { createDuckDbWarehouse } = await import('../../adapters/embedded/warehouse-duckdb.ts');
  let warehouse;
  try {
    warehouse = await createDuckDbWarehouse({ path: path.join(config.dataDir, 'warehouse.duckdb') });
  } catch (error) {
    if (!(error instanceof VigilError && error.code === 'BACKEND_UNAVAILABLE')) throw error;
    await snapshotViaServer(config, io, file);
    return;
  }
  try {
    await warehouse.snapshotTo(file);
  } finally {
    await warehouse.close();
  }
}

/** Appends the time-series copy's recent readings to the warehouse copy (both in the backup folder, not live). */
async function levelWarehouseCopy(dir: string, sinceMs: number): Promise<number> {
  const { readingsReceivedSince } = await import('../../adapters/embedded/timeseries-sqlite.ts');
  const { createDuckDbWarehouse } = await import('../../adapters/embedded/warehouse-duckdb.ts');
  const readings = readingsReceivedSince(path.join(dir, 'timeseries.sqlite'), sinceMs);
  const warehouse = await createDuckDbWarehouse({ path: path.join(dir, 'warehouse.duckdb') });
  try {
    for (let i = 0; i < readings.length; i += 5_000) await warehouse.append('vitals', readings.slice(i, i + 5_000).map(vitalsRow));
  } finally {
    await warehouse.close();
  }
  return readings.length;
}

async function snapshotViaServer(config: VigilConfig, io: BackupIo, file: string): Promise<void> {
  const url = (io.env.VIGIL_URL || `http://127.0.0.1:${config.http.port}`).replace(/\/+$/, '');
  const token = io.env.VIGIL_TOKEN || (config.auth.generated ? undefined : signToken(config.auth.secret, {
    sub: `os:${userInfo().username}`, role: 'admin', expiresIn: 300, audience: config.auth.audience, issuer: config.auth.issuer,
  }));
  if (!token) throw new VigilError('BACKEND_UNAVAILABLE', 'a running server holds the warehouse; set VIGIL_TOKEN (admin) or VIGIL_AUTH_SECRET to ask it for a snapshot');
  io.stdout.write(`warehouse.duckdb is held by a running server: asking it for a snapshot (POST ${url}/v1/admin/warehouse-snapshot)\n`);
  let response: Response;
  try {
    response = await fetch(`${url}/v1/admin/warehouse-snapshot`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(600_000) });
  } catch (cause) {
    throw new VigilError('BACKEND_UNAVAILABLE', `a running server holds the warehouse, and ${url} cannot be reached (${(cause as Error).message}); set VIGIL_URL`, { cause });
  }
  const body = (await response.json().catch(() => ({}))) as { file?: string; error?: string };
  if (!response.ok || typeof body.file !== 'string') {
    throw new VigilError('BACKEND_UNAVAILABLE', `the server refused the warehouse snapshot: ${body.error ?? 'no file named'} (HTTP ${response.status})`);
  }
  // The server names a file under its data folder; it must be ours (same host, same VIGIL_DATA_DIR).
  const made = path.resolve(config.dataDir, body.file);
  if (!made.startsWith(`${path.resolve(config.dataDir)}${path.sep}`)) throw new VigilError('BACKEND_UNAVAILABLE', `the server answered a file outside ${config.dataDir}`);
  try {
    await rename(made, file);
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') {
      throw new VigilError('BACKEND_UNAVAILABLE', `the server wrote ${body.file} under its data folder, which is not found under ${config.dataDir}: run vigil backup on the server's host with its VIGIL_DATA_DIR`);
    }
    if ((error as { code?: string }).code !== 'EXDEV') throw error;
    // The backup is on another filesystem: copy, then remove the server's file.
    await copyFile(made, file);
    await rm(made, { force: true });
  }
}

/** One audit entry per backup, in the data folder's log: who (OS user), when, the outcome. */
async function auditBackup(config: VigilConfig, status: number): Promise<void> {
  const audit = await openAuditLog(config, createLogger({ level: 'silent' }));
  try {
    await audit.append({ at: Date.now(), actor: `os:${userInfo().username}`, role: 'admin', action: 'vigil backup', status });
  } finally {
    await audit.close();
  }
}

const backupCommand: CliCommand = {
  name: 'backup',
  summary: 'a consistent copy of the embedded data folder, while vigil start runs',
  help,
  run(argv) {
    return runBackup(argv, { config: loadConfig(), env: process.env, stdout: process.stdout, stderr: process.stderr });
  },
};

export default backupCommand;
