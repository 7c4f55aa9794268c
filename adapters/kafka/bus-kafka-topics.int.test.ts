import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { budget, delay, runPrefix, waitFor } from '../../core/contracts/wait-for.ts';
import { createLogger } from '../../core/observability/logger.ts';
import type { DeliveredMessage } from '../../core/ports/bus.ts';
import { createKafkaBus } from './bus-kafka.ts';
import { kafkaBrokersOrSkip } from './test-support/kafka-gate.ts';

const brokers = kafkaBrokersOrSkip('adapters/kafka/bus-kafka-topics.int.test.ts');

/** What the Kafka adapter promises beyond the port: topics, groups, keys and ids on the broker. */
if (brokers) {
  describe('Kafka bus on the broker: topics, groups, keys', () => {
    const logger = createLogger({ level: 'silent' });
    const prefix = runPrefix('vigil-kt');
    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
    const topics: string[] = [];
    const groups: string[] = [];
    const names = (n: number) => {
      const topic = `${prefix}-${n}`;
      topics.push(topic);
      groups.push(`${topic}-g`);
      return { topic, group: `${topic}-g` };
    };

    afterAll(async () => {
      await admin.connect();
      await admin.deleteGroups(groups).catch(() => {});
      await admin.deleteTopics({ topics }).catch(() => {});
      await admin.disconnect();
    }, budget(30_000));

    it('refuses to publish to a topic nobody provisioned, saying what to run', async () => {
      const bus = createKafkaBus({ brokers, logger });
      try {
        await expect(bus.publish(`${prefix}-missing`, [{ data: Buffer.from('x') }])).rejects.toMatchObject({
          code: 'BACKEND_REJECTED',
          message: expect.stringContaining('vigil provision'),
        });
      } finally {
        await bus.close();
      }
    }, budget(60_000));

    it('creates topics with the partitions asked, raises them on a later provision, never lowers them', async () => {
      const { topic } = names(1);
      const bus = createKafkaBus({ brokers, logger, partitions: 3 });
      try {
        await bus.provision([{ topic }]);
        await admin.connect();
        const count = async () => (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions.length;
        expect(await count()).toBe(3);
        await bus.provision([{ topic, partitions: 5 }]);
        expect(await count()).toBe(5);
        await bus.provision([{ topic, partitions: 2 }]);
        expect(await count()).toBe(5);
      } finally {
        await admin.disconnect();
        await bus.close();
      }
    }, budget(60_000));

    it('keys by ordering key: one patient, one partition; ids are <partition>-<offset>', async () => {
      const { topic } = names(2);
      const bus = createKafkaBus({ brokers, logger });
      try {
        await bus.provision([{ topic, partitions: 6 }]);
        const ids = await bus.publish(topic, Array.from({ length: 60 }, (_, i) => ({ data: Buffer.from(String(i)), orderingKey: `P${i % 3}` })));
        for (const id of ids) expect(id).toMatch(/^\d+-\d+$/);
        for (const key of [0, 1, 2]) {
          const ofKey = ids.filter((_, i) => i % 3 === key);
          const partitions = new Set(ofKey.map((id) => id.split('-')[0]));
          expect(partitions.size, `partitions of P${key}`).toBe(1);
          const offsets = ofKey.map((id) => Number(id.split('-')[1]));
          expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
        }
      } finally {
        await bus.close();
      }
    }, budget(60_000));

    it('delivery attempts survive a move of the partition to another subscriber', async () => {
      const { topic, group } = names(4);
      const first = createKafkaBus({ brokers, logger });
      const second = createKafkaBus({ brokers, logger });
      const options = { topic, subscription: group, maxBatchSize: 10, maxBatchWaitMs: 10, maxInFlight: 10, ackDeadlineMs: 5_000 };
      const attempts: number[] = [];
      try {
        await first.provision([{ topic, partitions: 1, subscriptions: [{ name: group }] }]);
        const nacker = await first.subscribe(options, async (batch) => {
          for (const m of batch) {
            attempts.push(m.deliveryAttempt);
            await m.nack();
          }
        });
        await first.publish(topic, [{ data: Buffer.from('poison'), orderingKey: 'P1' }]);
        await waitFor(() => attempts.length >= 2, 20_000, 'two failed deliveries');
        await nacker.close();
        const taker = await second.subscribe(options, async (batch) => {
          for (const m of batch) {
            attempts.push(m.deliveryAttempt);
            await m.ack();
          }
        });
        await waitFor(() => attempts.length >= 3, 20_000, 'the delivery to the other subscriber');
        await taker.close();
        expect(attempts.slice(0, 3)).toEqual([1, 2, 3]);
      } finally {
        await Promise.all([first.close(), second.close()]);
      }
    }, budget(60_000));

    it('a message a closing subscriber hands back keeps its attempt number at the next owner, and is not dead-lettered for it', async () => {
      const { topic, group } = names(6);
      const first = createKafkaBus({ brokers, logger });
      const second = createKafkaBus({ brokers, logger });
      const options = { topic, subscription: group, maxBatchSize: 10, maxBatchWaitMs: 10, maxInFlight: 10, ackDeadlineMs: 60_000, deadLetterTopic: `${topic}-dead`, maxDeliveryAttempts: 2 };
      const firstAttempts: number[] = [];
      const later: number[] = [];
      try {
        await first.provision([
          { topic, partitions: 1, subscriptions: [{ name: group, deadLetterTopic: `${topic}-dead`, maxDeliveryAttempts: 2 }] },
          { topic: `${topic}-dead`, partitions: 1 },
        ]);
        topics.push(`${topic}-dead`);
        // Fails the first delivery (a real failed attempt), then holds the second until it closes.
        const holder = await first.subscribe(options, async (batch) => {
          for (const m of batch) {
            firstAttempts.push(m.deliveryAttempt);
            if (m.deliveryAttempt === 1) await m.nack();
          }
        });
        await first.publish(topic, [{ data: Buffer.from('valid'), orderingKey: 'P1' }]);
        await waitFor(() => firstAttempts.length >= 2, 20_000, 'the nacked delivery and the held one', () => `attempts seen: ${firstAttempts.join(',')}`);
        await holder.close();
        const taker = await second.subscribe(options, async (batch) => {
          for (const m of batch) {
            later.push(m.deliveryAttempt);
            await m.ack();
          }
        });
        await waitFor(() => later.length > 0, 20_000, 'the message at the next subscriber', () => `first subscriber saw attempts ${firstAttempts.join(',')}`);
        await taker.close();
        expect(firstAttempts).toEqual([1, 2]);
        expect(later, 'a close is not a failed delivery').toEqual([2]);
      } finally {
        await Promise.all([first.close(), second.close()]);
      }
    }, budget(60_000));

    it('a provisioned subscription starts at the end: it gets what was published after, not before', async () => {
      const { topic, group } = names(3);
      const bus = createKafkaBus({ brokers, logger });
      const seen: DeliveredMessage[] = [];
      try {
        await bus.provision([{ topic, partitions: 2 }]);
        await bus.publish(topic, [{ data: Buffer.from('before') }]);
        await bus.provision([{ topic, subscriptions: [{ name: group }] }]);
        await bus.publish(topic, [{ data: Buffer.from('after') }]);
        const sub = await bus.subscribe({ topic, subscription: group, maxBatchSize: 10, maxBatchWaitMs: 10, maxInFlight: 10, ackDeadlineMs: 5_000 }, async (batch) => {
          for (const m of batch) {
            seen.push(m);
            await m.ack();
          }
        });
        await waitFor(() => seen.length >= 1, 20_000, 'the message published after provisioning');
        await delay(1_000);
        await sub.close();
        expect(seen.map((m) => Buffer.from(m.data).toString())).toEqual(['after']);
      } finally {
        await bus.close();
      }
    }, budget(60_000));
  });
}
