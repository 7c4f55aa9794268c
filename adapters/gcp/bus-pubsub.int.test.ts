import { PubSub } from '@google-cloud/pubsub';
import { afterAll } from 'vitest';
import { describeBusContract } from '../../core/contracts/bus-contract.ts';
import { createLogger } from '../../core/observability/logger.ts';
import type { Bus } from '../../core/ports/bus.ts';
import { createPubSubBus } from './bus-pubsub.ts';
import { gcpEmulatorsOrSkip } from './test-support/emulator-gate.ts';

const env = gcpEmulatorsOrSkip('adapters/gcp/bus-pubsub.int.test.ts');

if (env) {
  const logger = createLogger({ level: 'silent' });
  // Every topic and subscription the suite provisions, so they are deleted afterwards.
  const provisioned = { topics: new Set<string>(), subscriptions: new Set<string>() };

  const makeBus = async (): Promise<Bus> => {
    const bus = createPubSubBus({ projectId: env.GOOGLE_CLOUD_PROJECT, logger });
    return {
      ...bus,
      kind: bus.kind,
      async provision(specs) {
        for (const spec of specs) {
          provisioned.topics.add(spec.topic);
          for (const sub of spec.subscriptions ?? []) provisioned.subscriptions.add(sub.name);
        }
        return bus.provision(specs);
      },
    };
  };

  describeBusContract('pubsub (pstest emulator)', makeBus, {
    // Pub/Sub's smallest ack deadline and dead-letter attempt count.
    ackDeadlineMs: 10_000,
    maxDeliveryAttempts: 5,
    receiveTimeoutMs: 20_000,
  });

  afterAll(async () => {
    const client = new PubSub({ projectId: env.GOOGLE_CLOUD_PROJECT });
    await Promise.allSettled([...provisioned.subscriptions].map((s) => client.subscription(s).delete()));
    await Promise.allSettled([...provisioned.topics].map((t) => client.topic(t).delete()));
    await client.close();
  }, 60_000);
}
