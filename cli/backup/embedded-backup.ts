import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { VigilError } from '../../core/errors.ts';

/**
 * Backup and restore of the embedded default's data folder (`vigil backup`, `vigil restore`).
 *
 * Each store is copied consistently while `vigil start` keeps running:
 * - SQLite files (bus, time series, alerts, audit, sessions): `VACUUM INTO` on a connection of
 *   our own, which reads one snapshot (WAL lets the server keep writing meanwhile) and writes a
 *   compact file with no WAL to carry along;
 * - the DuckDB warehouse: `snapshotWarehouse` (the server's checkpointed copy when it holds the
 *   file, else our own; adapters/embedded/warehouse-duckdb.ts `snapshotTo`).
 *
 * The order makes the set restorable without loss: the bus first, then the warehouse, then the
 * time series. A reading acknowledged before the bus copy was in both stores before its ack, so
 * the later store copies hold it; one not yet acknowledged then is in the copied bus and is
 * delivered again after a restore (the stores keep one row per reading id). The processor writes
 * the time series before the warehouse, so the time-series copy, taken last, holds every reading
 * of the warehouse copy. What neither covers: a reading published after the bus copy and written
 * to the time series before its copy, but to the warehouse after its copy; it would be in the
 * restored time series only, and never delivered again. `levelStores` closes that gap: it brings
 * the warehouse copy level with the time-series copy for everything received since shortly
 * before the bus copy (appends are idempotent and fill in merged vitals), before the checksums.
 */
export const STORE_FILES = ['bus.sqlite', 'warehouse.duckdb', 'timeseries.sqlite', 'alerts.sqlite', 'audit.sqlite', 'sessions.sqlite'] as const;
/** Backed up as they are when present: a site's recalibration of the risk model. */
const PLAIN_FILES = ['local-calibration.json'] as const;
export const MANIFEST = 'manifest.json';
const WAREHOUSE = 'warehouse.duckdb';

export interface BackupManifest {
  readonly format: 'vigil-embedded-backup';
  readonly version: 1;
  readonly createdAt: string;
  /** In the order they were copied; sha256 of each file's bytes. */
  readonly files: readonly { readonly name: string; readonly bytes: number; readonly sha256: string; readonly copiedAt: string }[];
}

export interface BackupOptions {
  readonly dataDir: string;
  /** A new or empty folder. */
  readonly dir: string;
  /** Writes a consistent copy of the warehouse at `file` (the server's, or one opened here). */
  readonly snapshotWarehouse: (file: string) => Promise<void>;
  /**
   * Brings the warehouse copy (`dir`/warehouse.duckdb) level with the time-series copy for
   * readings received since `sinceMs`; answers how many rows it appended or merged.
   */
  readonly levelStores: (dir: string, sinceMs: number) => Promise<number>;
  readonly onProgress?: (line: string) => void;
}

/**
 * How far before the bus copy a reading may have been received and still be published after it:
 * the edge's publish bound is seconds, and a second part of a reading (merged into its first
 * part's arrival time) comes within seconds too. Ten minutes is generous and costs a short scan.
 */
const LEVEL_MARGIN_MS = 10 * 60_000;

