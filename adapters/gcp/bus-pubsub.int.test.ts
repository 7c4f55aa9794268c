import { PubSub } from '@google-cloud/pubsub';
import { afterAll, describe, expect, it } from 'vitest';
import { createProvisionLog, describeBusContract } from '../../core/contracts/bus-contract.ts';
import { createLogger } from '../../core/observability/logger.ts';
import type { Bus } from '../../core/ports/bus.ts';
import { createPubSubBus } from './bus-pubsub.ts';
import { gcpEmulatorsOrSkip } from './test-support/emulator-gate.ts';
import { budget } from '../../core/contracts/wait-for.ts';

const env = gcpEmulatorsOrSkip('adapters/gcp/bus-pubsub.int.test.ts');

if (env) {
  const logger = createLogger({ level: 'silent' });
  // Every topic and subscription the suite provisions, so they are deleted afterwards.
  const provisioned = createProvisionLog();

  const makeBus = async (): Promise<Bus> => provisioned.wrap(createPubSubBus({ projectId: env.GOOGLE_CLOUD_PROJECT, logger }));

  describeBusContract('pubsub (pstest emulator)', makeBus, {
    // Pub/Sub's smallest ack deadline and dead-letter attempt count.
    ackDeadlineMs: 10_000,
    maxDeliveryAttempts: 5,
    receiveTimeoutMs: 20_000,
  });

  describe('pubsub provision', () => {
    it('creates the subscription with ordering and a dead-letter policy, and updates settings that differ', async () => {
      const bus = await makeBus();
      const base = `vigil-prov-${Date.now().toString(36)}`;
      const spec = (ackDeadlineMs: number, maxDeliveryAttempts: number) => [
        { topic: `${base}-dead` },
        { topic: base, subscriptions: [{ name: `${base}-s`, ackDeadlineMs, deadLetterTopic: `${base}-dead`, maxDeliveryAttempts }] },
      ];
      const client = new PubSub({ projectId: env.GOOGLE_CLOUD_PROJECT });
      try {
        await bus.provision(spec(10_000, 5));
        const [created] = await client.subscription(`${base}-s`).getMetadata();
        expect(created.enableMessageOrdering).toBe(true);
        expect(Number(created.ackDeadlineSeconds)).toBe(10);
        expect(created.deadLetterPolicy).toMatchObject({ deadLetterTopic: `projects/${env.GOOGLE_CLOUD_PROJECT}/topics/${base}-dead`, maxDeliveryAttempts: 5 });
        await bus.provision(spec(30_000, 12));
        await bus.provision(spec(30_000, 12));
        const [updated] = await client.subscription(`${base}-s`).getMetadata();
        expect(Number(updated.ackDeadlineSeconds)).toBe(30);
        expect(updated.deadLetterPolicy?.maxDeliveryAttempts).toBe(12);
      } finally {
        await client.close();
        await bus.close();
      }
    }, budget(60_000));
  });

  afterAll(async () => {
    const client = new PubSub({ projectId: env.GOOGLE_CLOUD_PROJECT });
    await Promise.allSettled([...provisioned.subscriptions].map((s) => client.subscription(s).delete()));
    await Promise.allSettled([...provisioned.topics].map((t) => client.topic(t).delete()));
    await client.close();
  }, budget(60_000));
}
