import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
/** The broker jars `npm run emulators:up` installed (infra/kafka/pom.xml). */
const LIBS = path.join(ROOT, '.emulators', 'kafka', 'libs');
const LOG4J = path.join(ROOT, 'infra', 'kafka', 'log4j.properties');

/**
 * A test's own single-node KRaft broker (the jars of the shared emulator, its own ports and data
 * folder), so a fault test can pause it (SIGSTOP), resume it, or kill it (SIGKILL) and start it
 * again on the same data and ports without disturbing other suites' broker.
 */
export interface OwnBroker {
  /** host:port for KAFKA_BROKERS. */
  readonly address: string;
  pause(): void;
  resume(): void;
  /** SIGKILL: no shutdown, no flush beyond what the broker already wrote. */
  kill(): Promise<void>;
  /** Starts it again on the same data folder and ports; resolves once it accepts connections. */
  restart(): Promise<void>;
  /** Stops it and deletes its data. */
  close(): Promise<void>;
  /** Its log so far (for a failing test's message). */
  log(): string;
}

export function ownBrokerAvailable(): boolean {
  return existsSync(path.join(LIBS)) && spawnSync('java', ['-version']).status === 0;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function accepting(port: number, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`own Kafka broker did not listen on ${port} within ${timeoutMs} ms:\n${what().slice(-3_000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
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
  const clusterId = randomBytes(16).toString('base64url');
  const format = spawnSync('java', ['-Xmx128m', ...java, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', properties], { encoding: 'utf8' });
  if (format.status !== 0) throw new Error(`formatting the own Kafka broker's storage failed:\n${format.stdout}${format.stderr}`);

  let output = '';
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const timeoutMs = options.startTimeoutMs ?? 60_000;

  async function launch(): Promise<void> {
    const started = spawn('java', ['-Xms64m', '-Xmx384m', '-Djava.awt.headless=true', ...java, 'kafka.Kafka', properties], { stdio: ['ignore', 'pipe', 'pipe'] });
    started.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    started.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    exited = new Promise((resolve) => started.once('exit', () => resolve()));
    child = started;
    await accepting(port, timeoutMs, () => output);
  }

  async function stop(signal: NodeJS.Signals): Promise<void> {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    running.kill('SIGCONT');
    running.kill(signal);
    await exited;
  }

  await launch();
  return {
    address: `127.0.0.1:${port}`,
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    kill: () => stop('SIGKILL'),
    restart: async () => {
      await stop('SIGKILL');
      await launch();
    },
    close: async () => {
      await stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
    log: () => output,
  };
}