export async function backupEmbedded(options: BackupOptions): Promise<BackupManifest> {
  const { dataDir, dir } = options;
  if (!existsSync(path.join(dataDir, 'timeseries.sqlite')) && !existsSync(path.join(dataDir, WAREHOUSE))) {
    throw new VigilError('VALIDATION_FAILED', `${dataDir} holds no Vigil stores (no timeseries.sqlite or warehouse.duckdb): is VIGIL_DATA_DIR right?`);
  }
  if (existsSync(dir) && (await readdir(dir)).length > 0) {
    throw new VigilError('VALIDATION_FAILED', `${dir} is not empty: back up into a new folder`);
  }
  await mkdir(dir, { recursive: true });
  const copied: { name: string; copiedAt: string }[] = [];
  const busCopyStarted = Date.now();
  for (const name of [...STORE_FILES, ...PLAIN_FILES]) {
    const source = path.join(dataDir, name);
    if (!existsSync(source)) continue;
    const target = path.join(dir, name);
    const started = Date.now();
    if (name === WAREHOUSE) await options.snapshotWarehouse(target);
    else if (name.endsWith('.sqlite')) vacuumInto(source, target);
    else await copyFile(source, target);
    copied.push({ name, copiedAt: new Date().toISOString() });
    options.onProgress?.(`${name}: ${(await stat(target)).size.toLocaleString('en-US')} bytes in ${Date.now() - started} ms`);
  }
  if (copied.some((c) => c.name === WAREHOUSE) && copied.some((c) => c.name === 'timeseries.sqlite')) {
    const levelled = await options.levelStores(dir, busCopyStarted - LEVEL_MARGIN_MS);
    options.onProgress?.(`warehouse copy levelled with the time-series copy: ${levelled} readings received since ${new Date(busCopyStarted - LEVEL_MARGIN_MS).toISOString()} appended or merged (idempotent)`);
  }
  const files: BackupManifest['files'][number][] = [];
  for (const { name, copiedAt } of copied) {
    const file = path.join(dir, name);
    files.push({ name, bytes: (await stat(file)).size, sha256: await sha256Of(file), copiedAt });
  }
  const manifest: BackupManifest = { format: 'vigil-embedded-backup', version: 1, createdAt: new Date().toISOString(), files };
  await writeFile(path.join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** One consistent copy of a live SQLite file, without its WAL (the copy is in rollback-journal mode, a single file). */
function vacuumInto(source: string, target: string): void {
  const db = new DatabaseSync(source, { timeout: 10_000 });
  try {
    db.prepare('VACUUM INTO ?').run(target);
  } catch (cause) {
    throw new VigilError('BACKEND_UNAVAILABLE', `cannot copy ${path.basename(source)}: ${(cause as Error).message}`, { cause });
  } finally {
    db.close();
  }
}

export interface RestoreOptions {
  readonly dir: string;
  readonly dataDir: string;
  /** Stores already in the data folder are moved aside (to `replaced-<time>/`) instead of refusing. */
  readonly replace: boolean;
  /** Throws when a process holds the data folder (the DuckDB file's lock tells). */
  readonly ensureNotInUse: () => Promise<void>;
  readonly onProgress?: (line: string) => void;
}

/**
 * Puts a backup's files in place in a data folder no process is using. Every file's checksum is
 * verified before anything is touched; each file is copied beside its place and renamed over it,
 * and the old file's WAL and shared memory are removed first (an old WAL replayed onto a restored
 * file would corrupt it).
 */
export async function restoreEmbedded(options: RestoreOptions): Promise<{ files: string[]; movedAside?: string }> {
  const manifest = await readManifest(options.dir);
  for (const file of manifest.files) {
    const actual = await sha256Of(path.join(options.dir, file.name)).catch(() => 'missing');
    if (actual !== file.sha256) throw new VigilError('VALIDATION_FAILED', `${file.name} in ${options.dir} does not match the manifest (${actual === 'missing' ? 'missing' : 'checksum differs'}): the backup is damaged`);
  }
  await mkdir(options.dataDir, { recursive: true });
  await options.ensureNotInUse();
  const present = (await readdir(options.dataDir)).filter((name) => [...STORE_FILES, ...PLAIN_FILES].some((store) => name === store || name.startsWith(`${store}-`) || name.startsWith(`${store}.`)));
  let movedAside: string | undefined;
  if (present.length > 0) {
    if (!options.replace) {
      throw new VigilError('VALIDATION_FAILED', `${options.dataDir} already holds ${present.join(', ')}: restore into an empty folder, or pass --replace to move them aside`);
    }
    movedAside = path.join(options.dataDir, `replaced-${new Date().toISOString().replaceAll(':', '-')}`);
    await mkdir(movedAside);
    for (const name of present) await rename(path.join(options.dataDir, name), path.join(movedAside, name));
    options.onProgress?.(`moved ${present.length} existing file(s) to ${movedAside}`);
  }
  for (const file of manifest.files) {
    const target = path.join(options.dataDir, file.name);
    for (const leftover of [`${target}-wal`, `${target}-shm`, `${target}-journal`, `${target}.wal`]) await rm(leftover, { force: true });
    await copyFile(path.join(options.dir, file.name), `${target}.restoring`);
    await rename(`${target}.restoring`, target);
    options.onProgress?.(`${file.name}: restored (${file.bytes.toLocaleString('en-US')} bytes, copied ${file.copiedAt})`);
  }
  return { files: manifest.files.map((f) => f.name), ...(movedAside ? { movedAside } : {}) };
}

export async function readManifest(dir: string): Promise<BackupManifest> {
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(await readFile(path.join(dir, MANIFEST), 'utf8')) as BackupManifest;
  } catch (cause) {
    throw new VigilError('VALIDATION_FAILED', `${dir} has no readable ${MANIFEST}: not a vigil backup`, { cause });
  }
  if (manifest.format !== 'vigil-embedded-backup' || manifest.version !== 1 || !Array.isArray(manifest.files)) {
    throw new VigilError('VALIDATION_FAILED', `${dir}/${MANIFEST} is not a version 1 vigil backup manifest`);
  }
  const known = new Set<string>([...STORE_FILES, ...PLAIN_FILES]);
  const unknown = manifest.files.find((f) => !known.has(f.name));
  if (unknown) throw new VigilError('VALIDATION_FAILED', `${dir}/${MANIFEST} names ${JSON.stringify(unknown.name)}, which is no Vigil store`);
  return manifest;
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
