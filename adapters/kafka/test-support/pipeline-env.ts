import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { runPrefix } from '../../../core/contracts/wait-for.ts';
import type { SimulatedReading } from '../../../simulators/device-faults.ts';

const VIGIL_BIN = fileURLToPath(new URL('../../../bin/vigil.js', import.meta.url));

/**
 * Environment of `vigil` processes sharing one Kafka run: per-run topic, dead-letter topic and
 * consumer group, so runs never see each other's readings.
 */
export function kafkaRunEnv(brokers: readonly string[], label: string, extra: Record<string, string> = {}): Record<string, string> {
  const run = runPrefix(label).replace(/[^a-zA-Z0-9]/g, '_');
  return {
    VIGIL_BUS: 'kafka',
    KAFKA_BROKERS: brokers.join(','),
    VIGIL_READINGS_TOPIC: `vigil.${run}.readings`,
    VIGIL_DEAD_LETTER_TOPIC: `vigil.${run}.readings.dead`,
    VIGIL_SUBSCRIPTION: `vigil-${run}`,
    VIGIL_DATA_DIR: mkdtempSync(path.join(tmpdir(), `${label}-`)),
    VIGIL_AUTH_SECRET: 'kafka-test-secret-0123456789abcdef',
    VIGIL_SIMULATE: '0',
    VIGIL_MLLP_PORT: '0',
    ...extra,
  };
}

/** Runs a short `vigil <command>` to completion; resolves its exit code and output. */
export function runVigil(command: string, env: Record<string, string>, timeoutMs = 120_000): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [VIGIL_BIN, command], { env: { ...process.env, VIGIL_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`vigil ${command} timed out:\n${output}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** A valid ingest reading as a device would send it (simulator shape), all vitals present. */
export function wardReading(patient: number, observedAt: number): SimulatedReading {
  const patientId = `K${String(patient).padStart(4, '0')}`;
  const deviceId = `bed-${patient}`;
  return {
    body: {
      deviceId, patientId, observedAt: new Date(observedAt).toISOString(),
      heartRate: 60 + (observedAt / 1000) % 40, bloodPressure: '120/80', temperature: 37.1, temperatureUnit: 'C',
      spo2: 97, respiratoryRate: 16, onOxygen: false, consciousness: 'A',
    },
    patientId,
    deviceId,
    observedAt,
    receivedAt: observedAt,
    faults: { droppedFields: [], malformed: null, late: false, duplicate: false, fahrenheit: false },
  } as unknown as SimulatedReading;
}

/** Deletes what a run made: its topics, consumer groups (also any `extraGroups`) and data folder. */
export async function deleteKafkaRun(brokers: readonly string[], env: Record<string, string>, extraGroups: readonly string[] = []): Promise<void> {
  const admin = new Kafka({ brokers: [...brokers], logLevel: logLevel.NOTHING }).admin();
  try {
    // Inside the try: a broker that is gone (a test's own, stopped) must not leave the data folder behind.
    await admin.connect();
    await admin.deleteGroups([env.VIGIL_SUBSCRIPTION!, `${env.VIGIL_SUBSCRIPTION}-dead`, ...extraGroups]).catch(() => {});
    await admin.deleteTopics({ topics: [env.VIGIL_READINGS_TOPIC!, env.VIGIL_DEAD_LETTER_TOPIC!] }).catch(() => {});
  } finally {
    await admin.disconnect();
    rmSync(env.VIGIL_DATA_DIR!, { recursive: true, force: true });
  }
}
