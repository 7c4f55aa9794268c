import path from 'node:path';
import { existsSync } from 'node:fs';
import { loadConfig } from '../../core/config.ts';
import type { VigilConfig } from '../../core/config.ts';
import { VigilError } from '../../core/errors.ts';
import { restoreEmbedded } from '../backup/embedded-backup.ts';
import type { CliCommand } from '../command.ts';
import { UsageError, parseCommandArgs } from '../command.ts';

const help = `Usage: vigil restore <dir> [--replace]

Puts a "vigil backup" folder back as the embedded data folder (VIGIL_DATA_DIR), for "vigil start"
to run on. Every file's SHA-256 is checked against manifest.json before anything is touched; each
file is copied beside its place and renamed over it, and stale -wal/-shm files are removed first.

Stop every Vigil process using the data folder first: restore refuses while one holds it (the
DuckDB warehouse's lock tells). Restore into another folder (VIGIL_DATA_DIR=<new>) to look at a
backup while the server keeps running. After a restore, readings that were in flight at the
backup are delivered again (stored once) and the processor's purge applies retention at start.

Options:
  --replace    the data folder already holds stores: move them aside to
               $VIGIL_DATA_DIR/replaced-<time>/ (nothing is deleted) instead of refusing
  -h, --help   show this help

Exit status: 0 when restored; 2 on a usage error; 65 when the backup is damaged or not a backup,
or the data folder holds stores and --replace was not given; 69 when a process holds the data
folder; 78 for a non-embedded configuration.

Environment: VIGIL_DATA_DIR.`;

export interface RestoreIo {
  readonly config: VigilConfig;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

export async function runRestore(argv: readonly string[], io: RestoreIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { replace: { type: 'boolean' } }, true);
  if (positionals.length !== 1) throw new UsageError('give the backup folder as one argument');
  const { config } = io;
  if (config.bus.kind !== 'embedded' || config.timeseries.kind !== 'embedded' || config.warehouse.kind !== 'duckdb') {
    io.stderr.write('vigil restore: only the embedded default is restored by Vigil; use the backends\' own restores at scale\n');
    return 78;
  }
  try {
    const result = await restoreEmbedded({
      dir: path.resolve(positionals[0]!),
      dataDir: config.dataDir,
      replace: values.replace === true,
      ensureNotInUse: () => ensureWarehouseFree(config),
      onProgress: (line) => io.stdout.write(`${line}\n`),
    });
    io.stdout.write(`restored ${result.files.length} files into ${config.dataDir}${result.movedAside ? ` (the previous files are in ${result.movedAside})` : ''}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof VigilError)) throw error;
    io.stderr.write(`vigil restore: ${error.message}\n`);
    return error.code === 'VALIDATION_FAILED' ? 65 : 69;
  }
}

/** A process that runs Vigil on this folder holds the DuckDB file's lock: opening it fails. */
async function ensureWarehouseFree(config: VigilConfig): Promise<void> {
  const file = path.join(config.dataDir, 'warehouse.duckdb');
  if (!existsSync(file)) return;
  const { createDuckDbWarehouse } = await import('../../adapters/embedded/warehouse-duckdb.ts');
  try {
    const warehouse = await createDuckDbWarehouse({ path: file, readOnly: true });
    await warehouse.close();
  } catch (cause) {
    throw new VigilError('BACKEND_UNAVAILABLE', `a process holds ${file} (is "vigil start" running on ${config.dataDir}?): stop it first, or restore into another VIGIL_DATA_DIR`, { cause });
  }
}

const restoreCommand: CliCommand = {
  name: 'restore',
  summary: 'put a vigil backup back as the embedded data folder',
  help,
  run(argv) {
    return runRestore(argv, { config: loadConfig(), stdout: process.stdout, stderr: process.stderr });
  },
};

export default restoreCommand;
