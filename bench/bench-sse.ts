import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { BenchResult } from './bench-result.ts';
import { percentile } from './bench-result.ts';
import type { PatientSummary } from '../core/domain/patient-summary.ts';

/**
 * SSE fan-out: `patients` patients each updated every `intervalMs`, published on PatientUpdates
 * (what the processor does after scoring) to `clients` dashboards connected over real loopback
 * HTTP to `GET /v1/stream`. The delay is from `publish` to the moment a client has parsed the
 * event. Clients run in a worker thread so their parsing does not queue behind the server on one
 * event loop; each event carries its publish time (high-resolution wall clock, comparable across
 * threads). The floor is the same path with one patient and one client: what a single event
 * costs when nothing else is going on.
 */
export interface SseBenchOptions {
  readonly patients?: number;
  readonly clients?: number;
  readonly durationMs?: number;
  readonly intervalMs?: number;
}

interface Run {
  readonly delaysMs: Float64Array;
  readonly published: number;
  readonly clients: number;
  readonly seconds: number;
}

const WORKER_KIND = 'vigil-sse-bench-clients';
const SECRET = 'bench-sse-secret-0123456789abcdef';
const wallClock = (): number => performance.timeOrigin + performance.now();

export async function benchSseFanout(options: SseBenchOptions = {}): Promise<BenchResult> {
  const patients = options.patients ?? 200;
  const clients = options.clients ?? 100;
  const durationMs = options.durationMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 1000;
  // Ten updates a second for the floor, so its percentiles rest on a few dozen events.
  const floor = await measure({ patients: 1, clients: 1, durationMs: Math.min(durationMs, 3000), intervalMs: 100 });
  const run = await measure({ patients, clients, durationMs, intervalMs });
  const sorted = [...run.delaysMs].sort((a, b) => a - b);
  const floorSorted = [...floor.delaysMs].sort((a, b) => a - b);
  const expected = run.published * run.clients;
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    name: `SSE fan-out: ${patients} patients every ${intervalMs} ms to ${clients} dashboards (loopback HTTP)`,
    figures: {
      'events delivered': sorted.length,
      'events expected': expected,
      'events/s delivered': Math.round(sorted.length / run.seconds),
      'delay p50 ms': round(percentile(sorted, 0.5)),
      'delay p99 ms': round(percentile(sorted, 0.99)),
      'delay max ms': round(sorted.at(-1) ?? Number.NaN),
      'floor p50 ms (1 patient, 1 client)': round(percentile(floorSorted, 0.5)),
      'floor p99 ms (1 patient, 1 client)': round(percentile(floorSorted, 0.99)),
      'p99 / floor p99': round(percentile(sorted, 0.99) / percentile(floorSorted, 0.99)),
    },
  };
}

