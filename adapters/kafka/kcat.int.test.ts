import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startVigil } from '../../cli/test-support/vigil-process.ts';
import type { VigilProcess } from '../../cli/test-support/vigil-process.ts';
import { signToken } from '../../http/auth.ts';
import { kafkaBrokersOrSkip, skipOrFail } from './test-support/kafka-gate.ts';
import { deleteKafkaRun, kafkaRunEnv, runVigil } from './test-support/pipeline-env.ts';
import { budget } from '../../core/contracts/wait-for.ts';

const SUITE = 'adapters/kafka/kcat.int.test.ts';
const brokers = kafkaBrokersOrSkip(SUITE);
const kcatFound = spawnSync('kcat', ['-V']).status === 0;
if (brokers && !kcatFound) skipOrFail(SUITE, 'kcat is not on PATH', '`npm run emulators:up` installs it, or apt-get install -y kcat');

/** Produces one message per line with kcat, as an operator or another system would. */
function kcat(args: readonly string[], input: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('kcat', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('exit', (code) => resolve({ code, output }));
    child.stdin.end(input);
  });
}

/**
 * An independent producer: `VIGIL_BUS=kafka vigil start` serves the same API as the embedded
 * default, and a reading produced with kcat in the documented JSON format (key = patient id,
 * header content-type=application/json) is processed like one posted to /v1/readings.
 */
if (brokers && kcatFound) {
  describe('vigil start on Kafka with a kcat producer', () => {
    const env = kafkaRunEnv(brokers, 'vigil-kcat');
    const auth = (role: 'device' | 'clinician') => ({ authorization: `Bearer ${signToken(env.VIGIL_AUTH_SECRET!, { sub: `kcat-${role}`, role, expiresIn: '1h' })}` });
    let vigil: VigilProcess;

    async function vitalsOf(patientId: string): Promise<Record<string, unknown>[]> {
      const to = new Date(Date.now() + 3_600_000).toISOString();
      const response = await fetch(`${vigil.url}/v1/patients/${patientId}/vitals?from=2026-01-01T00:00:00Z&to=${encodeURIComponent(to)}`, { headers: auth('clinician') });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { readings?: Record<string, unknown>[] } | Record<string, unknown>[];
      return Array.isArray(body) ? body : (body.readings ?? []);
    }

    beforeAll(async () => {
      const provisioned = await runVigil('provision', env);
      expect(provisioned.code, provisioned.output).toBe(0);
      vigil = await startVigil('start', env, { timeoutMs: 60_000 });
    }, budget(180_000));

    afterAll(async () => {
      expect(await vigil?.stop()).toBe(0);
      await deleteKafkaRun(brokers, env);
    }, budget(60_000));

    it('serves the same API: a posted reading is accepted and shows up in the vitals', async () => {
      const observedAt = new Date(Date.now() - 120_000).toISOString();
      const response = await fetch(`${vigil.url}/v1/readings`, {
        method: 'POST',
        headers: { ...auth('device'), 'content-type': 'application/json' },
        body: JSON.stringify({ deviceId: 'bed-api', patientId: 'KCAT-API', observedAt, heartRate: 71, bloodPressure: '118/76' }),
      });
      expect(response.status).toBe(202);
      expect(await response.json()).toEqual({ accepted: 1 });
      const [reading] = await eventually(async () => {
        const rows = await vitalsOf('KCAT-API');
        return rows.length > 0 ? rows : undefined;
      }, 30_000, 'the posted reading');
      expect(reading).toMatchObject({ heartRate: 71, systolic: 118, diastolic: 76 });
    }, budget(60_000));

    it('processes a reading produced by kcat in the documented JSON format', async () => {
      const observedAt = new Date(Date.now() - 60_000).toISOString();
      const reading = {
        deviceId: 'bed-kcat', patientId: 'KCAT-1', observedAt, heartRate: 88, bloodPressure: '131/84',
        temperature: 100.4, temperatureUnit: 'F', spo2: 95, respiratoryRate: 19, onOxygen: true, consciousness: 'A',
      };
      const produced = await kcat(
        ['-P', '-b', brokers.join(','), '-t', env.VIGIL_READINGS_TOPIC!, '-k', 'KCAT-1', '-H', 'content-type=application/json'],
        `${JSON.stringify(reading)}\n`,
      );
      expect(produced.code, produced.output).toBe(0);

      const [row] = await eventually(async () => {
        const rows = await vitalsOf('KCAT-1');
        return rows.length > 0 ? rows : undefined;
      }, 30_000, 'the kcat reading in /v1/patients/KCAT-1/vitals');
      expect(row).toMatchObject({ patientId: 'KCAT-1', heartRate: 88, systolic: 131, diastolic: 84, spo2: 95, respiratoryRate: 19, onOxygen: true });
      expect(Number(row!.temperatureC)).toBeCloseTo(38, 1);
    }, budget(60_000));
  });
}
