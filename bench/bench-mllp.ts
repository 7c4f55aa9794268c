import type { BenchResult } from './bench-result.ts';
import { createLogger } from '../core/observability/logger.ts';
import { signToken } from '../http/auth.ts';
import { buildApp } from '../cli/build-app.ts';
import { loadConfig } from '../core/config.ts';
import { connectMllp } from '../simulators/device-protocols/mllp-client.ts';
import type { MllpClient } from '../simulators/device-protocols/mllp-client.ts';
import { readingToOru } from '../simulators/device-protocols/reading-to-oru.ts';
import { openEmbeddedEdge } from '../ingest/hl7/test-support/embedded-edge.ts';
import { createMllpServer } from '../ingest/hl7/mllp-server.ts';

/**
 * HL7 v2 throughput: ORU^R01 messages per second through the MLLP listener onto the embedded
 * SQLite bus (every AA means the bus has the reading), over one connection and over `many`
 * connections side by side; and, as the yardstick, the same readings one per request through
 * `POST /v1/readings` with the same concurrency. Each sender waits for its answer before the next
 * message, as HL7 senders and simple devices do.
 */
export interface MllpBenchOptions {
  /** Length of each of the four runs (default 5 s). */
  readonly durationMs?: number;
  /** Connections in the "many" run (default 16). */
  readonly many?: number;
}

const SECRET = 'bench-secret-0123456789abcdef';

export async function benchMllp(options: MllpBenchOptions = {}): Promise<BenchResult> {
  const durationMs = options.durationMs ?? 5000;
  const many = options.many ?? 16;
  const one = await runMllp(durationMs, 1);
  const parallel = await runMllp(durationMs, many);
  const jsonOne = await runJson(durationMs, 1);
  const jsonMany = await runJson(durationMs, many);
  return {
    name: 'hl7-mllp',
    figures: {
      'seconds per run': durationMs / 1000,
      'mllp msg/s, 1 connection': Math.round(one),
      [`mllp msg/s, ${many} connections`]: Math.round(parallel),
      'json req/s, 1 client (1 reading/request)': Math.round(jsonOne),
      [`json req/s, ${many} clients (1 reading/request)`]: Math.round(jsonMany),
      'mllp / json, 1': round2(one / jsonOne),
      [`mllp / json, ${many}`]: round2(parallel / jsonMany),
    },
  };
}

function reading(i: number, base: number): Record<string, unknown> {
  return {
    deviceId: `bed-${i % 48}`, patientId: `P${i % 48}`, observedAt: base + i,
    heartRate: 60 + (i % 50), spo2: 90 + (i % 10), respiratoryRate: 12 + (i % 10), temperature: 36.8, bloodPressure: `${110 + (i % 30)}/${70 + (i % 15)}`,
  };
}

/** Messages per second through `connections` MLLP connections onto the embedded bus, for `durationMs`. */
export async function runMllp(durationMs: number, connections: number): Promise<number> {
  const edge = await openEmbeddedEdge('vigil-bench-mllp-');
  const server = createMllpServer({
    port: 0, host: '127.0.0.1', allowedSenders: [{ application: 'BENCH' }],
    publish: (readings) => edge.publisher.publish(readings),
    deadLetter: async () => undefined,
    logger: createLogger({ level: 'silent' }), metrics: edge.metrics,
  });
  const { port } = await server.listen();
  const base = Date.now() - 3_600_000;
  const clients: MllpClient[] = await Promise.all(Array.from({ length: connections }, () => connectMllp({ host: '127.0.0.1', port })));
  let sent = 0, refused = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(clients.map(async (client) => {
    while (performance.now() < deadline) {
      const i = sent++;
      const ack = await client.send(readingToOru(reading(i, base), { sendingApplication: 'BENCH', controlId: `B${i}` }));
      if (!ack.includes('\rMSA|AA|')) refused++;
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(clients.map((c) => c.close()));
  await server.close();
  await edge.close();
  if (refused > 0) throw new Error(`bench: ${refused} HL7 messages were not accepted`);
  return sent / seconds;
}

/** Requests per second through `POST /v1/readings` (one reading each) onto the embedded bus, for `durationMs`. */
export async function runJson(durationMs: number, clients: number): Promise<number> {
  const edge = await openEmbeddedEdge('vigil-bench-json-');
  const config = loadConfig({ VIGIL_AUTH_SECRET: SECRET, VIGIL_DATA_DIR: '/nonexistent-vigil-bench' });
  const app = buildApp({ config, logger: createLogger({ level: 'silent' }), metrics: edge.metrics, ingest: { publisher: edge.publisher }, readiness: [] });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  const headers = { authorization: `Bearer ${signToken(SECRET, { sub: 'bench', role: 'device', expiresIn: '1h' })}`, 'content-type': 'application/json' };
  const base = Date.now() - 3_600_000;
  let sent = 0, refused = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() < deadline) {
      const response = await fetch(`${address}/v1/readings`, { method: 'POST', headers, body: JSON.stringify(reading(sent++, base)) });
      await response.arrayBuffer();
      if (response.status !== 202) refused++;
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  await app.close();
  await edge.close();
  if (refused > 0) throw new Error(`bench: ${refused} JSON requests were not accepted`);
  return sent / seconds;
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await benchMllp());
}
