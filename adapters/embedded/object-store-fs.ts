import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { VigilError } from '../../core/errors.ts';
import type { ObjectStore } from '../../core/ports/object-store.ts';

/**
 * The embedded object store: one file per key under a folder (`${VIGIL_DATA_DIR}/objects`), key
 * segments as subfolders. A put writes `<key>.<uuid>.tmp` beside the target and renames it into
 * place, so a reader sees the whole old object or the whole new one, never half a file; list skips
 * those temporary files.
 */
export interface FsObjectStoreOptions {
  readonly dir: string;
}

const TEMP_SUFFIX = /\.[0-9a-f-]{36}\.tmp$/;

export function createFsObjectStore(options: FsObjectStoreOptions): ObjectStore {
  if (!options || typeof options.dir !== 'string' || options.dir === '') {
    throw new VigilError('CONFIG_INVALID', 'createFsObjectStore needs a folder');
  }
  const root = path.resolve(options.dir);

  /** Keys are relative, '/'-separated, and may not climb out of the folder. */
  const fileOf = (key: string): string => {
    const segments = key.split('/');
    if (key === '' || key.startsWith('/') || segments.some((s) => s === '' || s === '.' || s === '..') || key.includes('\\') || key.includes('\0')) {
      throw new VigilError('VALIDATION_FAILED', `object key ${JSON.stringify(key)} is not a relative path`);
    }
    return path.join(root, ...segments);
  };

  return {
    kind: 'fs',

    async provision() {
      await mkdir(root, { recursive: true });
    },

    async put(key, body) {
      const file = fileOf(key);
      await mkdir(path.dirname(file), { recursive: true });
      const temp = `${file}.${randomUUID()}.tmp`;
      try {
        if (body instanceof Uint8Array) await writeFile(temp, body, { flush: true });
        else await pipeline(body instanceof Readable ? body : Readable.from(body as AsyncIterable<Uint8Array>), createWriteStream(temp, { flush: true }));
        await rename(temp, file);
      } catch (cause) {
        await rm(temp, { force: true });
        throw new VigilError('BACKEND_UNAVAILABLE', `could not store object ${key}`, { cause });
      }
    },

    async get(key) {
      try {
        return new Uint8Array(await readFile(fileOf(key)));
      } catch (cause) {
        if (isMissing(cause)) throw new VigilError('NOT_FOUND', `no object ${key}`, { cause });
        throw cause instanceof VigilError ? cause : new VigilError('BACKEND_UNAVAILABLE', `could not read object ${key}`, { cause });
      }
    },

    async list(prefix) {
      // Walk only the deepest folder the prefix names fully, then filter on the whole key.
      const lastSlash = prefix.lastIndexOf('/');
      const base = lastSlash < 0 ? '' : prefix.slice(0, lastSlash);
      const start = base === '' ? root : fileOf(base);
      let entries: string[];
      try {
        entries = await readdir(start, { recursive: true });
      } catch (cause) {
        if (isMissing(cause)) return [];
        throw new VigilError('BACKEND_UNAVAILABLE', 'could not list objects', { cause });
      }
      const keys: string[] = [];
      for (const entry of entries) {
        const key = (base === '' ? entry : `${base}/${entry}`).split(path.sep).join('/');
        if (key.startsWith(prefix) && !TEMP_SUFFIX.test(key)) keys.push(key);
      }
      // Folders come back from readdir too; keep only what get() can read.
      const files = await Promise.all(keys.map(async (k) => ((await isFile(fileOf(k))) ? k : undefined)));
      return files.filter((k): k is string => k !== undefined).sort();
    },

    async delete(key) {
      await rm(fileOf(key), { force: true });
    },

    uri(key) {
      return pathToFileURL(fileOf(key)).href;
    },

    async close() {},
  };
}

function isMissing(error: unknown): boolean {
  return typeof error === 'object' && error !== null && ['ENOENT', 'ENOTDIR'].includes((error as { code?: string }).code ?? '');
}

function isFile(file: string): Promise<boolean> {
  return stat(file).then((s) => s.isFile(), () => false);
}
