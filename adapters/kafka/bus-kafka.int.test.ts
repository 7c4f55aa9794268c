import { Kafka, logLevel } from 'kafkajs';
import { afterAll } from 'vitest';
import { createProvisionLog, describeBusContract } from '../../core/contracts/bus-contract.ts';
import { createLogger } from '../../core/observability/logger.ts';
import type { Bus } from '../../core/ports/bus.ts';
import { createKafkaBus } from './bus-kafka.ts';
import { kafkaBrokersOrSkip } from './test-support/kafka-gate.ts';
import { budget } from '../../core/contracts/wait-for.ts';

const brokers = kafkaBrokersOrSkip('adapters/kafka/bus-kafka.int.test.ts');

if (brokers) {
  const logger = createLogger({ level: process.env.VIGIL_TEST_LOG_LEVEL ?? 'silent' });
  // Every topic and group the suite provisions, deleted afterwards (names are per run anyway).
  const provisioned = createProvisionLog();

  const makeBus = async (): Promise<Bus> => provisioned.wrap(createKafkaBus({ brokers, partitions: 4, logger }));

  describeBusContract('kafka (single-node KRaft broker)', makeBus, {
    ackDeadlineMs: 1_500,
    // A new member joins through a rebalance: give deliveries time to follow it.
    receiveTimeoutMs: 20_000,
    partitions: 4,
  });

  afterAll(async () => {
    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.deleteGroups([...provisioned.subscriptions]).catch(() => {});
    await admin.deleteTopics({ topics: [...provisioned.topics] }).catch(() => {});
    await admin.disconnect();
  }, budget(60_000));
}
