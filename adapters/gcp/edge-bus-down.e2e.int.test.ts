/**
 * The edge with Pub/Sub unreachable (issue 13, item 2): a TCP proxy in front of the emulator
 * refuses connections while `vigil ingest` runs. Every edge answers within its stated bound
 * (VIGIL_EDGE_PUBLISH_TIMEOUT_MS, plus a margin for a busy machine) and never says "accepted":
 * HTTP 503 + Retry-After, FHIR 503 + OperationOutcome, MLLP AR with a retry hint. Once the bus is
 * back, each accepts again, and what it accepted is on the topic.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runPrefix } from '../../core/contracts/wait-for.ts';
import { createLogger } from '../../core/observability/logger.ts';
import { signToken } from '../../http/auth.ts';
import { heartRateExample } from '../../ingest/fhir/spec-vital-signs-examples.ts';
import { connectMllp, msaOf } from '../../simulators/device-protocols/mllp-client.ts';
import { readingToOru } from '../../simulators/device-protocols/reading-to-oru.ts';
import { eventually, startVigil } from '../../cli/test-support/vigil-process.ts';
import type { VigilProcess } from '../../cli/test-support/vigil-process.ts';
import { startTcpFaultProxy } from '../shared/test-support/tcp-fault-proxy.ts';
import type { TcpFaultProxy } from '../shared/test-support/tcp-fault-proxy.ts';
import { createPubSubBus } from './bus-pubsub.ts';
import { gcpEmulatorsOrSkip } from './test-support/emulator-gate.ts';
import { googleRunEnv } from './test-support/google-run-env.ts';

const env = gcpEmulatorsOrSkip('adapters/gcp/edge-bus-down.e2e.int.test.ts');

const PUBLISH_BOUND_MS = 3_000;
/** The stated bound plus room for a busy machine: an answer, not a hang. */
const ANSWER_WITHIN_MS = PUBLISH_BOUND_MS + 4_000;

