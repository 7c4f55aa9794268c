/**
 * Waits until each named emulator answers a real API call through the client the project uses,
 * not merely until its port accepts connections (a JVM or gRPC server listens before it serves).
 *
 *   node infra/wait-ready.ts --timeout-ms 120000 pubsub:1234 bigtable:1235 gcs bigquery kafka:1240
 *
 * A `:pid` suffix names the emulator's process: once it has exited, waiting stops at once.
 * Reads the addresses from the environment (emulators-up.sh exports what it writes to .emulators/env).
 * Prints one line per emulator, `ready <name> <seconds>` or `failed <name> <reason>`; exits 1 if any failed.
 */
import { Bigtable } from '@google-cloud/bigtable';
import { PubSub } from '@google-cloud/pubsub';
import { Kafka, logLevel } from 'kafkajs';
import { withRetry } from '../core/retry.ts';
import { VigilError } from '../core/errors.ts';
import { storageOrigin } from './emulator-env.ts';

type Probe = () => Promise<void>;

const CALL_TIMEOUT_MS = 3_000;

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new VigilError('CONFIG_INVALID', `${name} is not set`);
  return value;
}

async function httpOk(url: string): Promise<void> {
  const response = await fetch(url, { signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });
  await response.body?.cancel();
  if (!response.ok) throw new VigilError('BACKEND_UNAVAILABLE', `GET ${url} answered ${response.status}`);
}

const probes: Record<string, Probe> = {
  async pubsub() {
    const pubsub = new PubSub({ projectId: required('GOOGLE_CLOUD_PROJECT') });
    try {
      await pubsub.getTopics({ pageSize: 1, gaxOpts: { timeout: CALL_TIMEOUT_MS } });
    } finally {
      await pubsub.close();
    }
  },
  async bigtable() {
    required('BIGTABLE_EMULATOR_HOST');
    const bigtable = new Bigtable({ projectId: required('GOOGLE_CLOUD_PROJECT'), metricsEnabled: false });
    try {
      await bigtable.instance('vigil').getTables({ gaxOptions: { timeout: CALL_TIMEOUT_MS } });
    } finally {
      await bigtable.close();
    }
  },
  async gcs() {
    const origin = storageOrigin(required('STORAGE_EMULATOR_HOST'));
    await httpOk(`${origin}/storage/v1/b?project=${encodeURIComponent(required('GOOGLE_CLOUD_PROJECT'))}`);
  },
  async bigquery() {
    const base = required('BIGQUERY_EMULATOR_HOST').replace(/\/+$/, '');
    await httpOk(`${base}/projects/${encodeURIComponent(required('GOOGLE_CLOUD_PROJECT'))}/datasets`);
  },
  async kafka() {
    const kafka = new Kafka({
      clientId: 'vigil-wait-ready',
      brokers: required('KAFKA_BROKERS').split(','),
      logLevel: logLevel.NOTHING,
      connectionTimeout: CALL_TIMEOUT_MS,
      retry: { retries: 0 },
    });
    const admin = kafka.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length === 0) throw new VigilError('BACKEND_UNAVAILABLE', 'no broker registered yet');
    } finally {
      await admin.disconnect();
    }
  },
};

function assertAlive(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, 0);
  } catch {
    throw new VigilError('BACKEND_UNAVAILABLE', `process ${pid} exited`, { retriable: false });
  }
}

async function waitFor(name: string, pid: number | undefined, probe: Probe, deadline: AbortSignal): Promise<string> {
  const started = performance.now();
  try {
    await withRetry(
      async () => {
        assertAlive(pid);
        await probe();
      },
      {
        attempts: Number.POSITIVE_INFINITY,
        initialDelayMs: 250,
        maxDelayMs: 1_000,
        signal: deadline,
        // Until the deadline a failure is "not up yet" (refused connection, 503, gRPC UNAVAILABLE),
        // unless the process is gone or the configuration is wrong.
        retryOn: (error) => !(error instanceof VigilError && !error.retriable),
      },
    );
    return `ready ${name} ${((performance.now() - started) / 1000).toFixed(1)}s`;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return `failed ${name} ${reason.split('\n')[0]}`;
  }
}

async function main(argv: readonly string[]): Promise<number> {
  let timeoutMs = 120_000;
  const targets: { name: string; pid: number | undefined }[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--timeout-ms') timeoutMs = Number(argv[++i]);
    else {
      const [name = '', pid] = arg.split(':');
      targets.push({ name, pid: pid === undefined ? undefined : Number(pid) });
    }
  }
  const invalid = targets.filter(({ name, pid }) => !(name in probes) || (pid !== undefined && !Number.isInteger(pid)));
  if (invalid.length > 0 || targets.length === 0 || !(timeoutMs > 0)) {
    console.error(`usage: wait-ready.ts [--timeout-ms N] <${Object.keys(probes).join('|')}>[:pid]...`);
    return 2;
  }
  const deadline = AbortSignal.timeout(timeoutMs);
  const lines = await Promise.all(targets.map(({ name, pid }) => waitFor(name, pid, probes[name] as Probe, deadline)));
  for (const line of lines) console.log(line);
  return lines.every((line) => line.startsWith('ready')) ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
