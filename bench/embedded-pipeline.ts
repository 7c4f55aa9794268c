import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { normalizeReading } from '../core/domain/normalize-reading.ts';
import type { RawReading, VitalReading } from '../core/domain/reading.ts';
import { toRawReading } from '../core/domain/validate-ingest.ts';
import { decodeReading, encodeReading } from '../core/wire/reading-codec.ts';
import { createSqliteTimeSeriesStore } from '../adapters/embedded/timeseries-sqlite.ts';
import { createDuckDbWarehouse } from '../adapters/embedded/warehouse-duckdb.ts';
import { signToken } from '../dashboard-api/auth.ts';
import { startVigil } from '../cli/test-support/vigil-process.ts';
import { createWard } from '../simulators/ward.ts';
import type { IngestReading } from '../core/domain/reading.ts';
import { NO_FAULTS } from '../simulators/simulation-parameters.ts';
import { percentile, type BenchResult } from './bench-result.ts';
import { vitalsRow } from '../stream-processor/vitals-row.ts';

const SECRET = 'bench-secret-0123456789abcdef';
const BATCH = 500;

/** Clean readings from the simulated ward for `patients` beds, `count` in all, observed in the past hour. */
function wardReadings(patients: number, count: number): IngestReading[] {
  const ward = createWard({ patients, seed: 7, faults: NO_FAULTS, timeScale: 1 });
  const start = Date.now() - 3_600_000;
  const out: IngestReading[] = [];
  for (let i = 0; out.length < count; i++) {
    for (const reading of ward.observe(i % patients, start + Math.floor(i / patients) * 1000)) out.push(reading.body as unknown as IngestReading);
  }
  return out.slice(0, count);
}

/**
 * The floor: what the same work costs with no pipeline around it — validate, encode, decode,
 * parse, and write both stores in batches, in one tight loop.
 */
async function measureFloor(readings: readonly IngestReading[]): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-floor-'));
  const timeseries = createSqliteTimeSeriesStore({ path: path.join(dir, 'timeseries.sqlite') });
  const warehouse = await createDuckDbWarehouse({ path: path.join(dir, 'warehouse.duckdb') });
  await timeseries.provision();
  await warehouse.provision();
  const started = performance.now();
  for (let i = 0; i < readings.length; i += 1000) {
    const batch: VitalReading[] = [];
    for (const input of readings.slice(i, i + 1000)) {
      const raw = toRawReading(input, { receivedAt: Date.now(), source: 'bench' });
      if (!raw.ok) continue;
      const decoded: RawReading = decodeReading(encodeReading(raw.reading));
      const parsed = normalizeReading(decoded);
      if (parsed.ok) batch.push(parsed.reading);
    }
    await timeseries.writeReadings(batch);
    await warehouse.append('vitals', batch.map(vitalsRow));
  }
  const seconds = (performance.now() - started) / 1000;
  await timeseries.close();
  await warehouse.close();
  rmSync(dir, { recursive: true, force: true });
  return readings.length / seconds;
}

