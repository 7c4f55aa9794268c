import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Storage } from '@google-cloud/storage';
import { VigilError } from '../../core/errors.ts';
import type { Logger } from '../../core/observability/logger.ts';
import type { ObjectStore } from '../../core/ports/object-store.ts';
import { storageOrigin } from './storage-origin.ts';
import { backendError, createIfMissing, isNotFound } from './google-errors.ts';

/**
 * The Cloud Storage object store (core/ports/object-store.ts): batch files land here before
 * BigQuery load jobs read them by their gs:// URI.
 *
 * An object upload is atomic in Cloud Storage (readers see the old object or the new one), so
 * `put` needs no temporary key. Small bodies go in one request; streams use a resumable upload,
 * which survives a dropped connection mid-file.
 */
export interface GcsObjectStoreOptions {
  readonly projectId: string;
  readonly bucket: string;
  readonly logger: Logger;
  /** Where `provision` creates the bucket. Default US (BigQuery's default dataset location). */
  readonly location?: string;
}

export function createGcsObjectStore(options: GcsObjectStoreOptions): ObjectStore {
  if (!options?.projectId || !options.bucket) throw new VigilError('CONFIG_INVALID', 'createGcsObjectStore needs projectId and bucket');
  const logger = options.logger.child({ component: 'object-store-gcs' });
  const emulator = process.env.STORAGE_EMULATOR_HOST;
  // The client builds upload URLs from apiEndpoint, which must be the bare origin (infra/README.md).
  const storage = new Storage({ projectId: options.projectId, ...(emulator ? { apiEndpoint: storageOrigin(emulator) } : {}) });
  const bucket = storage.bucket(options.bucket);

  const fail = (error: unknown, what: string): VigilError => backendError(error, `Cloud Storage ${what}`);

  return {
    kind: 'gcs',

    async provision() {
      try {
        const outcome = await createIfMissing(() => storage.createBucket(options.bucket, {
          location: options.location ?? 'US',
          // Uniform access: IAM alone decides who reads batch files, no per-object ACLs.
          iamConfiguration: { uniformBucketLevelAccess: { enabled: true } },
        }));
        if (outcome === 'created') logger.info({ bucket: options.bucket }, 'bucket created');
      } catch (error) {
        throw fail(error, `provision of bucket ${options.bucket}`);
      }
    },

    async put(key, body, contentType) {
      const file = bucket.file(key);
      try {
        if (body instanceof Uint8Array) {
          await file.save(Buffer.from(body.buffer, body.byteOffset, body.byteLength), {
            resumable: false,
            ...(contentType ? { contentType } : {}),
          });
        } else {
          await pipeline(Readable.from(body as AsyncIterable<Buffer>), file.createWriteStream({
            resumable: true,
            ...(contentType ? { contentType } : {}),
          }));
        }
      } catch (error) {
        throw fail(error, 'put');
      }
    },

    async get(key) {
      try {
        const [contents] = await bucket.file(key).download();
        return new Uint8Array(contents.buffer, contents.byteOffset, contents.byteLength);
      } catch (error) {
        if (isNotFound(error)) throw new VigilError('NOT_FOUND', `no object ${key} in bucket ${options.bucket}`, { cause: error });
        throw fail(error, 'get');
      }
    },

    async list(prefix) {
      try {
        const [files] = await bucket.getFiles({ prefix, autoPaginate: true });
        // Cloud Storage lists in lexicographic order already; sorted again so the promise holds regardless.
        return files.map((f) => f.name).sort();
      } catch (error) {
        throw fail(error, 'list');
      }
    },

    async delete(key) {
      try {
        await bucket.file(key).delete({ ignoreNotFound: true });
      } catch (error) {
        throw fail(error, 'delete');
      }
    },

    uri(key) {
      return `gs://${options.bucket}/${encodeURI(key)}`;
    },

    async close() {
      // The client holds no connections beyond keep-alive sockets; nothing to flush.
    },
  };
}
