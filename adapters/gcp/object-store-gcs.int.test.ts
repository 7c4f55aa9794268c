import { Storage } from '@google-cloud/storage';
import { afterAll } from 'vitest';
import { describeObjectStoreContract } from '../../core/contracts/object-store-contract.ts';
import { runPrefix } from '../../core/contracts/wait-for.ts';
import { createLogger } from '../../core/observability/logger.ts';
import { storageOrigin } from './storage-origin.ts';
import { createGcsObjectStore } from './object-store-gcs.ts';
import { gcpEmulatorsOrSkip } from './test-support/emulator-gate.ts';

const env = gcpEmulatorsOrSkip('adapters/gcp/object-store-gcs.int.test.ts');

if (env) {
  // A bucket per run (the contract deletes its objects; the bucket goes afterwards).
  const bucket = runPrefix('vigil-landing-ct');
  const logger = createLogger({ level: 'silent' });

  describeObjectStoreContract('gcs (fake-gcs-server)', async () => createGcsObjectStore({ projectId: env.GOOGLE_CLOUD_PROJECT, bucket, logger }));

  afterAll(async () => {
    const storage = new Storage({ projectId: env.GOOGLE_CLOUD_PROJECT, apiEndpoint: storageOrigin(env.STORAGE_EMULATOR_HOST) });
    await storage.bucket(bucket).delete().catch(() => undefined);
  });
}