async function measure(o: Required<SseBenchOptions>): Promise<Run> {
  // Loaded here, not at the top: the client worker imports this module too and needs none of it.
  const [{ createInMemoryPatientUpdates }, { createLogger }, { createMetrics }, { loadConfig }, { createSqliteTimeSeriesStore },
    { createDuckDbWarehouse }, { createSqliteAuditLog }, { buildApp }, { signToken }] = await Promise.all([
    import('../core/domain/patient-updates.ts'), import('../core/observability/logger.ts'), import('../core/observability/metrics.ts'),
    import('../core/config.ts'), import('../adapters/embedded/timeseries-sqlite.ts'), import('../adapters/embedded/warehouse-duckdb.ts'),
    import('../adapters/embedded/audit-log-sqlite.ts'), import('../cli/build-app.ts'), import('../http/auth.ts'),
  ]);
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-sse-'));
  const timeseries = createSqliteTimeSeriesStore({ path: path.join(dir, 'timeseries.sqlite') });
  const warehouse = await createDuckDbWarehouse({ path: path.join(dir, 'warehouse.duckdb') });
  const audit = createSqliteAuditLog({ path: path.join(dir, 'audit.sqlite') });
  await timeseries.provision();
  const updates = createInMemoryPatientUpdates();
  const app = buildApp({
    config: loadConfig({ VIGIL_DATA_DIR: dir, VIGIL_AUTH_SECRET: SECRET }),
    logger: createLogger({ level: 'warn' }),
    metrics: createMetrics({ defaultMetrics: false }),
    read: { timeseries, warehouse, updates, audit },
    readiness: [],
    // No heartbeats during the run: they would only add bytes.
    stream: { heartbeatMs: 3_600_000 },
  });
  let worker: Worker | undefined;
  try {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const token = signToken(SECRET, { sub: 'bench', role: 'clinician', expiresIn: '1h' });
    worker = new Worker(new URL(import.meta.url), { workerData: { kind: WORKER_KIND, port, token, clients: o.clients } });
    const results = new Promise<Float64Array>((resolve, reject) => {
      worker!.on('message', (m: { type: string; delays?: Float64Array }) => {
        if (m.type === 'delays') resolve(m.delays!);
      });
      worker!.once('error', reject);
    });
    await new Promise<void>((resolve, reject) => {
      worker!.on('message', (m: { type: string }) => {
        if (m.type === 'connected') resolve();
      });
      worker!.once('error', reject);
    });

    // Updates spread evenly over each interval, as a processor scoring a ward continuously does;
    // paced against the clock (not by sleeps, which overshoot) so the rate is the one asked for.
    const ids = Array.from({ length: o.patients }, (_, i) => `B${String(i).padStart(4, '0')}`);
    const spacingMs = o.intervalMs / o.patients;
    const started = performance.now();
    let published = 0;
    while (performance.now() - started < o.durationMs) {
      const due = Math.min(Math.floor((performance.now() - started) / spacingMs) + 1, Math.ceil(o.durationMs / spacingMs));
      for (; published < due; published++) {
        const summary = benchSummary(ids[published % ids.length]!, Date.now());
        (summary as PatientSummary & { benchSentAt: number }).benchSentAt = wallClock();
        updates.publish(summary);
      }
      await new Promise((r) => setTimeout(r, Math.max(1, spacingMs)));
    }
    const seconds = (performance.now() - started) / 1000;
    // Let the last events arrive.
    await new Promise((r) => setTimeout(r, 500));
    worker.postMessage({ type: 'stop' });
    return { delaysMs: await results, published, clients: o.clients, seconds };
  } finally {
    await worker?.terminate();
    await app.close();
    await Promise.all([timeseries.close(), warehouse.close(), audit.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
}

function benchSummary(patientId: string, now: number): PatientSummary {
  const wobble = (now / 1000) % 7;
  return {
    patientId,
    latest: {
      observedAt: new Date(now).toISOString(), heartRate: 70 + wobble, systolic: 120, diastolic: 80, temperatureC: 37,
      spo2: 97, respiratoryRate: 16, onOxygen: false, consciousness: 'A',
    },
    news2: { score: 1, level: 'low', complete: true, missing: [], observedAt: new Date(now).toISOString() },
    risk: { score: 0.05, model: 'bench@1', factors: [{ feature: 'heartRate', contribution: 0.01, value: 70 + wobble }], scoredAt: new Date(now).toISOString() },
  };
}

/** The dashboards: `clients` SSE connections, each parsing every event and timing it. */
function runClients(data: { port: number; token: string; clients: number }): void {
  const delays: number[] = [];
  let connected = 0;
  const requests: ReturnType<typeof request>[] = [];
  for (let i = 0; i < data.clients; i++) {
    const req = request({
      host: '127.0.0.1', port: data.port, path: '/v1/stream', agent: false,
      headers: { authorization: `Bearer ${data.token}`, accept: 'text/event-stream' },
    }, (res) => {
      res.setEncoding('utf8');
      let buffer = '';
      let counted = false;
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (!counted && block.startsWith('retry:')) {
            counted = true;
            if (++connected === data.clients) parentPort!.postMessage({ type: 'connected' });
            continue;
          }
          const dataLine = block.split('\n').find((line) => line.startsWith('data: '));
          if (!block.startsWith('event: patient') || !dataLine) continue;
          const sentAt = (JSON.parse(dataLine.slice(6)) as { benchSentAt?: number }).benchSentAt;
          if (sentAt !== undefined) delays.push(wallClock() - sentAt);
        }
      });
    });
    req.on('error', () => undefined);
    req.end();
    requests.push(req);
  }
  parentPort!.on('message', (m: { type: string }) => {
    if (m.type !== 'stop') return;
    for (const req of requests) req.destroy();
    parentPort!.postMessage({ type: 'delays', delays: Float64Array.from(delays) });
  });
}

if (!isMainThread && (workerData as { kind?: string } | null)?.kind === WORKER_KIND) {
  runClients(workerData as { port: number; token: string; clients: number });
}