async function metricValue(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').pop()) : 0;
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

/**
 * The embedded pipeline end to end: `vigil start` in a child process (simulator off), this
 * process posting batches of ward readings over HTTP as fast as the edge takes them, while probe
 * readings measure the delay from the edge's 202 to the SSE update that carries them.
 */
export async function benchEmbeddedPipeline(options: { patients?: number; seconds?: number; concurrency?: number } = {}): Promise<BenchResult> {
  const patients = options.patients ?? 1000;
  const seconds = options.seconds ?? 10;
  const concurrency = options.concurrency ?? 8;
  const readings = wardReadings(patients, 200_000);
  const floor = await measureFloor(readings.slice(0, 100_000));

  const dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-pipeline-'));
  const vigil = await startVigil('start', { VIGIL_DATA_DIR: dataDir, VIGIL_AUTH_SECRET: SECRET, VIGIL_SIMULATE: '0', VIGIL_LOG_LEVEL: 'error' });
  const device = `Bearer ${signToken(SECRET, { sub: 'bench', role: 'device', expiresIn: '1h' })}`;
  const clinician = `Bearer ${signToken(SECRET, { sub: 'bench', role: 'clinician', expiresIn: '1h' })}`;
  const post = (body: unknown) => fetch(`${vigil.url}/v1/readings`, { method: 'POST', headers: { authorization: device, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  // SSE: note when each probe's update arrives.
  const probeSeen = new Map<number, number>();
  const abort = new AbortController();
  const stream = await fetch(`${vigil.url}/v1/stream`, { headers: { authorization: clinician }, signal: abort.signal });
  void (async () => {
    const reader = stream.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let cut;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const data = /^data: (.*)$/m.exec(event)?.[1];
          if (data?.includes('"BENCH-PROBE"')) {
            const observedAt = Date.parse((JSON.parse(data) as { latest?: { observedAt: string } }).latest?.observedAt ?? '');
            if (!probeSeen.has(observedAt)) probeSeen.set(observedAt, performance.now());
          }
        }
      }
    } catch {
      // aborted at the end
    }
  })();

  // Phase 1, throughput: flood the edge for `seconds`, then wait until the processor caught up.
  const startProcessed = await metricValue(vigil.url, 'vigil_readings_processed_total');
  const started = performance.now();
  const stopAt = started + seconds * 1000;
  let sent = 0;
  let accepted = 0;
  let refused = 0;
  const flood = (until: number, pauseMs: number, shift: number, lanes = concurrency) => Array.from({ length: lanes }, async (_, w) => {
    for (let i = w * BATCH; performance.now() < until; i = (i + lanes * BATCH) % (readings.length - BATCH)) {
      // Shift observedAt per round so every reading is new (not a duplicate of an earlier round).
      const round = shift + Math.floor(sent / readings.length);
      const batch = readings.slice(i, i + BATCH).map((r) => ({ ...r, observedAt: Date.parse(String(r.observedAt)) + round }));
      sent += batch.length;
      const response = await post(batch);
      if (response.status === 202) accepted += batch.length;
      else refused += batch.length;
      await response.arrayBuffer();
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    }
  });
  await Promise.all(flood(stopAt, 0, 0));
  const sendSeconds = (performance.now() - started) / 1000;
  let processed = 0;
  for (let i = 0; i < 3000; i++) {
    processed = (await metricValue(vigil.url, 'vigil_readings_processed_total')) - startProcessed;
    if (processed >= accepted) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const totalSeconds = (performance.now() - started) / 1000;
  const throughput = processed / totalSeconds;

  // Phase 2, latency: a steady ward-like load (one batch per worker every 250 ms) while probe
  // readings measure the delay from the edge's 202 to the SSE update that carries them.
  // Half the measured throughput: a load the pipeline sustains, so the delay is processing, not backlog.
  const workers = Math.max(1, Math.min(concurrency, Math.floor(throughput / 2 / (BATCH * 4))));
  const background = workers * BATCH * 4;
  const latencyStopAt = performance.now() + 10_000;
  const steady = flood(latencyStopAt, 250, 500, workers); // 500 ms off the 1 s grid: no collision with phase 1
  const probeDelays: number[] = [];
  for (let n = 0; performance.now() < latencyStopAt - 500; n++) {
    const observedAt = Date.now() - n; // unique per probe
    const response = await post({ deviceId: 'bench-probe', patientId: 'BENCH-PROBE', observedAt, heartRate: 70 + (n % 30) });
    const acceptedAt = performance.now();
    await response.arrayBuffer();
    const deadline = acceptedAt + 5000;
    while (!probeSeen.has(observedAt) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 1));
    const seenAt = probeSeen.get(observedAt);
    if (seenAt !== undefined) probeDelays.push(seenAt - acceptedAt);
    await new Promise((r) => setTimeout(r, 100));
  }
  await Promise.all(steady);
  const rssMb = peakRssMb(vigil.child.pid!);
  abort.abort();
  await vigil.stop();
  rmSync(dataDir, { recursive: true, force: true });

  probeDelays.sort((a, b) => a - b);
  return {
    name: 'embedded pipeline (HTTP edge → SQLite bus → processor → SQLite + DuckDB)',
    figures: {
      patients,
      'readings accepted': accepted,
      'readings refused (backpressure)': refused,
      'edge accept rate (readings/s)': Math.round(accepted / sendSeconds),
      'end-to-end throughput (readings/s)': Math.round(throughput),
      'floor: validate+encode+decode+parse+store loop (readings/s)': Math.round(floor),
      'ratio pipeline / floor': Number((throughput / floor).toFixed(2)),
      'latency phase: offered load (readings/s)': background,
      'SSE delay after 202, p50 (ms)': Number(percentile(probeDelays, 0.5).toFixed(1)),
      'SSE delay after 202, p99 (ms)': Number(percentile(probeDelays, 0.99).toFixed(1)),
      'probes': probeDelays.length,
      'peak RSS of vigil start (MB)': Math.round(rssMb),
    },
  };
}
