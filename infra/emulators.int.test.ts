/**
 * Each emulator started by `npm run emulators:up` answers through the official Node client the
 * project uses. Addresses come from the environment, else from .emulators/env.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BigQuery } from '@google-cloud/bigquery';
import { Bigtable } from '@google-cloud/bigtable';
import { PubSub } from '@google-cloud/pubsub';
import { Storage } from '@google-cloud/storage';
import { Kafka, logLevel } from 'kafkajs';
import { PassThroughClient } from 'google-auth-library';
import { resolveEmulatorEnv, storageOrigin } from './emulator-env.ts';
import type { EmulatorEnv } from './emulator-env.ts';

const env = resolveEmulatorEnv();
const inCi = process.env.CI === 'true';
if (!env && !inCi) {
  console.warn(
    '\n⚠⚠⚠ infra/emulators.int.test.ts SKIPPED: no emulator addresses (run `npm run emulators:up`). ' +
      'With CI=true this suite fails instead. ⚠⚠⚠\n',
  );
}

// A suffix per run, so reruns against long-lived emulators never collide.
const run = randomUUID().slice(0, 8);

describe.skipIf(!env && !inCi)('local emulators (npm run emulators:up)', () => {
  let e: EmulatorEnv;

  beforeAll(() => {
    if (!env) throw new Error('CI=true but no emulator addresses: `npm run emulators:up` must run before the tests');
    e = env;
    // The Google clients read these when constructed.
    Object.assign(process.env, env);
  });

  describe('Pub/Sub (pstest)', () => {
    it('creates a topic and a subscription, and delivers a published message', async () => {
      const pubsub = new PubSub({ projectId: e.GOOGLE_CLOUD_PROJECT });
      try {
        const [topic] = await pubsub.createTopic(`vigil-int-${run}`);
        const [subscription] = await topic.createSubscription(`vigil-int-${run}-sub`);
        const [topics] = await pubsub.getTopics();
        expect(topics.map((t) => t.name)).toContain(`projects/${e.GOOGLE_CLOUD_PROJECT}/topics/vigil-int-${run}`);

        await topic.publishMessage({ data: Buffer.from('hello'), attributes: { kind: 'probe' } });
        const received = await new Promise<string>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('no message within 10 s')), 10_000);
          subscription.on('message', (message) => {
            clearTimeout(timer);
            message.ack();
            resolve(`${message.attributes.kind}:${message.data.toString()}`);
          });
          subscription.on('error', reject);
        });
        expect(received).toBe('probe:hello');
        await subscription.close();
        await subscription.delete();
        await topic.delete();
      } finally {
        await pubsub.close();
      }
    });
  });

  describe('Bigtable (cbtemulator)', () => {
    it('creates a table through the admin API, writes and reads a row', async () => {
      // Client-side metrics export to Cloud Monitoring every minute, emulator or not, and fail there
      // for want of credentials (an unhandled rejection in a long run).
      const bigtable = new Bigtable({ projectId: e.GOOGLE_CLOUD_PROJECT, metricsEnabled: false });
      try {
        const instance = bigtable.instance('vigil');
        const [table] = await instance.createTable(`vitals-int-${run}`, { families: ['v'] });
        const [tables] = await instance.getTables();
        expect(tables.map((t) => t.id)).toContain(`vitals-int-${run}`);

        await table.insert([{ key: 'P0001#2026-11-22T10:00:00Z', data: { v: { hr: '72' } } }]);
        const [row] = await table.row('P0001#2026-11-22T10:00:00Z').get();
        expect(row.data.v.hr[0].value).toBe('72');
        await table.delete();
      } finally {
        await bigtable.close();
      }
    });
  });

  describe('Cloud Storage (fake-gcs-server)', () => {
    it('creates a bucket, uploads resumably and in one request, and reads both back', async () => {
      // STORAGE_EMULATOR_HOST carries /storage/v1 (the client's JSON base URL); uploads go to
      // apiEndpoint + /upload/storage/v1, so the origin is passed as apiEndpoint.
      const storage = new Storage({ projectId: e.GOOGLE_CLOUD_PROJECT, apiEndpoint: storageOrigin(e.STORAGE_EMULATOR_HOST) });
      const [bucket] = await storage.createBucket(`vigil-int-${run}`);
      const big = Buffer.alloc(300 * 1024, 'x');
      await bucket.file('resumable.bin').save(big, { resumable: true });
      await bucket.file('simple.csv').save('a,b\n1,2\n', { resumable: false, contentType: 'text/csv' });

      const [resumable] = await bucket.file('resumable.bin').download();
      const [simple] = await bucket.file('simple.csv').download();
      expect(resumable.equals(big)).toBe(true);
      expect(simple.toString()).toBe('a,b\n1,2\n');
      const [files] = await bucket.getFiles();
      expect(files.map((f) => f.name).sort()).toEqual(['resumable.bin', 'simple.csv']);
      await bucket.deleteFiles({ force: true });
      await bucket.delete();
    });
  });

  describe('BigQuery (goccy bigquery-emulator)', () => {
    // The emulator serves one request at a time (infra/README.md): other suites can queue ahead.
    const BUSY_EMULATOR_MS = 180_000;
    // The client authorises every request, even to an emulator; PassThroughClient sends none.
    const bigquery = (): BigQuery => new BigQuery({ projectId: e.GOOGLE_CLOUD_PROJECT, authClient: new PassThroughClient() });
    const datasetId = `vigil_int_${run}`;

    afterAll(async () => {
      if (env) await bigquery().dataset(datasetId).delete({ force: true }).catch(() => undefined);
    }, BUSY_EMULATOR_MS);

    it('creates a dataset and runs SELECT 1', async () => {
      const bq = bigquery();
      await bq.createDataset(datasetId);
      const [datasets] = await bq.getDatasets();
      expect(datasets.map((d) => d.id)).toContain(datasetId);
      const [rows] = await bq.query({ query: 'SELECT 1 AS one' });
      expect(rows).toEqual([{ one: 1 }]);
    }, BUSY_EMULATOR_MS);

    it('loads a CSV from the storage fake with a load job', async () => {
      const storage = new Storage({ projectId: e.GOOGLE_CLOUD_PROJECT, apiEndpoint: storageOrigin(e.STORAGE_EMULATOR_HOST) });
      const [bucket] = await storage.createBucket(`vigil-int-load-${run}`);
      const file = bucket.file('patients.csv');
      await file.save('patient_id,age\nP0001,71\nP0002,45\n', { resumable: false, contentType: 'text/csv' });

      const bq = bigquery();
      const table = bq.dataset(datasetId).table('patients');
      await bq.dataset(datasetId).createTable('patients', {
        schema: [
          { name: 'patient_id', type: 'STRING' },
          { name: 'age', type: 'INT64' },
        ],
      });
      await table.load(file, { sourceFormat: 'CSV', skipLeadingRows: 1 });
      const [rows] = await bq.query({ query: `SELECT patient_id, age FROM \`${datasetId}.patients\` ORDER BY patient_id` });
      expect(rows).toEqual([
        { patient_id: 'P0001', age: 71 },
        { patient_id: 'P0002', age: 45 },
      ]);
      await bucket.deleteFiles({ force: true });
      await bucket.delete();
    }, BUSY_EMULATOR_MS);
  });

  describe('Kafka (KRaft broker)', () => {
    it('creates a topic with the admin client and refuses to auto-create others', async () => {
      const kafka = new Kafka({ clientId: 'vigil-int', brokers: e.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      try {
        const topic = `vigil.int.${run}`;
        expect(await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true })).toBe(true);
        const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
        expect(metadata.topics[0]?.partitions).toHaveLength(3);
        expect(await admin.listTopics()).not.toContain(`vigil.int.${run}.never-created`);

        const producer = kafka.producer({ allowAutoTopicCreation: true, retry: { retries: 1 } });
        await producer.connect();
        try {
          // Even a client that asks for auto-creation is refused: topics come from `vigil provision`.
          await expect(
            producer.send({ topic: `vigil.int.${run}.never-created`, messages: [{ value: 'x' }] }),
          ).rejects.toThrow();
          await producer.send({ topic, messages: [{ key: 'P0001', value: 'reading' }] });
        } finally {
          await producer.disconnect();
        }
        const offsets = await admin.fetchTopicOffsets(topic);
        expect(offsets.reduce((sum, p) => sum + Number(p.high), 0)).toBe(1);
        await admin.deleteTopics({ topics: [topic] });
      } finally {
        await admin.disconnect();
      }
    });
  });
});