if (env) {
  describe('edges with Pub/Sub unreachable: HTTP, FHIR and MLLP answer within the bound, then accept again', () => {
    const run = runPrefix('edge-down');
    const dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-edge-down-'));
    const secret = 'edge-down-secret-0123456789abcdef';
    let proxy: TcpFaultProxy | undefined;
    let edge: VigilProcess | undefined;

    afterAll(async () => {
      await edge?.kill();
      await proxy?.close();
      rmSync(dataDir, { recursive: true, force: true });
    }, 30_000);

    it('503 + Retry-After, OperationOutcome and AR while the bus is refused; 202, 201 and AA once it is back', async () => {
      const vigilEnv = googleRunEnv(env, run, {
        VIGIL_WAREHOUSE: 'duckdb', VIGIL_TIMESERIES: 'embedded', VIGIL_DATA_DIR: dataDir, VIGIL_AUTH_SECRET: secret,
        VIGIL_EDGE_PUBLISH_TIMEOUT_MS: String(PUBLISH_BOUND_MS), VIGIL_MLLP_SENDERS: 'VIGIL-SIM', VIGIL_LOG_LEVEL: 'info',
      });
      const logger = createLogger({ level: 'silent' });
      const admin = createPubSubBus({ projectId: env.GOOGLE_CLOUD_PROJECT, logger });
      const topic = vigilEnv.VIGIL_READINGS_TOPIC!;
      const seen: string[] = [];
      await admin.provision([{ topic, subscriptions: [{ name: `${run}-watch`, ackDeadlineMs: 60_000 }] }]);
      const watch = await admin.subscribe({ topic, subscription: `${run}-watch`, maxBatchSize: 100, maxBatchWaitMs: 10, maxInFlight: 100, ackDeadlineMs: 60_000 }, async (batch) => {
        for (const m of batch) { seen.push(m.attributes.source ?? m.id); await m.ack(); }
      });

      const [host, port] = env.PUBSUB_EMULATOR_HOST.split(':');
      proxy = await startTcpFaultProxy({ host: host!, port: Number(port) });
      edge = await startVigil('ingest', { ...vigilEnv, PUBSUB_EMULATOR_HOST: proxy.address }, { timeoutMs: 60_000 });
      const mllpAddress = /MLLP on ([\d.]+):(\d+)/.exec(edge.output());
      expect(mllpAddress, `vigil ingest names its MLLP address:\n${edge.output()}`).not.toBeNull();
      const token = signToken(secret, { sub: 'bed-1', role: 'device', expiresIn: '1h' });
      let n = 0;
      const observedAt = () => new Date(Date.now() - 60_000 - (n++) * 1_000).toISOString();

      const http = async () => {
        const started = Date.now();
        const res = await fetch(`${edge!.url}/v1/readings`, {
          method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ deviceId: 'bed-1', patientId: 'EDGE1', observedAt: observedAt(), heartRate: 72 }),
        });
        return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.text(), ms: Date.now() - started };
      };
      const fhir = async () => {
        const started = Date.now();
        const res = await fetch(`${edge!.url}/fhir/Observation`, {
          method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
          body: JSON.stringify(heartRateExample(new Date(Date.now() - 120_000 - (n++) * 1_000).toISOString())),
        });
        return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.text(), ms: Date.now() - started };
      };
      const mllp = async () => {
        const client = await connectMllp({ host: mllpAddress![1]!, port: Number(mllpAddress![2]) });
        try {
          const started = Date.now();
          const ack = await client.send(readingToOru({ deviceId: 'bed-2', patientId: 'EDGE2', observedAt: observedAt(), heartRate: 80 }, { sendingApplication: 'VIGIL-SIM', controlId: `C${n}` }));
          return { ...msaOf(ack), ms: Date.now() - started };
        } finally {
          await client.close();
        }
      };

      // The bus answers: a baseline, so the refusals below are the outage's doing.
      expect((await http()).status).toBe(202);

      await proxy.refuse();
      const [h, f, m] = [await http(), await fhir(), await mllp()];
      console.log(`edge with Pub/Sub refused: HTTP ${h.status} in ${h.ms} ms, FHIR ${f.status} in ${f.ms} ms, MLLP ${m.code} in ${m.ms} ms (bound ${PUBLISH_BOUND_MS} ms)`);
      expect(h, 'HTTP while the bus is refused').toMatchObject({ status: 503, retryAfter: '1' });
      expect(h.ms).toBeLessThan(ANSWER_WITHIN_MS);
      expect(f, 'FHIR while the bus is refused').toMatchObject({ status: 503, retryAfter: '1' });
      expect(JSON.parse(f.body)).toMatchObject({ resourceType: 'OperationOutcome' });
      expect(f.ms).toBeLessThan(ANSWER_WITHIN_MS);
      expect(m.code, `MLLP while the bus is refused: ${m.text}`).toBe('AR');
      expect(m.text).toMatch(/retry|again/i);
      expect(m.ms).toBeLessThan(ANSWER_WITHIN_MS);
      const ready = await fetch(`${edge.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.text()).toContain('bus (pubsub)');

      await proxy.restore();
      // Accepting again once the client has reconnected: each edge within a budget, not at once.
      let last = '';
      await eventually(async () => { const r = await http(); last = r.body; return r.status === 202 ? true : undefined; }, 60_000, 'HTTP to accept again after the bus returned')
        .catch((error: unknown) => { throw new Error(`${(error as Error).message}; last answer: ${last}`); });
      await eventually(async () => { const r = await fhir(); last = r.body; return r.status === 201 ? true : undefined; }, 60_000, 'FHIR to accept again after the bus returned')
        .catch((error: unknown) => { throw new Error(`${(error as Error).message}; last answer: ${last}\n${edge!.output().slice(-3_000)}`); });
      await eventually(async () => { const r = await mllp(); last = r.text; return r.code === 'AA' ? true : undefined; }, 60_000, 'MLLP to accept again after the bus returned')
        .catch((error: unknown) => { throw new Error(`${(error as Error).message}; last answer: ${last}`); });
      await eventually(async () => (seen.length >= 4 ? true : undefined), 30_000, 'the accepted readings on the topic (baseline, HTTP, FHIR, MLLP)');
      await watch.close();
      await admin.close();
    }, 240_000);
  });
}
