import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../../cli/test-support/vigil-process.ts';
import { startOwnServer } from '../../shared/test-support/own-server.ts';
import type { OwnServer } from '../../shared/test-support/own-server.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
/** The broker jars `npm run emulators:up` installed (infra/kafka/pom.xml). */
const LIBS = path.join(ROOT, '.emulators', 'kafka', 'libs');
const LOG4J = path.join(ROOT, 'infra', 'kafka', 'log4j.properties');

/**
 * A test's own single-node KRaft broker (the jars of the shared emulator, its own ports and data
 * folder), so a fault test can pause it (SIGSTOP), resume it, or kill it (SIGKILL) and start it
 * again on the same data and ports without disturbing other suites' broker.
 */
export interface OwnBroker extends OwnServer {
  /** host:port for KAFKA_BROKERS. */
  readonly address: string;
}

export function ownBrokerAvailable(): boolean {
  return existsSync(path.join(LIBS)) && spawnSync('java', ['-version']).status === 0;
}

export async function startOwnBroker(options: { startTimeoutMs?: number } = {}): Promise<OwnBroker> {
  const [port, controllerPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-own-kafka-'));
  const properties = path.join(dir, 'server.properties');
  // The same settings as the shared emulator (infra/emulators-up.sh), on this broker's ports and folder.
  writeFileSync(properties, [
    'process.roles=broker,controller', 'node.id=1', `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`, 'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT', 'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${path.join(dir, 'data')}`, 'auto.create.topics.enable=false', 'num.partitions=1',
    'offsets.topic.replication.factor=1', 'offsets.topic.num.partitions=4', 'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1', 'transaction.state.log.num.partitions=4', 'group.initial.rebalance.delay.ms=0',
    'num.network.threads=2', 'num.io.threads=2', '',
  ].join('\n'));
  const java = ['-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', `-Dlog4j.configuration=file:${LOG4J}`, '-cp', `${LIBS}/*`];
  // --cluster-id=<id> in one argument: one id in 64 starts with "-", which as a separate argument reads as an option.
  const clusterId = randomBytes(16).toString('base64url');
  const format = spawnSync('java', ['-Xmx128m', ...java, 'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId}`, '-c', properties], { encoding: 'utf8' });
  if (format.status !== 0) throw new Error(`formatting the own Kafka broker's storage failed:\n${format.stdout}${format.stderr}`);

  const server = await startOwnServer({
    name: 'own Kafka broker', port, startTimeoutMs: options.startTimeoutMs,
    command: 'java', args: ['-Xms64m', '-Xmx384m', '-Djava.awt.headless=true', ...java, 'kafka.Kafka', properties],
  });
  return {
    ...server,
    address: `127.0.0.1:${port}`,
    // Restarts keep the data folder (a broker killed and started again); closing deletes it.
    close: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
